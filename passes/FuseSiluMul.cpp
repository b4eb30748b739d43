//===- FuseSiluMul.cpp - Gated activations to vgcu.silu_and_mul / gelu_and_mul -----===//

#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vgcu {
#define GEN_PASS_DEF_FUSESILUMUL
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

/// x · sigmoid(x) → silu(x), so that both spellings of SiLU meet the gated pattern below.
struct SigmoidMulToSilu : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp op, PatternRewriter &rewriter) const override {
    auto ordered = orderOperands(op, [](Value v) { return v.getDefiningOp<SigmoidOp>(); });
    if (!ordered || ordered->first.getDefiningOp<SigmoidOp>().getInput() != ordered->second ||
        ordered->second.getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "not x * sigmoid(x)");
    rewriter.replaceOpWithNewOp<SiluOp>(op, ordered->second);
    return success();
  }
};

/// The value whose first half is `gate` and second half `up`, when both are slices of it.
Value matchHalves(Value gate, Value up) {
  auto first = gate.getDefiningOp<SliceOp>();
  auto second = up.getDefiningOp<SliceOp>();
  if (!first || !second || first.getInput() != second.getInput() || first.getStep() != 1 ||
      second.getStep() != 1)
    return {};
  auto type = cast<RankedTensorType>(first.getInput().getType());
  int64_t last = type.getRank() - 1;
  int64_t width = type.getShape().back();
  if ((first.getDim() != -1 && first.getDim() != last) ||
      (second.getDim() != -1 && second.getDim() != last) || ShapedType::isDynamic(width) ||
      width % 2 != 0)
    return {};
  int64_t half = width / 2;
  if (first.getStart() != 0 || first.getEnd() != half || second.getStart() != half ||
      second.getEnd() != width)
    return {};
  return first.getInput();
}

/// act(gate) · up → act_and_mul([gate, up]).
struct FuseGatedActivation : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp op, PatternRewriter &rewriter) const override {
    auto ordered = orderOperands(op, [](Value v) {
      return v.getDefiningOp<SiluOp>() || v.getDefiningOp<GeluOp>();
    });
    if (!ordered)
      return rewriter.notifyMatchFailure(op, "no activation operand");
    auto [activated, up] = *ordered;
    Operation *activation = activated.getDefiningOp();
    Value gate = activation->getOperand(0);
    if (gate.getType() != op.getType() || up.getType() != op.getType() ||
        rankOf(gate) < 1)
      return rewriter.notifyMatchFailure(op, "gate and up differ in type or broadcast");

    Value packed = matchHalves(gate, up);
    if (!packed) {
      auto type = cast<RankedTensorType>(gate.getType());
      if (ShapedType::isDynamic(type.getShape().back()))
        return rewriter.notifyMatchFailure(op, "dynamic feature width");
      SmallVector<int64_t> shape(type.getShape());
      shape.back() *= 2;
      packed = ConcatOp::create(rewriter, op.getLoc(), withShape(gate, shape),
                                ValueRange{gate, up}, rankOf(gate) - 1);
    }
    Location loc = rewriter.getFusedLoc({op.getLoc(), activation->getLoc()});
    Value fused;
    if (isa<SiluOp>(activation))
      fused = SiluAndMulOp::create(rewriter, loc, op.getType(), packed);
    else
      fused = GeluAndMulOp::create(rewriter, loc, op.getType(), packed,
                                   cast<GeluOp>(activation).getApproximate());
    rewriter.replaceOp(op, fused);
    return success();
  }
};

struct FuseSiluMulPass : vgcu::impl::FuseSiluMulBase<FuseSiluMulPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SigmoidMulToSilu, FuseGatedActivation>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
