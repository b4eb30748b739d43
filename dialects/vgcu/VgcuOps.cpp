//===- VgcuOps.cpp - Type inference, verifiers and folders of the vgcu dialect ----===//
//
// Every op whose result type follows from its operands infers it (InferTypeOpInterface):
// builders, the TorchScript importer and the sharding pass get result types from here, and
// each verifier compares the declared type with the same inference, so a shape rule is
// written once.
//
//===----------------------------------------------------------------------===//

#include "dialects/vgcu/VgcuOps.h"
#include "dialects/common/Verifiers.h"
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

static RankedTensorType tensorType(Type type) { return cast<RankedTensorType>(type); }

/// Result types agree when their element types do and their shapes are compatible (a
/// dynamic dimension matches any size), so IR written with a more precise static size than
/// inference can know stays valid.
static bool compatibleResultTypes(TypeRange lhs, TypeRange rhs) {
  if (lhs.size() != rhs.size())
    return false;
  for (auto [a, b] : llvm::zip(lhs, rhs)) {
    auto left = dyn_cast<RankedTensorType>(a), right = dyn_cast<RankedTensorType>(b);
    if (!left || !right || left.getElementType() != right.getElementType() ||
        !compatibleShapes(left.getShape(), right.getShape()))
      return false;
  }
  return true;
}

#define VGCU_COMPATIBLE_RESULTS(Op)                                                          \
  bool Op::isCompatibleReturnTypes(TypeRange lhs, TypeRange rhs) {                           \
    return compatibleResultTypes(lhs, rhs);                                                  \
  }

/// The broadcast shape of `shapes`, if they broadcast.
static std::optional<SmallVector<int64_t>> broadcastAll(ArrayRef<ArrayRef<int64_t>> shapes) {
  SmallVector<int64_t> shape;
  for (ArrayRef<int64_t> next : shapes) {
    auto broadcast = broadcastShapes(shape, next);
    if (!broadcast)
      return std::nullopt;
    shape = *broadcast;
  }
  return shape;
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
    if (shard.getEpDim() >= type.getRank())
      return emitOpError("shard ep_dim ") << shard.getEpDim() << " is out of range for rank "
                                          << type.getRank();
  }
  if (getQuantAttr()) {
    if (type.getRank() != 2)
      return emitOpError("a quantized parameter must be a [rows, cols] matrix, got ")
             << shapeString(type.getShape());
    if (getComputedByAttr())
      return emitOpError("a computed parameter cannot be stored quantized");
  }
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

/// [..., out_features] of the input's element type; the gated epilogues halve the width.
static RankedTensorType linearResultType(RankedTensorType input, RankedTensorType weight,
                                         Epilogue epilogue) {
  SmallVector<int64_t> shape(input.getShape().drop_back());
  int64_t width = weight.getRank() == 2 ? weight.getDimSize(0) : ShapedType::kDynamic;
  if (isGatedEpilogue(epilogue) && !isDynamic(width))
    width /= 2;
  shape.push_back(width);
  return RankedTensorType::get(shape, input.getElementType());
}

LogicalResult LinearOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto input = tensorType(adaptor.getInput());
  if (input.getRank() < 1)
    return failure();
  types.push_back(linearResultType(input, tensorType(adaptor.getWeight()),
                                   adaptor.getEpilogue()));
  return success();
}
VGCU_COMPATIBLE_RESULTS(LinearOp)

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
  if (isGatedEpilogue(getEpilogue()) && !isDynamic(outFeatures) && outFeatures % 2 != 0)
    return emitOpError("a gated epilogue needs an even out_features, got ") << outFeatures;
  ArrayRef<int64_t> expected = linearResultType(inputType, weightType, getEpilogue()).getShape();
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
  if (Value residual = getResidual(); residual && residual.getType() != resultType)
    return emitOpError("residual type ") << residual.getType()
                                         << " must equal the result type " << resultType;
  if (getFirstRankBias() && !getBias())
    return emitOpError("first_rank_bias needs a bias");
  auto modules = getPackedModulesAttr();
  auto sizes = getPackedSizesAttr();
  if (static_cast<bool>(modules) != static_cast<bool>(sizes))
    return emitOpError("packed_modules and packed_sizes must be given together");
  if (modules) {
    if (modules.size() != static_cast<size_t>(sizes.size()))
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

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto table = tensorType(adaptor.getTable());
  SmallVector<int64_t> shape(tensorType(adaptor.getIds()).getShape());
  shape.push_back(table.getRank() == 2 ? table.getDimSize(1) : ShapedType::kDynamic);
  types.push_back(RankedTensorType::get(shape, table.getElementType()));
  return success();
}
VGCU_COMPATIBLE_RESULTS(EmbeddingOp)

