//===- Compiler.cpp - vgcu-compile as a library: model directory to IR -------------===//

#include "vgcu/Compiler/Compiler.h"
#include "vgcu/Models/ModelRegistry.h"
#include "vgcu/Models/WeightLoader.h"
#include "vgcu/Support/CheckedMath.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/ModulePaths.h"

#include "dialects/gcu/GcuDialect.h"
#include "dialects/vgcu/VgcuOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace mlir;
using namespace vgcu;

llvm::Expected<ModelSource> vgcu::openModelSource(llvm::StringRef path,
                                                  std::optional<DType> requestedDtype) {
  ModelSource source;
  if (llvm::sys::fs::is_directory(path)) {
    source.directory = path.str();
    llvm::SmallString<256> config(path);
    llvm::sys::path::append(config, "config.json");
    source.configPath = config.str().str();
  } else if (llvm::sys::fs::exists(path)) {
    source.configPath = path.str();
    source.directory = llvm::sys::path::parent_path(path).str();
    if (source.directory.empty())
      source.directory = ".";
  } else {
    return makeError("model directory '{0}' does not exist", path);
  }
  if (!llvm::sys::fs::exists(source.configPath))
    return makeError("'{0}' has no config.json", path);
  auto resolved = resolveModel(source.configPath);
  if (!resolved)
    return resolved.takeError();
  source.resolved = std::move(*resolved);
  if (requestedDtype) {
    source.dtype = *requestedDtype;
  } else {
    auto fromConfig = parseComputeDType(source.resolved.config.torchDtype);
    if (!fromConfig)
      return makeError("{0}: field 'torch_dtype' is '{1}'; pass --dtype f32, f16 or bf16",
                       source.configPath, source.resolved.config.torchDtype);
    source.dtype = *fromConfig;
  }
  return std::move(source);
}

/// Runs `pm` with diagnostics collected into the returned error.
static llvm::Error runPipeline(PassManager &pm, ModuleOp module, llvm::StringRef what) {
  std::string messages;
  llvm::raw_string_ostream os(messages);
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Warning) {
      os << diag.getLocation() << ": warning: " << diag << "\n";
      return success();
    }
    if (diag.getSeverity() != DiagnosticSeverity::Error)
      return failure(); // let remarks and notes through to the default handler
    os << diag.getLocation() << ": error: " << diag << "\n";
    for (Diagnostic &note : diag.getNotes())
      os << note.getLocation() << ": note: " << note << "\n";
    return success();
  });
  if (failed(pm.run(module)))
    return makeError("{0} failed:\n{1}", what, llvm::StringRef(messages).rtrim());
  if (!messages.empty())
    llvm::errs() << messages;
  return llvm::Error::success();
}

/// "<source>: <what>", or just <what> when the source is unnamed.
static std::string describe(const CompileOptions &options, llvm::StringRef what) {
  return options.sourceName.empty() ? what.str() : options.sourceName + ": " + what.str();
}

llvm::Expected<OwningOpRef<ModuleOp>> vgcu::compileToStage(ModelSource &source,
                                                           MLIRContext &context, Stage stage,
                                                           const CompileOptions &options) {
  context.loadDialect<VgcuDialect, gcu::GcuDialect, func::FuncDialect>();
  auto module = buildModelGraph(*source.resolved.model, source.resolved.config, &context,
                                source.dtype);
  if (!module)
    return module.takeError();
  if (stage == Stage::Graph)
    return std::move(*module);

  CompileOptions named = options;
  if (named.sourceName.empty())
    named.sourceName = source.configPath;
  if (auto error = fuseGraph(**module, named))
    return std::move(error);
  if (stage == Stage::Fused)
    return std::move(*module);
  if (auto error = shardGraph(**module, named))
    return std::move(error);
  if (stage == Stage::Kernels)
    if (auto error = lowerToKernels(**module, named))
      return std::move(error);
  return std::move(*module);
}

llvm::Error vgcu::fuseGraph(ModuleOp graph, const CompileOptions &options) {
  PassManager pm(graph.getContext());
  if (options.configurePassManager)
    if (auto error = options.configurePassManager(pm))
      return error;
  buildFusePipeline(pm);
  return runPipeline(pm, graph, describe(options, "fusing the graph"));
}

