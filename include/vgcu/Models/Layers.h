//===- Layers.h - The building blocks of model graph builders (vLLM's layers) -----===//
//
// Each layer is created with the prefix that names its weights, as vLLM's layers are, and
// emits module-level `vgcu` ops from forward(). Tensor parallelism is not decided here: the
// sharding pass makes packed linears column-parallel, their consumers row-parallel, and the
// embedding and LM head vocab-parallel.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_MODELS_LAYERS_H
#define VGCU_MODELS_LAYERS_H

#include "vgcu/Models/ModelContext.h"

#include "dialects/vgcu/VgcuDialect.h"


#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vgcu {

/// A part of a model whose weights are named `<prefix>.<name>`.
class Module {
public:
  Module(ModelContext &ctx, std::string prefix);
  virtual ~Module() = default;
  const std::string &prefix() const { return modulePrefix; }
  /// `<prefix>.<name>`, or `name` for the root.
  std::string child(llvm::StringRef name) const;

protected:
  mlir::Value param(llvm::StringRef name, llvm::ArrayRef<int64_t> shape);
  mlir::Location loc();
  ModelContext &ctx;
  std::string modulePrefix;
};

/// A decoder layer's feed-forward block: a dense MLP or a mixture of experts.
class FeedForward : public Module {
public:
  using Module::Module;
  virtual mlir::Value forward(mlir::Value hiddenStates) = 0;
};

/// y = x·Wᵀ (+ b) with W of [outFeatures, inFeatures].
class Linear : public Module {
public:
  Linear(ModelContext &ctx, std::string prefix, int64_t inFeatures, int64_t outFeatures,
         bool bias);
  mlir::Value forward(mlir::Value input);
  int64_t outFeatures() const { return outputSize; }

private:
  int64_t inputSize, outputSize;
  bool hasBias;
};

/// Several projections of one input in one linear (vLLM's QKVParallelLinear and
/// MergedColumnParallelLinear); the packed modules and their widths are recorded on the op.
class PackedLinear : public Module {
public:
  PackedLinear(ModelContext &ctx, std::string prefix, int64_t inFeatures,
               std::vector<std::pair<std::string, int64_t>> parts, bool bias);
  mlir::Value forward(mlir::Value input);
  /// The output of forward() cut back into its parts, in order.
  std::vector<mlir::Value> split(mlir::Value packed);

private:
  int64_t inputSize;
  std::vector<std::pair<std::string, int64_t>> parts;
  bool hasBias;
};

/// RMSNorm; with a residual, the fused residual add + norm of vLLM's RMSNorm. With a
/// `weightOffset` the norm scales by `offset + weight` (Gemma's `1 + w`), which
/// vgcu-fold-weights computes once when the artifact is written. `scaleInF32` makes that
/// scale f32 and applies it before the one rounding to the model dtype (Gemma's numerics:
/// `norm(x.float()) * (1 + w.float())`); otherwise the normalized value is rounded first and
/// scaled in the model dtype (Llama's).
class RMSNorm : public Module {
public:
  RMSNorm(ModelContext &ctx, std::string prefix, int64_t size, double epsilon,
          double weightOffset = 0.0, bool scaleInF32 = false);
  virtual ~RMSNorm() = default;
  virtual mlir::Value forward(mlir::Value input);
  /// (normed, new residual); a null residual starts the residual stream with `input`.
  virtual std::pair<mlir::Value, mlir::Value> forward(mlir::Value input, mlir::Value residual);

protected:
  /// The weight the norm scales by (the parameter, plus the offset if any).
  mlir::Value weight();
  int64_t size;
  double epsilon;
  double weightOffset;
  bool scaleInF32;
};

class LayerNorm : public Module {
public:
  LayerNorm(ModelContext &ctx, std::string prefix, int64_t size, double epsilon);
  mlir::Value forward(mlir::Value input);

private:
  int64_t size;
  double epsilon;
};

