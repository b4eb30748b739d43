//===- Llama.h - The Llama family of graph builders (Llama, Mistral, Qwen2, Qwen3) -===//
//
// The classes mirror vLLM's llama.py: LlamaForCausalLM owns a LlamaModel, which owns the
// embedding, the decoder layers and the final norm; each LlamaDecoderLayer owns a
// LlamaAttention and a LlamaMLP. The make*() hooks of LlamaForCausalLM create the
// submodules, so a derived architecture replaces one piece by overriding one hook.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_MODELS_LLAMA_H
#define VGCU_MODELS_LLAMA_H

#include "vgcu/Models/CausalLM.h"
#include "vgcu/Models/Layers.h"

#include <memory>

namespace vgcu {

class LlamaForCausalLM;

/// What one attention layer needs from the config.
struct AttentionSpec {
  int64_t hiddenSize = 0;
  int64_t numHeads = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
  int64_t rotaryDim = 0;
  double ropeTheta = 10000.0;
  std::optional<RopeScaling> ropeScaling;
  /// Rotate pairs (i, i + rotary_dim/2) (GPT-NeoX, Llama) or interleaved pairs
  /// (2i, 2i + 1) (GPT-J, ChatGLM).
  bool neoxStyle = true;
  double scale = 1.0;
  bool qkvBias = false;
  bool outputBias = false;
  std::optional<int64_t> slidingWindow;
  /// Soft-capping of the attention scores (Gemma 2).
  std::optional<double> softcap;
  /// Epsilon of per-head q/k norms (Qwen3).
  double normEpsilon = 1e-6;
};

/// What a Llama-like family calls its modules. vLLM writes one set of classes per family
/// (InternLM2's `attention.wqkv`, Baichuan's `W_pack`); the graph is Llama's, so the
/// builders share Llama's classes and differ in these names, which are the parameter
/// names and the locations of everything the modules emit.
struct LlamaModuleNames {
  std::string model = "model";
  std::string embedTokens = "embed_tokens";
  std::string layers = "layers";
  std::string selfAttn = "self_attn";
  std::string mlp = "mlp";
  std::string inputLayernorm = "input_layernorm";
  std::string postAttentionLayernorm = "post_attention_layernorm";
  std::string norm = "norm";
  std::string lmHead = "lm_head";
  /// The packed q/k/v linear and the checkpoint modules packed into it.
  std::string qkvProj = "qkv_proj";
  std::vector<std::string> qkvParts = {"q_proj", "k_proj", "v_proj"};
  std::string oProj = "o_proj";
  /// The packed gate/up linear and the checkpoint modules packed into it.
  std::string gateUpProj = "gate_up_proj";
  std::vector<std::string> gateUpParts = {"gate_proj", "up_proj"};
  std::string downProj = "down_proj";
  /// A routed expert's gate, up and down projections (`experts.<e>.<name>`).
  std::vector<std::string> expertParts = {"gate_proj", "up_proj", "down_proj"};
};

class LlamaMLP : public FeedForward {
public:
  LlamaMLP(ModelContext &ctx, std::string prefix, int64_t hiddenSize, int64_t intermediateSize,
           std::string hiddenAct, bool bias,
           const LlamaModuleNames &names = LlamaModuleNames());
  mlir::Value forward(mlir::Value hiddenStates) override;

protected:
  PackedLinear gateUpProj;
  Linear downProj;
  std::string hiddenAct;
};

class LlamaAttention : public Module {
public:
  LlamaAttention(ModelContext &ctx, std::string prefix, const AttentionSpec &spec,
                 const LlamaModuleNames &names = LlamaModuleNames());
  virtual mlir::Value forward(mlir::Value positions, mlir::Value hiddenStates);

protected:
  AttentionSpec spec;
  PackedLinear qkvProj;
  Linear oProj;
  RotaryEmbedding rotaryEmb;
  Attention attn;
};

class LlamaDecoderLayer : public Module {
public:
  LlamaDecoderLayer(ModelContext &ctx, std::string prefix, int64_t layerIndex,
                    const LlamaForCausalLM &model);
  /// (hidden states, residual); a null residual marks the first layer.
  virtual std::pair<mlir::Value, mlir::Value> forward(mlir::Value positions,
                                                      mlir::Value hiddenStates,
                                                      mlir::Value residual);

protected:
  std::unique_ptr<LlamaAttention> selfAttn;
  std::unique_ptr<FeedForward> mlp;
  std::unique_ptr<RMSNorm> inputLayernorm;
  std::unique_ptr<RMSNorm> postAttentionLayernorm;
};

class LlamaModel : public Module {
public:
  LlamaModel(ModelContext &ctx, std::string prefix, const LlamaForCausalLM &model);
  virtual ~LlamaModel() = default;
  /// The token embeddings, scaled by the model's embeddingScale() if it has one.
  virtual mlir::Value getInputEmbeddings(mlir::Value inputIds);
  virtual mlir::Value forward(mlir::Value inputIds, mlir::Value positions);
  const VocabEmbedding &embedding() const { return embedTokens; }

protected:
  const LlamaForCausalLM &model;
  VocabEmbedding embedTokens;
  std::vector<std::unique_ptr<LlamaDecoderLayer>> layers;
  std::unique_ptr<RMSNorm> norm;
};

class LlamaForCausalLM : public CausalLM {
public:
  void init(ModelContext &ctx, llvm::StringRef prefix) override;
  mlir::Value getInputEmbeddings(mlir::Value inputIds) override;
  mlir::Value forward(mlir::Value inputIds, mlir::Value positions) override;
  mlir::Value computeLogits(mlir::Value hiddenStates) override;

