//===- ChatGLM.cpp - ChatGLMForCausalLM (ChatGLM2/3, GLM-4) --------------------------===//

#include "vgcu/Models/ChatGLM.h"
#include "vgcu/Models/WeightLoader.h"

#include <cmath>

using namespace vgcu;

/// A boolean field that must have `expected`: the other setting is a variant vgcu does not
/// build.
static llvm::Error requireFlag(const ConfigReader &reader, llvm::StringRef key, bool fallback,
                               bool expected, llvm::StringRef unsupported) {
  auto value = reader.boolean(key, fallback);
  if (!value)
    return value.takeError();
  if (*value == expected)
    return llvm::Error::success();
  return reader.fieldError(key, "is " + std::string(*value ? "true" : "false") + "; " +
                                    unsupported + " is not supported");
}

llvm::Error ChatGLMForCausalLM::parseConfig(const ConfigReader &reader,
                                            ModelConfig &config) const {
  config.sourcePath = reader.filePath().str();
  config.json = reader.raw();
  bool multiQuery = false, addQkvBias = false;
  int64_t groups = 1, quantizationBit = 0;
  double ropeRatio = 1.0;
  // configuration_chatglm.ChatGLMConfig's defaults.
  FieldReads read;
  read(config.architecture, readArchitecture(reader))
      (config.modelType, reader.string("model_type", "chatglm"))
      (config.vocabSize, reader.positiveInt("padded_vocab_size", 65024))
      (config.hiddenSize, reader.positiveInt("hidden_size", 4096))
      (config.intermediateSize, reader.positiveInt("ffn_hidden_size", 13696))
      (config.numHiddenLayers, reader.positiveInt("num_layers", 28))
      .check([&] { return checkLayerCount(reader, "num_layers", config.numHiddenLayers); })
      (config.numAttentionHeads, reader.positiveInt("num_attention_heads", 32))
      (config.headDim, reader.positiveInt("kv_channels", 128))
      .check([&]() -> llvm::Error {
        // The first half of each head rotates, as pairs.
        if (config.headDim % 4 == 0)
          return llvm::Error::success();
        return reader.fieldError("kv_channels", "is " + std::to_string(config.headDim) +
                                                    "; ChatGLM's rotary needs a multiple of 4");
      })
      (config.maxPositionEmbeddings, reader.positiveInt("seq_length", 2048))
      (config.rmsNormEps, reader.positiveNumber("layernorm_epsilon", 1e-5))
      (ropeRatio, reader.positiveNumber("rope_ratio", 1.0))
      (config.attentionBias, reader.boolean("add_bias_linear", false))
      (addQkvBias, reader.boolean("add_qkv_bias", false))
      (multiQuery, reader.boolean("multi_query_attention", false))
      (groups, reader.positiveInt("multi_query_group_num", 1))
      (quantizationBit, reader.nonNegativeInt("quantization_bit", 0))
      .check([&]() -> llvm::Error {
        if (quantizationBit == 0)
          return llvm::Error::success();
        return reader.fieldError("quantization_bit",
                                 "is " + std::to_string(quantizationBit) +
                                     "; ChatGLM's own weight quantization is not supported "
                                     "(use the float checkpoint)");
      })
      .check([&]() -> llvm::Error {
        const llvm::json::Value *prefix = reader.raw().get("pre_seq_len");
        if (!prefix || prefix->kind() == llvm::json::Value::Null)
          return llvm::Error::success();
        return reader.fieldError("pre_seq_len", "is set; P-tuning prefixes are not supported");
      })
      .check([&] { return requireFlag(reader, "rmsnorm", true, true, "LayerNorm instead of RMSNorm"); })
      .check([&] {
        return requireFlag(reader, "post_layer_norm", true, true,
                           "a model without its final layer norm");
      })
      .check([&] {
        return requireFlag(reader, "apply_residual_connection_post_layernorm", false, false,
                           "a residual taken after the layer norm");
      })
      .check([&] {
        return requireFlag(reader, "fp32_residual_connection", false, false,
                           "an f32 residual stream");
      })
      (config.torchDtype, reader.string("torch_dtype", "float32"));
  if (auto error = read.take())
    return error;
  config.numKeyValueHeads = multiQuery ? groups : config.numAttentionHeads;
  if (config.numAttentionHeads % config.numKeyValueHeads != 0)
    return reader.fieldError("multi_query_group_num",
                             "(" + std::to_string(groups) + ") does not divide "
                             "num_attention_heads (" +
                                 std::to_string(config.numAttentionHeads) + ")");
  config.rotaryDim = config.headDim / 2;
  config.ropeTheta = 10000.0 * ropeRatio;
  config.mlpBias = config.attentionBias;
  config.hiddenAct = "silu";
  // modeling_chatglm.py never ties output_layer to the embedding, whatever the config says.
  config.tieWordEmbeddings = false;
  config.slidingWindows.assign(config.numHiddenLayers, std::nullopt);
  (void)addQkvBias; // read again by attentionSpec()
  return llvm::Error::success();
}