LogicalResult EmbeddingOp::verify() {
  auto tableType = tensorType(getTable());
  auto resultType = tensorType(getResult());
  if (tableType.getRank() != 2)
    return emitOpError("table must be [vocab, hidden], got rank ") << tableType.getRank();
  SmallVector<Type> expected;
  (void)inferReturnTypes(getContext(), getLoc(), Adaptor(*this), expected);
  ArrayRef<int64_t> expectedShape = tensorType(expected[0]).getShape();
  if (!compatibleShapes(expectedShape, resultType.getShape()))
    return emitOpError("result shape ") << shapeString(resultType.getShape())
                                        << " does not match the expected "
                                        << shapeString(expectedShape);
  if (resultType.getElementType() != tableType.getElementType())
    return emitOpError("result element type must match the table element type");
  return success();
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

template <typename RmsNormLikeOp>
static LogicalResult verifyRmsNormLike(RmsNormLikeOp op) {
  return verifyNormWeight(op, op.getInput(), op.getWeight(), "weight", /*allowF32=*/true);
}

template <typename NormAddNormLikeOp>
static LogicalResult verifyNormAddNormLike(NormAddNormLikeOp op) {
  if (failed(verifyNormWeight(op, op.getInput(), op.getPostWeight(), "post_weight",
                              /*allowF32=*/true)))
    return failure();
  return verifyNormWeight(op, op.getInput(), op.getWeight(), "weight", /*allowF32=*/true);
}

LogicalResult NormAddNormOp::verify() { return verifyNormAddNormLike(*this); }
LogicalResult AllReduceNormAddNormOp::verify() { return verifyNormAddNormLike(*this); }

LogicalResult RmsNormOp::verify() { return verifyRmsNormLike(*this); }
LogicalResult AddRmsNormOp::verify() { return verifyRmsNormLike(*this); }
LogicalResult AllReduceAddRmsNormOp::verify() { return verifyRmsNormLike(*this); }

template <typename LayerNormLikeOp>
static LogicalResult verifyLayerNormLike(LayerNormLikeOp op) {
  if (failed(verifyNormWeight(op, op.getInput(), op.getWeight(), "weight")))
    return failure();
  return verifyNormWeight(op, op.getInput(), op.getBias(), "bias");
}

LogicalResult LayerNormOp::verify() { return verifyLayerNormLike(*this); }
LogicalResult AddLayerNormOp::verify() { return verifyLayerNormLike(*this); }
LogicalResult AllReduceAddLayerNormOp::verify() { return verifyLayerNormLike(*this); }

//===----------------------------------------------------------------------===//
// Rotary embedding and attention
//===----------------------------------------------------------------------===//

/// query and key are [tokens, heads × head_dim] with as many tokens as positions.
static LogicalResult verifyRotaryOperands(Operation *op, Value positions, Value query,
                                          Value key, int64_t headDim) {
  auto positionsType = tensorType(positions);
  if (positionsType.getRank() != 1)
    return op->emitOpError("positions must be one-dimensional");
  for (auto [name, value] : {std::pair<StringRef, Value>{"query", query},
                             std::pair<StringRef, Value>{"key", key}}) {
    auto type = tensorType(value);
    if (type.getRank() != 2)
      return op->emitOpError() << name << " must be [tokens, heads x head_dim]";
    if (!isDynamic(type.getDimSize(1)) && type.getDimSize(1) % headDim != 0)
      return op->emitOpError() << name << " width " << type.getDimSize(1)
                               << " is not a multiple of head_dim " << headDim;
    if (!compatibleDims(type.getDimSize(0), positionsType.getDimSize(0)))
      return op->emitOpError() << name << " and positions disagree on the number of tokens";
  }
  if (tensorType(query).getElementType() != tensorType(key).getElementType())
    return op->emitOpError("query and key element types must agree");
  return success();
}

LogicalResult RotaryEmbeddingOp::verify() {
  if (failed(verifyRotaryParams(*this, getHeadDim(), getRotaryDim(),
                                getTheta().convertToDouble())) ||
      failed(verifyRopeScaling(*this, getRopeScalingAttr(), getRotaryDim())))
    return failure();
  return verifyRotaryOperands(*this, getPositions(), getQuery(), getKey(), getHeadDim());
}

/// Head counts, scale and window, and q/k/v widths of an attention-like op.
template <typename AttentionLikeOp>
static LogicalResult verifyAttentionLike(AttentionLikeOp op) {
  int64_t numHeads = op.getNumHeads();
  int64_t numKvHeads = op.getNumKvHeads();
  int64_t headDim = op.getHeadDim();
  if (numHeads % numKvHeads != 0)
    return op.emitOpError("num_heads ") << numHeads << " is not divisible by num_kv_heads "
                                        << numKvHeads;
  auto checkWidth = [&](StringRef name, Value value, int64_t heads) -> LogicalResult {
    auto type = tensorType(value);
    if (type.getRank() != 2)
      return op.emitOpError() << name << " must be [tokens, heads x head_dim]";
    auto width = checkedProduct(heads, headDim);
    if (!width)
      return op.emitOpError() << name << " width " << heads << " x " << headDim
                              << " overflows";
    if (!compatibleDims(type.getDimSize(1), *width))
      return op.emitOpError() << name << " width " << type.getDimSize(1) << " must equal "
                              << heads << " heads x head_dim " << headDim;
    if (type.getElementType() != tensorType(op.getQuery()).getElementType())
      return op.emitOpError("query, key and value element types must agree");
    return success();
  };
  if (failed(checkWidth("query", op.getQuery(), numHeads)) ||
      failed(checkWidth("key", op.getKey(), numKvHeads)) ||
      failed(checkWidth("value", op.getValue(), numKvHeads)))
    return failure();
  return success();
}

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getQuery().getType());
  return success();
}
VGCU_COMPATIBLE_RESULTS(AttentionOp)

