//===- FuseAttention.cpp - Scaled dot-product attention to vgcu.attention ----------===//

#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vgcu {
#define GEN_PASS_DEF_FUSEATTENTION
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

bool isTransposeOf(Value value, ArrayRef<int64_t> permutation, Value &input) {
  auto transpose = value.getDefiningOp<TransposeOp>();
  if (!transpose || transpose.getPermutation() != permutation)
    return false;
  input = transpose.getInput();
  return true;
}

/// Removes grouped-KV repetition: `reshape(broadcast(kv1, [S, Hkv, g, D]), [S, Hkv·g, D])`
/// with kv1 = `reshape(kv, [S, Hkv, 1, D])` (what repeat_interleave and expand + reshape both
/// become) gives back kv; a kv1 made some other way (InternLM2 selects k and v out of a
/// [S, Hkv, g + 2, D] view) is given back as it is, [S, Hkv, 1, D].
Value stripKvRepeat(Value value) {
  auto outer = value.getDefiningOp<ReshapeOp>();
  auto broadcast = outer ? outer.getInput().getDefiningOp<BroadcastOp>() : BroadcastOp();
  if (!broadcast)
    return value;
  Value unit = broadcast.getInput();
  ArrayRef<int64_t> unitShape = cast<RankedTensorType>(unit.getType()).getShape();
  ArrayRef<int64_t> grouped = cast<RankedTensorType>(broadcast.getType()).getShape();
  if (unitShape.size() != 4 || grouped.size() != 4 || unitShape[2] != 1 ||
      unitShape[1] != grouped[1] || unitShape[3] != grouped[3] ||
      ShapedType::isDynamic(grouped[2]))
    return value;
  if (auto inner = unit.getDefiningOp<ReshapeOp>()) {
    ArrayRef<int64_t> base = cast<RankedTensorType>(inner.getInput().getType()).getShape();
    if (base.size() == 3 && base[1] == unitShape[1] && base[2] == unitShape[3])
      return inner.getInput();
  }
  return unit;
}

/// Whether `value` holds [S, heads, D] or [S, heads, 1, D].
bool isHeadsLayout(RankedTensorType type) {
  return type.getRank() == 3 || (type.getRank() == 4 && type.getDimSize(2) == 1);
}

/// Multiplies by (or divisions by) scalar constants, peeled off `value`; returns what they
/// scaled.
Value peelScales(Value value, double &scale) {
  while (true) {
    // `scores / math.sqrt(head_dim)` (InternLM2, Baichuan, GPT-2).
    if (auto div = value.getDefiningOp<DivOp>()) {
      std::optional<double> divisor = matchScaleConstant(div.getRhs());
      if (!divisor || *divisor == 0.0 || div.getLhs().getType() != div.getType())
        return value;
      scale /= *divisor;
      value = div.getLhs();
      continue;
    }
    auto mul = value.getDefiningOp<MulOp>();
    if (!mul)
      return value;
    auto ordered = orderOperands(mul, [](Value v) { return !matchScaleConstant(v); });
    if (!ordered || ordered->first.getType() != mul.getType())
      return value;
    std::optional<double> factor = matchScaleConstant(ordered->second);
    if (!factor)
      return value;
    scale *= *factor;
    value = ordered->first;
  }
}

/// The positions behind `[1, S]` (key) or `[T, 1]` (query) broadcasting views: the
/// function's integer `positions` argument, the one vgcu.attention masks with (any other
/// rank-1 tensor would make a different mask).
Value positionsAlong(Value value, int64_t varyingDim) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() != 2 || type.getDimSize(1 - varyingDim) != 1)
    return {};
  auto argument = dyn_cast<BlockArgument>(stripCasts(stripReshapes(value)));
  if (!argument || rankOf(argument) != 1 ||
      !cast<RankedTensorType>(argument.getType()).getElementType().isInteger())
    return {};
  auto function = dyn_cast<func::FuncOp>(argument.getOwner()->getParentOp());
  if (!function)
    return {};
  auto name = function.getArgAttrOfType<StringAttr>(argument.getArgNumber(), "vgcu.name");
  bool isPositions = name ? name.getValue() == "positions" : argument.getArgNumber() == 1;
  return isPositions ? argument : Value();
}

