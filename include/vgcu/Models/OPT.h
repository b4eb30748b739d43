//===- OPT.h - OPTForCausalLM: LayerNorm, learned positions, ReLU, biases ----------===//
#ifndef VGCU_MODELS_OPT_H
#define VGCU_MODELS_OPT_H

#include "vgcu/Models/CausalLM.h"
#include "vgcu/Models/Layers.h"

#include <memory>

namespace vgcu {

/// OPT's config fields that Llama-like configs lack.
struct OPTOptions {
  bool doLayerNormBefore = true;
  bool enableBias = true;
};

class OPTAttention : public Module {
public:
  OPTAttention(ModelContext &ctx, std::string prefix, bool bias);
  mlir::Value forward(mlir::Value hiddenStates);

private:
  PackedLinear qkvProj;
  Linear outProj;
  Attention attn;
};

class OPTDecoderLayer : public Module {
public:
  OPTDecoderLayer(ModelContext &ctx, std::string prefix, const OPTOptions &options);
  mlir::Value forward(mlir::Value hiddenStates);

private:
  OPTOptions options;
  OPTAttention selfAttn;
  LayerNorm selfAttnLayerNorm;
  Linear fc1;
  Linear fc2;
  LayerNorm finalLayerNorm;
};

class OPTDecoder : public Module {
public:
  OPTDecoder(ModelContext &ctx, std::string prefix, const OPTOptions &options);
  mlir::Value getInputEmbeddings(mlir::Value inputIds);
  mlir::Value forward(mlir::Value inputIds, mlir::Value positions);
  const VocabEmbedding &embedding() const { return embedTokens; }

private:
  /// OPT's learned positions start at table row 2 (rows 0 and 1 were padding in fairseq).
  static constexpr int64_t kPositionOffset = 2;
  OPTOptions options;
  VocabEmbedding embedTokens;
  VocabEmbedding embedPositions;
  std::unique_ptr<LayerNorm> finalLayerNorm;
  std::vector<std::unique_ptr<OPTDecoderLayer>> layers;
};

class OPTForCausalLM : public CausalLM {
public:
  llvm::Error parseConfig(const ConfigReader &reader, ModelConfig &config) const override;
  PackedModulesMapping packedModulesMapping() const override;
  bool skipCheckpointTensor(llvm::StringRef name, const ModelConfig &config) const override;
  std::string parameterNameFor(llvm::StringRef checkpointName) const override;

  void init(ModelContext &ctx, llvm::StringRef prefix) override;
  mlir::Value getInputEmbeddings(mlir::Value inputIds) override;
  mlir::Value forward(mlir::Value inputIds, mlir::Value positions) override;
  mlir::Value computeLogits(mlir::Value hiddenStates) override;

private:
  std::unique_ptr<OPTDecoder> decoder;
  std::unique_ptr<LMHead> lmHead;
};

} // namespace vgcu

#endif // VGCU_MODELS_OPT_H
