//===- Pipelines.cpp - vgcu's named pass pipelines ---------------------------------===//

#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace vgcu;

void vgcu::buildFusePipeline(OpPassManager &pm) {
  pm.nest<func::FuncOp>().addPass(createCanonicalizerPass());
  pm.nest<func::FuncOp>().addPass(createUngroupProjections());
  // Weights computed from weights become parameters before the patterns look for them.
  pm.addPass(createFoldWeights());
  OpPassManager &fn = pm.nest<func::FuncOp>();
  fn.addPass(createFuseRmsNorm());
  fn.addPass(createFuseGelu());
  fn.addPass(createFuseSiluMul());
  fn.addPass(createFuseSoftCap());
  fn.addPass(createFuseRotary());
  fn.addPass(createCanonicalizerPass());
  fn.addPass(createFuseAttention());
  fn.addPass(createFuseAddRmsNorm());
  fn.addPass(createFuseNormAddNorm());
  fn.addPass(createFuseMoe());
  fn.addPass(createPackProjections());
  fn.addPass(createCanonicalizerPass());
  fn.addPass(createCSEPass());
}

void vgcu::buildShardPipeline(OpPassManager &pm, int64_t tp, int64_t ep) {
  pm.addPass(createSplitLogits());
  pm.addPass(createShardTensorParallel(ShardTensorParallelOptions{tp, ep}));
  pm.nest<func::FuncOp>().addPass(createFuseAllReduceNorm());
  pm.addPass(createCanonicalizerPass());
}

void vgcu::buildLowerPipeline(OpPassManager &pm, const PipelineOptions &options) {
  // Kernel-shaped fusions come after sharding: they merge ops the shard pass plans around.
  OpPassManager &fn = pm.nest<func::FuncOp>();
  if (options.fuseRopeCache)
    fn.addPass(createFuseRotaryAttention());
  if (options.gemmEpilogues)
    fn.addPass(createFuseGemmEpilogue());
  pm.addPass(createLowerToGcu(LowerToGcuOptions{options.fuseRopeCache, options.kvCacheDtype}));
  pm.nest<func::FuncOp>().addPass(createPlanBuffers());
}

void vgcu::buildCompilePipeline(OpPassManager &pm, const PipelineOptions &options) {
  buildFusePipeline(pm);
  buildShardPipeline(pm, options.tp, options.ep);
  buildLowerPipeline(pm, options);
}

namespace {
struct CompilePipelineOptions : public PassPipelineOptions<CompilePipelineOptions> {
  Option<int64_t> tp{*this, "tp", llvm::cl::desc("tensor-parallel size"), llvm::cl::init(1)};
  Option<int64_t> ep{*this, "ep", llvm::cl::desc("expert-parallel size"), llvm::cl::init(1)};
  Option<bool> fuseRopeCache{*this, "fuse-rope-cache",
                             llvm::cl::desc("use the fused rotary + cache + attention kernel"),
                             llvm::cl::init(true)};
  Option<bool> gemmEpilogues{*this, "gemm-epilogues",
                             llvm::cl::desc("fuse gated activations into GEMM epilogues"),
                             llvm::cl::init(true)};
  Option<std::string> kvCacheDtype{*this, "kv-cache-dtype",
                                   llvm::cl::desc("auto, int8 or fp8_e4m3 KV caches"),
                                   llvm::cl::init("auto")};
};
} // namespace

void vgcu::registerAllPasses() {
  registerVgcuPasses();
  PassPipelineRegistration<>("vgcu-fuse-pipeline",
                             "Fuse a vgcu graph into module-level ops (what vgcu-compile runs "
                             "first)",
                             buildFusePipeline);
  PassPipelineRegistration<CompilePipelineOptions>(
      "vgcu-pipeline", "Compile a vgcu graph to planned gcu kernels (as vgcu-compile does)",
      [](OpPassManager &pm, const CompilePipelineOptions &options) {
        buildCompilePipeline(pm, PipelineOptions{options.tp, options.fuseRopeCache,
                                                 options.gemmEpilogues, options.ep,
                                                 options.kvCacheDtype});
      });
}
