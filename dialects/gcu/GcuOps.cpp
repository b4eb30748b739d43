//===- GcuOps.cpp - Verifiers of the gcu kernel-call dialect ----------------------===//

#include "dialects/gcu/GcuDialect.h"
#include "dialects/common/Verifiers.h"
#include "vgcu/Support/Shapes.h"

#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace gcu;
using vgcu::compatibleDims;
using vgcu::compatibleShapes;
using vgcu::shapeString;

static MemRefType bufferType(Value value) { return cast<MemRefType>(value.getType()); }
static ArrayRef<int64_t> shapeOf(Value value) { return bufferType(value).getShape(); }
static Type elementOf(Value value) { return bufferType(value).getElementType(); }

static LogicalResult expectShape(Operation *op, StringRef name, Value value,
                                 ArrayRef<int64_t> expected) {
  if (!compatibleShapes(shapeOf(value), expected))
    return op->emitOpError() << name << " shape " << shapeString(shapeOf(value))
                             << " does not match the expected " << shapeString(expected);
  return success();
}

static LogicalResult expectSameElement(Operation *op, ArrayRef<Value> values) {
  for (Value value : values.drop_front())
    if (elementOf(value) != elementOf(values.front()))
      return op->emitOpError("element types of the float operands must agree");
  return success();
}

static LogicalResult verifyNormWeight(Operation *op, Value input, Value weight,
                                      StringRef name = "weight", bool allowF32 = false) {
  return vgcu::verifyNormWeight(op, input, weight, name, allowF32);
}
using vgcu::verifyEpsilon;

//===----------------------------------------------------------------------===//
// Buffers and views
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("name must not be empty");
  if (!getResult().getType().hasStaticShape())
    return emitOpError("weight shape must be static");
  return success();
}

LogicalResult ConstantOp::verify() {
  auto valueType = cast<ShapedType>(getValue().getType());
  MemRefType resultType = getResult().getType();
  if (valueType.getShape() != resultType.getShape() ||
      valueType.getElementType() != resultType.getElementType())
    return emitOpError("value type ") << valueType << " does not match the buffer type "
                                      << resultType;
  return success();
}

LogicalResult DimOp::verify() {
  if (getIndex() < 0 || getIndex() >= bufferType(getSource()).getRank())
    return emitOpError("dimension ") << getIndex() << " is out of range for rank "
                                     << bufferType(getSource()).getRank();
  return success();
}

LogicalResult AllocOp::verify() {
  MemRefType type = getResult().getType();
  if (static_cast<int64_t>(getDynamicSizes().size()) != type.getNumDynamicDims())
    return emitOpError("needs ") << type.getNumDynamicDims() << " dynamic sizes, got "
                                 << getDynamicSizes().size();
  if (auto slot = getSlot(); slot && *slot < 0)
    return emitOpError("slot must be non-negative");
  return success();
}

LogicalResult KvCacheOp::verify() {
  if (getLayer() < 0)
    return emitOpError("layer must be non-negative");
  MemRefType type = bufferType(getKeyCache());
  if (type.getRank() != 4 || vgcu::isDynamicDim(type.getDimSize(1)) ||
      vgcu::isDynamicDim(type.getDimSize(2)) || vgcu::isDynamicDim(type.getDimSize(3)))
    return emitOpError("caches must be [blocks, block_size, kv_heads, head_dim] with static "
                       "block_size, kv_heads and head_dim");
  MemRefType valueType = bufferType(getValueCache());
  if (valueType.getRank() != 4 || valueType.getElementType() != type.getElementType() ||
      valueType.getShape().take_front(3) != type.getShape().take_front(3) ||
      vgcu::isDynamicDim(valueType.getDimSize(3)))
    return emitOpError("key and value caches must differ in head_dim at most");
  return success();
}

LogicalResult KvCacheScalesOp::verify() {
  if (getLayer() < 0)
    return emitOpError("layer must be non-negative");
  MemRefType type = bufferType(getKeyScales());
  if (type.getRank() != 3 || vgcu::isDynamicDim(type.getDimSize(1)) ||
      vgcu::isDynamicDim(type.getDimSize(2)))
    return emitOpError("scales must be [blocks, block_size, kv_heads] with static block_size "
                       "and kv_heads");
  return success();
}

/// `T` for two caches of one type, `K, V` otherwise.
static ParseResult parseCacheTypes(OpAsmParser &parser, Type &key, Type &value) {
  if (parser.parseType(key))
    return failure();
  value = key;
  if (succeeded(parser.parseOptionalComma()))
    return parser.parseType(value);
  return success();
}

static void printCacheTypes(OpAsmPrinter &printer, Operation *, Type key, Type value) {
  printer << key;
  if (value != key)
    printer << ", " << value;
}

/// A view has its source's element type.
static LogicalResult verifyViewElement(Operation *op) {
  if (elementOf(op->getOperand(0)) != elementOf(op->getResult(0)))
    return op->emitOpError("a view keeps its source's element type");
  return success();
}

LogicalResult SliceViewOp::verify() {
  if (failed(verifyViewElement(*this)))
    return failure();
  ArrayRef<int64_t> shape = shapeOf(getSource());
  auto dim = vgcu::normalizeDim(getDim(), shape.size());
  if (!dim)
    return emitOpError("dim ") << getDim() << " is out of range for rank " << shape.size();
  if (getStep() < 1 || getStart() < 0 || getEnd() <= getStart())
    return emitOpError("range [") << getStart() << ", " << getEnd() << ") with step "
                                  << getStep() << " is invalid";
  if (!vgcu::isDynamicDim(shape[*dim]) && getEnd() > shape[*dim])
    return emitOpError("range end ") << getEnd() << " exceeds dimension size " << shape[*dim];
  SmallVector<int64_t> expected(shape);
  expected[*dim] = (getEnd() - getStart() + getStep() - 1) / getStep();
  return expectShape(*this, "result", getResult(), expected);
}

