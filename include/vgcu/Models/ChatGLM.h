//===- ChatGLM.h - ChatGLM2, ChatGLM3 and GLM-4: Llama's graph with GLM's layout ---===//
#ifndef VGCU_MODELS_CHATGLM_H
#define VGCU_MODELS_CHATGLM_H

#include "vgcu/Models/Llama.h"

namespace vgcu {

/// ChatGLM2-6B, ChatGLM3-6B and GLM-4-9B (`ChatGLMModel` / `ChatGLMForConditionalGeneration`,
/// remote code modeling_chatglm.py). The layer is Llama's pre-norm block: RMSNorm that
/// scales in f32 before its one rounding, a packed `query_key_value` with multi-query groups
/// (`multi_query_group_num`) and a q/k/v bias (`add_qkv_bias`), rotary on interleaved pairs
/// of the first half of each head with base 10000 · rope_ratio, and a SwiGLU MLP packed as
/// `dense_h_to_4h`. The config has GLM's own field names (num_layers, padded_vocab_size,
/// ffn_hidden_size, kv_channels, seq_length, layernorm_epsilon, ...).
class ChatGLMForCausalLM : public LlamaForCausalLM {
public:
  llvm::Error parseConfig(const ConfigReader &reader, ModelConfig &config) const override;
  const LlamaModuleNames &moduleNames() const override;
  AttentionSpec attentionSpec(int64_t layerIndex) const override;
  std::unique_ptr<RMSNorm> makeNorm(ModelContext &ctx, std::string prefix,
                                    int64_t size) const override;
  bool skipCheckpointTensor(llvm::StringRef name, const ModelConfig &config) const override;
  std::vector<std::shared_ptr<const TensorTransform>>
  packedSegmentTransforms(llvm::StringRef checkpointName, const ParamInfo &param,
                          const ModelConfig &config) const override;
};

} // namespace vgcu

#endif // VGCU_MODELS_CHATGLM_H
