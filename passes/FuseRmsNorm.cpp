//===- FuseRmsNorm.cpp - RMSNorm and LayerNorm spelled in primitives to one op -----===//

#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vgcu {
#define GEN_PASS_DEF_FUSERMSNORM
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

/// `mean(square(h), -1, keepdim)` with square as pow(h, 2) or h * h; returns h.
Value matchMeanOfSquares(Value value) {
  auto mean = value.getDefiningOp<MeanOp>();
  if (!mean || !mean.getKeepdim() || !isLastDimOnly(mean.getDims(), rankOf(mean.getInput())))
    return {};
  Operation *square = mean.getInput().getDefiningOp();
  if (auto pow = dyn_cast_or_null<PowOp>(square)) {
    std::optional<double> exponent = matchScalarFloat(pow.getRhs());
    return exponent && *exponent == 2.0 ? pow.getLhs() : Value();
  }
  if (auto mul = dyn_cast_or_null<MulOp>(square))
    return mul.getLhs() == mul.getRhs() ? mul.getLhs() : Value();
  return {};
}

/// `variance + eps` with a positive scalar eps; returns (variance, eps).
std::optional<std::pair<Value, double>> matchPlusEpsilon(Value value) {
  auto add = value.getDefiningOp<AddOp>();
  if (!add)
    return std::nullopt;
  auto ordered = orderOperands(add, [](Value v) { return !matchScaleConstant(v); });
  if (!ordered)
    return std::nullopt;
  std::optional<double> epsilon = matchScaleConstant(ordered->second);
  if (!epsilon || !(*epsilon > 0.0))
    return std::nullopt;
  return std::make_pair(ordered->first, *epsilon);
}

/// `h · rsqrt(d + eps)` or `h / sqrt(d + eps)`; returns (h, d, eps).
struct Normalization {
  Value numerator;
  Value variance;
  double epsilon;
};
/// `rsqrt(v)` or `1 / sqrt(v)`: returns v.
Value matchReciprocalRoot(Value value) {
  if (auto rsqrt = value.getDefiningOp<RsqrtOp>())
    return rsqrt.getInput();
  auto div = value.getDefiningOp<DivOp>();
  auto sqrt = div ? div.getRhs().getDefiningOp<SqrtOp>() : SqrtOp();
  std::optional<double> one = div ? matchScaleConstant(div.getLhs()) : std::nullopt;
  if (!sqrt || !one || *one != 1.0 || div.getType() != sqrt.getType())
    return {};
  return sqrt.getInput();
}

std::optional<Normalization> matchNormalization(Value value) {
  Operation *op = value.getDefiningOp();
  if (auto mul = dyn_cast_or_null<MulOp>(op)) {
    auto ordered =
        orderOperands(mul, [](Value v) { return static_cast<bool>(matchReciprocalRoot(v)); });
    if (!ordered)
      return std::nullopt;
    auto sum = matchPlusEpsilon(matchReciprocalRoot(ordered->first));
    if (!sum)
      return std::nullopt;
    return Normalization{ordered->second, sum->first, sum->second};
  }
  if (auto div = dyn_cast_or_null<DivOp>(op)) {
    auto sqrt = div.getRhs().getDefiningOp<SqrtOp>();
    if (!sqrt)
      return std::nullopt;
    auto sum = matchPlusEpsilon(sqrt.getInput());
    if (!sum)
      return std::nullopt;
    return Normalization{div.getLhs(), sum->first, sum->second};
  }
  return std::nullopt;
}

/// A scale vector for the last dimension of `like`, of its element type.
bool isChannelWeight(Value weight, Value like) {
  auto weightType = cast<RankedTensorType>(weight.getType());
  auto likeType = cast<RankedTensorType>(like.getType());
  return weightType.getRank() == 1 && likeType.getRank() >= 1 &&
         weightType.getDimSize(0) == likeType.getShape().back() &&
         weightType.getElementType() == likeType.getElementType();
}