LogicalResult AttentionOp::verify() {
  if (failed(verifyAttentionLike(*this)))
    return failure();
  if (getResult().getType() != getQuery().getType())
    return emitOpError("result type must equal the query type");
  return success();
}

LogicalResult RotaryAttentionOp::verify() {
  if (failed(verifyRotaryParams(*this, getHeadDim(), getRotaryDim(),
                                getTheta().convertToDouble())) ||
      failed(verifyRopeScaling(*this, getRopeScalingAttr(), getRotaryDim())) ||
      failed(verifyRotaryOperands(*this, getPositions(), getQuery(), getKey(), getHeadDim())) ||
      failed(verifyAttentionLike(*this)))
    return failure();
  Value queryNorm = getQNormWeight(), keyNorm = getKNormWeight();
  if (static_cast<bool>(queryNorm) != static_cast<bool>(keyNorm) ||
      static_cast<bool>(queryNorm) != getNormEpsilon().has_value())
    return emitOpError("q_norm_weight, k_norm_weight and norm_epsilon must be given together");
  for (Value weight : {queryNorm, keyNorm}) {
    if (!weight)
      continue;
    auto type = tensorType(weight);
    if (type.getRank() != 1 || !compatibleDims(type.getDimSize(0), getHeadDim()) ||
        type.getElementType() != tensorType(getQuery()).getElementType())
      return emitOpError("per-head norm weights must be [head_dim] of the query's element type");
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Gated activations and collectives
//===----------------------------------------------------------------------===//

/// The input with its last dimension halved.
static LogicalResult inferHalved(Value input, SmallVectorImpl<Type> &types) {
  auto type = tensorType(input);
  if (type.getRank() < 1)
    return failure();
  SmallVector<int64_t> shape(type.getShape());
  if (!isDynamic(shape.back()))
    shape.back() /= 2;
  types.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

static LogicalResult verifyGatedActivation(Operation *op, Value input, Value result) {
  auto inputType = tensorType(input);
  auto resultType = tensorType(result);
  if (inputType.getRank() < 1 || inputType.getRank() != resultType.getRank())
    return op->emitOpError("input and result must have the same rank of at least one");
  int64_t width = inputType.getShape().back();
  if (!isDynamic(width) && width % 2 != 0)
    return op->emitOpError("last input dimension ") << width << " must be even";
  SmallVector<Type> expected;
  (void)inferHalved(input, expected);
  ArrayRef<int64_t> expectedShape = tensorType(expected[0]).getShape();
  if (!compatibleShapes(expectedShape, resultType.getShape()))
    return op->emitOpError("result shape ") << shapeString(resultType.getShape())
                                            << " must be the input shape with the last "
                                               "dimension halved, "
                                            << shapeString(expectedShape);
  if (inputType.getElementType() != resultType.getElementType())
    return op->emitOpError("result element type must match the input");
  return success();
}

LogicalResult SiluAndMulOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return inferHalved(adaptor.getInput(), types);
}
VGCU_COMPATIBLE_RESULTS(SiluAndMulOp)

LogicalResult SiluAndMulOp::verify() {
  return verifyGatedActivation(*this, getInput(), getResult());
}

LogicalResult GeluAndMulOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return inferHalved(adaptor.getInput(), types);
}
VGCU_COMPATIBLE_RESULTS(GeluAndMulOp)

LogicalResult GeluAndMulOp::verify() {
  return verifyGatedActivation(*this, getInput(), getResult());
}

LogicalResult AllGatherOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto type = tensorType(adaptor.getInput());
  auto dim = normalizeDim(adaptor.getDim(), type.getRank());
  if (!dim)
    return failure();
  SmallVector<int64_t> shape(type.getShape());
  if (!isDynamic(shape[*dim]))
    shape[*dim] *= adaptor.getWorldSize();
  types.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}
VGCU_COMPATIBLE_RESULTS(AllGatherOp)

