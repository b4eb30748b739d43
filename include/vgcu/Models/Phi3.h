//===- Phi3.h - Phi-3: packed checkpoint projections, LongRoPE, partial rotary ---===//
#ifndef VGCU_MODELS_PHI3_H
#define VGCU_MODELS_PHI3_H

#include "vgcu/Models/Llama.h"

namespace vgcu {

/// Phi-3 (and Phi-3.5, Phi-4-mini): Llama's layer whose checkpoint stores q/k/v as one
/// `qkv_proj` and gate/up as one `gate_up_proj` (loaded straight into the packed linears),
/// with LongRoPE, an optional partial rotary dimension and a sliding window on every layer
/// when the config sets one.
class Phi3ForCausalLM : public LlamaForCausalLM {
public:
  ConfigDefaults configDefaults() const override;
  std::optional<int64_t> recomputeAtLength(const ModelConfig &config) const override;
};

} // namespace vgcu

#endif // VGCU_MODELS_PHI3_H
