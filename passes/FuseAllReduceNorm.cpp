//===- FuseAllReduceNorm.cpp - all_reduce + add_rms_norm to one op -----------------===//

#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vgcu {
#define GEN_PASS_DEF_FUSEALLREDUCENORM
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

/// add_rms_norm(all_reduce(x), r) (either operand) → all_reduce_add_rms_norm(x, r), when
/// nothing else reads the reduced value.
struct FuseAllReduceAddRmsNorm : OpRewritePattern<AddRmsNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddRmsNormOp op, PatternRewriter &rewriter) const override {
    auto ordered = orderOperands(op, [](Value v) {
      auto reduce = v.getDefiningOp<AllReduceOp>();
      return reduce && reduce->hasOneUse();
    });
    if (!ordered)
      return rewriter.notifyMatchFailure(op, "no single-use all_reduce operand");
    auto reduce = ordered->first.getDefiningOp<AllReduceOp>();
    Value residual = ordered->second;
    auto fused = AllReduceAddRmsNormOp::create(
        rewriter, rewriter.getFusedLoc({op.getLoc(), reduce.getLoc()}), op.getNormed().getType(),
        op.getSum().getType(), reduce.getInput(), residual, op.getWeight(), op.getEpsilonAttr());
    rewriter.replaceOp(op, fused.getResults());
    rewriter.eraseOp(reduce);
    return success();
  }
};

struct FuseAllReduceNormPass : vgcu::impl::FuseAllReduceNormBase<FuseAllReduceNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAllReduceAddRmsNorm>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
