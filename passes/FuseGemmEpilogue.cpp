//===- FuseGemmEpilogue.cpp - Activations and residual adds into their linear --------===//
//
// A GEMM kernel can apply an activation to its output tile and add a residual before it
// stores it, saving a launch and a round trip through memory for each. This pass folds
// those into `vgcu.linear`'s `epilogue` and `residual`, so that lowering maps each linear
// to exactly one GEMM launch.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"

namespace vgcu {
#define GEN_PASS_DEF_FUSEGEMMEPILOGUE
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

/// The epilogue that computes `op` from its operand, if the GEMM kernel has one.
std::optional<Epilogue> epilogueOf(Operation *op) {
  return TypeSwitch<Operation *, std::optional<Epilogue>>(op)
      .Case([](SiluAndMulOp) { return Epilogue::silu_and_mul; })
      .Case([](GeluAndMulOp act) {
        return act.getApproximate() == GeluApproximation::tanh ? Epilogue::gelu_tanh_and_mul
                                                               : Epilogue::gelu_and_mul;
      })
      .Case([](ReluOp) { return Epilogue::relu; })
      .Case([](GeluOp act) {
        return act.getApproximate() == GeluApproximation::tanh ? Epilogue::gelu_tanh
                                                               : Epilogue::gelu;
      })
      .Default([](Operation *) { return std::nullopt; });
}

/// A linear with everything it had, but `epilogue`, `residual` and the result type (the one
/// of the op it replaces) as given.
LinearOp rebuild(PatternRewriter &rewriter, LinearOp linear, Type resultType,
                 Epilogue epilogue, Value residual) {
  rewriter.setInsertionPoint(linear);
  return LinearOp::create(rewriter, linear.getLoc(), resultType, linear.getInput(),
                          linear.getWeight(), linear.getBias(), residual,
                          linear.getPackedModulesAttr(), linear.getPackedSizesAttr(),
                          epilogue, linear.getFirstRankBias(), linear.getSoftCapAttr());
}

/// linear → soft_cap, where the cap is the linear's only user: the linear caps its result
/// last (Gemma 2's logits).
struct FoldSoftCap : OpRewritePattern<SoftCapOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SoftCapOp cap, PatternRewriter &rewriter) const override {
    auto linear = cap.getInput().getDefiningOp<LinearOp>();
    if (!linear || linear.getSoftCapAttr() || !linear.getResult().hasOneUse())
      return rewriter.notifyMatchFailure(cap, "not the only user of an uncapped linear");
    rewriter.modifyOpInPlace(linear, [&] { linear.setSoftCapAttr(cap.getCapAttr()); });
    rewriter.replaceOp(cap, linear.getResult());
    return success();
  }
};

/// soft_cap(slice(all_gather(x))) → slice(all_gather(soft_cap(x))): an elementwise cap
/// commutes with gathering the vocabulary shards and cutting off the padding (whose rows are
/// zero, and capped zero is zero), and before the gather it meets the LM head's GEMM.
struct CapBeforeGather : OpRewritePattern<SoftCapOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SoftCapOp cap, PatternRewriter &rewriter) const override {
    Value gathered = cap.getInput();
    auto slice = gathered.getDefiningOp<SliceOp>();
    if (slice)
      gathered = slice.getInput();
    auto gather = gathered.getDefiningOp<AllGatherOp>();
    if (!gather || !gather->hasOneUse() || (slice && !slice->hasOneUse()))
      return rewriter.notifyMatchFailure(cap, "not a cap of gathered shards");
    rewriter.setInsertionPoint(gather);
    Value capped =
        SoftCapOp::create(rewriter, cap.getLoc(), gather.getInput(), cap.getCapAttr());
    rewriter.modifyOpInPlace(gather, [&] { gather->setOperand(0, capped); });
    rewriter.replaceOp(cap, cap.getInput());
    return success();
  }
};

/// linear → act, where the act is the linear's only user: one linear with the epilogue.
struct FoldActivation : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp linear, PatternRewriter &rewriter) const override {
    if (linear.getEpilogue() != Epilogue::none || linear.getResidual())
      return rewriter.notifyMatchFailure(linear, "already has an epilogue or a residual");
    if (!linear.getResult().hasOneUse())
      return rewriter.notifyMatchFailure(linear, "the product is used more than once");
    Operation *user = *linear.getResult().getUsers().begin();
    std::optional<Epilogue> epilogue = epilogueOf(user);
    if (!epilogue)
      return rewriter.notifyMatchFailure(linear, "the user is no epilogue activation");
    LinearOp fused = rebuild(rewriter, linear, user->getResult(0).getType(), *epilogue, Value());
    rewriter.replaceOp(user, fused.getResult());
    rewriter.eraseOp(linear);
    return success();
  }
};

/// linear + r, where the add is the linear's only user and r is computed before the linear
/// (so the kernel can read it): one linear adding the residual.
struct FoldResidual : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp linear, PatternRewriter &rewriter) const override {
    if (linear.getResidual())
      return rewriter.notifyMatchFailure(linear, "already adds a residual");
    Value product = linear.getResult();
    if (!product.hasOneUse())
      return rewriter.notifyMatchFailure(linear, "the product is used more than once");
    auto add = dyn_cast<AddOp>(*product.getUsers().begin());
    if (!add)
      return rewriter.notifyMatchFailure(linear, "the user is not an add");
    Value other = add.getLhs() == product ? add.getRhs() : add.getLhs();
    Operation *producer = other.getDefiningOp();
    if (other == product || other.getType() != add.getType() ||
        product.getType() != add.getType())
      return rewriter.notifyMatchFailure(linear, "the add broadcasts or adds the product twice");
    if (producer && (producer->getBlock() != linear->getBlock() ||
                     !producer->isBeforeInBlock(linear)))
      return rewriter.notifyMatchFailure(linear, "the residual is computed after the product");
    LinearOp fused = rebuild(rewriter, linear, add.getType(), linear.getEpilogue(), other);
    rewriter.replaceOp(add, fused.getResult());
    rewriter.eraseOp(linear);
    return success();
  }
};

struct FuseGemmEpiloguePass : vgcu::impl::FuseGemmEpilogueBase<FuseGemmEpiloguePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldActivation, CapBeforeGather, FoldSoftCap>(&getContext(), /*benefit=*/2);
    patterns.add<FoldResidual>(&getContext(), /*benefit=*/1);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
