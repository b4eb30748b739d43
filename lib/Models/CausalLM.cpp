//===- CausalLM.cpp - Building a model's graph and loading its weights ------------===//

#include "vgcu/Models/CausalLM.h"
#include "vgcu/Models/ModelRegistry.h"
#include "vgcu/Models/WeightLoader.h"
#include "vgcu/Support/Error.h"

#include "dialects/vgcu/VgcuOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace vgcu;

CausalLM::~CausalLM() = default;

llvm::Error CausalLM::parseConfig(const ConfigReader &reader, ModelConfig &config) const {
  return parseDecoderConfig(reader, configDefaults(), config);
}

PackedModulesMapping CausalLM::packedModulesMapping() const {
  return {{"qkv_proj", {"q_proj", "k_proj", "v_proj"}}, {"gate_up_proj", {"gate_proj", "up_proj"}}};
}

bool CausalLM::skipCheckpointTensor(llvm::StringRef name, const ModelConfig &config) const {
  if (name.contains("rotary_emb.inv_freq"))
    return true;
  return config.tieWordEmbeddings && name == "lm_head.weight";
}

std::string CausalLM::parameterNameFor(llvm::StringRef checkpointName) const {
  return checkpointName.str();
}

std::shared_ptr<const TensorTransform>
CausalLM::checkpointTransform(llvm::StringRef, llvm::StringRef, const ModelConfig &) const {
  return nullptr;
}

std::vector<std::shared_ptr<const TensorTransform>>
CausalLM::packedSegmentTransforms(llvm::StringRef, const ParamInfo &param,
                                  const ModelConfig &) const {
  return packedRowSlices(param);
}

llvm::Expected<std::set<std::string>> CausalLM::loadWeights(WeightLoader &loader) const {
  std::set<std::string> loaded;
  PackedModulesMapping mapping = packedModulesMapping();
  // The checkpoint tensor of each segment of a stacked parameter, named beside the stack:
  // segment "3.w1" of `...experts.gate_up.weight` is `...experts.3.w1.weight`.
  std::map<std::string, std::pair<std::string, int>> stackedSources;
  for (const auto &[name, info] : loader.paramTable().params()) {
    if (info.segments.empty())
      continue;
    auto [module, leaf] = llvm::StringRef(name).rsplit('.');
    llvm::StringRef parent = module.rsplit('.').first;
    if (parent == module)
      continue;
    for (auto [index, segment] : llvm::enumerate(info.segments))
      stackedSources[(parent + "." + segment.first + "." + leaf).str()] = {
          name, static_cast<int>(index)};
  }
  for (const std::string &source : loader.checkpointNames()) {
    if (skipCheckpointTensor(source, loader.config())) {
      loader.skip(source);
      continue;
    }
    std::string name = parameterNameFor(source);
    std::string target = name;
    int segment = -1;
    if (auto stacked = stackedSources.find(name); stacked != stackedSources.end())
      std::tie(target, segment) = stacked->second;
    for (const auto &[packed, modules] : mapping) {
      if (segment >= 0)
        break;
      for (auto [index, module] : llvm::enumerate(modules)) {
        std::string piece = "." + module + ".";
        size_t at = name.find(piece);
        if (at == std::string::npos)
          continue;
        std::string candidate = name.substr(0, at) + "." + packed + "." +
                                name.substr(at + piece.size());
        if (!loader.hasParam(candidate))
          continue;
        target = candidate;
        segment = static_cast<int>(index);
        break;
      }
      if (segment >= 0)
        break;
    }
    loaded.insert(target);
    const ParamInfo *info = loader.param(target);
    if (segment < 0 && info && !info->segments.empty()) {
      // One tensor holds every segment of the packed parameter.
      std::vector<std::shared_ptr<const TensorTransform>> slices =
          packedSegmentTransforms(source, *info, loader.config());
      for (auto [index, slice] : llvm::enumerate(slices))
        if (auto error = loader.load(target, source, static_cast<int>(index), slice))
          return std::move(error);
      continue;
    }
    if (auto error = loader.load(target, source, segment,
                                 checkpointTransform(source, target, loader.config())))
      return std::move(error);
  }
  return loaded;
}

llvm::Expected<OwningOpRef<ModuleOp>> vgcu::buildModelGraph(CausalLM &model,
                                                            const ModelConfig &config,
                                                            MLIRContext *context, DType dtype) {
  context->loadDialect<VgcuDialect, func::FuncDialect>();
  ModelContext ctx(context, config, dtypeToMlir(context, dtype));
  OpBuilder &b = ctx.builder();
  Location loc = NameLoc::get(b.getStringAttr(config.architecture));
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  (*module)->setAttr("vgcu.architecture", b.getStringAttr(config.architecture));
  (*module)->setAttr("vgcu.dtype", b.getStringAttr(dtypeName(dtype)));

  model.init(ctx, "");

  auto idsType = RankedTensorType::get({ShapedType::kDynamic}, b.getI64Type());
  auto forward = func::FuncOp::create(loc, "forward", b.getFunctionType({idsType, idsType}, {}));
  module->push_back(forward);
  ctx.beginFunction(forward.addEntryBlock());
  Value hidden = model.forward(forward.getArgument(0), forward.getArgument(1));
  func::ReturnOp::create(b, loc, hidden);
  forward.setType(b.getFunctionType({idsType, idsType}, {hidden.getType()}));
  forward.setArgAttr(0, "vgcu.name", b.getStringAttr("input_ids"));
  forward.setArgAttr(1, "vgcu.name", b.getStringAttr("positions"));

  auto logitsFn =
      func::FuncOp::create(loc, "compute_logits", b.getFunctionType({hidden.getType()}, {}));
  module->push_back(logitsFn);
  ctx.beginFunction(logitsFn.addEntryBlock());
  Value logits = model.computeLogits(logitsFn.getArgument(0));
  func::ReturnOp::create(b, loc, logits);
  logitsFn.setType(b.getFunctionType({hidden.getType()}, {logits.getType()}));
  logitsFn.setArgAttr(0, "vgcu.name", b.getStringAttr("hidden_states"));

  // A builder (perhaps a plugin's) that emits invalid IR is reported, not trusted.
  std::string diagnostics;
  {
    llvm::raw_string_ostream os(diagnostics);
    ScopedDiagnosticHandler handler(context, [&](Diagnostic &diag) {
      os << diag.getLocation() << ": " << diag << "\n";
      return success();
    });
    if (failed(verify(*module)))
      return makeError("the {0} builder produced invalid IR:\n{1}", config.architecture,
                       diagnostics);
  }
  return std::move(module);
}

llvm::Expected<ResolvedModel> vgcu::resolveModel(llvm::StringRef configPath) {
  auto json = readConfigJson(configPath);
  if (!json)
    return json.takeError();
  return resolveModelFromJson(*json, configPath);
}

llvm::Expected<ResolvedModel> vgcu::resolveModelFromJson(const llvm::json::Object &json,
                                                         llvm::StringRef configPath) {
  ConfigReader reader(json, configPath);
  auto architecture = readArchitecture(reader);
  if (!architecture)
    return architecture.takeError();
  auto model = ModelRegistry::global().create(*architecture);
  if (!model)
    return addContext(model.takeError(), configPath);
  ResolvedModel resolved;
  if (auto error = (*model)->parseConfig(reader, resolved.config))
    return std::move(error);
  resolved.model = std::move(*model);
  return std::move(resolved);
}
