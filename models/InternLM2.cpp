//===- InternLM2.cpp - InternLM2ForCausalLM -----------------------------------------===//

#include "vgcu/Models/InternLM2.h"
#include "vgcu/Models/WeightLoader.h"

using namespace vgcu;

ConfigDefaults InternLM2ForCausalLM::configDefaults() const {
  ConfigDefaults defaults; // configuration_internlm2.InternLM2Config
  defaults.rmsNormEps = 1e-6;
  // InternLM2Config._rope_scaling_validation accepts only these two.
  defaults.ropeTypes = {"linear", "dynamic"};
  return defaults;
}

llvm::Error InternLM2ForCausalLM::parseConfig(const ConfigReader &reader,
                                              ModelConfig &config) const {
  if (auto error = LlamaForCausalLM::parseConfig(reader, config))
    return error;
  // `bias` (default true) puts biases on wqkv and wo; the feed-forward has none.
  auto bias = reader.boolean("bias", true);
  if (!bias)
    return bias.takeError();
  config.attentionBias = *bias;
  config.mlpBias = false;
  if (config.headDim * config.numAttentionHeads != config.hiddenSize)
    return reader.fieldError("head_dim", "is " + std::to_string(config.headDim) +
                                             "; InternLM2's head_dim is hidden_size / "
                                             "num_attention_heads (" +
                                             std::to_string(config.hiddenSize /
                                                            config.numAttentionHeads) +
                                             ")");
  return llvm::Error::success();
}

const LlamaModuleNames &InternLM2ForCausalLM::moduleNames() const {
  static const LlamaModuleNames names = [] {
    LlamaModuleNames n;
    n.embedTokens = "tok_embeddings";
    n.selfAttn = "attention";
    n.mlp = "feed_forward";
    n.inputLayernorm = "attention_norm";
    n.postAttentionLayernorm = "ffn_norm";
    n.lmHead = "output";
    n.qkvProj = "wqkv";
    n.qkvParts = {"wq", "wk", "wv"};
    n.oProj = "wo";
    n.gateUpParts = {"w1", "w3"};
    n.downProj = "w2";
    return n;
  }();
  return names;
}

std::vector<std::shared_ptr<const TensorTransform>>
InternLM2ForCausalLM::packedSegmentTransforms(llvm::StringRef checkpointName,
                                              const ParamInfo &param,
                                              const ModelConfig &config) const {
  if (!checkpointName.contains(".attention.wqkv."))
    return LlamaForCausalLM::packedSegmentTransforms(checkpointName, param, config);
  // wqkv's rows, as modeling_internlm2.py splits them ("(h gs d) -> h gs d"): per KV head h,
  // its G query heads, then its key, then its value, D rows each.
  int64_t headDim = config.headDim, kvHeads = config.numKeyValueHeads;
  int64_t groups = config.numAttentionHeads / kvHeads;
  std::vector<int64_t> query, key, value;
  for (int64_t head = 0; head < kvHeads; ++head) {
    int64_t block = head * (groups + 2) * headDim;
    for (int64_t row = 0; row < groups * headDim; ++row)
      query.push_back(block + row);
    for (int64_t row = 0; row < headDim; ++row) {
      key.push_back(block + groups * headDim + row);
      value.push_back(block + (groups + 1) * headDim + row);
    }
  }
  std::string grouping = " of each KV head's block (" + std::to_string(groups) +
                         " query heads, key, value)";
  return {gatherRows("the query rows" + grouping, param.shape, std::move(query)),
          gatherRows("the key rows" + grouping, param.shape, std::move(key)),
          gatherRows("the value rows" + grouping, param.shape, std::move(value))};
}
