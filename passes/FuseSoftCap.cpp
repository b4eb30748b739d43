//===- FuseSoftCap.cpp - tanh soft-capping spelled in primitives to vgcu.soft_cap ------===//

#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vgcu {
#define GEN_PASS_DEF_FUSESOFTCAP
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

/// tanh(x / c) · c (either operand order of the multiply) → vgcu.soft_cap x {cap = c}, for one
/// positive scalar constant c.
struct FuseSoftCapPattern : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp op, PatternRewriter &rewriter) const override {
    auto ordered = orderOperands(op, [](Value v) { return static_cast<bool>(v.getDefiningOp<TanhOp>()); });
    if (!ordered)
      return rewriter.notifyMatchFailure(op, "no tanh factor");
    auto tanh = ordered->first.getDefiningOp<TanhOp>();
    auto div = tanh.getInput().getDefiningOp<DivOp>();
    std::optional<double> outer = matchScaleConstant(ordered->second);
    std::optional<double> inner = div ? matchScaleConstant(div.getRhs()) : std::nullopt;
    if (!div || !outer || !inner || *outer != *inner || !(*outer > 0.0))
      return rewriter.notifyMatchFailure(op, "not tanh(x / c) · c with one positive c");
    if (div.getLhs().getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "the cap broadcasts or changes the type");
    rewriter.replaceOpWithNewOp<SoftCapOp>(op, div.getLhs(), rewriter.getF64FloatAttr(*outer));
    return success();
  }
};

struct FuseSoftCapPass : vgcu::impl::FuseSoftCapBase<FuseSoftCapPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseSoftCapPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
