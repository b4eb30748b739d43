//===- DeepSeek.h - DeepSeek-V2 and V3: multi-head latent attention, DeepSeekMoE ----===//
#ifndef VGCU_MODELS_DEEPSEEK_H
#define VGCU_MODELS_DEEPSEEK_H

#include "vgcu/Models/Llama.h"

namespace vgcu {

/// DeepseekV2Attention: queries from `q_proj` (or `q_a_proj` → `q_a_layernorm` →
/// `q_b_proj`), the compressed KV and the shared rotary key from `kv_a_proj_with_mqa`, the
/// latent normalized by `kv_a_layernorm`, and `vgcu.mla_attention` over `kv_b_proj`'s
/// weight, whose cache holds the latent and the rotary key; then `o_proj`.
class DeepseekAttention : public LlamaAttention {
public:
  DeepseekAttention(ModelContext &ctx, std::string prefix, const AttentionSpec &spec,
                    const MlaConfig &mla);
  mlir::Value forward(mlir::Value positions, mlir::Value hiddenStates) override;

private:
  MlaConfig mla;
  Linear qProj, qAProj, qBProj, kvAProj;
  RMSNorm qANorm, kvANorm;
};

/// DeepSeek-V2 (`DeepseekV2ForCausalLM`, V2 and V2-Lite): MLA in every layer; a dense MLP in
/// the first `first_k_dense_replace` layers and off the `moe_layer_freq`, DeepSeekMoE
/// elsewhere: `n_routed_experts` experts of `moe_intermediate_size` routed by MoEGate
/// (softmax scores in f32; `topk_method` greedy or group_limited_greedy; weights
/// renormalised with `norm_topk_prob`, otherwise times `routed_scaling_factor`) plus
/// `n_shared_experts` shared experts every token goes through.
class DeepseekV2ForCausalLM : public LlamaForCausalLM {
public:
  llvm::Error parseConfig(const ConfigReader &reader, ModelConfig &config) const override;
  std::unique_ptr<LlamaAttention> makeAttention(ModelContext &ctx, std::string prefix,
                                                int64_t layerIndex) const override;
  /// V3's multi-token-prediction layers (past num_hidden_layers) are not the causal LM's.
  bool skipCheckpointTensor(llvm::StringRef name, const ModelConfig &config) const override;
  /// Loads as Llama does, and says how many multi-token-prediction tensors it left out.
  llvm::Expected<std::set<std::string>> loadWeights(WeightLoader &loader) const override;

protected:
  /// 2 or 3: where routed_scaling_factor applies, and which routing methods exist.
  virtual int version() const { return 2; }
};

/// DeepSeek-V3 / R1 (`DeepseekV3ForCausalLM`): V2's layers with MoEGate's `noaux_tc`
/// routing (sigmoid scores, `e_score_correction_bias` for the choice, groups scored by their
/// two best) and routed_scaling_factor applied after the renormalisation.
class DeepseekV3ForCausalLM : public DeepseekV2ForCausalLM {
protected:
  int version() const override { return 3; }
};

} // namespace vgcu

#endif // VGCU_MODELS_DEEPSEEK_H