LogicalResult LastTokenViewOp::verify() {
  if (failed(verifyViewElement(*this)))
    return failure();
  SmallVector<int64_t> expected(shapeOf(getSource()));
  if (expected.empty())
    return emitOpError("source must have a token dimension");
  if (shapeOf(getQueryStartLoc()).size() != 1)
    return emitOpError("query_start_loc must be one-dimensional");
  // One row per sequence: as many as query_start_loc has entries, less one.
  int64_t starts = shapeOf(getQueryStartLoc())[0];
  expected[0] = vgcu::isDynamicDim(starts) ? ShapedType::kDynamic : starts - 1;
  return expectShape(*this, "result", getResult(), expected);
}

LogicalResult ReshapeViewOp::verify() {
  if (failed(verifyViewElement(*this)))
    return failure();
  std::string error = vgcu::reshapeMismatch(shapeOf(getSource()), shapeOf(getResult()));
  if (!error.empty())
    return emitOpError(error);
  return success();
}

LogicalResult TransposeViewOp::verify() {
  if (failed(verifyViewElement(*this)))
    return failure();
  SmallVector<int64_t> expected;
  std::string error = vgcu::permutedShape(shapeOf(getSource()), getPermutation(), expected);
  if (!error.empty())
    return emitOpError(error);
  return expectShape(*this, "result", getResult(), expected);
}

LogicalResult BroadcastViewOp::verify() {
  if (failed(verifyViewElement(*this)))
    return failure();
  std::string error = vgcu::broadcastToMismatch(shapeOf(getSource()), shapeOf(getResult()));
  if (!error.empty())
    return emitOpError(error);
  return success();
}

//===----------------------------------------------------------------------===//
// Kernel launches
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  if (bufferType(getTable()).getRank() != 2)
    return emitOpError("table must be [vocab, hidden]");
  SmallVector<int64_t> expected(shapeOf(getIds()));
  expected.push_back(shapeOf(getTable())[1]);
  if (failed(expectShape(*this, "output", getOut(), expected)))
    return failure();
  return expectSameElement(*this, {getTable(), getOut()});
}

LogicalResult MoeRouterOp::verify() {
  if (bufferType(getInput()).getRank() != 2 || bufferType(getGate()).getRank() != 2)
    return emitOpError("takes [tokens, hidden] and a [num_experts, hidden] gate");
  if (!compatibleDims(shapeOf(getInput())[1], shapeOf(getGate())[1]))
    return emitOpError("gate hidden size does not match the input's");
  if (!vgcu::isDynamicDim(shapeOf(getGate())[0]) && getTopK() > shapeOf(getGate())[0])
    return emitOpError("top_k exceeds the number of experts");
  SmallVector<int64_t> expected{shapeOf(getInput())[0], getTopK()};
  if (failed(expectShape(*this, "weights", getWeights(), expected)) ||
      failed(expectShape(*this, "ids", getIds(), expected)))
    return failure();
  if (Value bias = getCorrectionBias())
    if (failed(expectShape(*this, "correction_bias", bias, {shapeOf(getGate())[0]})))
      return failure();
  if (getNumGroups().has_value() != getTopkGroups().has_value())
    return emitOpError("num_groups and topk_groups go together");
  if (getRouteInF32()) {
    if (!elementOf(getWeights()).isF32())
      return emitOpError("route_in_f32 weights must be f32");
    return expectSameElement(*this, {getInput(), getGate()});
  }
  return expectSameElement(*this, {getInput(), getGate(), getWeights()});
}

/// The experts one rank holds: num_experts over the expert-parallel groups, which must
/// divide them.
static FailureOr<int64_t> localExperts(Operation *op, int64_t numExperts,
                                       std::optional<int64_t> expertParallel) {
  int64_t groups = expertParallel.value_or(1);
  if (numExperts % groups != 0)
    return op->emitOpError("num_experts = ")
           << numExperts << " is not divisible by expert_parallel = " << groups;
  return numExperts / groups;
}

/// What both fused MoE kernels check alike: routing weights shaped like the ids, an output
/// like the input, a shared expert given whole, and one float type for the input, the output
/// and the shared expert's weights.
static LogicalResult verifyRoutingAndSharedExpert(Operation *op, Value input, Value weights,
                                                  Value ids, Value out, Value sharedGateUp,
                                                  Value sharedDown, Value sharedGate) {
  if (failed(expectShape(op, "weights", weights, shapeOf(ids))) ||
      failed(expectShape(op, "output", out, shapeOf(input))))
    return failure();
  if (static_cast<bool>(sharedGateUp) != static_cast<bool>(sharedDown) ||
      (sharedGate && !sharedGateUp))
    return op->emitOpError("a shared expert needs shared_gate_up and shared_down (and maybe a "
                           "shared_gate)");
  SmallVector<Value> floats{input, out};
  for (Value optional : {sharedGateUp, sharedDown, sharedGate})
    if (optional)
      floats.push_back(optional);
  return expectSameElement(op, floats);
}

int64_t QuantFusedMoeOp::getIntermediateSize() {
  return shapeOf(getDownCodes())[1] * 8 / getQuant().getBits();
}

