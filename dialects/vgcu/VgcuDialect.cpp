//===- VgcuDialect.cpp - Registration and attributes of the vgcu dialect ----------===//

#include "dialects/vgcu/VgcuDialect.h"
#include "dialects/vgcu/VgcuOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace vgcu;

#include "dialects/vgcu/VgcuDialect.cpp.inc"
#include "dialects/vgcu/VgcuEnums.cpp.inc"

/// `, valid = N`, `, ep = N` and `, ep_dim = N` of a shard, each present only when not its
/// default, in any order (a declarative format cannot tell optional groups that all begin
/// with a comma apart).
static ParseResult parseShardTail(AsmParser &parser, int64_t &valid, int64_t &ep,
                                  int64_t &epDim) {
  valid = 0;
  ep = 1;
  epDim = 0;
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    int64_t value = 0;
    SMLoc loc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key) || parser.parseEqual() || parser.parseInteger(value))
      return failure();
    if (key == "valid")
      valid = value;
    else if (key == "ep")
      ep = value;
    else if (key == "ep_dim")
      epDim = value;
    else
      return parser.emitError(loc, "expected 'valid', 'ep' or 'ep_dim', got '") << key << "'";
  }
  return success();
}

static void printShardTail(AsmPrinter &printer, int64_t valid, int64_t ep, int64_t epDim) {
  if (valid != 0)
    printer << ", valid = " << valid;
  if (ep != 1)
    printer << ", ep = " << ep;
  if (epDim != 0)
    printer << ", ep_dim = " << epDim;
}

#define GET_ATTRDEF_CLASSES
#include "dialects/vgcu/VgcuAttrs.cpp.inc"

void VgcuDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/vgcu/VgcuOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/vgcu/VgcuAttrs.cpp.inc"
      >();
}

Operation *VgcuDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                            Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, type, elements);
}

//===----------------------------------------------------------------------===//
// ShardAttr
//===----------------------------------------------------------------------===//

LogicalResult ShardAttr::verify(function_ref<InFlightDiagnostic()> emitError, int64_t dim,
                                int64_t tp, ArrayRef<int64_t> segments,
                                ArrayRef<int64_t> units, int64_t valid, int64_t ep,
                                int64_t epDim) {
  if (dim < 0)
    return emitError() << "shard dim must be non-negative, got " << dim;
  if (tp < 1)
    return emitError() << "shard tp must be at least 1, got " << tp;
  if (ep < 1)
    return emitError() << "shard ep must be at least 1, got " << ep;
  if (epDim < 0)
    return emitError() << "shard ep_dim must be non-negative, got " << epDim;
  if (segments.empty() || segments.size() != units.size())
    return emitError() << "shard needs one unit count per segment, got " << segments.size()
                       << " segments and " << units.size() << " unit counts";
  int64_t total = 0;
  for (auto [size, count] : llvm::zip(segments, units)) {
    if (size <= 0 || count <= 0 || size % count != 0)
      return emitError() << "shard segment of size " << size << " cannot be made of " << count
                         << " equal units";
    if (count >= tp && count % tp != 0)
      return emitError() << "shard segment of " << count << " units does not divide among "
                         << tp << " ranks";
    if (count < tp && tp % count != 0)
      return emitError() << "shard segment of " << count
                         << " units cannot be replicated evenly over " << tp << " ranks";
    total += size;
  }
  if (ep > 1 && valid != 0)
    return emitError() << "an expert-parallel shard has no padding";
  if (valid < 0 || valid > total)
    return emitError() << "shard valid size " << valid << " outside [0, " << total << "]";
  return success();
}

int64_t ShardAttr::getGlobalSize() const {
  int64_t total = 0;
  for (int64_t size : getSegments())
    total += size;
  return getEpDim() == getDim() ? total * getEp() : total;
}

int64_t ShardAttr::getLocalSize() const {
  int64_t total = 0;
  for (auto [size, count] : llvm::zip(getSegments(), getUnits())) {
    int64_t unitSize = size / count;
    total += count >= getTp() ? size / getTp() : unitSize;
  }
  return total;
}

SmallVector<std::pair<int64_t, int64_t>> ShardAttr::getRankRanges(int64_t rank) const {
  SmallVector<std::pair<int64_t, int64_t>> ranges;
  int64_t tp = getTp(), tpIndex = getTensorIndex(rank);
  // Along ep_dim = dim, the rank's expert block starts where the blocks before it end.
  int64_t segmentStart =
      getEpDim() == getDim() ? getExpertIndex(rank) * (getGlobalSize() / getEp()) : 0;
  for (auto [size, count] : llvm::zip(getSegments(), getUnits())) {
    int64_t unitSize = size / count;
    int64_t firstUnit = tpIndex * count / tp;
    int64_t numUnits = count >= tp ? count / tp : 1;
    ranges.push_back({segmentStart + firstUnit * unitSize, numUnits * unitSize});
    segmentStart += size;
  }
  return ranges;
}

//===----------------------------------------------------------------------===//
// QuantAttr
//===----------------------------------------------------------------------===//

