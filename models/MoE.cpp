//===- MoE.cpp - MixtralForCausalLM and Qwen3MoeForCausalLM --------------------------===//

#include "vgcu/Models/MoE.h"


using namespace vgcu;

llvm::Expected<MoeConfig> vgcu::readMoeConfig(const ConfigReader &reader,
                                              const ModelConfig &config,
                                              llvm::StringRef numExpertsKey,
                                              int64_t defaultExperts, int64_t defaultTopK,
                                              llvm::StringRef intermediateKey,
                                              int64_t defaultIntermediate, bool renormalize) {
  // The fused experts kernel gates with SiLU, which every supported MoE family uses.
  if (config.hiddenAct != "silu")
    return reader.fieldError("hidden_act", "is '" + config.hiddenAct +
                                               "'; vgcu's experts are SiLU-gated");
  MoeConfig moe;
  moe.renormalize = renormalize;
  int64_t sparseStep = 1;
  FieldReads read;
  read(moe.numExperts, reader.positiveInt(numExpertsKey, defaultExperts))
      (moe.topK, reader.positiveInt("num_experts_per_tok", defaultTopK))
      .check([&]() -> llvm::Error {
        if (moe.topK <= moe.numExperts)
          return llvm::Error::success();
        return reader.fieldError("num_experts_per_tok",
                                 "(" + std::to_string(moe.topK) + ") exceeds " +
                                     numExpertsKey.str() + " (" +
                                     std::to_string(moe.numExperts) + ")");
      })
      (moe.intermediateSize, reader.positiveInt(intermediateKey, defaultIntermediate))
      (sparseStep, reader.positiveInt("decoder_sparse_step", 1));
  if (auto error = read.take())
    return std::move(error);
  // Qwen2MoeDecoderLayer: experts where the layer is not in mlp_only_layers and
  // (layer + 1) % decoder_sparse_step == 0.
  moe.sparseLayers.assign(config.numHiddenLayers, false);
  for (int64_t layer = 0; layer < config.numHiddenLayers; ++layer)
    moe.sparseLayers[layer] = (layer + 1) % sparseStep == 0;
  if (const llvm::json::Value *dense = reader.raw().get("mlp_only_layers");
      dense && dense->kind() != llvm::json::Value::Null) {
    const llvm::json::Array *layers = dense->getAsArray();
    if (!layers)
      return reader.fieldError("mlp_only_layers", "must be a list of layer indices");
    for (const llvm::json::Value &item : *layers) {
      std::optional<int64_t> layer = item.getAsInteger();
      if (!layer || *layer < 0 || *layer >= config.numHiddenLayers)
        return reader.fieldError("mlp_only_layers",
                                 "must hold layer indices below num_hidden_layers (" +
                                     std::to_string(config.numHiddenLayers) + ")");
      moe.sparseLayers[*layer] = false;
    }
  }
  return moe;
}

ConfigDefaults MixtralForCausalLM::configDefaults() const {
  ConfigDefaults defaults; // Hugging Face's MixtralConfig
  defaults.rmsNormEps = 1e-5;
  defaults.ropeTheta = 1e6;
  return defaults;
}

llvm::Error MixtralForCausalLM::parseConfig(const ConfigReader &reader,
                                            ModelConfig &config) const {
  if (auto error = LlamaForCausalLM::parseConfig(reader, config))
    return error;
  // MixtralSparseMoeBlock always renormalises the top-k weights.
  auto moe = readMoeConfig(reader, config, "num_local_experts", 8, 2, "intermediate_size",
                           config.intermediateSize, /*renormalize=*/true);
  if (!moe)
    return moe.takeError();
  config.moe = std::move(*moe);
  return llvm::Error::success();
}

const LlamaModuleNames &MixtralForCausalLM::moduleNames() const {
  static const LlamaModuleNames names = [] {
    LlamaModuleNames n;
    n.mlp = "block_sparse_moe";
    n.expertParts = {"w1", "w3", "w2"};
    return n;
  }();
  return names;
}

llvm::Error Qwen3MoeForCausalLM::parseConfig(const ConfigReader &reader,
                                             ModelConfig &config) const {
  if (auto error = Qwen3ForCausalLM::parseConfig(reader, config))
    return error;
  auto renormalize = reader.boolean("norm_topk_prob", false);
  if (!renormalize)
    return renormalize.takeError();
  // Qwen3MoeConfig's defaults.
  auto moe = readMoeConfig(reader, config, "num_experts", 128, 8, "moe_intermediate_size", 768,
                           *renormalize);
  if (!moe)
    return moe.takeError();
  config.moe = std::move(*moe);
  return llvm::Error::success();
}

llvm::Error Qwen2MoeForCausalLM::parseConfig(const ConfigReader &reader,
                                             ModelConfig &config) const {
  if (auto error = Qwen2ForCausalLM::parseConfig(reader, config))
    return error;
  // Qwen2MoeConfig's defaults.
  bool renormalize = false, qkvBias = true;
  int64_t shared = 0;
  FieldReads read;
  read(renormalize, reader.boolean("norm_topk_prob", false))
      (shared, reader.nonNegativeInt("shared_expert_intermediate_size", 5632))
      (qkvBias, reader.boolean("qkv_bias", true));
  if (auto error = read.take())
    return error;
  auto moe = readMoeConfig(reader, config, "num_experts", 60, 4, "moe_intermediate_size", 1408,
                           renormalize);
  if (!moe)
    return moe.takeError();
  moe->sharedIntermediateSize = shared;
  config.moe = std::move(*moe);
  return llvm::Error::success();
}

AttentionSpec Qwen2MoeForCausalLM::attentionSpec(int64_t layerIndex) const {
  AttentionSpec spec = Qwen2ForCausalLM::attentionSpec(layerIndex);
  spec.qkvBias = config().json.getBoolean("qkv_bias").value_or(true);
  return spec;
}
