//===- vgcu-compile.cpp - Compiles a Hugging Face model directory ahead of time -----===//

#include "vgcu/Compiler/Artifact.h"
#include "vgcu/Compiler/Compiler.h"
#include "vgcu/Frontend/TorchScriptImporter.h"
#include "vgcu/Models/WeightLoader.h"

#include "dialects/vgcu/VgcuDialect.h"
#include "vgcu/Models/ModelRegistry.h"
#include "vgcu/Support/CommandLine.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/Log.h"

#include "mlir/IR/AsmState.h"
#include "llvm/Support/FileSystem.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "mlir/Transforms/Passes.h"
#include "passes/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace vgcu;
namespace cl = llvm::cl;

namespace {
cl::OptionCategory category("vgcu-compile options");

cl::opt<std::string> modelPath(cl::Positional, cl::desc("MODEL_DIR (or its config.json)"),
                               cl::init(""), cl::cat(category));
cl::opt<std::string> outputPath("o", cl::desc("Write the artifact NAME.vgcu"),
                                cl::value_desc("NAME.vgcu"), cl::init(""), cl::cat(category));
cl::opt<std::string> emit("emit",
                          cl::desc("Print the IR after a stage: graph, fused, sharded or kernels"),
                          cl::init(""), cl::cat(category));
cl::opt<bool> summaryJson("summary-json",
                          cl::desc("Print a JSON summary: parameters, layers, kernel launches (with -o, also the artifact's weight bytes per rank)"),
                          cl::init(false), cl::cat(category));
cl::opt<bool> listArchitectures("list-architectures",
                                cl::desc("Print the registered architectures, one per line"),
                                cl::init(false), cl::cat(category));
cl::opt<bool> printSupportedModels("print-supported-models",
                                   cl::desc("Print docs/supported_models.md from the registry"),
                                   cl::init(false), cl::cat(category));
cl::opt<int64_t> tensorParallel("tp", cl::desc("Tensor-parallel size"), cl::init(1),
                                cl::cat(category));
cl::opt<int64_t> expertParallel("ep",
                                cl::desc("Expert-parallel size: the experts of a mixture-of-"
                                         "experts model split over ep groups of tp ranks"),
                                cl::init(1), cl::cat(category));
cl::opt<std::string> dtypeOption("dtype", cl::desc("Compute dtype: f32, f16 or bf16 (default: the "
                                                 "config's torch_dtype)"),
                               cl::init(""), cl::cat(category));
cl::list<std::string> plugins("load-plugin",
                              cl::desc("Load a model plugin (repeatable; also VGCU_PLUGINS)"),
                              cl::value_desc("PATH.so"), cl::cat(category));
cl::opt<std::string> torchScript("from-torchscript",
                                 cl::desc("Import a TorchScript file (torch.jit.trace of a "
                                          "*ForCausalLM) instead of building from a config"),
                                 cl::value_desc("FILE.pt"), cl::init(""), cl::cat(category));
cl::opt<bool> force("force", cl::desc("Replace an existing artifact"), cl::init(false),
                    cl::cat(category));
cl::opt<std::string> quantize("quantize",
                              cl::desc("Store the decoder layers' linear weights quantized: "
                                       "w8a16 (int8 per output channel), fp8 (e4m3 per output "
                                       "channel) or fp8-block (e4m3 per 128x128 block)"),
                              cl::value_desc("MODE"), cl::init(""), cl::cat(category));
cl::opt<std::string> kvCacheDtype("kv-cache-dtype",
                                  cl::desc("What the paged KV cache stores: auto (the "
                                           "activations' dtype), int8 or fp8_e4m3 (codes with "
                                           "an f32 scale per cached vector)"),
                                  cl::value_desc("DTYPE"), cl::init("auto"), cl::cat(category));

int fail(llvm::Error error) {
  llvm::errs() << "vgcu-compile: error: " << llvm::toString(std::move(error)) << "\n";
  return 1;
}

llvm::Error checkParallelSizes() {
  // Beyond this many ranks an artifact is not something this runtime can start.
  constexpr int64_t kMaxRanks = 1024;
  if (tensorParallel < 1)
    return makeError("--tp must be at least 1, got {0}", tensorParallel.getValue());
  if (expertParallel < 1)
    return makeError("--ep must be at least 1, got {0}", expertParallel.getValue());
  if (tensorParallel > kMaxRanks || expertParallel > kMaxRanks ||
      tensorParallel * expertParallel > kMaxRanks)
    return makeError("--tp {0} x --ep {1} is more than {2} ranks", tensorParallel.getValue(),
                     expertParallel.getValue(), kMaxRanks);
  return llvm::Error::success();
}

CompileOptions commandLineOptions() {
  CompileOptions options;
  options.tensorParallel = tensorParallel;
  options.expertParallel = expertParallel;
  options.kvCacheDtype = kvCacheDtype;
  options.configurePassManager = [](mlir::PassManager &pm) -> llvm::Error {
    if (mlir::failed(mlir::applyPassManagerCLOptions(pm)))
      return makeError("invalid pass manager options");
    mlir::applyDefaultTimingPassManagerCLOptions(pm);
    return llvm::Error::success();
  };
  return options;
}

/// --from-torchscript: a traced model's IR at a stage, its summary, or its artifact (with
/// the module's own parameters as weights).
int compileTorchScript() {
  if (!modelPath.empty())
    return fail(makeError("--from-torchscript takes no model directory (the trace is the model)"));
  if (!dtypeOption.empty())
    return fail(makeError("--dtype does not apply to --from-torchscript: a trace computes in "
                          "the dtype of its parameters"));
  if (emit != "" && emit != "graph" && emit != "fused" && emit != "sharded" && emit != "kernels")
    return fail(makeError("--emit must be graph, fused, sharded or kernels, not '{0}'", emit));
  if (emit.empty() && !summaryJson && outputPath.empty())
    return fail(makeError("nothing to do: pass -o NAME.vgcu, --emit=STAGE or --summary-json"));
  if (auto error = checkParallelSizes())
    return fail(std::move(error));
  mlir::MLIRContext context;
  context.loadDialect<VgcuDialect>();
  auto traced = importTorchScriptOnDemand(torchScript, context);
  if (!traced)
    return fail(traced.takeError());
  mlir::ModuleOp graph = *traced->module;
  if (!quantize.empty())
    return fail(makeError("--quantize applies to a model directory, not --from-torchscript"));
  CompileOptions options = commandLineOptions();
  options.sourceName = torchScript;

  if (!emit.empty()) {
    mlir::OwningOpRef<mlir::ModuleOp> module = graph.clone();
    if (emit != "graph")
      if (auto error = fuseGraph(*module, options))
        return fail(std::move(error));
    if (emit == "sharded" || emit == "kernels")
      if (auto error = shardGraph(*module, options))
        return fail(std::move(error));
    if (emit == "kernels")
      if (auto error = lowerToKernels(*module, options))
        return fail(std::move(error));
    module->print(llvm::outs());
    llvm::outs() << "\n";
  }
  // Printed last: with -o it also reports the artifact's weight bytes per rank.
  std::optional<llvm::json::Object> summaryObject;
  if (summaryJson) {
    // Each stage continues from a copy of the previous one.
    mlir::OwningOpRef<mlir::ModuleOp> fused = graph.clone();
    if (auto error = fuseGraph(*fused, options))
      return fail(std::move(error));
    mlir::OwningOpRef<mlir::ModuleOp> sharded = fused->clone();
    if (auto error = shardGraph(*sharded, options))
      return fail(std::move(error));
    mlir::OwningOpRef<mlir::ModuleOp> kernels = sharded->clone();
    if (auto error = lowerToKernels(*kernels, options))
      return fail(std::move(error));
    auto counts = summarizeProgram(torchScript, graph, *fused, *sharded, *kernels,
                                   tensorParallel);
    if (!counts)
      return fail(counts.takeError());
    llvm::json::Object summary{{"source", torchScript.getValue()},
                               {"tp", static_cast<int64_t>(tensorParallel)}};
    if (expertParallel > 1)
      summary["ep"] = static_cast<int64_t>(expertParallel);
    for (llvm::StringRef key : {"vgcu.architecture", "vgcu.dtype"})
      if (auto value = graph->getAttrOfType<mlir::StringAttr>(key))
        summary[key.drop_front(5)] = value.getValue();
    for (auto &[key, value] : *counts)
      summary[key] = std::move(value);
    llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(std::move(summary))) << "\n";
  }
  if (!outputPath.empty())
    if (auto error = writeTracedArtifact(*traced, torchScript, context, options, outputPath,
                                         force))
      return fail(std::move(error));
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // --mlir-print-ir-after=PASS and friends take their pass names from the registry when the
  // options are created: register the passes first.
  registerAllPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  registerLogLevelOption(category);
  showOnlyToolOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "vgcu-compile: compiles a Hugging Face model directory into a "
                              "vgcu artifact (or prints its IR or a summary)\n");
  if (auto error = applyLogLevelOption())
    return fail(std::move(error));

  ModelRegistry::registerBuiltinModels();
  if (auto error = loadPlugins(plugins))
    return fail(std::move(error));

  if (listArchitectures) {
    for (const std::string &name : ModelRegistry::global().architectures())
      llvm::outs() << name << "\n";
    return 0;
  }
  if (printSupportedModels) {
    llvm::outs() << ModelRegistry::global().supportedModelsMarkdown();
    return 0;
  }
  if (kvCacheDtype != "auto" && kvCacheDtype != "int8" && kvCacheDtype != "fp8_e4m3")
    return fail(makeError("--kv-cache-dtype must be auto, int8 or fp8_e4m3, not '{0}'",
                          kvCacheDtype.getValue()));
  if (!torchScript.empty())
    return compileTorchScript();
  if (modelPath.empty())
    return fail(makeError("no model directory given (see --help)"));
  std::optional<Stage> stage;
  if (!emit.empty()) {
    if (emit == "graph")
      stage = Stage::Graph;
    else if (emit == "fused")
      stage = Stage::Fused;
    else if (emit == "sharded")
      stage = Stage::Sharded;
    else if (emit == "kernels")
      stage = Stage::Kernels;
    else
      return fail(makeError("--emit must be graph, fused, sharded or kernels, not '{0}'", emit));
  }
  if (!stage && !summaryJson && outputPath.empty())
    return fail(makeError("nothing to do: pass -o NAME.vgcu, --emit=STAGE or --summary-json"));
  if (auto error = checkParallelSizes())
    return fail(std::move(error));
  std::optional<QuantizeMode> quantizeMode;
  if (!quantize.empty()) {
    quantizeMode = parseQuantizeMode(quantize);
    if (!quantizeMode)
      return fail(makeError("--quantize must be w8a16, fp8 or fp8-block, not '{0}'",
                            quantize.getValue()));
    if (outputPath.empty())
      return fail(makeError("--quantize applies to the weights: pass -o NAME.vgcu"));
  }

  std::optional<DType> dtype;
  if (!dtypeOption.empty()) {
    dtype = parseComputeDType(dtypeOption);
    if (!dtype)
      return fail(makeError("--dtype must be f32, f16 or bf16, not '{0}'", dtypeOption.getValue()));
  }
  auto source = openModelSource(modelPath, dtype);
  if (!source)
    return fail(source.takeError());

  mlir::MLIRContext context;
  CompileOptions options = commandLineOptions();
  options.dtype = dtype;
  options.sourceName = source->configPath;
  options.quantize = quantizeMode;

  if (stage) {
    auto module = compileToStage(*source, context, *stage, options);
    if (!module)
      return fail(module.takeError());
    (*module)->print(llvm::outs());
    llvm::outs() << "\n";
  }
  // Printed last: with -o it also reports the artifact's weight bytes per rank.
  std::optional<llvm::json::Object> summaryObject;
  if (summaryJson) {
    // Each stage continues from a copy of the previous one.
    auto graph = compileToStage(*source, context, Stage::Graph, options);
    if (!graph)
      return fail(graph.takeError());
    mlir::OwningOpRef<mlir::ModuleOp> fused = (*graph)->clone();
    if (auto error = fuseGraph(*fused, options))
      return fail(std::move(error));
    mlir::OwningOpRef<mlir::ModuleOp> sharded = fused->clone();
    if (auto error = shardGraph(*sharded, options))
      return fail(std::move(error));
    mlir::OwningOpRef<mlir::ModuleOp> kernels = sharded->clone();
    if (auto error = lowerToKernels(*kernels, options))
      return fail(std::move(error));
    auto summary = summarize(*source, **graph, *fused, *sharded, *kernels, tensorParallel);
    if (!summary)
      return fail(summary.takeError());
    summaryObject = std::move(*summary);
  }
  if (!outputPath.empty()) {
    if (auto error = writeArtifact(*source, context, options, outputPath, force))
      return fail(std::move(error));
    // What the artifact stores per rank, which only its weights (quantized or not) tell.
    if (summaryObject) {
      auto manifest = readArtifact(outputPath, /*verifyChecksums=*/false);
      if (!manifest)
        return fail(manifest.takeError());
      llvm::json::Array bytes;
      for (const ArtifactManifest::Rank &rank : manifest->ranks) {
        uint64_t size = 0;
        if (std::error_code ec = llvm::sys::fs::file_size(manifest->path(rank.weights), size))
          return fail(makeError("cannot read the size of '{0}': {1}",
                                manifest->path(rank.weights), ec.message()));
        bytes.push_back(static_cast<int64_t>(size));
      }
      (*summaryObject)["weight_bytes_per_rank"] = std::move(bytes);
    }
  }
  if (summaryObject)
    llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(std::move(*summaryObject))) << "\n";
  return 0;
}