LogicalResult QuantFusedMoeOp::verify() {
  vgcu::QuantAttr quant = getQuant();
  if (quant.getActOrder())
    return emitOpError("act-order experts are not supported (each expert has its own g_idx)");
  if (static_cast<bool>(getGateUpZeros()) != quant.getZeroPoint() ||
      static_cast<bool>(getDownZeros()) != quant.getZeroPoint())
    return emitOpError(quant.getZeroPoint() ? "the scheme has zero points: gate_up and down need zeros"
                                            : "zeros are given but the scheme has no zero points");
  for (Value value : {getInput(), getWeights(), getIds(), getGateUpCodes(), getGateUpScales(),
                      getDownCodes(), getDownScales()})
    if (bufferType(value).getRank() != 2)
      return emitOpError("takes rank-2 buffers");
  ArrayRef<int64_t> input = shapeOf(getInput());
  FailureOr<int64_t> experts = localExperts(*this, getNumExperts(), getExpertParallel());
  if (failed(experts))
    return failure();
  int64_t hidden = input[1], intermediate = getIntermediateSize();
  int64_t bits = quant.getBits();
  if (!vgcu::isDynamicDim(hidden)) {
    if (failed(expectShape(*this, "gate_up codes", getGateUpCodes(),
                           {*experts * 2 * intermediate, hidden * bits / 8})) ||
        failed(expectShape(*this, "down codes", getDownCodes(),
                           {*experts * hidden, intermediate * bits / 8})))
      return failure();
    int64_t blockRows = quant.getBlockRows();
    if (blockRows == 0 || (2 * intermediate) % blockRows != 0 || hidden % blockRows != 0)
      return emitOpError("every expert's rows must be whole blocks of ")
             << blockRows << " rows (gate_up " << 2 * intermediate << ", down " << hidden << ")";
    SmallVector<int64_t> gateUpScales{*experts * 2 * intermediate / blockRows,
                                      quant.getColumnGroups(hidden)};
    SmallVector<int64_t> downScales{*experts * hidden / blockRows,
                                    quant.getColumnGroups(intermediate)};
    if (failed(expectShape(*this, "gate_up scales", getGateUpScales(), gateUpScales)) ||
        failed(expectShape(*this, "down scales", getDownScales(), downScales)))
      return failure();
    if (Value zeros = getGateUpZeros())
      if (failed(expectShape(*this, "gate_up zeros", zeros, gateUpScales)))
        return failure();
    if (Value zeros = getDownZeros())
      if (failed(expectShape(*this, "down zeros", zeros, downScales)))
        return failure();
  }
  return verifyRoutingAndSharedExpert(*this, getInput(), getWeights(), getIds(), getOut(),
                                      getSharedGateUp(), getSharedDown(), getSharedGate());
}

LogicalResult FusedMoeOp::verify() {
  for (Value value : {getInput(), getWeights(), getIds(), getGateUp(), getDown()})
    if (bufferType(value).getRank() != 2)
      return emitOpError("takes rank-2 buffers");
  ArrayRef<int64_t> input = shapeOf(getInput()), gateUp = shapeOf(getGateUp()),
                    down = shapeOf(getDown());
  FailureOr<int64_t> localCount = localExperts(*this, getNumExperts(), getExpertParallel());
  if (failed(localCount))
    return failure();
  int64_t experts = *localCount;
  if (!vgcu::isDynamicDim(input[1]) && !vgcu::isDynamicDim(down[0]) &&
      down[0] != experts * input[1])
    return emitOpError("down must hold (num_experts / expert_parallel) x hidden rows");
  if (!vgcu::isDynamicDim(down[1]) && !vgcu::isDynamicDim(gateUp[0]) &&
      gateUp[0] != experts * 2 * down[1])
    return emitOpError("gate_up must hold (num_experts / expert_parallel) x 2 x intermediate "
                       "rows");
  if (!compatibleDims(gateUp[1], input[1]))
    return emitOpError("gate_up columns do not match the hidden size");
  if (failed(verifyRoutingAndSharedExpert(*this, getInput(), getWeights(), getIds(), getOut(),
                                          getSharedGateUp(), getSharedDown(), getSharedGate())))
    return failure();
  if (Value sharedGateUp = getSharedGateUp()) {
    int64_t sharedWidth = shapeOf(getSharedDown())[1];
    if (failed(expectShape(*this, "shared_gate_up", sharedGateUp,
                           {vgcu::isDynamicDim(sharedWidth) ? sharedWidth : 2 * sharedWidth,
                            input[1]})) ||
        failed(expectShape(*this, "shared_down", getSharedDown(), {input[1], sharedWidth})))
      return failure();
    if (Value gate = getSharedGate())
      if (failed(expectShape(*this, "shared_gate", gate, {1, input[1]})) ||
          failed(expectSameElement(*this, {getInput(), gate})))
        return failure();
    if (failed(expectSameElement(*this, {getInput(), sharedGateUp, getSharedDown()})))
      return failure();
  }
  // f32 routing weights (DeepSeek's) are summed in f32.
  if (!elementOf(getWeights()).isF32() &&
      failed(expectSameElement(*this, {getInput(), getWeights()})))
    return failure();
  return expectSameElement(*this, {getInput(), getGateUp(), getDown(), getOut()});
}

/// What gcu.gemm and gcu.quant_gemm check alike: the output `[..., N]` (halved by a gated
/// epilogue), bias `[N]`, residual like the output, all of the input's float type (and the
/// weight's, when it is a float buffer).
static LogicalResult verifyGemmResult(Operation *op, Value input, Value out, Value bias,
                                      Value residual, vgcu::Epilogue epilogue,
                                      int64_t outFeatures, Value floatWeight) {
  bool halves = vgcu::isGatedEpilogue(epilogue);
  bool dynamicOut = vgcu::isDynamicDim(outFeatures);
  if (halves && !dynamicOut && outFeatures % 2 != 0)
    return op->emitOpError("a gated epilogue needs an even number of output features");
  SmallVector<int64_t> expected(shapeOf(input).drop_back());
  expected.push_back(halves && !dynamicOut ? outFeatures / 2 : outFeatures);
  if (failed(expectShape(op, "output", out, expected)))
    return failure();
  if (bias && failed(expectShape(op, "bias", bias, {outFeatures})))
    return failure();
  if (residual && failed(expectShape(op, "residual", residual, shapeOf(out))))
    return failure();
  SmallVector<Value> floats{input, out};
  for (Value optional : {floatWeight, bias, residual})
    if (optional)
      floats.push_back(optional);
  return expectSameElement(op, floats);
}

