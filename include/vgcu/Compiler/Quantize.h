//===- Quantize.h - Which parameters an artifact stores quantized, and how ----------===//
#ifndef VGCU_COMPILER_QUANTIZE_H
#define VGCU_COMPILER_QUANTIZE_H

#include "vgcu/Models/WeightLoader.h"
#include "vgcu/Weights/Quantization.h"

#include "dialects/vgcu/VgcuDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <optional>

namespace vgcu {

QuantScheme schemeOf(QuantAttr attr);
QuantAttr quantAttrOf(mlir::MLIRContext *context, const QuantScheme &scheme);

/// Sets `quant` on the parameters of `graph` stored quantized: a linear weight of a decoder
/// layer, or a mixture of experts' stacked routed experts, whose checkpoint modules are
/// quantized (all of its packed parts, one scheme), or, with `mode` (`vgcu-compile
/// --quantize`), such a weight whose checkpoint is float. A quantized module anything else
/// reads (a shared expert, MLA's absorbed kv_b_proj, an LM head), read through a load-time
/// transform, packed with parts quantized otherwise or not at all, or experts with act-order
/// groups or rows that are not whole scale blocks, is dequantized instead; the log says
/// which. Returns how many were marked.
int64_t markQuantizedParams(mlir::ModuleOp graph, const LoadedWeights &loaded,
                            std::optional<QuantizeMode> mode);

} // namespace vgcu

#endif // VGCU_COMPILER_QUANTIZE_H
