//===- FoldWeights.cpp - Computations on weights alone, moved to artifact time -------===//
//
// Gemma's `1 + w` norm weights, a scaled embedding table, a transposed or concatenated
// weight: values that depend only on parameters and constants are the same at every step,
// so they are computed once, when the artifact is written. Each maximal such subgraph is
// outlined into a function `@fold.N` (no arguments: the parameters and constants are inside)
// and its value becomes a `vgcu.param ... computed_by @fold.N`; the artifact writer
// evaluates the function and stores the result like any other weight. The graph that is
// left sees a parameter, so the fusion patterns (RMSNorm with a weight, add + norm) match
// as they would on a checkpoint weight.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

namespace vgcu {
#define GEN_PASS_DEF_FOLDWEIGHTS
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

/// Ops the artifact writer can evaluate (see lib/Compiler/WeightFolding.cpp).
bool isFoldableOp(Operation *op) {
  return isa<AddOp, SubOp, MulOp, DivOp, PowOp, MaximumOp, NegOp, SqrtOp, RsqrtOp, ExpOp,
             CastOp, TransposeOp, ReshapeOp, BroadcastOp, ConcatOp, SliceOp, SumOp>(op);
}

struct FoldWeightsPass : vgcu::impl::FoldWeightsBase<FoldWeightsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringSet<> names;
    module.walk([&](ParamOp param) { names.insert(param.getName()); });
    int64_t counter = 0;
    for (llvm::StringRef function : {"forward", "compute_logits"}) {
      auto func = module.lookupSymbol<func::FuncOp>(function);
      if (!func || func.isExternal())
        continue;
      foldIn(func, names, counter);
    }
  }

  void foldIn(func::FuncOp func, llvm::StringSet<> &names, int64_t &counter) {
    Block &body = func.getBody().front();
    // Values computed from parameters and constants alone, in program order.
    DenseSet<Value> weightOnly;
    for (Operation &op : body) {
      bool leaf = isa<ConstantOp>(op) ||
                  (isa<ParamOp>(op) && !cast<ParamOp>(op).getComputedByAttr());
      bool computed = isFoldableOp(&op) && llvm::all_of(op.getOperands(), [&](Value operand) {
        return weightOnly.contains(operand);
      });
      if (leaf || computed)
        for (Value result : op.getResults())
          weightOnly.insert(result);
    }
    // Roots: computed values something outside the weight-only subgraph uses.
    SmallVector<Operation *> roots;
    for (Operation &op : body) {
      if (op.getNumResults() == 0 || isa<ParamOp, ConstantOp>(op) ||
          !weightOnly.contains(op.getResult(0)))
        continue;
      bool usedOutside = llvm::any_of(op.getUsers(), [&](Operation *user) {
        return user->getNumResults() == 0 || !weightOnly.contains(user->getResult(0));
      });
      if (usedOutside)
        roots.push_back(&op);
    }
    OpBuilder builder(&getContext());
    for (Operation *root : roots) {
      // The subgraph that computes the root, in program order.
      llvm::SetVector<Operation *> subgraph;
      SmallVector<Operation *> worklist{root};
      while (!worklist.empty()) {
        Operation *op = worklist.pop_back_val();
        if (!subgraph.insert(op))
          continue;
        for (Value operand : op->getOperands())
          worklist.push_back(operand.getDefiningOp());
      }
      SmallVector<Operation *> ordered(subgraph.begin(), subgraph.end());
      llvm::sort(ordered, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
      auto leafParam = llvm::find_if(ordered, [](Operation *op) { return isa<ParamOp>(op); });
      if (leafParam == ordered.end())
        continue; // constants alone: canonicalization folds those
      std::string name = (cast<ParamOp>(*leafParam).getName() + ".folded").str();
      for (int suffix = 2; names.contains(name); ++suffix)
        name = (cast<ParamOp>(*leafParam).getName() + ".folded." + llvm::Twine(suffix)).str();
      names.insert(name);

      // @fold.N: the subgraph, returning the root's value.
      auto module = getOperation();
      builder.setInsertionPointToEnd(module.getBody());
      auto type = cast<RankedTensorType>(root->getResult(0).getType());
      std::string symbol = "fold." + std::to_string(counter++);
      auto fold = func::FuncOp::create(builder, root->getLoc(), symbol,
                                       builder.getFunctionType({}, {type}));
      fold.setPrivate();
      fold->setAttr("vgcu.weight_function", builder.getStringAttr(name));
      builder.setInsertionPointToEnd(fold.addEntryBlock());
      IRMapping mapping;
      for (Operation *op : ordered)
        builder.clone(*op, mapping);
      func::ReturnOp::create(builder, root->getLoc(), mapping.lookup(root->getResult(0)));

      builder.setInsertionPoint(root);
      Value computed = ParamOp::create(
          builder, NameLoc::get(builder.getStringAttr(name), root->getLoc()), type,
          builder.getStringAttr(name), /*shard=*/nullptr,
          FlatSymbolRefAttr::get(builder.getContext(), symbol), /*quant=*/nullptr);
      root->getResult(0).replaceUsesWithIf(computed, [&](OpOperand &use) {
        Operation *user = use.getOwner();
        return user->getNumResults() == 0 || !weightOnly.contains(user->getResult(0));
      });
    }
    // What only the folded subgraphs used is dead now.
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if ((isFoldableOp(&op) || isa<ParamOp, ConstantOp>(op)) && op.use_empty())
        op.erase();
  }
};

} // namespace
