//===- FuseRotaryAttention.cpp - Rotary embedding (+ q/k norms) into attention --------===//
//
// vLLM's attention backends rotate q and k, write k and v to the paged cache and attend in
// one call; vgcu.rotary_attention is that unit, lowered to one fused kernel. This pass forms
// it from a vgcu.rotary_embedding whose two results feed exactly one vgcu.attention, taking
// Qwen3's per-head q/k RMSNorm (reshape → rms_norm → reshape) before the rotary along.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vgcu {
#define GEN_PASS_DEF_FUSEROTARYATTENTION
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

/// A per-head RMSNorm of `value` ([T, heads × head_dim]): reshape to heads, norm, reshape
/// back, each used only by the next.
struct PerHeadNorm {
  Value input;
  RmsNormOp norm;
};

std::optional<PerHeadNorm> matchPerHeadNorm(Value value, int64_t headDim) {
  auto flatten = value.getDefiningOp<ReshapeOp>();
  auto norm = flatten ? flatten.getInput().getDefiningOp<RmsNormOp>() : RmsNormOp();
  auto split = norm ? norm.getInput().getDefiningOp<ReshapeOp>() : ReshapeOp();
  if (!split || !flatten->hasOneUse() || !norm->hasOneUse() || !split->hasOneUse() ||
      split.getInput().getType() != value.getType() ||
      cast<RankedTensorType>(norm.getType()).getShape().back() != headDim)
    return std::nullopt;
  return PerHeadNorm{split.getInput(), norm};
}

struct FuseRotaryAttentionPattern : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp attention,
                                PatternRewriter &rewriter) const override {
    auto rotary = attention.getQuery().getDefiningOp<RotaryEmbeddingOp>();
    if (!rotary)
      return rewriter.notifyMatchFailure(attention, "the query is not rotated");
    if (attention.getQuery() != rotary.getQueryOut() ||
        attention.getKey() != rotary.getKeyOut() || !rotary.getQueryOut().hasOneUse() ||
        !rotary.getKeyOut().hasOneUse() || rotary.getQuery() == rotary.getKey())
      return rewriter.notifyMatchFailure(attention,
                                         "the rotary results are not just its q and k");
    if (rotary.getHeadDim() != attention.getHeadDim())
      return rewriter.notifyMatchFailure(attention, "rotary and attention heads differ");

    Value query = rotary.getQuery(), key = rotary.getKey();
    Value queryNorm, keyNorm;
    FloatAttr epsilon;
    auto normedQuery = matchPerHeadNorm(query, attention.getHeadDim());
    auto normedKey = matchPerHeadNorm(key, attention.getHeadDim());
    if (normedQuery && normedKey &&
        normedQuery->norm.getEpsilon() == normedKey->norm.getEpsilon()) {
      query = normedQuery->input;
      key = normedKey->input;
      queryNorm = normedQuery->norm.getWeight();
      keyNorm = normedKey->norm.getWeight();
      epsilon = normedQuery->norm.getEpsilonAttr();
    }

    Location loc = rewriter.getFusedLoc({attention.getLoc(), rotary.getLoc()});
    rewriter.setInsertionPoint(attention);
    auto fused = RotaryAttentionOp::create(
        rewriter, loc, attention.getType(), rotary.getPositions(), query, key,
        attention.getValue(), queryNorm, keyNorm, attention.getNumHeadsAttr(),
        attention.getNumKvHeadsAttr(), attention.getHeadDimAttr(), attention.getScaleAttr(),
        attention.getCausalAttr(), attention.getSlidingWindowAttr(), attention.getSoftcapAttr(),
        rotary.getStyle(),
        rotary.getRotaryDimAttr(), rotary.getThetaAttr(), epsilon, rotary.getRopeScalingAttr());
    rewriter.replaceOp(attention, fused.getResult());
    rewriter.eraseOp(rotary);
    return success();
  }
};

struct FuseRotaryAttentionPass
    : vgcu::impl::FuseRotaryAttentionBase<FuseRotaryAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseRotaryAttentionPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
