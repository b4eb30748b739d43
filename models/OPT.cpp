//===- OPT.cpp - OPTForCausalLM and its modules -----------------------------------===//

#include "vgcu/Models/OPT.h"

#include <cmath>

using namespace mlir;
using namespace vgcu;

llvm::Error OPTForCausalLM::parseConfig(const ConfigReader &reader, ModelConfig &config) const {
  if (auto error = parseCoreFields(reader, "ffn_dim", "opt", config))
    return error;
  int64_t projectionDim = 0;
  bool affine = true, before = true;
  FieldReads read;
  read(projectionDim, reader.positiveInt("word_embed_proj_dim", config.hiddenSize))
      .check([&]() -> llvm::Error {
        if (projectionDim == config.hiddenSize)
          return llvm::Error::success();
        return reader.fieldError("word_embed_proj_dim",
                                 "(" + std::to_string(projectionDim) +
                                     ") differs from hidden_size (" +
                                     std::to_string(config.hiddenSize) +
                                     "); OPT's project_in/project_out layers are not supported");
      })
      (affine, reader.boolean("layer_norm_elementwise_affine", true))
      .check([&]() -> llvm::Error {
        if (affine)
          return llvm::Error::success();
        return reader.fieldError("layer_norm_elementwise_affine",
                                 "is false; LayerNorm without weights is not supported");
      })
      (config.hiddenAct, reader.string("activation_function", "relu"))
      .check([&]() -> llvm::Error {
        if (config.hiddenAct == "relu" || config.hiddenAct == "gelu")
          return llvm::Error::success();
        return reader.fieldError("activation_function", "names '" + config.hiddenAct +
                                                            "'; OPT supports relu and gelu");
      })
      (config.tieWordEmbeddings, reader.boolean("tie_word_embeddings", true))
      (config.attentionBias, reader.boolean("enable_bias", true))
      (before, reader.boolean("do_layer_norm_before", true));
  if (auto error = read.take())
    return error;
  // The layer-norm placement is read again by init() from the raw JSON.
  config.numKeyValueHeads = config.numAttentionHeads;
  config.headDim = config.hiddenSize / config.numAttentionHeads;
  config.rotaryDim = config.headDim;
  config.mlpBias = config.attentionBias;
  config.layerNormEps = 1e-5;
  config.slidingWindows.assign(config.numHiddenLayers, std::nullopt);
  return validateHeads(reader, config);
}

PackedModulesMapping OPTForCausalLM::packedModulesMapping() const {
  return {{"qkv_proj", {"q_proj", "k_proj", "v_proj"}}};
}

bool OPTForCausalLM::skipCheckpointTensor(llvm::StringRef name,
                                          const ModelConfig &config) const {
  return name == "lm_head.weight" && config.tieWordEmbeddings;
}

std::string OPTForCausalLM::parameterNameFor(llvm::StringRef checkpointName) const {
  // Some OPT checkpoints name the decoder "decoder.*" rather than "model.decoder.*" (vLLM
  // adds the prefix too).
  if (checkpointName.starts_with("decoder."))
    return "model." + checkpointName.str();
  return checkpointName.str();
}

OPTAttention::OPTAttention(ModelContext &ctx, std::string prefix, bool bias)
    : Module(ctx, prefix),
      qkvProj(ctx, child("qkv_proj"), ctx.config().hiddenSize,
              {{"q_proj", ctx.config().hiddenSize},
               {"k_proj", ctx.config().hiddenSize},
               {"v_proj", ctx.config().hiddenSize}},
              bias),
      outProj(ctx, child("out_proj"), ctx.config().hiddenSize, ctx.config().hiddenSize, bias),
      // OPT scales q after q_proj by head_dim^-0.5; attention's scale does the same.
      attn(ctx, child("attn"), ctx.config().numAttentionHeads, ctx.config().numAttentionHeads,
           ctx.config().headDim, 1.0 / std::sqrt(static_cast<double>(ctx.config().headDim)),
           std::nullopt) {}

Value OPTAttention::forward(Value hiddenStates) {
  std::vector<Value> qkv = qkvProj.split(qkvProj.forward(hiddenStates));
  return outProj.forward(attn.forward(qkv[0], qkv[1], qkv[2]));
}