/// The causal mask `key > query` (or `query < key`); returns the positions compared.
Value matchCausal(Value mask) {
  auto compare = mask.getDefiningOp<CompareOp>();
  if (!compare)
    return {};
  Value key, query;
  if (compare.getPredicate() == ComparePredicate::gt) {
    key = positionsAlong(compare.getLhs(), 1);
    query = positionsAlong(compare.getRhs(), 0);
  } else if (compare.getPredicate() == ComparePredicate::lt) {
    query = positionsAlong(compare.getLhs(), 0);
    key = positionsAlong(compare.getRhs(), 1);
  }
  return key && key == query ? key : Value();
}

/// The sliding-window mask `query - key >= window`; returns (positions, window).
std::optional<std::pair<Value, int64_t>> matchWindow(Value mask) {
  auto compare = mask.getDefiningOp<CompareOp>();
  if (!compare || compare.getPredicate() != ComparePredicate::ge)
    return std::nullopt;
  auto distance = compare.getLhs().getDefiningOp<SubOp>();
  std::optional<int64_t> window = matchScalarInt(compare.getRhs());
  if (!distance || !window || *window <= 0)
    return std::nullopt;
  Value query = positionsAlong(distance.getLhs(), 0);
  Value key = positionsAlong(distance.getRhs(), 1);
  if (!query || query != key)
    return std::nullopt;
  return std::make_pair(query, *window);
}

struct MaskInfo {
  Value positions;
  std::optional<int64_t> window;
};

std::optional<MaskInfo> matchMask(Value mask) {
  mask = stripReshapesAndBroadcasts(mask);
  if (Value positions = matchCausal(mask))
    return MaskInfo{positions, std::nullopt};
  auto either = mask.getDefiningOp<OrOp>();
  if (!either)
    return std::nullopt;
  for (auto [causal, window] : {std::pair(either.getLhs(), either.getRhs()),
                                std::pair(either.getRhs(), either.getLhs())}) {
    Value positions = matchCausal(stripReshapesAndBroadcasts(causal));
    auto windowed = matchWindow(stripReshapesAndBroadcasts(window));
    if (positions && windowed && windowed->first == positions)
      return MaskInfo{positions, windowed->second};
  }
  return std::nullopt;
}

/// softmax(q·kᵀ·scale masked causally)·v over [heads, tokens, head_dim] → vgcu.attention.
struct FuseAttentionPattern : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op, PatternRewriter &rewriter) const override {
    // probs · v
    auto softmax = stripCasts(op.getLhs()).getDefiningOp<SoftmaxOp>();
    Value valueHeads;
    if (!softmax || !isTransposeOf(op.getRhs(), {1, 0, 2}, valueHeads))
      return rewriter.notifyMatchFailure(op, "not probabilities times values");
    int64_t scoresRank = rankOf(softmax.getInput());
    if (softmax.getDim() != -1 && softmax.getDim() != scoresRank - 1)
      return rewriter.notifyMatchFailure(op, "softmax is not over the keys");
    // masked_fill(mask, very negative, scores)
    auto fill = stripCasts(softmax.getInput()).getDefiningOp<WhereOp>();
    std::optional<double> fillValue = fill ? matchScaleConstant(fill.getOnTrue()) : std::nullopt;
    if (!fill || !fillValue || *fillValue > -65504.0)
      return rewriter.notifyMatchFailure(op, "scores are not masked to -inf");
    auto mask = matchMask(fill.getCondition());
    if (!mask)
      return rewriter.notifyMatchFailure(op, "mask is not causal");
    // (q · kᵀ) · scale, maybe soft-capped before the mask (Gemma 2)
    Value scaled = fill.getOnFalse();
    FloatAttr softcap;
    if (auto cap = scaled.getDefiningOp<SoftCapOp>()) {
      softcap = cap.getCapAttr();
      scaled = cap.getInput();
    }
    double scale = 1.0;
    auto scores = peelScales(scaled, scale).getDefiningOp<MatmulOp>();
    Value queryHeads, keyHeads;
    if (!scores || !isTransposeOf(scores.getLhs(), {1, 0, 2}, queryHeads) ||
        !isTransposeOf(scores.getRhs(), {1, 2, 0}, keyHeads))
      return rewriter.notifyMatchFailure(op, "scores are not q times k transposed");

