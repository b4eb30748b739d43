//===- VgcuOps.cpp - Verifiers and folders of the vgcu graph dialect --------------===//

#include "dialects/vgcu/VgcuOps.h"
#include "vgcu/Support/Shapes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

#include <optional>

using namespace mlir;
using namespace vgcu;

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

static bool isDynamic(int64_t dim) { return isDynamicDim(dim); }

static RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

static LogicalResult verifyBroadcast(Operation *op, ArrayRef<Value> operands, Value result) {
  SmallVector<int64_t> shape;
  for (Value operand : operands) {
    auto broadcast = broadcastShapes(shape, tensorType(operand).getShape());
    if (!broadcast)
      return op->emitOpError("operand shapes ")
             << shapeString(shape) << " and " << shapeString(tensorType(operand).getShape())
             << " do not broadcast";
    shape = *broadcast;
  }
  ArrayRef<int64_t> resultShape = tensorType(result).getShape();
  if (!compatibleShapes(shape, resultShape))
    return op->emitOpError("result shape ")
           << shapeString(resultShape) << " does not match the broadcast shape "
           << shapeString(shape);
  return success();
}

static LogicalResult verifyNormWeight(Operation *op, Value input, Value weight,
                                      StringRef weightName) {
  auto inputType = tensorType(input);
  auto weightType = tensorType(weight);
  if (inputType.getRank() < 1)
    return op->emitOpError("input must have at least one dimension");
  if (weightType.getRank() != 1)
    return op->emitOpError() << weightName << " must be one-dimensional, got rank "
                             << weightType.getRank();
  int64_t features = inputType.getShape().back();
  if (!compatibleDims(weightType.getDimSize(0), features))
    return op->emitOpError() << weightName << " length " << weightType.getDimSize(0)
                             << " does not match the last input dimension " << features;
  if (weightType.getElementType() != inputType.getElementType())
    return op->emitOpError() << weightName << " element type " << weightType.getElementType()
                             << " does not match the input element type "
                             << inputType.getElementType();
  return success();
}

static LogicalResult verifyEpsilon(Operation *op, APFloat epsilon) {
  if (!(epsilon.convertToDouble() > 0.0))
    return op->emitOpError("epsilon must be positive");
  return success();
}