LogicalResult GemmOp::verify() {
  if (getFirstRankBias() && !getBias())
    return emitOpError("first_rank_bias needs a bias");
  if (bufferType(getWeight()).getRank() != 2)
    return emitOpError("weight must be [N, K]");
  int64_t outFeatures = shapeOf(getWeight())[0];
  int64_t inFeatures = shapeOf(getWeight())[1];
  if (bufferType(getInput()).getRank() < 1 ||
      !compatibleDims(shapeOf(getInput()).back(), inFeatures))
    return emitOpError("input features do not match the weight's ") << inFeatures;
  return verifyGemmResult(*this, getInput(), getOut(), getBias(), getResidual(), getEpilogue(),
                          outFeatures, getWeight());
}

int64_t QuantGemmOp::getOutFeatures() { return shapeOf(getCodes())[0]; }

int64_t QuantGemmOp::getInFeatures() {
  return shapeOf(getCodes())[1] * 8 / getQuant().getBits();
}

LogicalResult QuantGemmOp::verify() {
  vgcu::QuantAttr quant = getQuant();
  if (getFirstRankBias() && !getBias())
    return emitOpError("first_rank_bias needs a bias");
  if (bufferType(getCodes()).getRank() != 2 || bufferType(getScales()).getRank() != 2)
    return emitOpError("codes and scales must be matrices");
  int64_t outFeatures = getOutFeatures(), inFeatures = getInFeatures();
  if (bufferType(getInput()).getRank() < 1 ||
      !compatibleDims(shapeOf(getInput()).back(), inFeatures))
    return emitOpError("input features do not match the ")
           << inFeatures << " the codes stand for (" << shapeOf(getCodes())[1] << " bytes of "
           << quant.getBits() << "-bit codes per row)";
  if (static_cast<bool>(getZeros()) != quant.getZeroPoint())
    return emitOpError(quant.getZeroPoint() ? "the scheme has zero points but no zeros are given"
                                            : "zeros are given but the scheme has no zero points");
  if (static_cast<bool>(getGIdx()) != quant.getActOrder())
    return emitOpError(quant.getActOrder() ? "an act-order scheme needs g_idx"
                                           : "g_idx is given but the scheme is not act-order");
  int64_t rowBlocks = quant.getRowBlocks(outFeatures);
  if (shapeOf(getScales())[0] != rowBlocks)
    return emitOpError("scales have ") << shapeOf(getScales())[0] << " row blocks; "
                                       << outFeatures << " rows in blocks of "
                                       << quant.getBlockRows() << " make " << rowBlocks;
  // Act-order groups are numbered over the whole weight, which every slice keeps.
  if (!quant.getActOrder() && shapeOf(getScales())[1] != quant.getColumnGroups(inFeatures))
    return emitOpError("scales have ")
           << shapeOf(getScales())[1] << " groups; " << inFeatures << " columns in groups of "
           << quant.getBlockCols() << " make " << quant.getColumnGroups(inFeatures);
  if (Value zeros = getZeros())
    if (failed(expectShape(*this, "zeros", zeros, shapeOf(getScales()))))
      return failure();
  if (Value groups = getGIdx())
    if (failed(expectShape(*this, "g_idx", groups, {inFeatures})))
      return failure();
  return verifyGemmResult(*this, getInput(), getOut(), getBias(), getResidual(), getEpilogue(),
                          outFeatures, /*floatWeight=*/Value());
}

LogicalResult BatchMatmulOp::verify() {
  ArrayRef<int64_t> lhs = shapeOf(getLhs());
  ArrayRef<int64_t> rhs = shapeOf(getRhs());
  if (lhs.size() < 2 || rhs.size() < 2)
    return emitOpError("operands must have rank of at least 2");
  if (!compatibleDims(lhs.back(), rhs[rhs.size() - 2]))
    return emitOpError("contraction dimensions disagree");
  auto batch = vgcu::broadcastShapes(lhs.drop_back(2), rhs.drop_back(2));
  if (!batch)
    return emitOpError("batch dimensions do not broadcast");
  SmallVector<int64_t> expected(*batch);
  expected.push_back(lhs[lhs.size() - 2]);
  expected.push_back(rhs.back());
  if (failed(expectShape(*this, "output", getOut(), expected)))
    return failure();
  return expectSameElement(*this, {getLhs(), getRhs(), getOut()});
}

LogicalResult RmsNormOp::verify() {
  if (failed(verifyNormWeight(*this, getInput(), getWeight(), "weight", /*allowF32=*/true)) ||
      failed(verifyEpsilon(*this, getEpsilon())) ||
      failed(expectShape(*this, "output", getOut(), shapeOf(getInput()))))
    return failure();
  return expectSameElement(*this, {getInput(), getOut()});
}

template <typename FusedNormOp>
static LogicalResult verifyFusedAddNorm(FusedNormOp op, bool allowF32Weight) {
  if (failed(verifyNormWeight(op, op.getInput(), op.getWeight(), "weight", allowF32Weight)) ||
      failed(verifyEpsilon(op, op.getEpsilon())))
    return failure();
  if (op.getInput().getType() != op.getResidual().getType())
    return op.emitOpError("input and residual must have the same type");
  return success();
}

template <typename FusedNormAddNormOp>
static LogicalResult verifyFusedNormAddNorm(FusedNormAddNormOp op) {
  if (failed(verifyNormWeight(op, op.getInput(), op.getPostWeight(), "post_weight", true)) ||
      failed(verifyNormWeight(op, op.getInput(), op.getWeight(), "weight", true)) ||
      failed(verifyEpsilon(op, op.getPostEpsilon())) || failed(verifyEpsilon(op, op.getEpsilon())))
    return failure();
  if (op.getInput().getType() != op.getResidual().getType())
    return op.emitOpError("input and residual must have the same type");
  return success();
}