/// weight · cast(x · rsqrt(mean(x², -1) + eps)) in its spellings → vgcu.rms_norm.
struct FuseRmsNormPattern : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp op, PatternRewriter &rewriter) const override {
    for (auto [weight, normalized] : {std::pair(op.getLhs(), op.getRhs()),
                                      std::pair(op.getRhs(), op.getLhs())}) {
      // At most one cast each way: the f32 upcast of the input and the rounding back.
      auto norm = matchNormalization(stripOneCast(normalized));
      if (!norm)
        continue;
      Value squared = matchMeanOfSquares(norm->variance);
      if (!squared || squared != norm->numerator)
        continue;
      Value input = norm->numerator;
      if (input.getType() != op.getType())
        input = stripOneCast(input);
      if (input.getType() != op.getType() || !isChannelWeight(weight, input))
        continue;
      rewriter.replaceOpWithNewOp<RmsNormOp>(op, input, weight, norm->epsilon);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "not an RMSNorm");
  }
};

/// cast(rms_norm(cast(x → f32), w: f32) → type of x) → rms_norm(x, w): an RMSNorm computed
/// wholly in f32 and rounded once at the end (Gemma's `(norm(x.float()) * (1 + w.float()))
/// .type_as(x)`) is what vgcu.rms_norm does with an f32 weight over a narrower input.
struct FuseF32RmsNormPattern : OpRewritePattern<CastOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CastOp op, PatternRewriter &rewriter) const override {
    auto norm = op.getInput().getDefiningOp<RmsNormOp>();
    auto upcast = norm ? norm.getInput().getDefiningOp<CastOp>() : CastOp();
    if (!upcast || !norm.getType().getElementType().isF32() ||
        !norm.getWeight().getType().getElementType().isF32() ||
        upcast.getInput().getType() != op.getType() ||
        !isa<FloatType>(op.getType().getElementType()))
      return rewriter.notifyMatchFailure(op, "not an f32 RMSNorm between casts");
    rewriter.replaceOpWithNewOp<RmsNormOp>(op, upcast.getInput(), norm.getWeight(),
                                           norm.getEpsilon());
    return success();
  }
};

/// (x - mean(x)) / sqrt(mean((x - mean(x))²) + eps) · w + b → vgcu.layer_norm.
struct FuseLayerNormPattern : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp op, PatternRewriter &rewriter) const override {
    auto ordered = orderOperands(op, [](Value v) { return v.getDefiningOp<MulOp>(); });
    if (!ordered)
      return failure();
    auto [scaled, bias] = *ordered;
    auto mul = scaled.getDefiningOp<MulOp>();
    for (auto [weight, normalized] : {std::pair(mul.getLhs(), mul.getRhs()),
                                      std::pair(mul.getRhs(), mul.getLhs())}) {
      auto norm = matchNormalization(stripOneCast(normalized));
      if (!norm)
        continue;
      Value centered = matchMeanOfSquares(norm->variance);
      if (!centered || centered != norm->numerator)
        continue;
      auto sub = centered.getDefiningOp<SubOp>();
      auto mean = sub ? sub.getRhs().getDefiningOp<MeanOp>() : MeanOp();
      if (!mean || mean.getInput() != sub.getLhs() || !mean.getKeepdim() ||
          !isLastDimOnly(mean.getDims(), rankOf(mean.getInput())))
        continue;
      Value input = sub.getLhs();
      if (input.getType() != op.getType())
        input = stripOneCast(input);
      if (input.getType() != op.getType() || !isChannelWeight(weight, input) ||
          !isChannelWeight(bias, input))
        continue;
      rewriter.replaceOpWithNewOp<LayerNormOp>(op, input.getType(), input, weight, bias,
                                               rewriter.getF64FloatAttr(norm->epsilon));
      return success();
    }
    return rewriter.notifyMatchFailure(op, "not a LayerNorm");
  }
};

struct FuseRmsNormPass : vgcu::impl::FuseRmsNormBase<FuseRmsNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseRmsNormPattern, FuseF32RmsNormPattern, FuseLayerNormPattern>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