LogicalResult AllGatherOp::verify() {
  auto inputType = tensorType(getInput());
  auto resultType = tensorType(getResult());
  auto dim = normalizeDim(getDim(), inputType.getRank());
  if (!dim)
    return emitOpError("dim ") << getDim() << " is out of range for rank "
                               << inputType.getRank();
  if (inputType.getElementType() != resultType.getElementType())
    return emitOpError("result element type must match the input");
  SmallVector<Type> expected;
  (void)inferReturnTypes(getContext(), getLoc(), Adaptor(*this), expected);
  ArrayRef<int64_t> expectedShape = tensorType(expected[0]).getShape();
  if (!compatibleShapes(expectedShape, resultType.getShape()))
    return emitOpError("result shape ") << shapeString(resultType.getShape())
                                        << " must be the input gathered along dim " << *dim
                                        << ", " << shapeString(expectedShape);
  return success();
}

//===----------------------------------------------------------------------===//
// LastTokenOp
//===----------------------------------------------------------------------===//

LogicalResult LastTokenOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto type = tensorType(adaptor.getInput());
  auto starts = dyn_cast<RankedTensorType>(adaptor.getQueryStartLoc().getType());
  if (type.getRank() < 1 || !starts || starts.getRank() != 1)
    return failure();
  SmallVector<int64_t> shape(type.getShape());
  // One row per sequence: query_start_loc has one entry more than there are sequences.
  shape[0] = starts.isDynamicDim(0) ? ShapedType::kDynamic : starts.getDimSize(0) - 1;
  types.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}
VGCU_COMPATIBLE_RESULTS(LastTokenOp)

LogicalResult LastTokenOp::verify() {
  auto inputType = tensorType(getInput());
  if (inputType.getRank() < 1)
    return emitOpError("input must have a token dimension");
  if (tensorType(getQueryStartLoc()).getRank() != 1)
    return emitOpError("query_start_loc must be one-dimensional");
  SmallVector<Type> expected;
  (void)inferReturnTypes(getContext(), getLoc(), Adaptor(*this), expected);
  if (expected[0] != getResult().getType())
    return emitOpError("result type ") << getResult().getType() << " must be " << expected[0];
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

/// The broadcast of the operands' shapes with `element` (the first operand's when null).
static LogicalResult inferBroadcast(ValueRange operands, Type element,
                                    SmallVectorImpl<Type> &types) {
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value operand : operands)
    shapes.push_back(tensorType(operand).getShape());
  auto shape = broadcastAll(shapes);
  if (!shape)
    return failure();
  types.push_back(RankedTensorType::get(
      *shape, element ? element : tensorType(operands.front()).getElementType()));
  return success();
}

#define VGCU_BINARY_INFERENCE(Op)                                                            \
  LogicalResult Op::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor adaptor, \
                                     SmallVectorImpl<Type> &types) {                          \
    return inferBroadcast({adaptor.getLhs(), adaptor.getRhs()}, Type(), types);              \
  }                                                                                          \
  VGCU_COMPATIBLE_RESULTS(Op)

VGCU_BINARY_INFERENCE(AddOp)
VGCU_BINARY_INFERENCE(SubOp)
VGCU_BINARY_INFERENCE(MulOp)
VGCU_BINARY_INFERENCE(DivOp)
VGCU_BINARY_INFERENCE(PowOp)
VGCU_BINARY_INFERENCE(MaximumOp)
VGCU_BINARY_INFERENCE(OrOp)

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

LogicalResult CompareOp::inferReturnTypes(MLIRContext *context, std::optional<Location>,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return inferBroadcast({adaptor.getLhs(), adaptor.getRhs()}, IntegerType::get(context, 1),
                        types);
}
VGCU_COMPATIBLE_RESULTS(CompareOp)

LogicalResult CompareOp::verify() {
  if (tensorType(getLhs()).getElementType() != tensorType(getRhs()).getElementType())
    return emitOpError("operand element types must agree");
  return verifyBroadcast(*this, {getLhs(), getRhs()}, getResult());
}

LogicalResult WhereOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                        Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return inferBroadcast({adaptor.getCondition(), adaptor.getOnTrue(), adaptor.getOnFalse()},
                        tensorType(adaptor.getOnFalse()).getElementType(), types);
}
VGCU_COMPATIBLE_RESULTS(WhereOp)

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

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> lhs = tensorType(adaptor.getLhs()).getShape();
  ArrayRef<int64_t> rhs = tensorType(adaptor.getRhs()).getShape();
  if (lhs.size() < 2 || rhs.size() < 2)
    return failure();
  auto batch = broadcastShapes(lhs.drop_back(2), rhs.drop_back(2));
  if (!batch)
    return failure();
  SmallVector<int64_t> shape(*batch);
  shape.push_back(lhs[lhs.size() - 2]);
  shape.push_back(rhs.back());
  types.push_back(RankedTensorType::get(shape, tensorType(adaptor.getLhs()).getElementType()));
  return success();
}
VGCU_COMPATIBLE_RESULTS(MatmulOp)

