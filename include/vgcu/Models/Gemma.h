//===- Gemma.h - Gemma and Gemma 2, built on the Llama classes -------------------===//
#ifndef VGCU_MODELS_GEMMA_H
#define VGCU_MODELS_GEMMA_H

#include "vgcu/Models/Llama.h"

namespace vgcu {

/// Gemma: Llama with (1 + w) RMSNorms that scale in f32 before their one rounding,
/// embeddings scaled by √hidden_size in the model dtype, a GELU(tanh)-gated MLP, an
/// explicit head_dim and a tied LM head.
class GemmaForCausalLM : public LlamaForCausalLM {
public:
  ConfigDefaults configDefaults() const override;
  llvm::Error parseConfig(const ConfigReader &reader, ModelConfig &config) const override;
  std::unique_ptr<RMSNorm> makeNorm(ModelContext &ctx, std::string prefix,
                                    int64_t size) const override;
  std::optional<double> embeddingScale() const override;
};

/// Gemma 2's decoder layer: a norm after attention and one before and after the MLP, besides
/// the input norm (the "sandwich"). vgcu-fuse-norm-add-norm makes each closing norm, the
/// residual add and the next opening norm one kernel.
class Gemma2DecoderLayer : public LlamaDecoderLayer {
public:
  Gemma2DecoderLayer(ModelContext &ctx, std::string prefix, int64_t layerIndex,
                     const LlamaForCausalLM &model);
  std::pair<mlir::Value, mlir::Value> forward(mlir::Value positions, mlir::Value hiddenStates,
                                              mlir::Value residual) override;

protected:
  std::unique_ptr<RMSNorm> preFeedforwardLayernorm;
  std::unique_ptr<RMSNorm> postFeedforwardLayernorm;
};

/// Gemma 2: Gemma's norms and embeddings with sandwich norms, attention scaled by
/// query_pre_attn_scalar^-0.5 and soft-capped (attn_logit_softcapping), a sliding window on
/// the layers layer_types names (every even layer by default), and soft-capped logits
/// (final_logit_softcapping).
class Gemma2ForCausalLM : public GemmaForCausalLM {
public:
  ConfigDefaults configDefaults() const override;
  llvm::Error parseConfig(const ConfigReader &reader, ModelConfig &config) const override;
  void init(ModelContext &ctx, llvm::StringRef prefix) override;
  AttentionSpec attentionSpec(int64_t layerIndex) const override;
  std::unique_ptr<LlamaDecoderLayer> makeDecoderLayer(ModelContext &ctx, std::string prefix,
                                                      int64_t layerIndex) const override;
  mlir::Value computeLogits(mlir::Value hiddenStates) override;

private:
  double queryPreAttnScalar = 256.0;
  std::optional<double> attentionSoftcap, logitSoftcap;
};

} // namespace vgcu

#endif // VGCU_MODELS_GEMMA_H
