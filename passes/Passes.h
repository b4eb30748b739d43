//===- Passes.h - vgcu's passes and pipelines --------------------------------------===//
#ifndef VGCU_PASSES_PASSES_H
#define VGCU_PASSES_PASSES_H

#include "dialects/gcu/GcuDialect.h"
#include "dialects/vgcu/VgcuOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace vgcu {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Fusion: what every model goes through first (also run on traced graphs).
void buildFusePipeline(mlir::OpPassManager &pm);

struct PipelineOptions {
  int64_t tp = 1;
  bool fuseRopeCache = true;
  bool gemmEpilogues = true;
  int64_t ep = 1;
  /// `auto`, `int8` or `fp8_e4m3` (LowerToGcu's kv-cache-dtype).
  std::string kvCacheDtype = "auto";
};

/// A fused graph to its rank-independent sharded form for `tp` (· `ep`) ranks (a traced
/// graph's LM head split off first, all-reduce + norm fused after).
void buildShardPipeline(mlir::OpPassManager &pm, int64_t tp, int64_t ep = 1);

/// A sharded graph to planned gcu kernels.
void buildLowerPipeline(mlir::OpPassManager &pm, const PipelineOptions &options);

/// Everything from the builder's (or importer's) graph to planned gcu kernels.
void buildCompilePipeline(mlir::OpPassManager &pm, const PipelineOptions &options);

/// Registers the passes and the `vgcu-fuse-pipeline` and `vgcu-pipeline` pipelines.
void registerAllPasses();

} // namespace vgcu

#endif // VGCU_PASSES_PASSES_H
