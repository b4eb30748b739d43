//===- Gemma.cpp - GemmaForCausalLM and Gemma2ForCausalLM ------------------------===//

#include "vgcu/Models/Gemma.h"

#include "dialects/vgcu/VgcuOps.h"

#include <cmath>

using namespace mlir;
using namespace vgcu;

ConfigDefaults GemmaForCausalLM::configDefaults() const {
  ConfigDefaults defaults; // Hugging Face's GemmaConfig
  defaults.rmsNormEps = 1e-6;
  defaults.tieWordEmbeddings = true;
  defaults.headDim = 256;
  return defaults;
}

llvm::Error GemmaForCausalLM::parseConfig(const ConfigReader &reader,
                                          ModelConfig &config) const {
  if (auto error = LlamaForCausalLM::parseConfig(reader, config))
    return error;
  // Gemma 1 checkpoints carry the legacy "hidden_act": "gelu"; Hugging Face's GemmaMLP uses
  // hidden_activation, and GELU(tanh) when that is unset.
  const llvm::json::Value *activation = reader.raw().get("hidden_activation");
  if (!activation || activation->kind() == llvm::json::Value::Null)
    config.hiddenAct = "gelu_pytorch_tanh";
  return llvm::Error::success();
}

std::unique_ptr<RMSNorm> GemmaForCausalLM::makeNorm(ModelContext &context,
                                                    std::string modulePrefix,
                                                    int64_t size) const {
  return std::make_unique<RMSNorm>(context, modulePrefix, size, config().rmsNormEps,
                                   /*weightOffset=*/1.0, /*scaleInF32=*/true);
}

std::optional<double> GemmaForCausalLM::embeddingScale() const {
  return std::sqrt(static_cast<double>(config().hiddenSize));
}

//===----------------------------------------------------------------------===//
// Gemma 2
//===----------------------------------------------------------------------===//

Gemma2DecoderLayer::Gemma2DecoderLayer(ModelContext &ctx, std::string prefix,
                                       int64_t layerIndex, const LlamaForCausalLM &model)
    : LlamaDecoderLayer(ctx, prefix, layerIndex, model),
      preFeedforwardLayernorm(
          model.makeNorm(ctx, child("pre_feedforward_layernorm"), ctx.config().hiddenSize)),
      postFeedforwardLayernorm(
          model.makeNorm(ctx, child("post_feedforward_layernorm"), ctx.config().hiddenSize)) {}

std::pair<Value, Value> Gemma2DecoderLayer::forward(Value positions, Value hiddenStates,
                                                    Value residual) {
  std::tie(hiddenStates, residual) = inputLayernorm->forward(hiddenStates, residual);
  hiddenStates = postAttentionLayernorm->forward(selfAttn->forward(positions, hiddenStates));
  std::tie(hiddenStates, residual) = preFeedforwardLayernorm->forward(hiddenStates, residual);
  // The next layer's input norm (or the final norm) adds this to the residual stream.
  return {postFeedforwardLayernorm->forward(mlp->forward(hiddenStates)), residual};
}

ConfigDefaults Gemma2ForCausalLM::configDefaults() const {
  ConfigDefaults defaults = GemmaForCausalLM::configDefaults(); // Gemma2Config
  defaults.slidingWindow = 4096;
  return defaults;
}

/// A softcapping field: the default when absent, nothing when null.
static llvm::Expected<std::optional<double>> readSoftcap(const ConfigReader &reader,
                                                         llvm::StringRef key, double fallback) {
  const llvm::json::Value *value = reader.raw().get(key);
  if (value && value->kind() == llvm::json::Value::Null)
    return std::nullopt;
  auto number = reader.positiveNumber(key, fallback);
  if (!number)
    return number.takeError();
  return *number;
}

llvm::Error Gemma2ForCausalLM::parseConfig(const ConfigReader &reader,
                                           ModelConfig &config) const {
  if (auto error = LlamaForCausalLM::parseConfig(reader, config))
    return error;
  // Gemma2Config has hidden_activation (GELU(tanh) by default) and no hidden_act.
  if (!reader.has("hidden_activation") && !reader.has("hidden_act"))
    config.hiddenAct = "gelu_pytorch_tanh";
  FieldReads read;
  double scalar = 0;
  std::optional<double> attention, logits;
  read(scalar, reader.positiveNumber("query_pre_attn_scalar", 256.0))
      (attention, readSoftcap(reader, "attn_logit_softcapping", 50.0))
      (logits, readSoftcap(reader, "final_logit_softcapping", 30.0));
  if (auto error = read.take())
    return error;
  // Which layers slide: layer_types when the config lists them, else the even ones.
  std::optional<int64_t> window = config.slidingWindows.empty() ? std::nullopt
                                                                : config.slidingWindows[0];
  const llvm::json::Value *types = reader.raw().get("layer_types");
  const llvm::json::Array *list = types ? types->getAsArray() : nullptr;
  if (types && types->kind() != llvm::json::Value::Null &&
      (!list || static_cast<int64_t>(list->size()) != config.numHiddenLayers))
    return reader.fieldError("layer_types", "must list one type per layer (" +
                                                std::to_string(config.numHiddenLayers) + ")");
  for (int64_t layer = 0; layer < config.numHiddenLayers; ++layer) {
    bool sliding = layer % 2 == 0;
    if (list) {
      std::optional<llvm::StringRef> type = (*list)[layer].getAsString();
      if (!type || (*type != "sliding_attention" && *type != "full_attention"))
        return reader.fieldError("layer_types", "entry " + std::to_string(layer) +
                                                    " must be \"sliding_attention\" or "
                                                    "\"full_attention\"");
      sliding = *type == "sliding_attention";
    }
    config.slidingWindows[layer] = sliding ? window : std::nullopt;
  }
  return llvm::Error::success();
}

void Gemma2ForCausalLM::init(ModelContext &context, llvm::StringRef modelPrefix) {
  // The config was checked by parseConfig; these fields are read again where they are used.
  ConfigReader reader(context.config().json, context.config().sourcePath);
  queryPreAttnScalar = llvm::cantFail(reader.positiveNumber("query_pre_attn_scalar", 256.0));
  attentionSoftcap = llvm::cantFail(readSoftcap(reader, "attn_logit_softcapping", 50.0));
  logitSoftcap = llvm::cantFail(readSoftcap(reader, "final_logit_softcapping", 30.0));
  GemmaForCausalLM::init(context, modelPrefix);
}

AttentionSpec Gemma2ForCausalLM::attentionSpec(int64_t layerIndex) const {
  AttentionSpec spec = GemmaForCausalLM::attentionSpec(layerIndex);
  spec.scale = 1.0 / std::sqrt(queryPreAttnScalar);
  spec.softcap = attentionSoftcap;
  return spec;
}

std::unique_ptr<LlamaDecoderLayer>
Gemma2ForCausalLM::makeDecoderLayer(ModelContext &context, std::string modulePrefix,
                                    int64_t layerIndex) const {
  return std::make_unique<Gemma2DecoderLayer>(context, modulePrefix, layerIndex, *this);
}

Value Gemma2ForCausalLM::computeLogits(Value hiddenStates) {
  Value logits = GemmaForCausalLM::computeLogits(hiddenStates);
  if (!logitSoftcap)
    return logits;
  return SoftCapOp::create(ctx->builder(), logits.getLoc(), logits,
                           ctx->builder().getF64FloatAttr(*logitSoftcap));
}