//===----------------------------------------------------------------------===//
// ParamOp
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError("name must not be empty");
  RankedTensorType type = getResult().getType();
  if (!type.hasStaticShape())
    return emitOpError("shape must be static, got ") << shapeString(type.getShape());
  if (auto shard = getShardAttr()) {
    if (shard.getDim() >= type.getRank())
      return emitOpError("shard dim ") << shard.getDim() << " is out of range for rank "
                                       << type.getRank();
    if (shard.getLocalSize() != type.getDimSize(shard.getDim()))
      return emitOpError("shard gives a local size of ")
             << shard.getLocalSize() << " along dim " << shard.getDim()
             << " but the result has " << type.getDimSize(shard.getDim());
  }
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  auto inputType = tensorType(getInput());
  auto weightType = tensorType(getWeight());
  auto resultType = tensorType(getResult());
  if (weightType.getRank() != 2)
    return emitOpError("weight must be [out_features, in_features], got rank ")
           << weightType.getRank();
  if (inputType.getRank() < 1)
    return emitOpError("input must have at least one dimension");
  int64_t outFeatures = weightType.getDimSize(0);
  int64_t inFeatures = weightType.getDimSize(1);
  if (!compatibleDims(inputType.getShape().back(), inFeatures))
    return emitOpError("input has ") << inputType.getShape().back()
                                     << " features but the weight expects " << inFeatures;
  SmallVector<int64_t> expected(inputType.getShape().drop_back());
  expected.push_back(outFeatures);
  if (!compatibleShapes(expected, resultType.getShape()))
    return emitOpError("result shape ") << shapeString(resultType.getShape())
                                        << " does not match the expected "
                                        << shapeString(expected);
  Type elementType = inputType.getElementType();
  if (weightType.getElementType() != elementType || resultType.getElementType() != elementType)
    return emitOpError("element types of input, weight and result must agree");
  if (Value bias = getBias()) {
    auto biasType = tensorType(bias);
    if (biasType.getRank() != 1 || !compatibleDims(biasType.getDimSize(0), outFeatures))
      return emitOpError("bias shape ") << shapeString(biasType.getShape())
                                        << " does not match out_features " << outFeatures;
    if (biasType.getElementType() != elementType)
      return emitOpError("bias element type must match the input element type");
  }
  if (getFirstRankBias() && !getBias())
    return emitOpError("first_rank_bias needs a bias");
  auto modules = getPackedModulesAttr();
  auto sizes = getPackedSizesAttr();
  if (static_cast<bool>(modules) != static_cast<bool>(sizes))
    return emitOpError("packed_modules and packed_sizes must be given together");
  if (modules) {
    if (modules.size() != sizes.size())
      return emitOpError("has ") << modules.size() << " packed modules but "
                                 << sizes.size() << " packed sizes";
    int64_t total = 0;
    for (int64_t size : sizes.asArrayRef()) {
      if (size <= 0)
        return emitOpError("packed sizes must be positive");
      total += size;
    }
    if (!isDynamic(outFeatures) && total != outFeatures)
      return emitOpError("packed sizes add up to ") << total << " but out_features is "
                                                    << outFeatures;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  auto idsType = tensorType(getIds());
  auto tableType = tensorType(getTable());
  auto resultType = tensorType(getResult());
  if (tableType.getRank() != 2)
    return emitOpError("table must be [vocab, hidden], got rank ") << tableType.getRank();
  SmallVector<int64_t> expected(idsType.getShape());
  expected.push_back(tableType.getDimSize(1));
  if (!compatibleShapes(expected, resultType.getShape()))
    return emitOpError("result shape ") << shapeString(resultType.getShape())
                                        << " does not match the expected "
                                        << shapeString(expected);
  if (resultType.getElementType() != tableType.getElementType())
    return emitOpError("result element type must match the table element type");
  return success();
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

template <typename RmsNormLikeOp>
static LogicalResult verifyRmsNormLike(RmsNormLikeOp op) {
  if (failed(verifyNormWeight(op, op.getInput(), op.getWeight(), "weight")))
    return failure();
  return verifyEpsilon(op, op.getEpsilon());
}

LogicalResult RmsNormOp::verify() { return verifyRmsNormLike(*this); }
LogicalResult AddRmsNormOp::verify() { return verifyRmsNormLike(*this); }
LogicalResult AllReduceAddRmsNormOp::verify() { return verifyRmsNormLike(*this); }

template <typename LayerNormLikeOp>
static LogicalResult verifyLayerNormLike(LayerNormLikeOp op) {
  if (failed(verifyNormWeight(op, op.getInput(), op.getWeight(), "weight")) ||
      failed(verifyNormWeight(op, op.getInput(), op.getBias(), "bias")))
    return failure();
  return verifyEpsilon(op, op.getEpsilon());
}

LogicalResult LayerNormOp::verify() { return verifyLayerNormLike(*this); }
LogicalResult AddLayerNormOp::verify() { return verifyLayerNormLike(*this); }
LogicalResult AllReduceAddLayerNormOp::verify() { return verifyLayerNormLike(*this); }

//===----------------------------------------------------------------------===//
// RotaryEmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult RotaryEmbeddingOp::verify() {
  auto positionsType = tensorType(getPositions());
  if (positionsType.getRank() != 1)
    return emitOpError("positions must be one-dimensional");
  int64_t headDim = getHeadDim();
  int64_t rotaryDim = getRotaryDim();
  if (headDim <= 0)
    return emitOpError("head_dim must be positive");
  if (rotaryDim <= 0 || rotaryDim > headDim || rotaryDim % 2 != 0)
    return emitOpError("rotary_dim ") << rotaryDim << " must be even and within (0, "
                                      << headDim << "]";
  if (!(getTheta().convertToDouble() > 0.0))
    return emitOpError("theta must be positive");
  for (auto [name, value] : {std::pair<StringRef, Value>{"query", getQuery()},
                             std::pair<StringRef, Value>{"key", getKey()}}) {
    auto type = tensorType(value);
    if (type.getRank() != 2)
      return emitOpError() << name << " must be [tokens, heads x head_dim]";
    if (!isDynamic(type.getDimSize(1)) && type.getDimSize(1) % headDim != 0)
      return emitOpError() << name << " width " << type.getDimSize(1)
                           << " is not a multiple of head_dim " << headDim;
    if (!compatibleDims(type.getDimSize(0), positionsType.getDimSize(0)))
      return emitOpError() << name << " and positions disagree on the number of tokens";
  }
  if (tensorType(getQuery()).getElementType() != tensorType(getKey()).getElementType())
    return emitOpError("query and key element types must agree");
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  int64_t numHeads = getNumHeads();
  int64_t numKvHeads = getNumKvHeads();
  int64_t headDim = getHeadDim();
  if (numHeads <= 0 || numKvHeads <= 0 || headDim <= 0)
    return emitOpError("num_heads, num_kv_heads and head_dim must be positive");
  if (numHeads % numKvHeads != 0)
    return emitOpError("num_heads ") << numHeads << " is not divisible by num_kv_heads "
                                     << numKvHeads;
  if (!(getScale().convertToDouble() > 0.0))
    return emitOpError("scale must be positive");
  if (auto window = getSlidingWindow(); window && *window <= 0)
    return emitOpError("sliding_window must be positive");
  auto checkWidth = [&](StringRef name, Value value, int64_t heads) -> LogicalResult {
    auto type = tensorType(value);
    if (type.getRank() != 2)
      return emitOpError() << name << " must be [tokens, heads x head_dim]";
    auto width = checkedProduct(heads, headDim);
    if (!width)
      return emitOpError() << name << " width " << heads << " x " << headDim << " overflows";
    if (!compatibleDims(type.getDimSize(1), *width))
      return emitOpError() << name << " width " << type.getDimSize(1) << " must equal "
                           << heads << " heads x head_dim " << headDim;
    if (type.getElementType() != tensorType(getQuery()).getElementType())
      return emitOpError("query, key and value element types must agree");
    return success();
  };
  if (failed(checkWidth("query", getQuery(), numHeads)) ||
      failed(checkWidth("key", getKey(), numKvHeads)) ||
      failed(checkWidth("value", getValue(), numKvHeads)))
    return failure();
  if (getResult().getType() != getQuery().getType())
    return emitOpError("result type must equal the query type");
  return success();
}

