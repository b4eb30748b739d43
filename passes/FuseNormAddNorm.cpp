//===- FuseNormAddNorm.cpp - Gemma 2's sandwich norms to one fused op --------------===//

#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vgcu {
#define GEN_PASS_DEF_FUSENORMADDNORM
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

/// add_rms_norm(rms_norm(x, w_post), r, w) → norm_add_norm(x, r, w_post, w), when the
/// inner norm has no other user (either operand of the add may be the normed one).
struct FuseNormAddNormPattern : OpRewritePattern<AddRmsNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddRmsNormOp op, PatternRewriter &rewriter) const override {
    auto ordered = orderOperands(op, [](Value v) {
      auto norm = v.getDefiningOp<RmsNormOp>();
      return norm && norm->hasOneUse();
    });
    if (!ordered)
      return rewriter.notifyMatchFailure(op, "no operand is a single-use RMSNorm");
    auto [normed, residual] = *ordered;
    auto post = normed.getDefiningOp<RmsNormOp>();
    if (post.getType() != op.getInput().getType())
      return rewriter.notifyMatchFailure(op, "the RMSNorm's type differs from the add's");
    // Located first as the norm it becomes (the one opening the next block), so a launch
    // counts in the layer it feeds.
    auto fused = NormAddNormOp::create(
        rewriter, rewriter.getFusedLoc({op.getLoc(), post.getLoc()}), op.getNormed().getType(),
        op.getSum().getType(), post.getInput(), residual, post.getWeight(), op.getWeight(),
        post.getEpsilonAttr(), op.getEpsilonAttr());
    rewriter.replaceOp(op, fused.getResults());
    rewriter.eraseOp(post);
    return success();
  }
};

struct FuseNormAddNormPass : vgcu::impl::FuseNormAddNormBase<FuseNormAddNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseNormAddNormPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
