//===- FuseAllReduceNorm.cpp - all_reduce + fused add/norm to one op ----------------===//

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

/// AddNormOp(all_reduce(x), r, params...) (either operand) → ReducingOp(x, r, params...),
/// when nothing else reads the reduced value. Both ops take (input, residual, parameters...)
/// and yield (normed, sum).
template <typename AddNormOp, typename ReducingOp>
struct FuseAllReduceAddNorm : OpRewritePattern<AddNormOp> {
  using OpRewritePattern<AddNormOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(AddNormOp op, PatternRewriter &rewriter) const override {
    auto ordered = orderOperands(op, [](Value v) {
      auto reduce = v.getDefiningOp<AllReduceOp>();
      return reduce && reduce->hasOneUse();
    });
    if (!ordered)
      return rewriter.notifyMatchFailure(op, "no single-use all_reduce operand");
    auto reduce = ordered->first.template getDefiningOp<AllReduceOp>();
    SmallVector<Value> operands{reduce.getInput(), ordered->second};
    llvm::append_range(operands, op->getOperands().drop_front(2));
    auto fused = ReducingOp::create(rewriter, rewriter.getFusedLoc({op.getLoc(), reduce.getLoc()}),
                                    op->getResultTypes(), operands, op->getAttrs());
    fused.setGroup(reduce.getGroup());
    rewriter.replaceOp(op, fused->getResults());
    rewriter.eraseOp(reduce);
    return success();
  }
};

/// norm_add_norm(all_reduce(x), r) → all_reduce_norm_add_norm(x, r): only the normed input
/// may be the partial sum (the residual stream is whole on every rank).
struct FuseAllReduceNormAddNorm : OpRewritePattern<NormAddNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(NormAddNormOp op, PatternRewriter &rewriter) const override {
    auto reduce = op.getInput().getDefiningOp<AllReduceOp>();
    if (!reduce || !reduce->hasOneUse())
      return rewriter.notifyMatchFailure(op, "the input is no single-use all_reduce");
    auto fused = AllReduceNormAddNormOp::create(
        rewriter, rewriter.getFusedLoc({op.getLoc(), reduce.getLoc()}), op->getResultTypes(),
        reduce.getInput(), op.getResidual(), op.getPostWeight(), op.getWeight(),
        op.getPostEpsilonAttr(), op.getEpsilonAttr(), reduce.getGroup());
    rewriter.replaceOp(op, fused->getResults());
    rewriter.eraseOp(reduce);
    return success();
  }
};

struct FuseAllReduceNormPass : vgcu::impl::FuseAllReduceNormBase<FuseAllReduceNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAllReduceAddNorm<AddRmsNormOp, AllReduceAddRmsNormOp>,
                 FuseAllReduceAddNorm<AddLayerNormOp, AllReduceAddLayerNormOp>,
                 FuseAllReduceNormAddNorm>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