//===----------------------------------------------------------------------===//
// Gated activations and collectives
//===----------------------------------------------------------------------===//

static LogicalResult verifyGatedActivation(Operation *op, Value input, Value result) {
  auto inputType = tensorType(input);
  auto resultType = tensorType(result);
  if (inputType.getRank() < 1 || inputType.getRank() != resultType.getRank())
    return op->emitOpError("input and result must have the same rank of at least one");
  int64_t width = inputType.getShape().back();
  if (!isDynamic(width) && width % 2 != 0)
    return op->emitOpError("last input dimension ") << width << " must be even";
  SmallVector<int64_t> expected(inputType.getShape());
  if (!isDynamic(width))
    expected.back() = width / 2;
  if (!compatibleShapes(expected, resultType.getShape()))
    return op->emitOpError("result shape ") << shapeString(resultType.getShape())
                                            << " must be the input shape with the last "
                                               "dimension halved, "
                                            << shapeString(expected);
  if (inputType.getElementType() != resultType.getElementType())
    return op->emitOpError("result element type must match the input");
  return success();
}

LogicalResult SiluAndMulOp::verify() {
  return verifyGatedActivation(*this, getInput(), getResult());
}

LogicalResult GeluAndMulOp::verify() {
  return verifyGatedActivation(*this, getInput(), getResult());
}

