//===- FuseAddRmsNorm.cpp - Residual add + RMSNorm to vgcu.add_rms_norm ------------===//

#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vgcu {
#define GEN_PASS_DEF_FUSEADDRMSNORM
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

struct FuseAddRmsNormPattern : OpRewritePattern<RmsNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RmsNormOp op, PatternRewriter &rewriter) const override {
    auto add = op.getInput().getDefiningOp<AddOp>();
    if (!add)
      return rewriter.notifyMatchFailure(op, "input is not an add");
    // The fused op yields the sum at the operands' type; a broadcasting add (a bias, say)
    // has a sum the fused kernel cannot produce.
    if (add.getLhs().getType() != add.getType() || add.getRhs().getType() != add.getType())
      return rewriter.notifyMatchFailure(op, "add broadcasts");
    // Users of the sum may come before the norm, so the fused op takes the add's place.
    if (!ensureDefinedBefore(op.getWeight(), add, rewriter))
      return rewriter.notifyMatchFailure(op, "weight is defined after the add");
    rewriter.setInsertionPoint(add);
    auto fused = AddRmsNormOp::create(rewriter, rewriter.getFusedLoc({op.getLoc(), add.getLoc()}),
                                      add.getRhs(), add.getLhs(), op.getWeight(),
                                      op.getEpsilon().convertToDouble());
    rewriter.replaceAllUsesWith(add.getResult(), fused.getSum());
    rewriter.replaceOp(op, fused.getNormed());
    rewriter.eraseOp(add);
    return success();
  }
};

struct FuseAddRmsNormPass : vgcu::impl::FuseAddRmsNormBase<FuseAddRmsNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAddRmsNormPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