LogicalResult MatmulOp::verify() {
  ArrayRef<int64_t> lhs = tensorType(getLhs()).getShape();
  ArrayRef<int64_t> rhs = tensorType(getRhs()).getShape();
  ArrayRef<int64_t> result = tensorType(getResult()).getShape();
  if (lhs.size() < 2 || rhs.size() < 2)
    return emitOpError("operands must have rank of at least 2");
  if (!compatibleDims(lhs.back(), rhs[rhs.size() - 2]))
    return emitOpError("contraction dimensions ") << lhs.back() << " and "
                                                  << rhs[rhs.size() - 2] << " disagree";
  SmallVector<Type> expected;
  if (failed(inferReturnTypes(getContext(), getLoc(), Adaptor(*this), expected)))
    return emitOpError("batch dimensions do not broadcast");
  ArrayRef<int64_t> expectedShape = tensorType(expected[0]).getShape();
  if (!compatibleShapes(expectedShape, result))
    return emitOpError("result shape ") << shapeString(result) << " does not match "
                                        << shapeString(expectedShape);
  Type elementType = tensorType(getLhs()).getElementType();
  if (tensorType(getRhs()).getElementType() != elementType ||
      tensorType(getResult()).getElementType() != elementType)
    return emitOpError("operand and result element types must agree");
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions and softmax
//===----------------------------------------------------------------------===//

template <typename ReductionOp>
static LogicalResult inferReduction(typename ReductionOp::Adaptor adaptor,
                                    SmallVectorImpl<Type> &types) {
  auto type = tensorType(adaptor.getInput());
  SmallVector<int64_t> shape;
  if (!reducedShape(type.getShape(), adaptor.getDims(), adaptor.getKeepdim(), shape).empty())
    return failure();
  types.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

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

LogicalResult MeanOp::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  return inferReduction<MeanOp>(adaptor, types);
}
VGCU_COMPATIBLE_RESULTS(MeanOp)

LogicalResult SumOp::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  return inferReduction<SumOp>(adaptor, types);
}
VGCU_COMPATIBLE_RESULTS(SumOp)

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

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto type = tensorType(adaptor.getInput());
  SmallVector<int64_t> shape;
  if (!permutedShape(type.getShape(), adaptor.getPermutation(), shape).empty())
    return failure();
  types.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}
VGCU_COMPATIBLE_RESULTS(TransposeOp)

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
    Value source = producer.getInput();
    if (llvm::count_if(getResult().getType().getShape(), isDynamic) > 1 ||
        llvm::count_if(tensorType(source).getShape(), isDynamic) > 1)
      return {};
    if (source.getType() == getResult().getType())
      return source;
    // A view of a view is one view of the source (both row-major, one inferable dimension).
    getInputMutable().assign(source);
    return getResult();
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

LogicalResult SliceOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                        Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto type = tensorType(adaptor.getInput());
  auto dim = normalizeDim(adaptor.getDim(), type.getRank());
  int64_t step = adaptor.getStep();
  if (!dim || step < 1)
    return failure();
  SmallVector<int64_t> shape(type.getShape());
  shape[*dim] = std::max<int64_t>(0, (adaptor.getEnd() - adaptor.getStart() + step - 1) / step);
  types.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}
VGCU_COMPATIBLE_RESULTS(SliceOp)

LogicalResult SliceOp::verify() {
  auto inputType = tensorType(getInput());
  auto resultType = tensorType(getResult());
  auto dim = normalizeDim(getDim(), inputType.getRank());
  if (!dim)
    return emitOpError("dim ") << getDim() << " is out of range for rank "
                               << inputType.getRank();
  int64_t start = getStart(), end = getEnd();
  if (start < 0 || end <= start)
    return emitOpError("range [") << start << ", " << end << ") is empty or negative";
  int64_t size = inputType.getDimSize(*dim);
  if (!isDynamic(size) && end > size)
    return emitOpError("range [") << start << ", " << end << ") exceeds dimension size "
                                  << size;
  if (inputType.getElementType() != resultType.getElementType())
    return emitOpError("result element type must match the input");
  SmallVector<Type> expected;
  (void)inferReturnTypes(getContext(), getLoc(), Adaptor(*this), expected);
  ArrayRef<int64_t> expectedShape = tensorType(expected[0]).getShape();
  if (!compatibleShapes(expectedShape, resultType.getShape()))
    return emitOpError("result shape ") << shapeString(resultType.getShape())
                                        << " does not match " << shapeString(expectedShape);
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

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  if (adaptor.getInputs().empty())
    return failure();
  auto first = tensorType(adaptor.getInputs().front());
  auto dim = normalizeDim(adaptor.getDim(), first.getRank());
  if (!dim)
    return failure();
  SmallVector<int64_t> shape(first.getShape());
  shape[*dim] = 0;
  for (Value input : adaptor.getInputs()) {
    auto type = tensorType(input);
    if (type.getRank() != first.getRank())
      return failure();
    int64_t size = type.getDimSize(*dim);
    shape[*dim] = isDynamic(size) || isDynamic(shape[*dim]) ? ShapedType::kDynamic
                                                            : shape[*dim] + size;
  }
  types.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}
