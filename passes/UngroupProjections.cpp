//===- UngroupProjections.cpp - Projections split through a grouped view, made flat ---===//
//
// InternLM2's wqkv output is viewed as [T, kv_heads, groups + 2, head_dim] and split along
// the third dimension (each KV head's queries, then its key, then its value); Baichuan's
// W_pack output as [T, 3, hidden] and split along the second. Sharding and packing want a
// linear whose output is cut into contiguous slices of its last dimension, as a builder's
// packed linear is. This pass reorders the weight's rows (a computation on the weight alone,
// which vgcu-fold-weights then moves to artifact time) so that each part is contiguous, and
// the parts become flat slices of the new output, viewed as before.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vgcu {
#define GEN_PASS_DEF_UNGROUPPROJECTIONS
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

/// linear → reshape [T, (A,) B, D] → slices along B that partition it.
struct UngroupProjectionPattern : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op, PatternRewriter &rewriter) const override {
    auto outputType = cast<RankedTensorType>(op.getType());
    if (outputType.getRank() != 2 || !op->hasOneUse())
      return rewriter.notifyMatchFailure(op, "not a [tokens, features] linear with one use");
    auto view = dyn_cast<ReshapeOp>(*op->getUsers().begin());
    if (!view)
      return rewriter.notifyMatchFailure(op, "its output is not viewed");
    ArrayRef<int64_t> viewShape = cast<RankedTensorType>(view.getType()).getShape();
    int64_t rank = static_cast<int64_t>(viewShape.size());
    if ((rank != 3 && rank != 4) || !ShapedType::isDynamic(viewShape[0]) ||
        llvm::any_of(viewShape.drop_front(), ShapedType::isDynamic))
      return rewriter.notifyMatchFailure(op, "not viewed as [tokens, (groups,) parts, width]");
    int64_t groups = rank == 4 ? viewShape[1] : 1, parts = viewShape[rank - 2],
            width = viewShape[rank - 1];
    int64_t splitDim = rank - 2;
    // The slices along the parts dimension, and the ranges they cover.
    SmallVector<SliceOp> slices;
    SmallVector<std::pair<int64_t, int64_t>> ranges;
    for (Operation *user : view->getUsers()) {
      auto slice = dyn_cast<SliceOp>(user);
      if (!slice || slice.getStep() != 1 ||
          (slice.getDim() != splitDim && slice.getDim() != splitDim - rank))
        return rewriter.notifyMatchFailure(op, "the view has a use other than a part");
      slices.push_back(slice);
      ranges.push_back({slice.getStart(), slice.getEnd()});
    }
    llvm::sort(ranges);
    ranges.erase(std::unique(ranges.begin(), ranges.end()), ranges.end());
    int64_t next = 0;
    for (auto [start, end] : ranges) {
      if (start != next)
        return rewriter.notifyMatchFailure(op, "the parts overlap or leave a gap");
      next = end;
    }
    if (next != parts || ranges.size() < 2)
      return rewriter.notifyMatchFailure(op, "the slices do not split the view into parts");

    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    // Rows (and bias entries) in part order: for each part, every group's rows of it.
    auto regroup = [&](Value tensor) -> Value {
      if (groups == 1)
        return tensor; // [parts · width, ...] is already in part order
      auto type = cast<RankedTensorType>(tensor.getType());
      SmallVector<int64_t> trailing(type.getShape().drop_front());
      SmallVector<int64_t> grouped{groups, parts, width};
      grouped.append(trailing);
      Value byGroup = ReshapeOp::create(rewriter, loc, withShape(tensor, grouped), tensor);
      SmallVector<Value> pieces;
      for (auto [start, end] : ranges) {
        Value piece = SliceOp::create(rewriter, loc, byGroup, 1, start, end, 1);
        SmallVector<int64_t> flat{groups * (end - start) * width};
        flat.append(trailing);
        pieces.push_back(ReshapeOp::create(rewriter, loc, withShape(tensor, flat), piece));
      }
      return ConcatOp::create(rewriter, loc, pieces, 0);
    };
    Value weight = regroup(op.getWeight());
    Value bias = op.getBias() ? regroup(op.getBias()) : Value();
    auto flat = LinearOp::create(rewriter, loc, op.getInput(), weight, bias);
    flat->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    // Each part: its contiguous columns of the new output, viewed as the slice was.
    int64_t offset = 0;
    DenseMap<std::pair<int64_t, int64_t>, Value> partValues;
    for (auto [start, end] : ranges) {
      int64_t columns = groups * (end - start) * width;
      Value columnsOf = SliceOp::create(rewriter, loc, flat, 1, offset, offset + columns, 1);
      SmallVector<int64_t> shape{ShapedType::kDynamic};
      if (rank == 4)
        shape.push_back(groups);
      shape.append({end - start, width});
      partValues[{start, end}] =
          ReshapeOp::create(rewriter, loc, withShape(columnsOf, shape), columnsOf);
      offset += columns;
    }
    for (SliceOp slice : slices)
      rewriter.replaceOp(slice, partValues.lookup({slice.getStart(), slice.getEnd()}));
    rewriter.eraseOp(view);
    rewriter.eraseOp(op);
    return success();
  }
};

struct UngroupProjectionsPass : vgcu::impl::UngroupProjectionsBase<UngroupProjectionsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<UngroupProjectionPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
