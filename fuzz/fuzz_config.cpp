//===- fuzz_config.cpp - libFuzzer: config.json to graph to kernels ----------------===//
//
// Parses the input as a config.json, resolves its architecture and, when the sizes are
// small enough to compile quickly, builds the graph and runs the whole pipeline at tp = 2.
//
//===----------------------------------------------------------------------===//

#include "vgcu/Compiler/Compiler.h"
#include "vgcu/Models/ModelRegistry.h"
#include "vgcu/Support/Json.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <cstddef>
#include <cstdint>

static mlir::MLIRContext &context() {
  static mlir::MLIRContext *instance = [] {
    vgcu::ModelRegistry::registerBuiltinModels();
    auto *created = new mlir::MLIRContext();
    // Diagnostics are expected; keep them off stderr.
    created->getDiagEngine().registerHandler([](mlir::Diagnostic &) { return mlir::success(); });
    return created;
  }();
  return *instance;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext &ctx = context();
  auto json = vgcu::parseJson(llvm::StringRef(reinterpret_cast<const char *>(data), size));
  if (!json) {
    llvm::consumeError(json.takeError());
    return 0;
  }
  const llvm::json::Object *object = json->getAsObject();
  if (!object)
    return 0;
  auto resolved = vgcu::resolveModelFromJson(*object, "fuzz/config.json");
  if (!resolved) {
    llvm::consumeError(resolved.takeError());
    return 0;
  }
  const vgcu::ModelConfig &config = resolved->config;
  if (config.numHiddenLayers > 3 || config.hiddenSize > 4096 || config.vocabSize > 65536 ||
      config.intermediateSize > 16384 || config.maxPositionEmbeddings > 65536)
    return 0;
  vgcu::ModelSource source;
  source.configPath = "fuzz/config.json";
  source.resolved = std::move(*resolved);
  vgcu::CompileOptions options;
  options.tensorParallel = 1 + (size % 4);
  auto kernels = vgcu::compileToStage(source, ctx, vgcu::Stage::Kernels, options);
  if (!kernels)
    llvm::consumeError(kernels.takeError());
  return 0;
}