LogicalResult FusedNormAddNormOp::verify() { return verifyFusedNormAddNorm(*this); }
LogicalResult AllReduceFusedNormAddNormOp::verify() { return verifyFusedNormAddNorm(*this); }

LogicalResult SoftCapOp::verify() {
  if (failed(expectShape(*this, "output", getOut(), shapeOf(getInput()))))
    return failure();
  return expectSameElement(*this, {getInput(), getOut()});
}

LogicalResult FusedAddRmsNormOp::verify() { return verifyFusedAddNorm(*this, true); }
LogicalResult AllReduceFusedAddRmsNormOp::verify() { return verifyFusedAddNorm(*this, true); }

template <typename FusedLayerNormOp>
static LogicalResult verifyFusedAddLayerNorm(FusedLayerNormOp op) {
  if (failed(verifyFusedAddNorm(op, false)) ||
      failed(verifyNormWeight(op, op.getInput(), op.getBias(), "bias")))
    return failure();
  return expectSameElement(op, {op.getInput(), op.getWeight(), op.getBias()});
}

LogicalResult FusedAddLayerNormOp::verify() { return verifyFusedAddLayerNorm(*this); }
LogicalResult AllReduceFusedAddLayerNormOp::verify() { return verifyFusedAddLayerNorm(*this); }

LogicalResult LayerNormOp::verify() {
  if (failed(verifyNormWeight(*this, getInput(), getWeight())) ||
      failed(verifyNormWeight(*this, getInput(), getBias(), "bias")) ||
      failed(verifyEpsilon(*this, getEpsilon())) ||
      failed(expectShape(*this, "output", getOut(), shapeOf(getInput()))))
    return failure();
  return expectSameElement(*this, {getInput(), getWeight(), getBias(), getOut()});
}

static LogicalResult verifyRotaryParams(Operation *op, int64_t headDim, int64_t rotaryDim,
                                        APFloat theta) {
  return vgcu::verifyRotaryParams(op, headDim, rotaryDim, theta.convertToDouble());
}

static LogicalResult verifyHeads(Operation *op, StringRef name, Value value, int64_t heads,
                                 int64_t headDim) {
  ArrayRef<int64_t> shape = shapeOf(value);
  int64_t width = ShapedType::kDynamic;
  if (!vgcu::isDynamicDim(heads) && !vgcu::isDynamicDim(headDim)) {
    auto product = vgcu::checkedProduct(heads, headDim);
    if (!product)
      return op->emitOpError() << name << " width " << heads << " x " << headDim
                               << " overflows";
    width = *product;
  }
  if (shape.size() != 2 || !compatibleDims(shape[1], width))
    return op->emitOpError() << name << " must be [tokens, " << vgcu::dimString(heads) << " x "
                             << vgcu::dimString(headDim) << "], got " << shapeString(shape);
  return success();
}

LogicalResult RotaryEmbeddingOp::verify() {
  if (failed(verifyRotaryParams(*this, getHeadDim(), getRotaryDim(), getTheta())) ||
      failed(vgcu::verifyRopeScaling(*this, getRopeScalingAttr(), getRotaryDim())))
    return failure();
  if (bufferType(getPositions()).getRank() != 1)
    return emitOpError("positions must be one-dimensional");
  for (Value value : {getQuery(), getKey()}) {
    ArrayRef<int64_t> shape = shapeOf(value);
    if (shape.size() != 2 || (!vgcu::isDynamicDim(shape[1]) && shape[1] % getHeadDim() != 0))
      return emitOpError("query and key must be [tokens, heads x head_dim]");
    if (!compatibleDims(shape[0], shapeOf(getPositions())[0]))
      return emitOpError("query/key and positions disagree on the number of tokens");
  }
  return expectSameElement(*this, {getQuery(), getKey()});
}

static LogicalResult verifyCache(Operation *op, Value cache, int64_t kvHeads,
                                 int64_t headDim) {
  ArrayRef<int64_t> shape = shapeOf(cache);
  if (shape.size() != 4 || !compatibleDims(shape[2], kvHeads) ||
      !compatibleDims(shape[3], headDim))
    return op->emitOpError("cache shape ")
           << shapeString(shape) << " is not [blocks, block_size, " << kvHeads << ", "
           << headDim << "]";
  return success();
}

/// Whether a cache holds int8 or FP8 E4M3 codes rather than activations.
static bool isQuantizedCache(Value cache) {
  Type element = elementOf(cache);
  return element.isInteger(8) || isa<Float8E4M3FNType>(element);
}

/// A float cache holds the activations' type and takes no scales; a quantized one takes an
/// f32 scale per cached vector, laid out [blocks, block_size, heads] like the cache.
static LogicalResult verifyCacheCodes(Operation *op, Value keyCache, Value valueCache,
                                      ValueRange scales, Type activation) {
  if (elementOf(keyCache) != elementOf(valueCache))
    return op->emitOpError("key and value caches must have one element type");
  if (!isQuantizedCache(keyCache)) {
    if (!scales.empty())
      return op->emitOpError("scales are for quantized (i8 or f8E4M3FN) caches");
    if (elementOf(keyCache) != activation)
      return op->emitOpError("a float cache must have the activations' element type ")
             << activation;
    return success();
  }
  if (scales.size() != 2)
    return op->emitOpError("a quantized cache needs its key and value scales");
  for (auto [cache, scale] : llvm::zip_equal(ValueRange{keyCache, valueCache}, scales)) {
    ArrayRef<int64_t> cacheShape = shapeOf(cache), scaleShape = shapeOf(scale);
    if (cacheShape.size() != 4 || scaleShape.size() != 3 ||
        !llvm::all_of(llvm::seq(0, 3), [&](int i) {
          return compatibleDims(cacheShape[i], scaleShape[i]);
        }))
      return op->emitOpError("scales shape ")
             << shapeString(scaleShape) << " is not its cache's [blocks, block_size, heads] "
             << shapeString(cacheShape.take_front(3));
  }
  return success();
}