llvm::Error vgcu::shardGraph(ModuleOp fused, const CompileOptions &options) {
  PassManager pm(fused.getContext());
  if (options.configurePassManager)
    if (auto error = options.configurePassManager(pm))
      return error;
  buildShardPipeline(pm, options.tensorParallel, options.expertParallel);
  return runPipeline(pm, fused,
                     describe(options, options.expertParallel > 1
                                           ? "sharding for tensor and expert parallelism"
                                           : "sharding for tensor parallelism"));
}

llvm::Error vgcu::lowerToKernels(ModuleOp sharded, const CompileOptions &options) {
  PassManager pm(sharded.getContext());
  if (options.configurePassManager)
    if (auto error = options.configurePassManager(pm))
      return error;
  PipelineOptions pipeline;
  pipeline.kvCacheDtype = options.kvCacheDtype;
  buildLowerPipeline(pm, pipeline);
  return runPipeline(pm, sharded, describe(options, "lowering to gcu kernels"));
}

llvm::json::Array vgcu::opsPerLayer(ModuleOp module) {
  std::map<int64_t, llvm::json::Array> layers;
  // What runs: the entries, not the weight functions evaluated when the artifact is written.
  for (llvm::StringRef entry : {"forward", "compute_logits"}) {
    auto function = module.lookupSymbol<func::FuncOp>(entry);
    if (!function)
      continue;
    function.walk([&](Operation *op) {
      if (op->getDialect() == nullptr || op->getDialect()->getNamespace() != "vgcu" ||
          isa<ParamOp, ConstantOp, ReshapeOp, SliceOp, TransposeOp, BroadcastOp>(op))
        return;
      if (auto layer = layerOf(op->getLoc()))
        layers[*layer].push_back(op->getName().getStringRef());
    });
  }
  llvm::json::Array result;
  for (auto &[layer, ops] : layers)
    result.push_back(std::move(ops));
  return result;
}