LogicalResult AllGatherOp::verify() {
  auto inputType = tensorType(getInput());
  auto resultType = tensorType(getResult());
  if (getWorldSize() < 1)
    return emitOpError("world_size must be at least 1");
  auto dim = normalizeDim(getDim(), inputType.getRank());
  if (!dim)
    return emitOpError("dim ") << getDim() << " is out of range for rank "
                               << inputType.getRank();
  SmallVector<int64_t> expected(inputType.getShape());
  if (!isDynamic(expected[*dim]))
    expected[*dim] *= getWorldSize();
  if (inputType.getElementType() != resultType.getElementType())
    return emitOpError("result element type must match the input");
  if (!compatibleShapes(expected, resultType.getShape()))
    return emitOpError("result shape ") << shapeString(resultType.getShape())
                                        << " must be the input gathered along dim " << *dim
                                        << ", " << shapeString(expected);
  return success();
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getResult().getType())
    return emitOpError("value type ") << getValue().getType()
                                      << " does not match the result type "
                                      << getResult().getType();
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

static LogicalResult verifyBinary(Operation *op) {
  Type elementType = tensorType(op->getOperand(0)).getElementType();
  if (tensorType(op->getOperand(1)).getElementType() != elementType ||
      tensorType(op->getResult(0)).getElementType() != elementType)
    return op->emitOpError("operand and result element types must agree");
  return verifyBroadcast(op, {op->getOperand(0), op->getOperand(1)}, op->getResult(0));
}

LogicalResult AddOp::verify() { return verifyBinary(*this); }
LogicalResult SubOp::verify() { return verifyBinary(*this); }
LogicalResult MulOp::verify() { return verifyBinary(*this); }
LogicalResult DivOp::verify() { return verifyBinary(*this); }
LogicalResult PowOp::verify() { return verifyBinary(*this); }
LogicalResult MaximumOp::verify() { return verifyBinary(*this); }
LogicalResult OrOp::verify() {
  if (!tensorType(getLhs()).getElementType().isInteger(1))
    return emitOpError("operands must be boolean (i1) masks");
  return verifyBinary(*this);
}

LogicalResult CompareOp::verify() {
  if (tensorType(getLhs()).getElementType() != tensorType(getRhs()).getElementType())
    return emitOpError("operand element types must agree");
  return verifyBroadcast(*this, {getLhs(), getRhs()}, getResult());
}

LogicalResult WhereOp::verify() {
  Type elementType = tensorType(getOnTrue()).getElementType();
  if (tensorType(getOnFalse()).getElementType() != elementType ||
      tensorType(getResult()).getElementType() != elementType)
    return emitOpError("value and result element types must agree");
  return verifyBroadcast(*this, {getCondition(), getOnTrue(), getOnFalse()}, getResult());
}

LogicalResult CastOp::verify() {
  if (!compatibleShapes(tensorType(getInput()).getShape(), tensorType(getResult()).getShape()))
    return emitOpError("input and result shapes must agree");
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getResult().getType())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  ArrayRef<int64_t> lhs = tensorType(getLhs()).getShape();
  ArrayRef<int64_t> rhs = tensorType(getRhs()).getShape();
  ArrayRef<int64_t> result = tensorType(getResult()).getShape();
  if (lhs.size() < 2 || rhs.size() < 2)
    return emitOpError("operands must have rank of at least 2");
  if (!compatibleDims(lhs.back(), rhs[rhs.size() - 2]))
    return emitOpError("contraction dimensions ") << lhs.back() << " and "
                                                  << rhs[rhs.size() - 2] << " disagree";
  auto batch = broadcastShapes(lhs.drop_back(2), rhs.drop_back(2));
  if (!batch)
    return emitOpError("batch dimensions do not broadcast");
  SmallVector<int64_t> expected(*batch);
  expected.push_back(lhs[lhs.size() - 2]);
  expected.push_back(rhs.back());
  if (!compatibleShapes(expected, result))
    return emitOpError("result shape ") << shapeString(result) << " does not match "
                                        << shapeString(expected);
  Type elementType = tensorType(getLhs()).getElementType();
  if (tensorType(getRhs()).getElementType() != elementType ||
      tensorType(getResult()).getElementType() != elementType)
    return emitOpError("operand and result element types must agree");
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions and softmax
//===----------------------------------------------------------------------===//