LogicalResult ReshapeAndCacheOp::verify() {
  ArrayRef<int64_t> cache = shapeOf(getKeyCache());
  if (cache.size() != 4)
    return emitOpError("caches must be [blocks, block_size, kv_heads, head_dim]");
  if (getKeyCache().getType() != getValueCache().getType())
    return emitOpError("key and value caches must have the same type");
  if (failed(verifyHeads(*this, "key", getKey(), cache[2], cache[3])) ||
      failed(verifyHeads(*this, "value", getValue(), cache[2], cache[3])) ||
      failed(verifyCacheCodes(*this, getKeyCache(), getValueCache(), getCacheScales(),
                              elementOf(getKey()))))
    return failure();
  return expectSameElement(*this, {getKey(), getValue()});
}

template <typename AttentionLikeOp>
static LogicalResult verifyAttentionAttrs(AttentionLikeOp op) {
  int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads(), headDim = op.getHeadDim();
  if (heads <= 0 || kvHeads <= 0 || headDim <= 0)
    return op.emitOpError("num_heads, num_kv_heads and head_dim must be positive");
  if (heads % kvHeads != 0)
    return op.emitOpError("num_heads ") << heads << " is not divisible by num_kv_heads "
                                        << kvHeads;
  if (!(op.getScale().convertToDouble() > 0.0))
    return op.emitOpError("scale must be positive");
  if (auto window = op.getSlidingWindow(); window && *window <= 0)
    return op.emitOpError("sliding_window must be positive");
  if (failed(verifyHeads(op, "query", op.getQuery(), heads, headDim)) ||
      failed(verifyHeads(op, "output", op.getOut(), heads, headDim)))
    return failure();
  return success();
}

/// The batch description every attention kernel reads: 1-D positions, slot mapping, query
/// start offsets and sequence lengths, a 2-D block table.
template <typename AttentionLikeOp>
static LogicalResult verifyBatchOperands(AttentionLikeOp op, ArrayRef<Value> vectors) {
  for (Value indices : vectors)
    if (bufferType(indices).getRank() != 1)
      return op.emitOpError(
          "positions, slot mapping, query start offsets and sequence lengths must be "
          "one-dimensional");
  if (bufferType(op.getBlockTables()).getRank() != 2)
    return op.emitOpError("block tables must be two-dimensional [sequences, blocks]");
  return success();
}

LogicalResult PagedAttentionOp::verify() {
  if (failed(verifyBatchOperands(*this, {getPositions(), getQueryStartLoc(), getSeqLens()})) ||
      failed(verifyAttentionAttrs(*this)) ||
      failed(verifyCache(*this, getKeyCache(), getNumKvHeads(), getHeadDim())) ||
      failed(verifyCache(*this, getValueCache(), getNumKvHeads(), getHeadDim())))
    return failure();
  if (getKeyCache().getType() != getValueCache().getType())
    return emitOpError("key and value caches must have the same type");
  if (failed(verifyCacheCodes(*this, getKeyCache(), getValueCache(), getCacheScales(),
                              elementOf(getQuery()))))
    return failure();
  return expectSameElement(*this, {getQuery(), getOut()});
}

LogicalResult FusedRopeCacheAttentionOp::verify() {
  if (failed(verifyBatchOperands(*this, {getPositions(), getSlotMapping(), getQueryStartLoc(),
                                         getSeqLens()})) ||
      failed(verifyAttentionAttrs(*this)) ||
      failed(verifyHeads(*this, "key", getKey(), getNumKvHeads(), getHeadDim())) ||
      failed(verifyHeads(*this, "value", getValue(), getNumKvHeads(), getHeadDim())) ||
      failed(verifyCache(*this, getKeyCache(), getNumKvHeads(), getHeadDim())) ||
      failed(verifyCache(*this, getValueCache(), getNumKvHeads(), getHeadDim())))
    return failure();
  if (getKeyCache().getType() != getValueCache().getType())
    return emitOpError("key and value caches must have the same type");
  bool hasRotaryDim = getRotaryDim().has_value();
  if (hasRotaryDim != getTheta().has_value() || hasRotaryDim != getRotaryStyle().has_value())
    return emitOpError("rotary_style, rotary_dim and theta must be given together");
  if (hasRotaryDim &&
      (failed(verifyRotaryParams(*this, getHeadDim(), *getRotaryDim(), *getTheta())) ||
       failed(vgcu::verifyRopeScaling(*this, getRopeScalingAttr(), *getRotaryDim()))))
    return failure();
  if (!hasRotaryDim && getRopeScalingAttr())
    return emitOpError("rope_scaling without rotary parameters");
  if (static_cast<bool>(getQNormWeight()) != static_cast<bool>(getKNormWeight()))
    return emitOpError("q_norm and k_norm weights must be given together");
  if (getQNormWeight()) {
    if (!getNormEpsilon())
      return emitOpError("q/k norm needs norm_epsilon");
    if (!(getNormEpsilon()->convertToDouble() > 0.0))
      return emitOpError("norm_epsilon must be positive");
    if (elementOf(getQNormWeight()) != elementOf(getQuery()) ||
        elementOf(getKNormWeight()) != elementOf(getQuery()))
      return emitOpError("q/k norm weights must have the query's element type");
    for (Value weight : {getQNormWeight(), getKNormWeight()})
      if (failed(expectShape(*this, "q/k norm weight", weight, {getHeadDim()})))
        return failure();
  }
  if (failed(verifyCacheCodes(*this, getKeyCache(), getValueCache(), getCacheScales(),
                              elementOf(getQuery()))))
    return failure();
  return expectSameElement(*this, {getQuery(), getKey(), getValue(), getOut()});
}