VGCU_COMPATIBLE_RESULTS(ConcatOp)

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  auto resultType = tensorType(getResult());
  auto dim = normalizeDim(getDim(), resultType.getRank());
  if (!dim)
    return emitOpError("dim ") << getDim() << " is out of range for rank "
                               << resultType.getRank();
  if (tensorType(getInputs().front()).getRank() != resultType.getRank())
    return emitOpError("inputs and result must have the same rank");
  for (Value input : getInputs()) {
    auto type = tensorType(input);
    if (type.getRank() != resultType.getRank() ||
        type.getElementType() != resultType.getElementType())
      return emitOpError("inputs and result must agree in rank and element type");
    for (int64_t i = 0; i < type.getRank(); ++i)
      if (i != *dim &&
          !compatibleDims(type.getDimSize(i), tensorType(getInputs().front()).getDimSize(i)))
        return emitOpError("inputs disagree on dimension ") << i;
  }
  SmallVector<Type> expected;
  (void)inferReturnTypes(getContext(), getLoc(), Adaptor(*this), expected);
  ArrayRef<int64_t> expectedShape = tensorType(expected[0]).getShape();
  if (!compatibleShapes(expectedShape, resultType.getShape()))
    return emitOpError("result shape ") << shapeString(resultType.getShape())
                                        << " does not match " << shapeString(expectedShape);
  return success();
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto type = tensorType(adaptor.getInput());
  auto indices = tensorType(adaptor.getIndices());
  auto dim = normalizeDim(adaptor.getDim(), type.getRank());
  if (!dim || indices.getRank() != 1)
    return failure();
  SmallVector<int64_t> shape(type.getShape());
  shape[*dim] = indices.getDimSize(0);
  types.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}
VGCU_COMPATIBLE_RESULTS(GatherOp)

LogicalResult GatherOp::verify() {
  auto inputType = tensorType(getInput());
  auto dim = normalizeDim(getDim(), inputType.getRank());
  if (!dim)
    return emitOpError("dim ") << getDim() << " is out of range for rank "
                               << inputType.getRank();
  if (tensorType(getIndices()).getRank() != 1)
    return emitOpError("indices must be one-dimensional");
  auto resultType = tensorType(getResult());
  if (inputType.getElementType() != resultType.getElementType())
    return emitOpError("result element type must match the input");
  SmallVector<Type> expected;
  (void)inferReturnTypes(getContext(), getLoc(), Adaptor(*this), expected);
  ArrayRef<int64_t> expectedShape = tensorType(expected[0]).getShape();
  if (!compatibleShapes(expectedShape, resultType.getShape()))
    return emitOpError("result shape ") << shapeString(resultType.getShape())
                                        << " does not match " << shapeString(expectedShape);
  return success();
}

//===----------------------------------------------------------------------===//
// MlaAttentionOp
//===----------------------------------------------------------------------===//

LogicalResult MlaAttentionOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                               Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto query = tensorType(adaptor.getQuery());
  if (query.getRank() != 2)
    return failure();
  types.push_back(RankedTensorType::get(
      {query.getDimSize(0), adaptor.getNumHeads() * adaptor.getVHeadDim()},
      query.getElementType()));
  return success();
}
VGCU_COMPATIBLE_RESULTS(MlaAttentionOp)

LogicalResult MlaAttentionOp::verify() {
  auto query = tensorType(getQuery()), latent = tensorType(getLatent()),
       keyRope = tensorType(getKeyRope()), kvB = tensorType(getKvB());
  if (tensorType(getPositions()).getRank() != 1 || query.getRank() != 2 ||
      latent.getRank() != 2 || keyRope.getRank() != 2 || kvB.getRank() != 2)
    return emitOpError("takes [T] positions, [T, n] query, latent and key_rope and a 2-D kv_b");
  int64_t heads = getNumHeads(), nope = getQkNopeHeadDim(), rope = getQkRopeHeadDim(),
          v = getVHeadDim();
  if (rope % 2 != 0)
    return emitOpError("qk_rope_head_dim = ") << rope << " must be even to rotate in pairs";
  int64_t lora = latent.getDimSize(1);
  if (!compatibleShapes({query.getDimSize(1)}, {heads * (nope + rope)}))
    return emitOpError("query width ") << query.getDimSize(1) << " is not num_heads x "
                                       << "(qk_nope_head_dim + qk_rope_head_dim) = "
                                       << heads * (nope + rope);
  if (!compatibleShapes({keyRope.getDimSize(1)}, {rope}))
    return emitOpError("key_rope width ") << keyRope.getDimSize(1)
                                          << " is not qk_rope_head_dim = " << rope;
  if (!compatibleShapes(kvB.getShape(), {heads * (nope + v), lora}))
    return emitOpError("kv_b is ") << shapeString(kvB.getShape()) << "; num_heads x "
                                   << "(qk_nope_head_dim + v_head_dim) by kv_lora_rank is ["
                                   << heads * (nope + v) << ", " << lora << "]";
  for (auto type : {latent, keyRope, kvB})
    if (type.getElementType() != query.getElementType())
      return emitOpError("query, latent, key_rope and kv_b must share an element type");
  return success();
}

