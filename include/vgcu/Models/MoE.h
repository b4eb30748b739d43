//===- MoE.h - Mixture-of-experts families: Mixtral and Qwen3-MoE -------------------===//
#ifndef VGCU_MODELS_MOE_H
#define VGCU_MODELS_MOE_H

#include "vgcu/Models/Llama.h"

namespace vgcu {

/// Mixtral (`MixtralForCausalLM`): Mistral's attention with a `block_sparse_moe` of
/// `num_local_experts` SiLU-gated experts (`experts.<e>.w1/w3/w2`) on every layer, top
/// `num_experts_per_tok` with the routing weights renormalised.
class MixtralForCausalLM : public LlamaForCausalLM {
public:
  ConfigDefaults configDefaults() const override;
  llvm::Error parseConfig(const ConfigReader &reader, ModelConfig &config) const override;
  const LlamaModuleNames &moduleNames() const override;
};

/// Qwen3-MoE (`Qwen3MoeForCausalLM`): Qwen3's attention (per-head q/k norms) with `mlp`
/// a mixture of `num_experts` experts of `moe_intermediate_size` on the layers
/// `decoder_sparse_step` and `mlp_only_layers` make sparse (the others a dense MLP of
/// intermediate_size), top `num_experts_per_tok`, renormalised with `norm_topk_prob`.
class Qwen3MoeForCausalLM : public Qwen3ForCausalLM {
public:
  llvm::Error parseConfig(const ConfigReader &reader, ModelConfig &config) const override;
};

/// Qwen2-MoE (`Qwen2MoeForCausalLM`): Qwen2's attention (q/k/v biases unless `qkv_bias` is
/// false) with `mlp` a mixture of `num_experts` experts plus a shared expert of
/// `shared_expert_intermediate_size` that every token goes through, scaled by
/// `sigmoid(shared_expert_gate(x))`, on the layers decoder_sparse_step / mlp_only_layers make
/// sparse.
class Qwen2MoeForCausalLM : public Qwen2ForCausalLM {
public:
  llvm::Error parseConfig(const ConfigReader &reader, ModelConfig &config) const override;
  AttentionSpec attentionSpec(int64_t layerIndex) const override;
};

/// Reads a config's experts: `numExpertsKey` experts of `intermediateKey` width, top
/// `num_experts_per_tok`, on the layers decoder_sparse_step and mlp_only_layers choose.
llvm::Expected<MoeConfig> readMoeConfig(const ConfigReader &reader, const ModelConfig &config,
                                        llvm::StringRef numExpertsKey, int64_t defaultExperts,
                                        int64_t defaultTopK, llvm::StringRef intermediateKey,
                                        int64_t defaultIntermediate, bool renormalize);

} // namespace vgcu

#endif // VGCU_MODELS_MOE_H