static LogicalResult verifyReduction(Operation *op, Value input, ArrayRef<int64_t> dims,
                                     bool keepdim, Value result) {
  auto inputType = tensorType(input);
  SmallVector<int64_t> expected;
  std::string error = reducedShape(inputType.getShape(), dims, keepdim, expected);
  if (!error.empty())
    return op->emitOpError(error);
  auto resultType = tensorType(result);
  if (!compatibleShapes(expected, resultType.getShape()))
    return op->emitOpError("result shape ") << shapeString(resultType.getShape())
                                            << " does not match " << shapeString(expected);
  if (resultType.getElementType() != inputType.getElementType())
    return op->emitOpError("result element type must match the input");
  return success();
}

LogicalResult MeanOp::verify() {
  return verifyReduction(*this, getInput(), getDims(), getKeepdim(), getResult());
}

LogicalResult SumOp::verify() {
  return verifyReduction(*this, getInput(), getDims(), getKeepdim(), getResult());
}

LogicalResult SoftmaxOp::verify() {
  if (!normalizeDim(getDim(), tensorType(getInput()).getRank()))
    return emitOpError("dim ") << getDim() << " is out of range for rank "
                               << tensorType(getInput()).getRank();
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::verify() {
  auto inputType = tensorType(getInput());
  auto resultType = tensorType(getResult());
  SmallVector<int64_t> expected;
  std::string error = permutedShape(inputType.getShape(), getPermutation(), expected);
  if (!error.empty())
    return emitOpError(error);
  if (inputType.getElementType() != resultType.getElementType())
    return emitOpError("result element type must match the input");
  if (!compatibleShapes(expected, resultType.getShape()))
    return emitOpError("result shape ") << shapeString(resultType.getShape())
                                        << " does not match the permuted input "
                                        << shapeString(expected);
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  auto isIdentity = [](ArrayRef<int64_t> permutation) {
    for (auto [i, index] : llvm::enumerate(permutation))
      if (static_cast<int64_t>(i) != index)
        return false;
    return true;
  };
  if (isIdentity(getPermutation()))
    return getInput();
  // transpose(transpose(x)) is one transpose of x (or x itself).
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    SmallVector<int64_t> composed;
    for (int64_t index : getPermutation())
      composed.push_back(inner.getPermutation()[index]);
    if (isIdentity(composed) && inner.getInput().getType() == getType())
      return inner.getInput();
    getInputMutable().assign(inner.getInput());
    setPermutation(composed);
    return getResult();
  }
  return {};
}

LogicalResult ReshapeOp::verify() {
  auto inputType = tensorType(getInput());
  auto resultType = tensorType(getResult());
  if (inputType.getElementType() != resultType.getElementType())
    return emitOpError("element types must agree");
  std::string error = reshapeMismatch(inputType.getShape(), resultType.getShape());
  if (!error.empty())
    return emitOpError(error);
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getResult().getType() &&
      llvm::count_if(tensorType(getInput()).getShape(), isDynamic) <= 1)
    return getInput();
  if (auto producer = getInput().getDefiningOp<ReshapeOp>()) {
    if (producer.getInput().getType() == getResult().getType() &&
        llvm::count_if(getResult().getType().getShape(), isDynamic) <= 1)
      return producer.getInput();
  }
  return {};
}

LogicalResult BroadcastOp::verify() {
  std::string error = broadcastToMismatch(tensorType(getInput()).getShape(),
                                          tensorType(getResult()).getShape());
  if (!error.empty())
    return emitOpError(error);
  if (tensorType(getInput()).getElementType() != tensorType(getResult()).getElementType())
    return emitOpError("element types must agree");
  return success();
}