//===----------------------------------------------------------------------===//
// TopKOp, ScatterOp
//===----------------------------------------------------------------------===//

LogicalResult TopKOp::inferReturnTypes(MLIRContext *context, std::optional<Location>,
                                       Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto type = tensorType(adaptor.getInput());
  if (type.getRank() < 1)
    return failure();
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = adaptor.getK();
  types.push_back(RankedTensorType::get(shape, type.getElementType()));
  types.push_back(RankedTensorType::get(shape, IntegerType::get(context, 64)));
  return success();
}
VGCU_COMPATIBLE_RESULTS(TopKOp)

LogicalResult TopKOp::verify() {
  auto type = tensorType(getInput());
  if (type.getRank() < 1)
    return emitOpError("takes a tensor of rank 1 or more");
  int64_t last = type.getShape().back();
  if (!isDynamic(last) && getK() > last)
    return emitOpError("k = ") << getK() << " exceeds the last dimension, " << last;
  return success();
}

LogicalResult ScatterOp::verify() {
  auto inputType = tensorType(getInput()), indexType = tensorType(getIndex()),
       srcType = tensorType(getSrc());
  auto dim = normalizeDim(getDim(), inputType.getRank());
  if (!dim)
    return emitOpError("dim ") << getDim() << " is out of range for rank "
                               << inputType.getRank();
  if (indexType.getRank() != inputType.getRank() ||
      !compatibleShapes(indexType.getShape(), srcType.getShape()))
    return emitOpError("index and src must have one shape, of the input's rank");
  if (srcType.getElementType() != inputType.getElementType())
    return emitOpError("src element type must match the input");
  for (int64_t axis = 0; axis < inputType.getRank(); ++axis)
    if (axis != *dim && !compatibleShapes({indexType.getDimSize(axis)},
                                          {inputType.getDimSize(axis)}))
      return emitOpError("index must match the input outside dim ") << *dim;
  return success();
}

#define GET_OP_CLASSES
#include "dialects/vgcu/VgcuOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

LogicalResult MoeRouterOp::inferReturnTypes(MLIRContext *context, std::optional<Location>,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto input = tensorType(adaptor.getInput());
  SmallVector<int64_t> shape(input.getShape().drop_back());
  shape.push_back(adaptor.getTopK());
  Type weights = adaptor.getRouteInF32() ? Float32Type::get(context) : input.getElementType();
  types.push_back(RankedTensorType::get(shape, weights));
  types.push_back(RankedTensorType::get(shape, IntegerType::get(context, 64)));
  return success();
}
VGCU_COMPATIBLE_RESULTS(MoeRouterOp)

LogicalResult MoeRouterOp::verify() {
  auto input = tensorType(getInput()), gate = tensorType(getGate());
  if (input.getRank() != 2 || gate.getRank() != 2)
    return emitOpError("takes [tokens, hidden] and a [num_experts, hidden] gate");
  if (gate.getElementType() != input.getElementType())
    return emitOpError("gate element type must match the input's");
  if (!compatibleShapes({input.getDimSize(1)}, {gate.getDimSize(1)}))
    return emitOpError("gate is ") << shapeString(gate.getShape()) << " for hidden size "
                                    << input.getDimSize(1);
  if (!gate.isDynamicDim(0) && getTopK() > gate.getDimSize(0))
    return emitOpError("top_k ") << getTopK() << " exceeds the " << gate.getDimSize(0)
                                 << " experts";
  if (Value bias = getCorrectionBias()) {
    auto biasType = tensorType(bias);
    if (biasType.getRank() != 1 || !compatibleShapes(biasType.getShape(), {gate.getDimSize(0)}))
      return emitOpError("correction_bias must be [num_experts]");
  }
  if (getNumGroups().has_value() != getTopkGroups().has_value())
    return emitOpError("num_groups and topk_groups go together");
  if (auto groups = getNumGroups()) {
    int64_t experts = gate.getDimSize(0);
    if (!gate.isDynamicDim(0) && experts % *groups != 0)
      return emitOpError("num_groups = ") << *groups << " does not divide the " << experts
                                          << " experts";
    if (*getTopkGroups() > *groups)
      return emitOpError("topk_groups = ") << *getTopkGroups() << " exceeds num_groups = "
                                           << *groups;
    if (getGroupScore() == MoeGroupScore::top2_sum && !gate.isDynamicDim(0) &&
        experts / *groups < 2)
      return emitOpError("group_score top2_sum needs at least 2 experts per group");
  }
  SmallVector<Type> expected;
  (void)inferReturnTypes(getContext(), getLoc(), Adaptor(*this), expected);
  if (!compatibleShapes(tensorType(expected[0]).getShape(), tensorType(getWeights()).getShape()) ||
      !compatibleShapes(tensorType(expected[1]).getShape(), tensorType(getIds()).getShape()))
    return emitOpError("results must be [tokens, top_k] = ")
           << shapeString(tensorType(expected[0]).getShape());
  return success();
}