template <typename GatedOp>
static LogicalResult verifyGated(GatedOp op) {
  SmallVector<int64_t> expected(shapeOf(op.getInput()));
  if (expected.empty() || (!vgcu::isDynamicDim(expected.back()) && expected.back() % 2 != 0))
    return op.emitOpError("last input dimension must be even");
  if (!vgcu::isDynamicDim(expected.back()))
    expected.back() /= 2;
  if (failed(expectShape(op, "output", op.getOut(), expected)))
    return failure();
  return expectSameElement(op, {op.getInput(), op.getOut()});
}

LogicalResult SiluAndMulOp::verify() { return verifyGated(*this); }
LogicalResult GeluAndMulOp::verify() { return verifyGated(*this); }
LogicalResult GeluTanhAndMulOp::verify() { return verifyGated(*this); }

LogicalResult AllReduceOp::verify() {
  if (bufferType(getBuffer()).getRank() < 1)
    return emitOpError("buffer must have at least one dimension");
  return success();
}

LogicalResult AllGatherOp::verify() {
  auto dim = vgcu::normalizeDim(getDim(), bufferType(getInput()).getRank());
  if (!dim)
    return emitOpError("dim ") << getDim() << " is out of range";
  if (bufferType(getOut()).getRank() != bufferType(getInput()).getRank())
    return emitOpError("input and output ranks must agree");
  int64_t in = shapeOf(getInput())[*dim], out = shapeOf(getOut())[*dim];
  if (!vgcu::isDynamicDim(in) && !vgcu::isDynamicDim(out) && (in == 0 || out % in != 0))
    return emitOpError("output size ") << out << " along dim " << *dim
                                       << " is not a whole number of input slices of " << in;
  return expectSameElement(*this, {getInput(), getOut()});
}

//===----------------------------------------------------------------------===//
// Generic kernels
//===----------------------------------------------------------------------===//

static LogicalResult verifyBroadcastOut(Operation *op, ArrayRef<Value> inputs, Value out) {
  SmallVector<int64_t> shape;
  for (Value input : inputs) {
    auto broadcast = vgcu::broadcastShapes(shape, shapeOf(input));
    if (!broadcast)
      return op->emitOpError("operand shapes do not broadcast");
    shape = *broadcast;
  }
  return expectShape(op, "output", out, shape);
}

static bool isComparison(BinaryKind kind) { return kind >= BinaryKind::eq; }

LogicalResult BinaryOp::verify() {
  if (elementOf(getLhs()) != elementOf(getRhs()))
    return emitOpError("operand element types must agree");
  if (getKind() == BinaryKind::logical_or && !elementOf(getLhs()).isInteger(1))
    return emitOpError("logical_or needs boolean (i1) operands");
  Type expectedOut = isComparison(getKind()) ? IntegerType::get(getContext(), 1)
                                             : elementOf(getLhs());
  if (elementOf(getOut()) != expectedOut)
    return emitOpError("output element type must be ") << expectedOut;
  return verifyBroadcastOut(*this, {getLhs(), getRhs()}, getOut());
}

StringRef BinaryOp::getHardwareEntry() {
  switch (getKind()) {
  case BinaryKind::add: return "topsatenAdd";
  case BinaryKind::sub: return "topsatenSub";
  case BinaryKind::mul: return "topsatenMul";
  case BinaryKind::div: return "topsatenDiv";
  case BinaryKind::pow: return "topsatenPow";
  case BinaryKind::maximum: return "topsatenMaximum";
  case BinaryKind::eq: return "topsatenEq";
  case BinaryKind::ne: return "topsatenNe";
  case BinaryKind::lt: return "topsatenLt";
  case BinaryKind::le: return "topsatenLe";
  case BinaryKind::gt: return "topsatenGt";
  case BinaryKind::ge: return "topsatenGe";
  case BinaryKind::logical_or: return "topsatenLogicalOr";
  }
  llvm_unreachable("unknown binary kind");
}

LogicalResult UnaryOp::verify() {
  if (failed(expectShape(*this, "output", getOut(), shapeOf(getInput()))))
    return failure();
  if (getKind() != UnaryKind::cast && elementOf(getInput()) != elementOf(getOut()))
    return emitOpError("only a cast changes the element type");
  return success();
}

StringRef UnaryOp::getHardwareEntry() {
  switch (getKind()) {
  case UnaryKind::neg: return "topsatenNeg";
  case UnaryKind::rsqrt: return "topsatenRsqrt";
  case UnaryKind::sqrt: return "topsatenSqrt";
  case UnaryKind::exp: return "topsatenExp";
  case UnaryKind::cos: return "topsatenCos";
  case UnaryKind::sin: return "topsatenSin";
  case UnaryKind::sigmoid: return "topsatenSigmoid";
  case UnaryKind::tanh: return "topsatenTanh";
  case UnaryKind::silu: return "topsatenSilu";
  case UnaryKind::relu: return "topsatenRelu";
  case UnaryKind::gelu: return "topsatenGelu";
  case UnaryKind::gelu_tanh: return "topsatenGelu";
  case UnaryKind::cast: return "topsatenTo";
  case UnaryKind::copy: return "topsatenCopy";
  }
  llvm_unreachable("unknown unary kind");
}

LogicalResult WhereOp::verify() {
  if (elementOf(getOnTrue()) != elementOf(getOnFalse()) ||
      elementOf(getOnTrue()) != elementOf(getOut()))
    return emitOpError("value and output element types must agree");
  return verifyBroadcastOut(*this, {getCondition(), getOnTrue(), getOnFalse()}, getOut());
}