OPTDecoderLayer::OPTDecoderLayer(ModelContext &ctx, std::string prefix,
                                 const OPTOptions &options)
    : Module(ctx, prefix), options(options),
      selfAttn(ctx, child("self_attn"), options.enableBias),
      selfAttnLayerNorm(ctx, child("self_attn_layer_norm"), ctx.config().hiddenSize,
                        ctx.config().layerNormEps),
      fc1(ctx, child("fc1"), ctx.config().hiddenSize, ctx.config().intermediateSize,
          options.enableBias),
      fc2(ctx, child("fc2"), ctx.config().intermediateSize, ctx.config().hiddenSize,
          options.enableBias),
      finalLayerNorm(ctx, child("final_layer_norm"), ctx.config().hiddenSize,
                     ctx.config().layerNormEps) {}

Value OPTDecoderLayer::forward(Value hiddenStates) {
  Value residual = hiddenStates;
  if (options.doLayerNormBefore)
    hiddenStates = selfAttnLayerNorm.forward(hiddenStates);
  hiddenStates = ctx.add(residual, selfAttn.forward(hiddenStates), loc());
  if (!options.doLayerNormBefore)
    hiddenStates = selfAttnLayerNorm.forward(hiddenStates);

  residual = hiddenStates;
  if (options.doLayerNormBefore)
    hiddenStates = finalLayerNorm.forward(hiddenStates);
  hiddenStates = fc2.forward(activation(ctx, ctx.config().hiddenAct, fc1.forward(hiddenStates),
                                        loc()));
  hiddenStates = ctx.add(residual, hiddenStates, loc());
  if (!options.doLayerNormBefore)
    hiddenStates = finalLayerNorm.forward(hiddenStates);
  return hiddenStates;
}

OPTDecoder::OPTDecoder(ModelContext &ctx, std::string prefix, const OPTOptions &options)
    : Module(ctx, prefix), options(options),
      embedTokens(ctx, child("embed_tokens"), ctx.config().vocabSize, ctx.config().hiddenSize),
      embedPositions(ctx, child("embed_positions"),
                     ctx.config().maxPositionEmbeddings + kPositionOffset,
                     ctx.config().hiddenSize) {
  if (options.doLayerNormBefore)
    finalLayerNorm = std::make_unique<LayerNorm>(ctx, child("final_layer_norm"),
                                                 ctx.config().hiddenSize,
                                                 ctx.config().layerNormEps);
  for (int64_t i = 0; i < ctx.config().numHiddenLayers; ++i)
    layers.push_back(
        std::make_unique<OPTDecoderLayer>(ctx, child("layers." + std::to_string(i)), options));
}

Value OPTDecoder::getInputEmbeddings(Value inputIds) { return embedTokens.forward(inputIds); }

Value OPTDecoder::forward(Value inputIds, Value positions) {
  Value tokens = getInputEmbeddings(inputIds);
  Value shifted = ctx.addIndexOffset(positions, kPositionOffset, ctx.loc(embedPositions.prefix()));
  Value hiddenStates = ctx.add(tokens, embedPositions.forward(shifted), loc());
  for (auto &layer : layers)
    hiddenStates = layer->forward(hiddenStates);
  if (finalLayerNorm)
    hiddenStates = finalLayerNorm->forward(hiddenStates);
  return hiddenStates;
}

void OPTForCausalLM::init(ModelContext &ctx, llvm::StringRef prefix) {
  OPTOptions options;
  const llvm::json::Object &json = ctx.config().json;
  options.doLayerNormBefore = json.getBoolean("do_layer_norm_before").value_or(true);
  options.enableBias = ctx.config().attentionBias;
  std::string modelPrefix = prefix.empty() ? "model" : prefix.str() + ".model";
  decoder = std::make_unique<OPTDecoder>(ctx, modelPrefix + ".decoder", options);
  if (ctx.config().tieWordEmbeddings)
    lmHead = std::make_unique<LMHead>(LMHead::tiedTo(ctx, decoder->embedding()));
  else
    lmHead = std::make_unique<LMHead>(ctx, prefix.empty() ? "lm_head" : prefix.str() + ".lm_head",
                                      ctx.config().vocabSize, ctx.config().hiddenSize);
}

Value OPTForCausalLM::getInputEmbeddings(Value inputIds) {
  return decoder->getInputEmbeddings(inputIds);
}

Value OPTForCausalLM::forward(Value inputIds, Value positions) {
  return decoder->forward(inputIds, positions);
}

Value OPTForCausalLM::computeLogits(Value hiddenStates) { return lmHead->forward(hiddenStates); }