LogicalResult MoeExpertsOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}
VGCU_COMPATIBLE_RESULTS(MoeExpertsOp)

LogicalResult MoeExpertsOp::verify() {
  auto input = tensorType(getInput()), weights = tensorType(getWeights()),
       ids = tensorType(getIds()), gateUp = tensorType(getGateUp()), down = tensorType(getDown());
  if (input.getRank() != 2 || weights.getRank() != 2 || ids.getRank() != 2 ||
      gateUp.getRank() != 2 || down.getRank() != 2)
    return emitOpError("takes rank-2 input, routing weights, ids and stacked expert weights");
  if (weights.getShape() != ids.getShape() &&
      !compatibleShapes(weights.getShape(), ids.getShape()))
    return emitOpError("routing weights and ids differ in shape");
  if (!compatibleShapes({input.getDimSize(0)}, {weights.getDimSize(0)}))
    return emitOpError("routing is for another number of tokens");
  if (getExpertModules().size() != 3)
    return emitOpError("expert_modules names the gate, up and down projections");
  if (static_cast<bool>(getSharedGateUp()) != static_cast<bool>(getSharedDown()) ||
      (getSharedGate() && !getSharedGateUp()))
    return emitOpError("a shared expert needs shared_gate_up and shared_down (and maybe a "
                       "shared_gate)");
  if (Value sharedGateUp = getSharedGateUp()) {
    auto sgu = tensorType(sharedGateUp), sd = tensorType(getSharedDown());
    auto sg = getSharedGate() ? tensorType(getSharedGate())
                              : RankedTensorType::get({1, input.getDimSize(1)},
                                                      input.getElementType());
    int64_t h = input.getDimSize(1);
    if (sgu.getRank() != 2 || sd.getRank() != 2 || sg.getRank() != 2 ||
        !compatibleShapes(sgu.getShape(), {2 * sd.getDimSize(1), h}) ||
        !compatibleShapes({sd.getDimSize(0)}, {h}) || !compatibleShapes(sg.getShape(), {1, h}))
      return emitOpError("the shared expert must be [2·Is, hidden], [hidden, Is] and a "
                         "[1, hidden] gate");
    for (auto type : {sgu, sd, sg})
      if (type.getElementType() != input.getElementType())
        return emitOpError("the shared expert must have the input's element type");
  }
  for (auto type : {gateUp, down})
    if (type.getElementType() != input.getElementType())
      return emitOpError("routing and expert weights must have the input's element type");
  if (weights.getElementType() != input.getElementType() && !weights.getElementType().isF32())
    return emitOpError("routing and expert weights must have the input's element type");
  int64_t expertParallel = getExpertParallel().value_or(1);
  if (getNumExperts() % expertParallel != 0)
    return emitOpError("num_experts = ") << getNumExperts()
                                         << " is not divisible by expert_parallel = "
                                         << expertParallel;
  // The experts this rank holds.
  int64_t experts = getNumExperts() / expertParallel, hidden = input.getDimSize(1);
  if (gateUp.hasStaticShape() && down.hasStaticShape() && !ShapedType::isDynamic(hidden)) {
    int64_t intermediate = down.getDimSize(1);
    if (down.getDimSize(0) != experts * hidden)
      return emitOpError("down is ") << shapeString(down.getShape()) << "; " << experts
                                     << " experts of hidden size " << hidden << " need "
                                     << experts * hidden << " rows";
    if (gateUp.getDimSize(0) != experts * 2 * intermediate || gateUp.getDimSize(1) != hidden)
      return emitOpError("gate_up is ") << shapeString(gateUp.getShape()) << "; " << experts
                                        << " experts of intermediate size " << intermediate
                                        << " need [" << experts * 2 * intermediate << ", "
                                        << hidden << "]";
  }
  return success();
}