    // q may carry the scale too (OPT scales q right after its projection), also before its
    // reshape to heads; the reshape of the unscaled value is only made once all checks pass.
    Value query = peelScales(queryHeads, scale);
    Value unscaledFlatQuery;
    if (auto reshape = query.getDefiningOp<ReshapeOp>()) {
      double inner = 1.0;
      Value scaled = peelScales(reshape.getInput(), inner);
      if (inner != 1.0) {
        scale *= inner;
        unscaledFlatQuery = scaled;
      }
    }
    Value key = stripKvRepeat(keyHeads);
    Value value = stripKvRepeat(valueHeads);
    auto queryType = cast<RankedTensorType>(query.getType());
    auto keyType = cast<RankedTensorType>(key.getType());
    auto valueType = cast<RankedTensorType>(value.getType());
    if (queryType.getRank() != 3 || !isHeadsLayout(keyType) || !isHeadsLayout(valueType) ||
        keyType.getDimSize(1) != valueType.getDimSize(1) ||
        keyType.getShape().back() != valueType.getShape().back() ||
        keyType.getElementType() != valueType.getElementType() ||
        queryType.getElementType() != keyType.getElementType() ||
        queryType.getDimSize(2) != keyType.getShape().back())
      return rewriter.notifyMatchFailure(op, "unexpected q/k/v shapes");
    int64_t numHeads = queryType.getDimSize(1), numKvHeads = keyType.getDimSize(1);
    int64_t headDim = queryType.getDimSize(2);
    if (ShapedType::isDynamic(numHeads) || ShapedType::isDynamic(numKvHeads) ||
        ShapedType::isDynamic(headDim) || numHeads % numKvHeads != 0 ||
        cast<RankedTensorType>(op.getType()).getElementType() != queryType.getElementType() ||
        !(scale > 0.0))
      return rewriter.notifyMatchFailure(op, "unsupported head layout");

    rewriter.setInsertionPoint(op);
    Location loc = op.getLoc();
    if (unscaledFlatQuery)
      query = ReshapeOp::create(rewriter, query.getLoc(), queryType, unscaledFlatQuery);
    auto flat = [&](Value heads, int64_t count) {
      auto type = cast<RankedTensorType>(heads.getType());
      return ReshapeOp::create(rewriter, loc,
                               withShape(heads, {type.getDimSize(0), count * headDim}), heads);
    };
    Value q = flat(query, numHeads), k = flat(key, numKvHeads), v = flat(value, numKvHeads);
    Value attention = AttentionOp::create(
        rewriter, loc, q.getType(), q, k, v, rewriter.getI64IntegerAttr(numHeads),
        rewriter.getI64IntegerAttr(numKvHeads), rewriter.getI64IntegerAttr(headDim),
        rewriter.getF64FloatAttr(scale), rewriter.getUnitAttr(),
        mask->window ? rewriter.getI64IntegerAttr(*mask->window) : nullptr, softcap);
    Value byHead = ReshapeOp::create(rewriter, loc, query.getType(), attention);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, op.getType(), byHead,
                                             rewriter.getDenseI64ArrayAttr({1, 0, 2}));
    return success();
  }
};

struct FuseAttentionPass : vgcu::impl::FuseAttentionBase<FuseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttentionPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
