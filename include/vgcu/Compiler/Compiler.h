//===- Compiler.h - vgcu-compile as a library: model directory to IR or artifact ---===//
#ifndef VGCU_COMPILER_COMPILER_H
#define VGCU_COMPILER_COMPILER_H

#include "vgcu/Models/CausalLM.h"
#include "vgcu/Weights/DType.h"
#include "vgcu/Weights/Quantization.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/JSON.h"

#include <functional>
#include <optional>
#include <string>

namespace vgcu {

/// How far to compile: the builder's graph, after fusion, after sharding, or `gcu` kernels.
enum class Stage { Graph, Fused, Sharded, Kernels };

struct CompileOptions {
  int64_t tensorParallel = 1;
  /// Expert-parallel groups of tensorParallel ranks (mixture-of-experts models).
  int64_t expertParallel = 1;
  /// Unset: the config's torch_dtype.
  std::optional<DType> dtype;
  /// Applies the command line's pass-manager options (timing, IR printing, reproducers).
  std::function<llvm::Error(mlir::PassManager &)> configurePassManager;
  /// What is being compiled (a config.json or .pt path), named in pipeline errors.
  std::string sourceName;
  /// `--quantize`: how the linears of a float checkpoint are stored quantized.
  std::optional<QuantizeMode> quantize;
  /// `--kv-cache-dtype`: auto, int8 or fp8_e4m3.
  std::string kvCacheDtype = "auto";
};

/// A model directory (or a config.json path) resolved to its builder and config.
struct ModelSource {
  std::string directory;
  std::string configPath;
  ResolvedModel resolved;
  DType dtype = DType::F32;
};

llvm::Expected<ModelSource> openModelSource(llvm::StringRef path,
                                            std::optional<DType> requestedDtype);

/// Builds the graph of `source` and runs the pipeline up to `stage`.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
compileToStage(ModelSource &source, mlir::MLIRContext &context, Stage stage,
               const CompileOptions &options);

/// Runs the fusion pipeline on an imported (or built) graph, in place.
llvm::Error fuseGraph(mlir::ModuleOp graph, const CompileOptions &options);

/// Per decoder layer, the names of the compute ops it runs (views, parameters and
/// constants left out), e.g. ["vgcu.add_rms_norm", "vgcu.linear", ...]: what a builder graph
/// and a traced graph must agree on after fusion.
llvm::json::Array opsPerLayer(mlir::ModuleOp module);

/// Shards a fused module for options.tensorParallel ranks (and fuses all-reduce + norm).
llvm::Error shardGraph(mlir::ModuleOp fused, const CompileOptions &options);

/// Lowers a sharded module (Stage::Sharded) to planned `gcu` kernels in place.
llvm::Error lowerToKernels(mlir::ModuleOp sharded, const CompileOptions &options);

/// Summary of a model: architecture, exact parameter count, layers, hidden size, and with
/// kernel-level IR the launches per decoder layer.
llvm::Expected<llvm::json::Object> summarize(const ModelSource &source, mlir::ModuleOp graph,
                             mlir::ModuleOp fused, mlir::ModuleOp sharded,
                             mlir::ModuleOp kernels, int64_t tensorParallel);

/// The part of the summary any graph has, built or traced: "parameters" (graph),
/// "ops_per_layer" (fused), the per-rank parameter counts (sharded) and "kernel_launches"
/// (kernels); a null module leaves its part out.
llvm::Expected<llvm::json::Object> summarizeProgram(llvm::StringRef sourceName,
                                                    mlir::ModuleOp graph, mlir::ModuleOp fused,
                                                    mlir::ModuleOp sharded,
                                                    mlir::ModuleOp kernels,
                                                    int64_t tensorParallel);

} // namespace vgcu

#endif // VGCU_COMPILER_COMPILER_H