static CheckedInt64 countElements(ArrayRef<int64_t> shape) {
  CheckedInt64 count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

static llvm::Error countOverflow(llvm::StringRef sourceName) {
  return makeError("{0}: the model's parameter count does not fit in 64 bits; its sizes are "
                   "implausibly large",
                   sourceName);
}

llvm::Expected<llvm::json::Object> vgcu::summarize(const ModelSource &source, ModuleOp graph, ModuleOp fused,
                                   ModuleOp sharded, ModuleOp kernels, int64_t tensorParallel) {
  const ModelConfig &config = source.resolved.config;
  llvm::json::Object summary{
      {"architecture", config.architecture},
      {"dtype", dtypeName(source.dtype)},
      {"layers", config.numHiddenLayers},
      {"hidden_size", config.hiddenSize},
      {"intermediate_size", config.intermediateSize},
      {"num_attention_heads", config.numAttentionHeads},
      {"num_key_value_heads", config.numKeyValueHeads},
      {"head_dim", config.headDim},
      {"vocab_size", config.vocabSize},
      {"tp", tensorParallel},
  };
  if (sharded)
    if (auto ep = sharded->getAttrOfType<IntegerAttr>("vgcu.ep"))
      summary["ep"] = ep.getInt();
  auto counts = summarizeProgram(source.configPath, graph, fused, sharded, kernels, tensorParallel);
  if (!counts)
    return counts.takeError();
  // DeepSeek-V3's multi-token-prediction layers: in the checkpoint, not in the program. Each
  // is a decoder layer like the last one, plus enorm, hnorm, eh_proj and shared_head.norm
  // (its embedding and head are the model's).
  int64_t mtpLayers = config.json.getInteger("num_nextn_predict_layers").value_or(0);
  if (mtpLayers > 0 && graph && config.numHiddenLayers > 0) {
    auto params = ParamTable::fromModule(graph);
    if (!params)
      return params.takeError();
    std::string last = "model.layers." + std::to_string(config.numHiddenLayers - 1) + ".";
    CheckedInt64 perLayer = CheckedInt64(3) * config.hiddenSize +
                            CheckedInt64(2) * config.hiddenSize * config.hiddenSize;
    for (const auto &[name, info] : params->params())
      if (llvm::StringRef(name).starts_with(last))
        perLayer += countElements(info.shape);
    CheckedInt64 total = perLayer * mtpLayers;
    if (!total.get())
      return countOverflow(source.configPath);
    summary["mtp_layers"] = mtpLayers;
    summary["mtp_parameters"] = *total.get();
  }
  for (auto &[key, value] : *counts)
    summary[key] = std::move(value);
  return summary;
}

llvm::Expected<llvm::json::Object> vgcu::summarizeProgram(llvm::StringRef sourceName,
                                                          ModuleOp graph, ModuleOp fused,
                                                          ModuleOp sharded, ModuleOp kernels,
                                                          int64_t tensorParallel) {
  llvm::json::Object summary;
  if (graph) {
    auto params = ParamTable::fromModule(graph);
    if (!params)
      return params.takeError();
    std::optional<int64_t> count = params->numElements();
    if (!count)
      return countOverflow(sourceName);
    summary["parameters"] = *count;
  }
  if (fused)
    summary["ops_per_layer"] = opsPerLayer(fused);
  if (sharded) {
    // What each rank stores: its slices of sharded parameters plus every replicated one.
    std::map<std::string, std::pair<CheckedInt64, bool>> perName;
    CheckedInt64 padding = 0, headCopies = 0;
    auto visit = [&](ParamOp param) {
      ArrayRef<int64_t> shape = param.getResult().getType().getShape();
      bool replicated = !param.getShardAttr();
      auto [it, inserted] =
          perName.emplace(param.getName().str(), std::make_pair(countElements(shape), replicated));
      ShardAttr shard = param.getShardAttr();
      if (!inserted || !shard)
        return;
      CheckedInt64 perIndex = 1;
      for (auto [dim, size] : llvm::enumerate(shape))
        if (static_cast<int64_t>(dim) != shard.getDim())
          perIndex *= size;
      if (shard.getValid() > 0)
        padding += CheckedInt64(shard.getGlobalSize() - shard.getValid()) * perIndex;
      // Segments with fewer units than ranks (KV heads) are held by several ranks.
      for (auto [size, units] : llvm::zip(shard.getSegments(), shard.getUnits()))
        if (units < shard.getTp())
          headCopies += CheckedInt64(shard.getTp() - units) * (size / units) * perIndex;
    };
    // What the program reads; the checkpoint parameters inside weight functions are not.
    for (llvm::StringRef entry : {"forward", "compute_logits"})
      if (auto function = sharded.lookupSymbol<func::FuncOp>(entry))
        function.walk(visit);
    CheckedInt64 perRank = 0, replicated = 0;
    for (const auto &[name, entry] : perName) {
      perRank += entry.first;
      if (entry.second)
        replicated += entry.first;
    }
    if (!perRank.get() || !replicated.get() || !padding.get() || !headCopies.get())
      return countOverflow(sourceName);
    // Every expert-parallel group's ranks hold as much as the first group's.
    int64_t expertParallel = 1;
    if (auto ep = sharded->getAttrOfType<IntegerAttr>("vgcu.ep"))
      expertParallel = ep.getInt();
    summary["parameters_per_rank"] =
        llvm::json::Array(std::vector<int64_t>(tensorParallel * expertParallel, *perRank.get()));
    summary["replicated_parameters_per_rank"] = *replicated.get();
    summary["vocab_padding_parameters"] = *padding.get();
    // tp · per-rank = parameters + padding + (tp - 1) · replicated + replicated_head_copies.
    summary["replicated_head_copies"] = *headCopies.get();
  }
  if (kernels) {
    auto decode = kernels.lookupSymbol<func::FuncOp>("decode");
    std::map<int64_t, int64_t> perLayer;
    int64_t total = 0;
    if (decode)
      decode.walk([&](gcu::KernelLaunchOpInterface launch) {
        ++total;
        if (auto layer = layerOf(launch->getLoc()))
          ++perLayer[*layer];
      });
    int64_t worst = 0;
    llvm::json::Array layers;
    for (const auto &[layer, count] : perLayer) {
      worst = std::max(worst, count);
      layers.push_back(count);
    }
    summary["kernel_launches"] = llvm::json::Object{
        {"per_decoder_layer", worst}, {"per_layer", std::move(layers)}, {"total", total}};
    // What the paged cache keeps per token and rank, over every attention layer (multi-head
    // latent attention: the latent and the rotary key instead of keys and values).
    int64_t cacheBytes = 0;
    if (decode)
      decode.walk([&](Operation *op) {
        if (!isa<gcu::KvCacheOp, gcu::KvCacheScalesOp>(op))
          return;
        for (Value buffer : op->getResults()) {
          auto type = cast<MemRefType>(buffer.getType());
          int64_t perToken = type.getRank() == 4 ? type.getDimSize(2) * type.getDimSize(3)
                                                 : type.getDimSize(2);
          cacheBytes += perToken * type.getElementType().getIntOrFloatBitWidth() / 8;
        }
      });
    summary["kv_cache_bytes_per_token"] = cacheBytes;
  }
  return summary;
}
