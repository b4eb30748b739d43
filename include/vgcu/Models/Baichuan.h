//===- Baichuan.h - Baichuan 7B and Baichuan 2 7B: packed W_pack, NormHead -------===//
#ifndef VGCU_MODELS_BAICHUAN_H
#define VGCU_MODELS_BAICHUAN_H

#include "vgcu/Models/Llama.h"

namespace vgcu {

/// Baichuan 7B (`BaiChuanForCausalLM`, remote code modeling_baichuan.py): Llama's layer
/// with q, k and v stored as one `W_pack`, RoPE with base 10000, no biases. The 13B models
/// (hidden_size 5120) use ALiBi instead of RoPE and are refused.
class BaiChuanForCausalLM : public LlamaForCausalLM {
public:
  llvm::Error parseConfig(const ConfigReader &reader, ModelConfig &config) const override;
  const LlamaModuleNames &moduleNames() const override;
};

/// Baichuan 2 7B (`BaichuanForCausalLM`): Baichuan's layout with a NormHead, whose rows
/// are L2-normalised before use; the normalised head is computed when the artifact is
/// written.
class BaichuanForCausalLM : public BaiChuanForCausalLM {
public:
  llvm::Error parseConfig(const ConfigReader &reader, ModelConfig &config) const override;
  std::shared_ptr<const TensorTransform>
  checkpointTransform(llvm::StringRef checkpointName, llvm::StringRef param,
                      const ModelConfig &config) const override;
};

} // namespace vgcu

#endif // VGCU_MODELS_BAICHUAN_H
