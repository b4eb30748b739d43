//===- Artifact.h - The AOT artifact: manifest, program and per-rank weights ------===//
#ifndef VGCU_COMPILER_ARTIFACT_H
#define VGCU_COMPILER_ARTIFACT_H

#include "vgcu/Artifact/ArtifactReader.h"
#include "vgcu/Compiler/Compiler.h"
#include "vgcu/Frontend/TorchScriptImporter.h"
#include "vgcu/Models/WeightLoader.h"
#include "vgcu/Weights/Quantization.h"

#include "dialects/vgcu/VgcuDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <string>

namespace vgcu {

/// How one rank's copy of a parameter is cut from the whole (packed) tensor.
struct WeightLayout {
  std::string name;
  llvm::SmallVector<int64_t, 4> localShape;
  /// Unset: replicated (every rank holds the whole tensor).
  std::optional<ShardAttr> shard;
  /// The element type the program reads it in (the model's, or a computed weight's own).
  DType dtype = DType::F32;
  /// Whether it is computed at artifact time (`computed_by`) rather than loaded.
  bool computed = false;
  /// Set: stored quantized, as the codes and scales #vgcu.quant describes.
  std::optional<QuantScheme> quant;
};

/// The parameters the program of a sharded module reads (those of @forward and
/// @compute_logits), each with its per-rank layout.
llvm::Expected<std::vector<WeightLayout>> collectWeightLayouts(mlir::ModuleOp sharded);

/// Fills `out` with rank `rank`'s slice of a parameter whose whole tensor is the
/// concatenation of `source`'s segments along dim 0, converted to `dtype`. Rows of a padded
/// vocabulary beyond the real ones are zero.
void copyRankSlice(const LoadedParam &source, llvm::ArrayRef<int64_t> globalShape,
                   const WeightLayout &layout, int64_t rank, DType dtype,
                   llvm::MutableArrayRef<uint8_t> out);

/// Writes NAME.vgcu: compiles `source` to kernels, loads, packs and shards its checkpoint
/// and writes everything into a staged directory renamed into place at the end.
llvm::Error writeArtifact(ModelSource &source, mlir::MLIRContext &context,
                          const CompileOptions &options, llvm::StringRef outputPath,
                          bool overwrite);

/// Writes NAME.vgcu from an imported trace: the graph is compiled like a builder's, and the
/// weights are the module's own parameters. The manifest's architecture and dtype are the
/// module's; its position limit is that of the config.json the archive carries, if any.
llvm::Error writeTracedArtifact(TracedModel &traced, llvm::StringRef tracePath,
                                mlir::MLIRContext &context, const CompileOptions &options,
                                llvm::StringRef outputPath, bool overwrite);

} // namespace vgcu

#endif // VGCU_COMPILER_ARTIFACT_H
