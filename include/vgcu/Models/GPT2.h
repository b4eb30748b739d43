//===- GPT2.h - GPT2LMHeadModel: Conv1D weights, learned positions, LayerNorm -----===//
#ifndef VGCU_MODELS_GPT2_H
#define VGCU_MODELS_GPT2_H

#include "vgcu/Models/CausalLM.h"
#include "vgcu/Models/Layers.h"

#include <memory>

namespace vgcu {

class GPT2Attention : public Module {
public:
  GPT2Attention(ModelContext &ctx, std::string prefix, double scale);
  mlir::Value forward(mlir::Value hiddenStates);

private:
  PackedLinear cAttn;
  Linear cProj;
  Attention attn;
};

class GPT2MLP : public Module {
public:
  GPT2MLP(ModelContext &ctx, std::string prefix);
  mlir::Value forward(mlir::Value hiddenStates);

private:
  Linear cFc;
  Linear cProj;
};

class GPT2Block : public Module {
public:
  GPT2Block(ModelContext &ctx, std::string prefix, int64_t layerIndex);
  mlir::Value forward(mlir::Value hiddenStates);

private:
  LayerNorm ln1;
  GPT2Attention attn;
  LayerNorm ln2;
  GPT2MLP mlp;
};

class GPT2Model : public Module {
public:
  GPT2Model(ModelContext &ctx, std::string prefix);
  mlir::Value getInputEmbeddings(mlir::Value inputIds);
  mlir::Value forward(mlir::Value inputIds, mlir::Value positions);
  const VocabEmbedding &embedding() const { return wte; }

private:
  VocabEmbedding wte;
  VocabEmbedding wpe;
  std::vector<std::unique_ptr<GPT2Block>> h;
  LayerNorm lnF;
};

/// GPT-2 (transformers' modeling_gpt2.py): learned absolute positions added to the token
/// embeddings, pre-LayerNorm blocks with biases everywhere, Conv1D weights stored
/// [in, out] (transposed when loaded), a tied LM head, and GPT-2's config names (n_embd,
/// n_layer, n_head, n_positions, n_inner, activation_function, layer_norm_epsilon).
class GPT2LMHeadModel : public CausalLM {
public:
  llvm::Error parseConfig(const ConfigReader &reader, ModelConfig &config) const override;
  PackedModulesMapping packedModulesMapping() const override;
  std::string parameterNameFor(llvm::StringRef checkpointName) const override;
  bool skipCheckpointTensor(llvm::StringRef name, const ModelConfig &config) const override;
  std::shared_ptr<const TensorTransform>
  checkpointTransform(llvm::StringRef checkpointName, llvm::StringRef param,
                      const ModelConfig &config) const override;
  std::vector<std::shared_ptr<const TensorTransform>>
  packedSegmentTransforms(llvm::StringRef checkpointName, const ParamInfo &param,
                          const ModelConfig &config) const override;

  void init(ModelContext &ctx, llvm::StringRef prefix) override;
  mlir::Value getInputEmbeddings(mlir::Value inputIds) override;
  mlir::Value forward(mlir::Value inputIds, mlir::Value positions) override;
  mlir::Value computeLogits(mlir::Value hiddenStates) override;

private:
  std::unique_ptr<GPT2Model> transformer;
  std::unique_ptr<LMHead> lmHead;
};

} // namespace vgcu

#endif // VGCU_MODELS_GPT2_H
