//===- InternLM2.h - InternLM2: Llama's graph under InternLM2's names and qkv layout -===//
#ifndef VGCU_MODELS_INTERNLM2_H
#define VGCU_MODELS_INTERNLM2_H

#include "vgcu/Models/Llama.h"

namespace vgcu {

/// InternLM2 (remote code modeling_internlm2.py): Llama's layer with `tok_embeddings`,
/// `attention.wqkv` / `attention.wo`, `feed_forward.w1/w3/w2`, `attention_norm`,
/// `ffn_norm` and an `output` head, biases on wqkv and wo when the config's `bias` is set,
/// and linear or dynamic rope scaling. wqkv stores each KV head's query heads, key and value
/// together; loading regroups its rows into vgcu's [q; k; v].
class InternLM2ForCausalLM : public LlamaForCausalLM {
public:
  ConfigDefaults configDefaults() const override;
  llvm::Error parseConfig(const ConfigReader &reader, ModelConfig &config) const override;
  const LlamaModuleNames &moduleNames() const override;
  std::vector<std::shared_ptr<const TensorTransform>>
  packedSegmentTransforms(llvm::StringRef checkpointName, const ParamInfo &param,
                          const ModelConfig &config) const override;
};

} // namespace vgcu

#endif // VGCU_MODELS_INTERNLM2_H
