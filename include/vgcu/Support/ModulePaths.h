//===- ModulePaths.h - Hugging Face module paths carried by op locations ----------===//
//
// Graph builders and the TorchScript importer name every op's location by the module it
// implements (`model.layers.3.self_attn.o_proj`); fusions keep those names in fused
// locations. The compiler's launch counts and the runtime's traces and activation dumps
// read them back through these helpers.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_SUPPORT_MODULEPATHS_H
#define VGCU_SUPPORT_MODULEPATHS_H

#include "mlir/IR/Location.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace vgcu {

/// The module an op implements first: its first named location (a fused op is named by
/// what it was built for first, e.g. the norm an all-reduce was folded into), without a
/// parameter's `.weight` / `.bias` suffix (and what follows it in a weight computed from one).
std::optional<llvm::StringRef> primaryModulePath(mlir::Location loc);

/// The decoder layer a module path lies in: the path of the layer (`model.layers.3`,
/// `transformer.encoder.layers.3`, GPT-2's `transformer.h.3`) and its index.
struct LayerPath {
  llvm::StringRef path;
  int64_t index;
};
std::optional<LayerPath> decoderLayerOf(llvm::StringRef modulePath);

/// The decoder layer of an op's primary module path.
std::optional<int64_t> layerOf(mlir::Location loc);

} // namespace vgcu

#endif // VGCU_SUPPORT_MODULEPATHS_H