const LlamaModuleNames &ChatGLMForCausalLM::moduleNames() const {
  static const LlamaModuleNames names = [] {
    LlamaModuleNames n;
    n.model = "transformer";
    n.embedTokens = "embedding.word_embeddings";
    n.layers = "encoder.layers";
    n.selfAttn = "self_attention";
    n.norm = "encoder.final_layernorm";
    n.lmHead = "transformer.output_layer";
    n.qkvProj = "query_key_value";
    n.qkvParts = {"query", "key", "value"};
    n.oProj = "dense";
    n.gateUpProj = "dense_h_to_4h";
    n.gateUpParts = {"gate", "up"};
    n.downProj = "dense_4h_to_h";
    return n;
  }();
  return names;
}

AttentionSpec ChatGLMForCausalLM::attentionSpec(int64_t layerIndex) const {
  AttentionSpec spec = LlamaForCausalLM::attentionSpec(layerIndex);
  // add_bias_linear puts biases on every linear; add_qkv_bias on query_key_value alone.
  spec.qkvBias = config().attentionBias ||
                 config().json.getBoolean("add_qkv_bias").value_or(false);
  spec.neoxStyle = false;
  // apply_query_key_layer_scaling divides the scores by the layer number and multiplies the
  // f32 scores by it again: the scale is 1/sqrt(kv_channels) either way.
  spec.scale = 1.0 / std::sqrt(static_cast<double>(config().headDim));
  return spec;
}

std::unique_ptr<RMSNorm> ChatGLMForCausalLM::makeNorm(ModelContext &context,
                                                      std::string modulePrefix,
                                                      int64_t size) const {
  // (weight * x_normalised) in f32, then one cast to the model dtype.
  return std::make_unique<RMSNorm>(context, modulePrefix, size, config().rmsNormEps,
                                   /*weightOffset=*/0.0, /*scaleInF32=*/true);
}

bool ChatGLMForCausalLM::skipCheckpointTensor(llvm::StringRef name,
                                              const ModelConfig &config) const {
  // A persistent buffer of the checkpoints whose values the model never reads.
  return name == "transformer.rotary_pos_emb.inv_freq";
}

std::vector<std::shared_ptr<const TensorTransform>>
ChatGLMForCausalLM::packedSegmentTransforms(llvm::StringRef checkpointName,
                                            const ParamInfo &param,
                                            const ModelConfig &config) const {
  // With multi-query attention the rows are all queries, then the groups' keys, then their
  // values; without it, each head's query, key and value are adjacent (view [heads, 3D]).
  bool multiQuery = config.json.getBoolean("multi_query_attention").value_or(false);
  if (multiQuery || !checkpointName.contains(".query_key_value."))
    return LlamaForCausalLM::packedSegmentTransforms(checkpointName, param, config);
  int64_t headDim = config.headDim;
  std::vector<int64_t> rows[3];
  for (int64_t head = 0; head < config.numAttentionHeads; ++head)
    for (int64_t part = 0; part < 3; ++part)
      for (int64_t row = 0; row < headDim; ++row)
        rows[part].push_back((head * 3 + part) * headDim + row);
  const char *names[3] = {"query", "key", "value"};
  std::vector<std::shared_ptr<const TensorTransform>> slices;
  for (int part = 0; part < 3; ++part)
    slices.push_back(gatherRows(std::string("the ") + names[part] + " rows of each head's [q, k, v]",
                                param.shape, std::move(rows[part])));
  return slices;
}
