//===- Baichuan.cpp - BaiChuanForCausalLM and BaichuanForCausalLM -------------------===//

#include "vgcu/Models/Baichuan.h"
#include "vgcu/Models/WeightLoader.h"

#include <cmath>

using namespace vgcu;

llvm::Error BaiChuanForCausalLM::parseConfig(const ConfigReader &reader,
                                             ModelConfig &config) const {
  if (auto error = LlamaForCausalLM::parseConfig(reader, config))
    return error;
  // vLLM tells the two position schemes apart by hidden_size as well: the 13B models'
  // modeling_baichuan.py has ALiBi and no rotary embedding.
  if (config.hiddenSize == 5120)
    return reader.fieldError("hidden_size",
                             "is 5120: this is a Baichuan 13B model, whose attention uses "
                             "ALiBi position biases, which vgcu does not support (the 7B "
                             "models use RoPE)");
  if (config.numKeyValueHeads != config.numAttentionHeads)
    return reader.fieldError("num_key_value_heads",
                             "is set; Baichuan has no grouped KV heads");
  if (config.headDim * config.numAttentionHeads != config.hiddenSize)
    return reader.fieldError("head_dim",
                             "is set; Baichuan's head_dim is hidden_size / num_attention_heads");
  // The rotary base is fixed in modeling_baichuan.py; rope_theta is never read.
  config.ropeTheta = 10000.0;
  return llvm::Error::success();
}

const LlamaModuleNames &BaiChuanForCausalLM::moduleNames() const {
  static const LlamaModuleNames names = [] {
    LlamaModuleNames n;
    n.qkvProj = "W_pack";
    return n;
  }();
  return names;
}

llvm::Error BaichuanForCausalLM::parseConfig(const ConfigReader &reader,
                                             ModelConfig &config) const {
  if (auto error = BaiChuanForCausalLM::parseConfig(reader, config))
    return error;
  if (config.tieWordEmbeddings)
    return reader.fieldError("tie_word_embeddings",
                             "is true; Baichuan 2's NormHead normalises its own weight, "
                             "which a tied embedding would share");
  return llvm::Error::success();
}

std::shared_ptr<const TensorTransform>
BaichuanForCausalLM::checkpointTransform(llvm::StringRef checkpointName, llvm::StringRef param,
                                         const ModelConfig &config) const {
  if (param != moduleNames().lmHead + ".weight")
    return nullptr;
  // NormHead: logits = F.linear(h, F.normalize(weight)), each row divided by
  // max(‖row‖₂, 1e-12).
  auto normalize = std::make_shared<TensorTransform>();
  normalize->description = "with its rows L2-normalised (Baichuan 2's NormHead)";
  normalize->sourceShape = {config.vocabSize, config.hiddenSize};
  normalize->shape = normalize->sourceShape;
  normalize->apply = [hidden = config.hiddenSize](llvm::ArrayRef<float> in,
                                                   llvm::ArrayRef<int64_t>,
                                                   llvm::MutableArrayRef<float> out) {
    for (size_t start = 0; start < in.size(); start += hidden) {
      double sumOfSquares = 0.0;
      for (int64_t i = 0; i < hidden; ++i)
        sumOfSquares += static_cast<double>(in[start + i]) * in[start + i];
      float norm = std::max(static_cast<float>(std::sqrt(sumOfSquares)), 1e-12f);
      for (int64_t i = 0; i < hidden; ++i)
        out[start + i] = in[start + i] / norm;
    }
  };
  return normalize;
}