LogicalResult SliceOp::verify() {
  auto inputType = tensorType(getInput());
  auto resultType = tensorType(getResult());
  auto dim = normalizeDim(getDim(), inputType.getRank());
  if (!dim)
    return emitOpError("dim ") << getDim() << " is out of range for rank "
                               << inputType.getRank();
  int64_t start = getStart(), end = getEnd(), step = getStep();
  if (step < 1)
    return emitOpError("step must be at least 1");
  if (start < 0 || end <= start)
    return emitOpError("range [") << start << ", " << end << ") is empty or negative";
  int64_t size = inputType.getDimSize(*dim);
  if (!isDynamic(size) && end > size)
    return emitOpError("range [") << start << ", " << end << ") exceeds dimension size "
                                  << size;
  SmallVector<int64_t> expected(inputType.getShape());
  expected[*dim] = (end - start + step - 1) / step;
  if (inputType.getElementType() != resultType.getElementType())
    return emitOpError("result element type must match the input");
  if (!compatibleShapes(expected, resultType.getShape()))
    return emitOpError("result shape ") << shapeString(resultType.getShape())
                                        << " does not match " << shapeString(expected);
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  auto type = tensorType(getInput());
  int64_t dim = getDim() < 0 ? getDim() + type.getRank() : getDim();
  if (getStart() == 0 && getStep() == 1 && dim >= 0 && dim < type.getRank() &&
      getEnd() == type.getDimSize(dim) && getType() == type)
    return getInput();
  return {};
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  // Adjacent slices that together cover their source are the source.
  Value source;
  int64_t expectedStart = 0;
  int64_t rank = tensorType(getResult()).getRank();
  int64_t dim = getDim() < 0 ? getDim() + rank : getDim();
  for (Value input : getInputs()) {
    auto slice = input.getDefiningOp<SliceOp>();
    if (!slice || slice.getStep() != 1 || slice.getStart() != expectedStart)
      return {};
    int64_t sliceDim = slice.getDim() < 0 ? slice.getDim() + rank : slice.getDim();
    if (sliceDim != dim || (source && slice.getInput() != source))
      return {};
    source = slice.getInput();
    expectedStart = slice.getEnd();
  }
  if (!source || source.getType() != getType() ||
      expectedStart != tensorType(source).getDimSize(dim))
    return {};
  return source;
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  auto resultType = tensorType(getResult());
  auto dim = normalizeDim(getDim(), resultType.getRank());
  if (!dim)
    return emitOpError("dim ") << getDim() << " is out of range for rank "
                               << resultType.getRank();
  SmallVector<int64_t> expected(tensorType(getInputs().front()).getShape());
  if (static_cast<int64_t>(expected.size()) != resultType.getRank())
    return emitOpError("inputs and result must have the same rank");
  expected[*dim] = 0;
  for (Value input : getInputs()) {
    auto type = tensorType(input);
    if (type.getRank() != resultType.getRank() ||
        type.getElementType() != resultType.getElementType())
      return emitOpError("inputs and result must agree in rank and element type");
    for (int64_t i = 0; i < type.getRank(); ++i) {
      if (i == *dim) {
        if (isDynamic(type.getDimSize(i)) || isDynamic(expected[i]))
          expected[i] = ShapedType::kDynamic;
        else
          expected[i] += type.getDimSize(i);
      } else if (!compatibleDims(type.getDimSize(i), expected[i])) {
        return emitOpError("inputs disagree on dimension ") << i;
      }
    }
  }
  if (!compatibleShapes(expected, resultType.getShape()))
    return emitOpError("result shape ") << shapeString(resultType.getShape())
                                        << " does not match " << shapeString(expected);
  return success();
}

LogicalResult GatherOp::verify() {
  auto inputType = tensorType(getInput());
  auto indicesType = tensorType(getIndices());
  auto dim = normalizeDim(getDim(), inputType.getRank());
  if (!dim)
    return emitOpError("dim ") << getDim() << " is out of range for rank "
                               << inputType.getRank();
  if (indicesType.getRank() != 1)
    return emitOpError("indices must be one-dimensional");
  SmallVector<int64_t> expected(inputType.getShape());
  expected[*dim] = indicesType.getDimSize(0);
  auto resultType = tensorType(getResult());
  if (inputType.getElementType() != resultType.getElementType())
    return emitOpError("result element type must match the input");
  if (!compatibleShapes(expected, resultType.getShape()))
    return emitOpError("result shape ") << shapeString(resultType.getShape())
                                        << " does not match " << shapeString(expected);
  return success();
}

#define GET_OP_CLASSES
#include "dialects/vgcu/VgcuOps.cpp.inc"
