//===- Quantize.cpp - Marking the parameters an artifact stores quantized -----------===//

#include "vgcu/Compiler/Quantize.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/Log.h"
#include "vgcu/Support/ModulePaths.h"

#include "dialects/vgcu/VgcuOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace vgcu;

QuantScheme vgcu::schemeOf(QuantAttr attr) {
  QuantScheme scheme;
  scheme.codes = attr.getCodes() == QuantCodes::uint4   ? QuantCodeKind::UInt4
                 : attr.getCodes() == QuantCodes::uint8 ? QuantCodeKind::UInt8
                                                        : QuantCodeKind::Fp8E4M3;
  scheme.blockRows = attr.getBlockRows();
  scheme.blockCols = attr.getBlockCols();
  scheme.zeroPoint = attr.getZeroPoint();
  scheme.actOrder = attr.getActOrder();
  return scheme;
}

QuantAttr vgcu::quantAttrOf(MLIRContext *context, const QuantScheme &scheme) {
  QuantCodes codes = scheme.codes == QuantCodeKind::UInt4   ? QuantCodes::uint4
                     : scheme.codes == QuantCodeKind::UInt8 ? QuantCodes::uint8
                                                            : QuantCodes::fp8_e4m3;
  return QuantAttr::get(context, codes, scheme.blockRows, scheme.blockCols, scheme.zeroPoint,
                        scheme.actOrder);
}

/// Whether only linears of decoder layers read `param`, as their weight.
static bool readOnlyByLayerLinears(ParamOp param) {
  if (param->use_empty())
    return false;
  for (OpOperand &use : param->getUses()) {
    auto linear = dyn_cast<LinearOp>(use.getOwner());
    if (!linear || use.get() != linear.getWeight() || !layerOf(linear.getLoc()))
      return false;
  }
  return true;
}

/// Whether only mixtures of experts read `param`, as their routed experts' stacked gate_up
/// or down weights.
static bool readOnlyAsRoutedExperts(ParamOp param) {
  if (param->use_empty())
    return false;
  for (OpOperand &use : param->getUses()) {
    auto experts = dyn_cast<MoeExpertsOp>(use.getOwner());
    if (!experts || (use.get() != experts.getGateUp() && use.get() != experts.getDown()))
      return false;
  }
  return true;
}

/// Whether every expert's rows of `param` (a stacked gate_up or down) are whole blocks of
/// `blockRows` rows, as the fused kernel reads them.
static bool expertsFillRowBlocks(ParamOp param, int64_t blockRows) {
  if (blockRows <= 1)
    return blockRows == 1;
  int64_t rows = param.getResult().getType().getDimSize(0);
  for (Operation *user : param->getUsers())
    if ((rows / cast<MoeExpertsOp>(user).getNumExperts()) % blockRows != 0)
      return false;
  return true;
}

int64_t vgcu::markQuantizedParams(ModuleOp graph, const LoadedWeights &loaded,
                                  std::optional<QuantizeMode> mode) {
  int64_t marked = 0, dequantized = 0;
  graph.walk([&](ParamOp param) {
    if (param.getComputedByAttr() || param.getQuantAttr())
      return;
    auto it = loaded.find(param.getName().str());
    if (it == loaded.end())
      return;
    const LoadedParam &source = it->second;
    std::optional<QuantScheme> scheme;
    std::string quantizedPart, floatPart, mismatch;
    bool transformed = false;
    for (auto [index, segment] : llvm::enumerate(source.segments)) {
      if (index < source.transforms.size() && source.transforms[index])
        transformed = true;
      if (!segment.quantized) {
        floatPart = segment.tensor->name;
        continue;
      }
      QuantScheme partScheme = segment.quantized->scheme();
      // Parts with a scale each stack as a scale per row.
      if (source.segments.size() > 1 && partScheme.blockRows == 0)
        partScheme.blockRows = 1;
      if (scheme && !(*scheme == partScheme) && mismatch.empty())
        mismatch = llvm::formatv("its parts '{0}' ({1}) and '{2}' ({3}) are quantized "
                                 "differently",
                                 quantizedPart, scheme->describe(), segment.tensor->name,
                                 partScheme.describe())
                       .str();
      scheme = partScheme;
      quantizedPart = segment.tensor->name;
    }
    if (scheme && !floatPart.empty() && mismatch.empty())
      mismatch = "it packs the quantized '" + quantizedPart + "' with the float '" + floatPart + "'";
    // One kernel reads a packed parameter: parts quantized unlike each other are all
    // dequantized (and stacked as floats).
    if (scheme && !mismatch.empty()) {
      logger().info("'{}' is stored dequantized: {}", param.getName().str(), mismatch);
      ++dequantized;
      return;
    }
    bool linear = readOnlyByLayerLinears(param);
    // Routed experts are stored quantized unless each has its own act-order groups or their
    // rows are not whole scale blocks.
    std::string expertsWhyNot;
    if (readOnlyAsRoutedExperts(param)) {
      if (scheme && scheme->actOrder)
        expertsWhyNot = "each expert has its own act-order groups";
      else if (std::optional<QuantScheme> stored = scheme ? scheme
                                                   : mode ? std::optional(vgcu::schemeOf(*mode))
                                                          : std::nullopt;
               stored && !expertsFillRowBlocks(param, stored->blockRows))
        expertsWhyNot = "an expert's rows are not whole blocks of " +
                        std::to_string(stored->blockRows) + " rows";
      else
        linear = true;
    }
    if (scheme) {
      if (!linear || transformed) {
        logger().info("'{}' is stored dequantized: {}", param.getName().str(),
                      transformed               ? "the model reads it through a load-time transform"
                      : !expertsWhyNot.empty() ? expertsWhyNot
                                               : "something other than a decoder layer's linear or "
                                                 "routed experts reads it");
        ++dequantized;
        return;
      }
      param.setQuantAttr(quantAttrOf(param.getContext(), *scheme));
      ++marked;
      return;
    }
    if (mode && linear) {
      param.setQuantAttr(quantAttrOf(param.getContext(), vgcu::schemeOf(*mode)));
      ++marked;
    }
  });
  // One kernel reads both stacks of a mixture of experts, so they are quantized alike or
  // both dequantized.
  graph.walk([&](MoeExpertsOp experts) {
    auto gateUp = experts.getGateUp().getDefiningOp<ParamOp>();
    auto down = experts.getDown().getDefiningOp<ParamOp>();
    if (!gateUp || !down || gateUp.getQuantAttr() == down.getQuantAttr())
      return;
    for (ParamOp param : {gateUp, down})
      if (param.getQuantAttr()) {
        param.removeQuantAttr();
        --marked;
        ++dequantized;
      }
    logger().info("'{}' and '{}' are stored dequantized: they are not quantized alike",
                  gateUp.getName().str(), down.getName().str());
  });
  if (marked || dequantized)
    logger().info("{} weights stored quantized{}", marked,
                  dequantized ? ", " + std::to_string(dequantized) + " dequantized" : "");
  return marked;
}
