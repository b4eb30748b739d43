//===- SplitLogits.cpp - A traced model's LM head moved into @compute_logits ---------===//

#include "passes/ModelEntries.h"
#include "passes/Passes.h"

#include "mlir/IR/IRMapping.h"

namespace vgcu {
#define GEN_PASS_DEF_SPLITLOGITS
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

/// The operand-free producer (a parameter or constant) of `value`, if it has one.
Operation *freeStandingProducer(Value value) {
  Operation *producer = value.getDefiningOp();
  if (!producer || producer->getNumOperands() != 0 || producer->getNumRegions() != 0)
    return nullptr;
  return producer;
}

struct SplitLogitsPass : vgcu::impl::SplitLogitsBase<SplitLogitsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (module.lookupSymbol<func::FuncOp>("compute_logits")) {
      if (failed(getModelEntries(module)))
        return signalPassFailure();
      return;
    }
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    if (!forward || forward.isExternal() || !llvm::hasSingleElement(forward.getBody()) ||
        forward.getNumResults() != 1) {
      module.emitError("expected @forward(input_ids, positions) -> logits to split");
      return signalPassFailure();
    }
    auto terminator = cast<func::ReturnOp>(forward.getBody().front().getTerminator());
    Value returned = terminator.getOperand(0);
    // A trace of a bf16/f16 model upcasts its logits last (`.float()`); the runtime reads
    // logits as f32 whatever their type, so the upcast is left to it, as for built graphs.
    auto upcast = returned.getDefiningOp<CastOp>();
    if (upcast && upcast->hasOneUse() && upcast.getType().getElementType().isF32() &&
        isa<FloatType>(upcast.getInput().getType().getElementType()))
      returned = upcast.getInput();
    else
      upcast = nullptr;
    // Elementwise work on the logits (Gemma 2's soft cap) goes with the head.
    SmallVector<Operation *> tail;
    while (auto cap = returned.getDefiningOp<SoftCapOp>()) {
      if (!cap->hasOneUse())
        break;
      tail.insert(tail.begin(), cap);
      returned = cap.getInput();
    }
    auto head = returned.getDefiningOp<LinearOp>();
    if (upcast && !head)
      upcast = nullptr;
    Operation *weight = head ? freeStandingProducer(head.getWeight()) : nullptr;
    Operation *bias = head && head.getBias() ? freeStandingProducer(head.getBias()) : nullptr;
    if (!head || !head.getResult().hasOneUse() || !weight || (head.getBias() && !bias)) {
      forward.emitError("@forward does not end in an LM head (a vgcu.linear of the hidden "
                        "states by a parameter) that could become @compute_logits");
      return signalPassFailure();
    }

    Value hidden = head.getInput();
    OpBuilder builder(forward);
    builder.setInsertionPointAfter(forward);
    Type logitsType = tail.empty() ? head.getType() : tail.back()->getResult(0).getType();
    auto logits = func::FuncOp::create(
        builder, head.getLoc(), "compute_logits",
        builder.getFunctionType({hidden.getType()}, {logitsType}));
    logits.setArgAttr(0, "vgcu.name", builder.getStringAttr("hidden_states"));
    Block *body = logits.addEntryBlock();
    builder.setInsertionPointToEnd(body);
    IRMapping mapping;
    mapping.map(hidden, body->getArgument(0));
    for (Operation *producer : {weight, bias})
      if (producer)
        builder.clone(*producer, mapping);
    Operation *last = builder.clone(*head, mapping);
    for (Operation *op : tail)
      last = builder.clone(*op, mapping);
    func::ReturnOp::create(builder, terminator.getLoc(), last->getResults());

    terminator->setOperand(0, hidden);
    forward.setFunctionType(builder.getFunctionType(forward.getArgumentTypes(), {hidden.getType()}));
    if (upcast)
      upcast.erase();
    for (Operation *op : llvm::reverse(tail))
      op->erase();
    head.erase();
    for (Operation *producer : {weight, bias})
      if (producer && producer->use_empty())
        producer->erase();
  }
};

} // namespace
