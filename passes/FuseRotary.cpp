//===- FuseRotary.cpp - Rotary embeddings spelled in primitives to one op ----------===//

#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include <cmath>

namespace vgcu {
#define GEN_PASS_DEF_FUSEROTARY
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

/// cos/sin tables `f(positions · inv_freq) · factor` laid out for one rotary style.
struct RotaryTables {
  Value positions;
  Value angles; // the [tokens, rotary_dim] argument of cos and sin
  /// theta when inv_freq[i] = theta^(-2i/d); otherwise the frequencies are kept as they are
  /// (a scaled rope: llama3, linear, yarn).
  std::optional<double> theta;
  SmallVector<double> frequencies;
  /// What cos and sin are multiplied by (yarn's attention factor).
  double factor = 1.0;
  int64_t rotaryDim = 0;
  RotaryStyle style = RotaryStyle::neox;
};

/// `reshape(cast(positions)) · reshape(inv_freq)`: returns (positions, inv_freq values).
std::optional<std::pair<Value, SmallVector<double>>> matchFrequencies(Value value) {
  auto mul = value.getDefiningOp<MulOp>();
  if (!mul)
    return std::nullopt;
  for (auto [lhs, rhs] : {std::pair(mul.getLhs(), mul.getRhs()),
                          std::pair(mul.getRhs(), mul.getLhs())}) {
    Value positions = stripCasts(stripReshapes(lhs));
    auto positionsType = cast<RankedTensorType>(positions.getType());
    if (positionsType.getRank() != 1 || !positionsType.getElementType().isInteger())
      continue;
    DenseElementsAttr invFreq;
    if (!matchPattern(stripReshapes(rhs), m_Constant(&invFreq)) ||
        !isa<FloatType>(invFreq.getElementType()))
      continue;
    SmallVector<double> values;
    for (APFloat element : invFreq.getValues<APFloat>())
      values.push_back(element.convertToDouble());
    return std::make_pair(positions, values);
  }
  return std::nullopt;
}

/// theta with inv_freq[i] = theta^(-2i/d) for every i, if there is one.
std::optional<double> thetaOf(ArrayRef<double> invFreq) {
  if (invFreq.size() < 2 || invFreq[0] != 1.0 || !(invFreq[1] > 0.0 && invFreq[1] < 1.0))
    return std::nullopt;
  double dim = 2.0 * invFreq.size();
  double theta = std::pow(invFreq[1], -dim / 2.0);
  // inv_freq comes in float32: snap thetas that were written as round numbers.
  if (std::abs(theta - std::round(theta)) < 1e-4 * theta)
    theta = std::round(theta);
  for (auto [i, value] : llvm::enumerate(invFreq))
    if (std::abs(value - std::pow(theta, -2.0 * i / dim)) > 1e-5 * value)
      return std::nullopt;
  return theta;
}

/// The angles tensor and style of a table: neox concatenates the frequencies with
/// themselves, GPT-J repeats each one twice in place.
std::optional<std::pair<Value, RotaryStyle>> matchLayout(Value angles) {
  if (auto concat = angles.getDefiningOp<ConcatOp>()) {
    if (concat.getInputs().size() == 2 && concat.getInputs()[0] == concat.getInputs()[1] &&
        (concat.getDim() == -1 || concat.getDim() == rankOf(angles) - 1))
      return std::make_pair(concat.getInputs()[0], RotaryStyle::neox);
    return std::nullopt;
  }
  // reshape(broadcast(reshape(freqs, [T, d/2, 1]), [T, d/2, 2]), [T, d])
  auto outer = angles.getDefiningOp<ReshapeOp>();
  auto broadcast = outer ? outer.getInput().getDefiningOp<BroadcastOp>() : BroadcastOp();
  auto inner = broadcast ? broadcast.getInput().getDefiningOp<ReshapeOp>() : ReshapeOp();
  if (!inner)
    return std::nullopt;
  auto pairs = cast<RankedTensorType>(broadcast.getType()).getShape();
  auto unit = cast<RankedTensorType>(inner.getType()).getShape();
  if (pairs.empty() || pairs.back() != 2 || unit.back() != 1 ||
      rankOf(inner.getInput()) + 1 != static_cast<int64_t>(unit.size()))
    return std::nullopt;
  return std::make_pair(inner.getInput(), RotaryStyle::gptj);
}

/// A cos (or sin) table, possibly scaled by a constant, cast to the model dtype and
/// broadcast over heads.
template <typename TrigOp>
std::optional<RotaryTables> matchTable(Value value) {
  Value table = stripReshapesAndBroadcasts(stripCasts(stripReshapesAndBroadcasts(value)));
  double factor = 1.0;
  if (auto mul = table.getDefiningOp<MulOp>()) {
    auto ordered = orderOperands(mul, [](Value v) { return static_cast<bool>(v.getDefiningOp<TrigOp>()); });
    std::optional<double> constant = ordered ? matchScaleConstant(ordered->second) : std::nullopt;
    if (!constant || !(*constant > 0.0))
      return std::nullopt;
    factor = *constant;
    table = ordered->first;
  }
  auto trig = table.getDefiningOp<TrigOp>();
  if (!trig)
    return std::nullopt;
  auto layout = matchLayout(trig.getInput());
  if (!layout)
    return std::nullopt;
  auto frequencies = matchFrequencies(layout->first);
  if (!frequencies)
    return std::nullopt;
  if (llvm::any_of(frequencies->second, [](double f) { return !(f > 0.0); }))
    return std::nullopt;
  return RotaryTables{frequencies->first, trig.getInput(), thetaOf(frequencies->second),
                      frequencies->second, factor,
                      static_cast<int64_t>(2 * frequencies->second.size()), layout->second};
}

/// `x` when `value` is `x` unsqueezed at the end (`[..., n] -> [..., n, 1]`).
Value unsqueezedLast(Value value) {
  auto reshape = value.getDefiningOp<ReshapeOp>();
  if (!reshape)
    return Value();
  ArrayRef<int64_t> from = cast<RankedTensorType>(reshape.getInput().getType()).getShape();
  ArrayRef<int64_t> to = cast<RankedTensorType>(reshape.getType()).getShape();
  if (to.size() != from.size() + 1 || to.back() != 1 || to.drop_back() != from)
    return Value();
  return reshape.getInput();
}

/// Whether `value` rotates the channel pairs of `input` in `style`.
bool isRotation(Value value, Value input, RotaryStyle style) {
  int64_t last = rankOf(input) - 1;
  auto isSliceOf = [&](Value v, int64_t start, int64_t end, int64_t step) {
    auto slice = v.getDefiningOp<SliceOp>();
    return slice && slice.getInput() == input && (slice.getDim() == -1 || slice.getDim() == last) &&
           slice.getStart() == start && slice.getEnd() == end && slice.getStep() == step;
  };
  int64_t dim = cast<RankedTensorType>(input.getType()).getShape().back();
  if (ShapedType::isDynamic(dim) || dim % 2 != 0)
    return false;
  if (style == RotaryStyle::neox) {
    // cat(-x[..., d/2:], x[..., :d/2])
    auto concat = value.getDefiningOp<ConcatOp>();
    if (!concat || concat.getInputs().size() != 2 ||
        (concat.getDim() != -1 && concat.getDim() != last))
      return false;
    auto neg = concat.getInputs()[0].getDefiningOp<NegOp>();
    return neg && isSliceOf(neg.getInput(), dim / 2, dim, 1) &&
           isSliceOf(concat.getInputs()[1], 0, dim / 2, 1);
  }
  // stack((-x[..., 1::2], x[..., ::2]), -1).flatten(-2)
  auto flatten = value.getDefiningOp<ReshapeOp>();
  auto stack = flatten ? flatten.getInput().getDefiningOp<ConcatOp>() : ConcatOp();
  if (!stack || stack.getInputs().size() != 2 ||
      (stack.getDim() != -1 && stack.getDim() != last + 1))
    return false;
  // Each half must be unsqueezed at the end ([..., d/2, 1]) for the pairs to interleave.
  Value odd = unsqueezedLast(stack.getInputs()[0]), even = unsqueezedLast(stack.getInputs()[1]);
  auto neg = odd ? odd.getDefiningOp<NegOp>() : NegOp();
  return neg && even && isSliceOf(neg.getInput(), 1, dim, 2) && isSliceOf(even, 0, dim, 2);
}

/// One rotated tensor: `input · cos + rotate(input) · sin`, or with a partial rotary
/// dimension `cat(rotated first channels, the rest)`.
struct Rotation {
  Operation *root;
  Value input;
  RotaryTables tables;
};

std::optional<Rotation> matchRotation(AddOp add) {
  for (auto [first, second] : {std::pair(add.getLhs(), add.getRhs()),
                               std::pair(add.getRhs(), add.getLhs())}) {
    auto direct = first.getDefiningOp<MulOp>();
    auto rotated = second.getDefiningOp<MulOp>();
    if (!direct || !rotated)
      continue;
    for (auto [input, cosTable] : {std::pair(direct.getLhs(), direct.getRhs()),
                                   std::pair(direct.getRhs(), direct.getLhs())}) {
      auto cosine = matchTable<CosOp>(cosTable);
      if (!cosine || input.getType() != add.getType())
        continue;
      for (auto [rotation, sinTable] : {std::pair(rotated.getLhs(), rotated.getRhs()),
                                        std::pair(rotated.getRhs(), rotated.getLhs())}) {
        auto sine = matchTable<SinOp>(sinTable);
        if (!sine || sine->angles != cosine->angles ||
            !isRotation(rotation, input, cosine->style))
          continue;
        int64_t headDim = cast<RankedTensorType>(input.getType()).getShape().back();
        if (headDim != cosine->rotaryDim)
          continue;
        return Rotation{add.getOperation(), input, *cosine};
      }
    }
  }
  return std::nullopt;
}

/// Phi-3's partial rotary: `cat(rotation of x[..., :rd], x[..., rd:])` rotates the first rd
/// channels of each head of x; the rotation then stands for the whole concatenation.
void extendToPartialHead(Rotation &rotation) {
  auto rotated = rotation.input.getDefiningOp<SliceOp>();
  if (!rotated || !rotation.root->hasOneUse())
    return;
  Value full = rotated.getInput();
  auto fullType = cast<RankedTensorType>(full.getType());
  int64_t last = fullType.getRank() - 1;
  auto alongLast = [&](int64_t dim) { return dim == -1 || dim == last; };
  int64_t rotaryDim = rotated.getEnd(), headDim = fullType.getShape().back();
  if (!alongLast(rotated.getDim()) || rotated.getStart() != 0 || rotated.getStep() != 1 ||
      ShapedType::isDynamic(headDim) || rotaryDim >= headDim)
    return;
  auto concat = dyn_cast<ConcatOp>(*rotation.root->getUsers().begin());
  if (!concat || concat.getInputs().size() != 2 || !alongLast(concat.getDim()) ||
      concat.getInputs()[0] != rotation.root->getResult(0))
    return;
  auto passed = concat.getInputs()[1].getDefiningOp<SliceOp>();
  if (!passed || passed.getInput() != full || !alongLast(passed.getDim()) ||
      passed.getStart() != rotaryDim || passed.getEnd() < headDim || passed.getStep() != 1)
    return;
  rotation.root = concat;
  rotation.input = full;
}

/// Rotations a single rotary op may serve together.
bool compatible(const Rotation &a, const Rotation &b) {
  auto headDim = [](const Rotation &r) {
    return cast<RankedTensorType>(r.input.getType()).getShape().back();
  };
  return a.tables.positions == b.tables.positions && a.tables.theta == b.tables.theta &&
         a.tables.frequencies == b.tables.frequencies && a.tables.factor == b.tables.factor &&
         a.tables.rotaryDim == b.tables.rotaryDim && a.tables.style == b.tables.style &&
         headDim(a) == headDim(b) && a.root->getBlock() == b.root->getBlock();
}

/// [tokens, a, b, ...] → [tokens, a·b·...].
Value flattenHeads(OpBuilder &builder, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t width = 1;
  for (int64_t dim : type.getShape().drop_front())
    width *= dim;
  if (type.getRank() == 2)
    return value;
  return ReshapeOp::create(builder, loc, withShape(value, {type.getDimSize(0), width}), value);
}

void rewritePair(Rotation query, std::optional<Rotation> key) {
  OpBuilder builder(query.root);
  Location loc = key ? builder.getFusedLoc({query.root->getLoc(), key->root->getLoc()})
                     : query.root->getLoc();
  Value q = flattenHeads(builder, loc, query.input);
  Value k = key ? flattenHeads(builder, loc, key->input) : q;
  const RotaryTables &tables = query.tables;
  int64_t headDim = cast<RankedTensorType>(query.input.getType()).getShape().back();
  // Frequencies that are no plain theta^(-2i/d) (a scaled rope), or scaled tables, are kept
  // as the trace computed them.
  RopeScalingAttr scaling;
  if (!tables.theta || tables.factor != 1.0)
    scaling = RopeScalingAttr::get(
        builder.getContext(), RopeType::precomputed, APFloat(1.0), 0, APFloat(1.0), APFloat(4.0),
        APFloat(32.0), APFloat(1.0), true, APFloat(tables.factor), DenseF64ArrayAttr(),
        DenseF64ArrayAttr(), builder.getDenseF64ArrayAttr(tables.frequencies));
  auto rotary = RotaryEmbeddingOp::create(builder, loc, tables.positions, q, k, tables.style,
                                          builder.getI64IntegerAttr(headDim),
                                          builder.getI64IntegerAttr(tables.rotaryDim),
                                          builder.getF64FloatAttr(tables.theta.value_or(1.0e4)),
                                          scaling);
  // Results in the shape the rotations had; the old ops go only once nothing new needs
  // the builder's insertion point (which is one of them).
  auto restored = [&](Value rotated, Rotation &rotation) -> Value {
    Type type = rotation.root->getResult(0).getType();
    if (rotated.getType() == type)
      return rotated;
    return ReshapeOp::create(builder, loc, type, rotated);
  };
  Value queryResult = restored(rotary.getQueryOut(), query);
  Value keyResult = key ? restored(rotary.getKeyOut(), *key) : Value();
  query.root->getResult(0).replaceAllUsesWith(queryResult);
  query.root->erase();
  if (key) {
    key->root->getResult(0).replaceAllUsesWith(keyResult);
    key->root->erase();
  }
}

//===----------------------------------------------------------------------===//
// ChatGLM's rotation: pairs (x0, x1) = x.reshape(..., d/2, 2) turned by a stacked
// (cos, sin) cache, stack([x0·c − x1·s, x1·c + x0·s], -1).flatten(-2).
//===----------------------------------------------------------------------===//

/// Looks through reshapes, broadcasts and casts in any order.
Value stripViews(Value value) {
  while (true) {
    Value inner = stripCasts(stripReshapesAndBroadcasts(value));
    if (inner == value)
      return value;
    value = inner;
  }
}

/// `element` of the last dimension, which has size `size`: `x[..., element]` as a slice plus a
/// reshape; returns x.
Value selectedFrom(Value value, int64_t element, int64_t size) {
  auto reshape = value.getDefiningOp<ReshapeOp>();
  auto slice = reshape ? reshape.getInput().getDefiningOp<SliceOp>() : SliceOp();
  if (!slice || slice.getStart() != element || slice.getEnd() != element + 1 ||
      slice.getStep() != 1)
    return Value();
  int64_t last = rankOf(slice.getInput()) - 1;
  ArrayRef<int64_t> shape = cast<RankedTensorType>(slice.getInput().getType()).getShape();
  if ((slice.getDim() != -1 && slice.getDim() != last) || shape.back() != size)
    return Value();
  return slice.getInput();
}

/// The angles `a` when `table` is entry `entry` (0: cos, 1: sin) of the rope cache
/// stack([cos(a), sin(a)], -1), seen through casts, reshapes and broadcasts.
Value matchCacheEntry(Value table, int64_t entry) {
  Value cache;
  while (!(cache = selectedFrom(table, entry, 2))) {
    Operation *view = table.getDefiningOp();
    if (!isa_and_nonnull<ReshapeOp, BroadcastOp, CastOp>(view))
      return Value();
    table = view->getOperand(0);
  }
  auto stack = stripViews(cache).getDefiningOp<ConcatOp>();
  if (!stack || stack.getInputs().size() != 2)
    return Value();
  Value cosine = unsqueezedLast(stack.getInputs()[0]);
  Value sine = unsqueezedLast(stack.getInputs()[1]);
  auto cosOp = cosine ? cosine.getDefiningOp<CosOp>() : CosOp();
  auto sinOp = sine ? sine.getDefiningOp<SinOp>() : SinOp();
  if (!cosOp || !sinOp || cosOp.getInput() != sinOp.getInput())
    return Value();
  return cosOp.getInput();
}

/// One product of a pairwise rotation: a channel of the pairs times cos or sin of the cache.
struct PairTerm {
  Value pairs;     // x.reshape(..., d/2, 2)
  int64_t element; // 0: x0, 1: x1
  bool cosine;
  Value angles; // what cos and sin take
};

std::optional<PairTerm> matchPairTerm(Value product) {
  auto mul = product.getDefiningOp<MulOp>();
  if (!mul)
    return std::nullopt;
  for (auto [channel, table] : {std::pair(mul.getLhs(), mul.getRhs()),
                                std::pair(mul.getRhs(), mul.getLhs())})
    for (int64_t element : {0, 1})
      if (Value pairs = selectedFrom(channel, element, 2))
        for (int64_t entry : {0, 1})
          if (Value angles = matchCacheEntry(table, entry))
            return PairTerm{pairs, element, entry == 0, angles};
  return std::nullopt;
}

std::optional<Rotation> matchPairwiseRotation(ConcatOp stack) {
  if (stack.getInputs().size() != 2 || !stack->hasOneUse())
    return std::nullopt;
  Value real = unsqueezedLast(stack.getInputs()[0]);
  Value imaginary = unsqueezedLast(stack.getInputs()[1]);
  auto sub = real ? real.getDefiningOp<SubOp>() : SubOp();
  auto add = imaginary ? imaginary.getDefiningOp<AddOp>() : AddOp();
  if (!sub || !add)
    return std::nullopt;
  auto x0c = matchPairTerm(sub.getLhs()), x1s = matchPairTerm(sub.getRhs());
  auto first = matchPairTerm(add.getLhs()), second = matchPairTerm(add.getRhs());
  if (!x0c || !x1s || !first || !second)
    return std::nullopt;
  auto same = [&](const PairTerm &term, int64_t element, bool cosine) {
    return term.pairs == x0c->pairs && term.angles == x0c->angles && term.element == element &&
           term.cosine == cosine;
  };
  // x0·c − x1·s and x1·c + x0·s (in either order).
  if (!same(*x0c, 0, true) || !same(*x1s, 1, false) ||
      !((same(*first, 1, true) && same(*second, 0, false)) ||
        (same(*first, 0, false) && same(*second, 1, true))))
    return std::nullopt;
  auto pairs = x0c->pairs.getDefiningOp<ReshapeOp>();
  auto flatten = dyn_cast<ReshapeOp>(*stack->getUsers().begin());
  if (!pairs || !flatten || flatten.getType() != pairs.getInput().getType())
    return std::nullopt;
  auto frequencies = matchFrequencies(x0c->angles);
  if (!frequencies || llvm::any_of(frequencies->second, [](double f) { return !(f > 0.0); }))
    return std::nullopt;
  int64_t rotaryDim = 2 * static_cast<int64_t>(frequencies->second.size());
  if (cast<RankedTensorType>(pairs.getInput().getType()).getShape().back() != rotaryDim)
    return std::nullopt;
  RotaryTables tables{frequencies->first, x0c->angles, thetaOf(frequencies->second),
                      frequencies->second, 1.0, rotaryDim, RotaryStyle::gptj};
  return Rotation{flatten.getOperation(), pairs.getInput(), tables};
}

struct FuseRotaryPass : vgcu::impl::FuseRotaryBase<FuseRotaryPass> {
  void runOnOperation() override {
    SmallVector<Rotation> rotations;
    getOperation().walk([&](Operation *op) {
      std::optional<Rotation> rotation;
      if (auto add = dyn_cast<AddOp>(op))
        rotation = matchRotation(add);
      else if (auto stack = dyn_cast<ConcatOp>(op))
        rotation = matchPairwiseRotation(stack);
      // Token-major values only ([tokens, heads, head_dim] or [tokens, head_dim]): the
      // rotary op works on [tokens, heads x head_dim].
      if (rotation) {
        extendToPartialHead(*rotation);
        ArrayRef<int64_t> shape = cast<RankedTensorType>(rotation->input.getType()).getShape();
        bool tokenMajor = shape.size() >= 2 && ShapedType::isDynamic(shape[0]) &&
                          llvm::none_of(shape.drop_front(), ShapedType::isDynamic);
        if (tokenMajor)
          rotations.push_back(*rotation);
      }
    });
    // Queries and keys are rotated one after the other with the same tables; a pair becomes
    // one op, placed at the first rotation, so the second's input must exist there.
    for (size_t i = 0; i < rotations.size(); ++i) {
      Rotation query = rotations[i];
      std::optional<Rotation> key;
      if (i + 1 < rotations.size() && compatible(query, rotations[i + 1])) {
        Operation *keyInput = rotations[i + 1].input.getDefiningOp();
        if (!keyInput || keyInput->getBlock() != query.root->getBlock() ||
            keyInput->isBeforeInBlock(query.root)) {
          key = rotations[i + 1];
          ++i;
        }
      }
      rewritePair(query, key);
    }
  }
};

} // namespace