  /// The packed linears of moduleNames().
  PackedModulesMapping packedModulesMapping() const override;
  /// Rotary buffers, and the head when it is tied to the embedding.
  bool skipCheckpointTensor(llvm::StringRef name, const ModelConfig &config) const override;

  // Hooks for architectures built on Llama: each replaces one piece.
  /// The names of the modules (Llama's unless the family renames them).
  virtual const LlamaModuleNames &moduleNames() const;
  virtual AttentionSpec attentionSpec(int64_t layerIndex) const;
  /// The inner model (`model.` prefix): embeddings, decoder layers, final norm.
  virtual std::unique_ptr<LlamaModel> makeModel(ModelContext &ctx, std::string prefix) const;
  /// Every RMSNorm of the model: the layers' two and the final one (Gemma: `1 + w`).
  virtual std::unique_ptr<RMSNorm> makeNorm(ModelContext &ctx, std::string prefix,
                                            int64_t size) const;
  /// A factor the token embeddings are multiplied by (Gemma: √hidden_size), if any.
  virtual std::optional<double> embeddingScale() const { return std::nullopt; }
  virtual std::unique_ptr<LlamaAttention> makeAttention(ModelContext &ctx, std::string prefix,
                                                        int64_t layerIndex) const;
  virtual std::unique_ptr<LlamaMLP> makeMLP(ModelContext &ctx, std::string prefix,
                                            int64_t layerIndex) const;
  /// A layer's feed-forward block: makeMLP()'s dense MLP, or for a mixture-of-experts model
  /// with config.moe, the routed experts on the layers it makes sparse.
  virtual std::unique_ptr<FeedForward> makeFeedForward(ModelContext &ctx, std::string prefix,
                                                       int64_t layerIndex) const;
  virtual std::unique_ptr<LlamaDecoderLayer>
  makeDecoderLayer(ModelContext &ctx, std::string prefix, int64_t layerIndex) const;

protected:
  const ModelConfig &config() const { return ctx->config(); }
  ModelContext *ctx = nullptr;
  std::string prefix;
  std::unique_ptr<LlamaModel> model;
  std::unique_ptr<LMHead> lmHead;
};

/// Mistral: Llama with a sliding attention window (default 4096) and 8 KV heads by default.
class MistralForCausalLM : public LlamaForCausalLM {
public:
  ConfigDefaults configDefaults() const override;
  llvm::Error parseConfig(const ConfigReader &reader, ModelConfig &config) const override;
};

/// Qwen2: Llama with q/k/v biases and an opt-in sliding window for upper layers.
class Qwen2ForCausalLM : public LlamaForCausalLM {
public:
  ConfigDefaults configDefaults() const override;
  AttentionSpec attentionSpec(int64_t layerIndex) const override;
};

/// Qwen3's attention: per-head RMSNorm of queries and keys before the rotary embedding.
class Qwen3Attention : public LlamaAttention {
public:
  Qwen3Attention(ModelContext &ctx, std::string prefix, const AttentionSpec &spec);
  mlir::Value forward(mlir::Value positions, mlir::Value hiddenStates) override;

protected:
  RMSNorm qNorm;
  RMSNorm kNorm;
};

/// Qwen3: Qwen2's layout without q/k/v biases, with q/k norms and an explicit head_dim.
class Qwen3ForCausalLM : public LlamaForCausalLM {
public:
  ConfigDefaults configDefaults() const override;
  std::unique_ptr<LlamaAttention> makeAttention(ModelContext &ctx, std::string prefix,
                                                int64_t layerIndex) const override;
};

} // namespace vgcu

#endif // VGCU_MODELS_LLAMA_H