LogicalResult QuantAttr::verify(function_ref<InFlightDiagnostic()> emitError, QuantCodes codes,
                                int64_t blockRows, int64_t blockCols, bool zeroPoint,
                                bool actOrder) {
  if (blockRows < 0 || blockCols < 0)
    return emitError() << "quantization blocks must be non-negative (0: the whole dimension), "
                          "got "
                       << blockRows << " x " << blockCols;
  if (codes == QuantCodes::fp8_e4m3 && (zeroPoint || actOrder))
    return emitError() << "fp8_e4m3 codes have no zero points or act-order groups";
  if (actOrder && (blockRows != 1 || blockCols == 0))
    return emitError() << "act_order needs groups of one row by block_cols columns";
  return success();
}

int64_t QuantAttr::getBits() const { return getCodes() == QuantCodes::uint4 ? 4 : 8; }

int64_t QuantAttr::getRowBlocks(int64_t rows) const {
  return getBlockRows() == 0 ? 1 : (rows + getBlockRows() - 1) / getBlockRows();
}

int64_t QuantAttr::getColumnGroups(int64_t cols) const {
  return getBlockCols() == 0 ? 1 : (cols + getBlockCols() - 1) / getBlockCols();
}

//===----------------------------------------------------------------------===//
// RopeScalingAttr
//===----------------------------------------------------------------------===//

LogicalResult RopeScalingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                      RopeType type, APFloat factorValue,
                                      int64_t originalMaxPositions, APFloat lowFreqValue,
                                      APFloat highFreqValue, APFloat betaFastValue,
                                      APFloat betaSlowValue, bool truncate,
                                      APFloat attentionValue, DenseF64ArrayAttr shortFactor,
                                      DenseF64ArrayAttr longFactor,
                                      DenseF64ArrayAttr frequencies) {
  llvm::StringRef name = stringifyRopeType(type);
  double factor = factorValue.convertToDouble();
  double attentionFactor = attentionValue.convertToDouble();
  if (!(factor > 0))
    return emitError() << name << " rope scaling needs a positive factor, got " << factor;
  if (!(attentionFactor > 0))
    return emitError() << "rope attention_factor must be positive, got " << attentionFactor;
  if (type == RopeType::precomputed) {
    if (!frequencies || frequencies.empty())
      return emitError() << "precomputed rope scaling needs its frequencies";
    for (double value : frequencies.asArrayRef())
      if (!(value > 0))
        return emitError() << "rope frequencies must be positive, got " << value;
  } else if (frequencies) {
    return emitError() << "frequencies belong to precomputed rope scaling, not " << name;
  }
  if (type != RopeType::linear && type != RopeType::precomputed && originalMaxPositions <= 0)
    return emitError() << name << " rope scaling needs a positive original_max_positions";
  double low = lowFreqValue.convertToDouble(), high = highFreqValue.convertToDouble();
  if (type == RopeType::llama3 && !(low > 0 && high > low))
    return emitError() << "llama3 rope scaling needs 0 < low_freq_factor < high_freq_factor, "
                          "got "
                       << low << " and " << high;
  if (type == RopeType::yarn &&
      !(betaFastValue.convertToDouble() > 0 && betaSlowValue.convertToDouble() > 0))
    return emitError() << "yarn rope scaling needs positive beta_fast and beta_slow";
  if (type == RopeType::longrope) {
    if (!shortFactor || !longFactor || shortFactor.size() != longFactor.size() ||
        shortFactor.empty())
      return emitError() << "longrope rope scaling needs short_factor and long_factor of one "
                            "length";
    for (DenseF64ArrayAttr list : {shortFactor, longFactor})
      for (double value : list.asArrayRef())
        if (!(value > 0))
          return emitError() << "longrope factors must be positive, got " << value;
  } else if (shortFactor || longFactor) {
    return emitError() << "short_factor and long_factor belong to longrope, not " << name;
  }
  (void)truncate;
  return success();
}

bool RopeScalingAttr::dependsOnCall() const {
  return getType() == RopeType::dynamic || getType() == RopeType::longrope;
}

LogicalResult vgcu::verifyRopeScaling(Operation *op, RopeScalingAttr scaling,
                                      int64_t rotaryDim) {
  if (!scaling)
    return success();
  if (scaling.getType() == RopeType::longrope &&
      static_cast<int64_t>(scaling.getShortFactor().size()) != rotaryDim / 2)
    return op->emitOpError("longrope factors come one per frequency: ")
           << rotaryDim / 2 << " for rotary_dim " << rotaryDim << ", got "
           << scaling.getShortFactor().size();
  if (scaling.getType() == RopeType::precomputed &&
      static_cast<int64_t>(scaling.getFrequencies().size()) != rotaryDim / 2)
    return op->emitOpError("precomputed rope frequencies come one per channel pair: ")
           << rotaryDim / 2 << " for rotary_dim " << rotaryDim << ", got "
           << scaling.getFrequencies().size();
  if (scaling.getType() == RopeType::dynamic && rotaryDim <= 2)
    return op->emitOpError("dynamic rope scaling needs rotary_dim above 2, got ") << rotaryDim;
  return success();
}
