//===- FuseAddRmsNorm.cpp - Residual add + RMSNorm/LayerNorm to one fused op --------===//

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

/// The add feeding a norm, when the fused op can replace both: it must not broadcast (the
/// fused op yields the sum at the operands' type) and the norm's parameters must be
/// available where the add is, since users of the sum may come before the norm; they are
/// moved there when they can be.
AddOp fusibleAdd(Value input, ValueRange parameters, PatternRewriter &rewriter) {
  auto add = input.getDefiningOp<AddOp>();
  if (!add || add.getLhs().getType() != add.getType() || add.getRhs().getType() != add.getType())
    return nullptr;
  if (!canDefineBefore(parameters, add))
    return nullptr;
  defineBefore(parameters, add, rewriter);
  return add;
}

/// Puts `fused` (created at the add) in place of the add's sum and the norm's result.
void replaceAddAndNorm(AddOp add, Operation *norm, Value normed, Value sum,
                              PatternRewriter &rewriter) {
  rewriter.replaceAllUsesWith(add.getResult(), sum);
  rewriter.replaceOp(norm, normed);
  rewriter.eraseOp(add);
}

struct FuseAddRmsNormPattern : OpRewritePattern<RmsNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RmsNormOp op, PatternRewriter &rewriter) const override {
    AddOp add = fusibleAdd(op.getInput(), {op.getWeight()}, rewriter);
    if (!add)
      return rewriter.notifyMatchFailure(op, "input is not a fusible add");
    rewriter.setInsertionPoint(add);
    auto fused = AddRmsNormOp::create(rewriter, rewriter.getFusedLoc({op.getLoc(), add.getLoc()}),
                                      add.getRhs(), add.getLhs(), op.getWeight(),
                                      op.getEpsilon().convertToDouble());
    replaceAddAndNorm(add, op, fused.getNormed(), fused.getSum(), rewriter);
    return success();
  }
};

struct FuseAddLayerNormPattern : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LayerNormOp op, PatternRewriter &rewriter) const override {
    AddOp add = fusibleAdd(op.getInput(), {op.getWeight(), op.getBias()}, rewriter);
    if (!add)
      return rewriter.notifyMatchFailure(op, "input is not a fusible add");
    rewriter.setInsertionPoint(add);
    Type type = add.getType();
    auto fused = AddLayerNormOp::create(
        rewriter, rewriter.getFusedLoc({op.getLoc(), add.getLoc()}), type, type, add.getRhs(),
        add.getLhs(), op.getWeight(), op.getBias(), op.getEpsilonAttr());
    replaceAddAndNorm(add, op, fused.getNormed(), fused.getSum(), rewriter);
    return success();
  }
};

struct FuseAddRmsNormPass : vgcu::impl::FuseAddRmsNormBase<FuseAddRmsNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAddRmsNormPattern, FuseAddLayerNormPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