/// The token embedding (vLLM's VocabParallelEmbedding).
class VocabEmbedding : public Module {
public:
  VocabEmbedding(ModelContext &ctx, std::string prefix, int64_t vocabSize, int64_t hiddenSize);
  mlir::Value forward(mlir::Value ids);
  std::string weightName() const { return child("weight"); }
  int64_t vocabSize() const { return vocab; }
  int64_t hiddenSize() const { return hidden; }

private:
  int64_t vocab, hidden;
};

/// The output projection to vocabulary logits (vLLM's ParallelLMHead), with its own weight
/// or tied to the embedding's.
class LMHead : public Module {
public:
  LMHead(ModelContext &ctx, std::string prefix, int64_t vocabSize, int64_t hiddenSize);
  /// A head that reuses the embedding table (tie_word_embeddings).
  static LMHead tiedTo(ModelContext &ctx, const VocabEmbedding &embedding);
  mlir::Value forward(mlir::Value hiddenStates);

private:
  LMHead(ModelContext &ctx, std::string prefix, int64_t vocabSize, int64_t hiddenSize,
         std::string weightName);
  int64_t vocab, hidden;
  std::string weight;
};

/// Rotary position embedding applied to [tokens, heads × head_dim] queries and keys.
class RotaryEmbedding : public Module {
public:
  /// `scaling`: Hugging Face's rope_scaling, if the config has one.
  RotaryEmbedding(ModelContext &ctx, std::string prefix, int64_t headDim, int64_t rotaryDim,
                  double theta, bool neoxStyle = true,
                  std::optional<RopeScaling> scaling = std::nullopt);
  std::pair<mlir::Value, mlir::Value> forward(mlir::Value positions, mlir::Value query,
                                              mlir::Value key);

private:
  int64_t headDim, rotaryDim;
  double theta;
  bool neoxStyle;
  std::optional<RopeScaling> scaling;
};

/// `#vgcu.rope` for a config's rope_scaling.
RopeScalingAttr ropeScalingAttr(mlir::MLIRContext *context, const RopeScaling &scaling);

/// Causal multi-head attention with grouped KV heads (vLLM's Attention); the backend
/// (paged KV cache) is chosen when lowering.
class Attention : public Module {
public:
  /// `softcap`: bound the scaled scores to softcap · tanh(s / softcap) (Gemma 2).
  Attention(ModelContext &ctx, std::string prefix, int64_t numHeads, int64_t numKvHeads,
            int64_t headDim, double scale, std::optional<int64_t> slidingWindow,
            std::optional<double> softcap = std::nullopt);
  mlir::Value forward(mlir::Value query, mlir::Value key, mlir::Value value);

private:
  int64_t numHeads, numKvHeads, headDim;
  double scale;
  std::optional<int64_t> slidingWindow;
  std::optional<double> softcap;
};

/// A mixture of experts (vLLM's *SparseMoeBlock over its FusedMoE layer): the router
/// (`gate`, [num_experts, hidden]) picks top-k experts per token, and the SiLU-gated experts
/// (`experts.<e>.<gate|up|down>` in the checkpoint) are stacked into two parameters,
/// `experts.gate_up.weight` [E · 2I, hidden] and `experts.down.weight` [E · hidden, I], so
/// the graph of a layer does not grow with the number of experts.
class SparseMoeBlock : public FeedForward {
public:
  /// `expertParts`: the checkpoint names of an expert's gate, up and down projections.
  SparseMoeBlock(ModelContext &ctx, std::string prefix, const MoeConfig &moe,
                 int64_t hiddenSize, std::vector<std::string> expertParts);
  mlir::Value forward(mlir::Value hiddenStates) override;

private:
  MoeConfig moe;
  int64_t hiddenSize;
  std::vector<std::string> expertParts;
};

/// act(x[..., :n/2]) · x[..., n/2:] for a gated MLP's packed gate_up output.
mlir::Value gatedActivation(ModelContext &ctx, llvm::StringRef act, mlir::Value input,
                            mlir::Location loc);
/// act(x) elementwise (relu, gelu, silu, ...).
mlir::Value activation(ModelContext &ctx, llvm::StringRef act, mlir::Value input,
                       mlir::Location loc);

} // namespace vgcu

#endif // VGCU_MODELS_LAYERS_H