LogicalResult ReduceOp::verify() {
  SmallVector<int64_t> expected;
  std::string error = vgcu::reducedShape(shapeOf(getInput()), getDims(), getKeepdim(), expected);
  if (!error.empty())
    return emitOpError(error);
  if (failed(expectShape(*this, "output", getOut(), expected)))
    return failure();
  return expectSameElement(*this, {getInput(), getOut()});
}

StringRef ReduceOp::getHardwareEntry() {
  return getKind() == ReduceKind::sum ? "topsatenSum" : "topsatenMean";
}

LogicalResult SoftmaxOp::verify() {
  if (!vgcu::normalizeDim(getDim(), bufferType(getInput()).getRank()))
    return emitOpError("dim ") << getDim() << " is out of range";
  if (failed(expectShape(*this, "output", getOut(), shapeOf(getInput()))))
    return failure();
  return expectSameElement(*this, {getInput(), getOut()});
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  int64_t rank = bufferType(getOut()).getRank();
  auto dim = vgcu::normalizeDim(getDim(), rank);
  if (!dim)
    return emitOpError("dim ") << getDim() << " is out of range";
  for (Value input : getInputs()) {
    if (bufferType(input).getRank() != rank || elementOf(input) != elementOf(getOut()))
      return emitOpError("inputs and output must agree in rank and element type");
    for (int64_t i = 0; i < rank; ++i)
      if (i != *dim && !compatibleDims(shapeOf(input)[i], shapeOf(getOut())[i]))
        return emitOpError("inputs disagree with the output on dimension ") << i;
  }
  int64_t total = 0;
  for (Value input : getInputs()) {
    int64_t size = shapeOf(input)[*dim];
    total = vgcu::isDynamicDim(size) || vgcu::isDynamicDim(total) ? ShapedType::kDynamic
                                                                  : total + size;
  }
  if (!compatibleDims(total, shapeOf(getOut())[*dim]))
    return emitOpError("output size ") << shapeOf(getOut())[*dim] << " along dim " << *dim
                                       << " is not the inputs' total " << total;
  return success();
}

LogicalResult GatherOp::verify() {
  auto dim = vgcu::normalizeDim(getDim(), bufferType(getInput()).getRank());
  if (!dim)
    return emitOpError("dim ") << getDim() << " is out of range";
  if (bufferType(getIndices()).getRank() != 1)
    return emitOpError("indices must be one-dimensional");
  SmallVector<int64_t> expected(shapeOf(getInput()));
  expected[*dim] = shapeOf(getIndices())[0];
  if (failed(expectShape(*this, "output", getOut(), expected)))
    return failure();
  if (elementOf(getInput()) != elementOf(getOut()))
    return emitOpError("output element type must match the input");
  return success();
}

LogicalResult MlaAttentionOp::verify() {
  ArrayRef<int64_t> query = shapeOf(getQuery()), latent = shapeOf(getLatent()),
                    keyRope = shapeOf(getKeyRope()), kvB = shapeOf(getKvB());
  if (query.size() != 2 || latent.size() != 2 || keyRope.size() != 2 || kvB.size() != 2)
    return emitOpError("takes 2-D query, latent, key_rope and kv_b");
  if (failed(verifyBatchOperands(*this, {getPositions(), getSlotMapping(), getQueryStartLoc(),
                                         getSeqLens()})))
    return failure();
  int64_t heads = getNumHeads(), nope = getQkNopeHeadDim(), rope = getQkRopeHeadDim(),
          v = getVHeadDim();
  if (failed(expectShape(*this, "query", getQuery(), {latent[0], heads * (nope + rope)})) ||
      failed(expectShape(*this, "key_rope", getKeyRope(), {latent[0], rope})) ||
      failed(expectShape(*this, "kv_b", getKvB(), {heads * (nope + v), latent[1]})) ||
      failed(expectShape(*this, "latent_cache", getLatentCache(),
                         {ShapedType::kDynamic, shapeOf(getLatentCache())[1], 1, latent[1]})) ||
      failed(expectShape(*this, "rope_cache", getRopeCache(),
                         {ShapedType::kDynamic, shapeOf(getLatentCache())[1], 1, rope})) ||
      failed(expectShape(*this, "output", getOut(), {latent[0], heads * v})))
    return failure();
  if (failed(verifyCacheCodes(*this, getLatentCache(), getRopeCache(), getCacheScales(),
                              elementOf(getQuery()))))
    return failure();
  return expectSameElement(*this, {getQuery(), getLatent(), getKeyRope(), getKvB(), getOut()});
}

LogicalResult TopKOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  if (input.empty())
    return emitOpError("takes a buffer of rank 1 or more");
  if (!vgcu::isDynamicDim(input.back()) && getK() > input.back())
    return emitOpError("k = ") << getK() << " exceeds the last dimension, " << input.back();
  SmallVector<int64_t> expected(input);
  expected.back() = getK();
  if (failed(expectShape(*this, "values", getValues(), expected)) ||
      failed(expectShape(*this, "indices", getIndices(), expected)))
    return failure();
  return expectSameElement(*this, {getInput(), getValues()});
}

LogicalResult ScatterOp::verify() {
  auto dim = vgcu::normalizeDim(getDim(), bufferType(getInput()).getRank());
  if (!dim)
    return emitOpError("dim ") << getDim() << " is out of range";
  if (bufferType(getIndex()).getRank() != bufferType(getInput()).getRank())
    return emitOpError("index must have the input's rank");
  if (failed(expectShape(*this, "src", getSrc(), shapeOf(getIndex()))) ||
      failed(expectShape(*this, "output", getOut(), shapeOf(getInput()))))
    return failure();
  return expectSameElement(*this, {getInput(), getSrc(), getOut()});
}

#define GET_OP_CLASSES
#include "dialects/gcu/GcuOps.cpp.inc"
