//===- Llama.cpp - LlamaForCausalLM and its modules -------------------------------===//

#include "vgcu/Models/Llama.h"

#include <cmath>

using namespace mlir;
using namespace vgcu;

LlamaMLP::LlamaMLP(ModelContext &ctx, std::string prefix, int64_t hiddenSize,
                   int64_t intermediateSize, std::string hiddenAct, bool bias)
    : Module(ctx, prefix),
      gateUpProj(ctx, child("gate_up_proj"), hiddenSize,
                 {{"gate_proj", intermediateSize}, {"up_proj", intermediateSize}}, bias),
      downProj(ctx, child("down_proj"), intermediateSize, hiddenSize, bias),
      hiddenAct(std::move(hiddenAct)) {}

Value LlamaMLP::forward(Value hiddenStates) {
  Value gateUp = gateUpProj.forward(hiddenStates);
  Value activated = gatedActivation(ctx, hiddenAct, gateUp, loc());
  return downProj.forward(activated);
}

LlamaAttention::LlamaAttention(ModelContext &ctx, std::string prefix, const AttentionSpec &spec)
    : Module(ctx, prefix), spec(spec),
      qkvProj(ctx, child("qkv_proj"), spec.hiddenSize,
              {{"q_proj", spec.numHeads * spec.headDim},
               {"k_proj", spec.numKvHeads * spec.headDim},
               {"v_proj", spec.numKvHeads * spec.headDim}},
              spec.qkvBias),
      oProj(ctx, child("o_proj"), spec.numHeads * spec.headDim, spec.hiddenSize,
            spec.outputBias),
      rotaryEmb(ctx, child("rotary_emb"), spec.headDim, spec.rotaryDim, spec.ropeTheta),
      attn(ctx, child("attn"), spec.numHeads, spec.numKvHeads, spec.headDim, spec.scale,
           spec.slidingWindow) {}

Value LlamaAttention::forward(Value positions, Value hiddenStates) {
  std::vector<Value> qkv = qkvProj.split(qkvProj.forward(hiddenStates));
  auto [query, key] = rotaryEmb.forward(positions, qkv[0], qkv[1]);
  Value output = attn.forward(query, key, qkv[2]);
  return oProj.forward(output);
}

LlamaDecoderLayer::LlamaDecoderLayer(ModelContext &ctx, std::string prefix, int64_t layerIndex,
                                     const LlamaForCausalLM &model)
    : Module(ctx, prefix),
      selfAttn(model.makeAttention(ctx, child("self_attn"), layerIndex)),
      mlp(model.makeMLP(ctx, child("mlp"), layerIndex)),
      inputLayernorm(model.makeNorm(ctx, child("input_layernorm"), ctx.config().hiddenSize)),
      postAttentionLayernorm(model.makeNorm(ctx, child("post_attention_layernorm"),
                                            ctx.config().hiddenSize)) {}

std::pair<Value, Value> LlamaDecoderLayer::forward(Value positions, Value hiddenStates,
                                                   Value residual) {
  std::tie(hiddenStates, residual) = inputLayernorm->forward(hiddenStates, residual);
  hiddenStates = selfAttn->forward(positions, hiddenStates);
  std::tie(hiddenStates, residual) = postAttentionLayernorm->forward(hiddenStates, residual);
  return {mlp->forward(hiddenStates), residual};
}

LlamaModel::LlamaModel(ModelContext &ctx, std::string prefix, const LlamaForCausalLM &model)
    : Module(ctx, prefix), model(model),
      embedTokens(ctx, child("embed_tokens"), ctx.config().vocabSize, ctx.config().hiddenSize),
      norm(model.makeNorm(ctx, child("norm"), ctx.config().hiddenSize)) {
  for (int64_t i = 0; i < ctx.config().numHiddenLayers; ++i)
    layers.push_back(model.makeDecoderLayer(ctx, child("layers." + std::to_string(i)), i));
}

Value LlamaModel::getInputEmbeddings(Value inputIds) {
  Value embeddings = embedTokens.forward(inputIds);
  if (std::optional<double> scale = model.embeddingScale())
    embeddings = ctx.scale(embeddings, *scale, loc());
  return embeddings;
}

Value LlamaModel::forward(Value inputIds, Value positions) {
  Value hiddenStates = getInputEmbeddings(inputIds);
  Value residual;
  for (auto &layer : layers)
    std::tie(hiddenStates, residual) = layer->forward(positions, hiddenStates, residual);
  return norm->forward(hiddenStates, residual).first;
}

void LlamaForCausalLM::init(ModelContext &context, llvm::StringRef modelPrefix) {
  ctx = &context;
  prefix = modelPrefix.str();
  auto name = [&](llvm::StringRef child) {
    return prefix.empty() ? child.str() : prefix + "." + child.str();
  };
  model = makeModel(context, name("model"));
  if (config().tieWordEmbeddings)
    lmHead = std::make_unique<LMHead>(LMHead::tiedTo(context, model->embedding()));
  else
    lmHead = std::make_unique<LMHead>(context, name("lm_head"), config().vocabSize,
                                      config().hiddenSize);
}

Value LlamaForCausalLM::getInputEmbeddings(Value inputIds) {
  return model->getInputEmbeddings(inputIds);
}

Value LlamaForCausalLM::forward(Value inputIds, Value positions) {
  return model->forward(inputIds, positions);
}

Value LlamaForCausalLM::computeLogits(Value hiddenStates) { return lmHead->forward(hiddenStates); }

std::unique_ptr<LlamaModel> LlamaForCausalLM::makeModel(ModelContext &context,
                                                        std::string modulePrefix) const {
  return std::make_unique<LlamaModel>(context, modulePrefix, *this);
}

std::unique_ptr<RMSNorm> LlamaForCausalLM::makeNorm(ModelContext &context,
                                                    std::string modulePrefix,
                                                    int64_t size) const {
  return std::make_unique<RMSNorm>(context, modulePrefix, size, config().rmsNormEps);
}

AttentionSpec LlamaForCausalLM::attentionSpec(int64_t layerIndex) const {
  const ModelConfig &c = config();
  AttentionSpec spec;
  spec.hiddenSize = c.hiddenSize;
  spec.numHeads = c.numAttentionHeads;
  spec.numKvHeads = c.numKeyValueHeads;
  spec.headDim = c.headDim;
  spec.rotaryDim = c.rotaryDim;
  spec.ropeTheta = c.ropeTheta;
  spec.scale = 1.0 / std::sqrt(static_cast<double>(c.headDim));
  spec.qkvBias = c.attentionBias;
  spec.outputBias = c.attentionBias;
  spec.slidingWindow = c.slidingWindows[layerIndex];
  spec.normEpsilon = c.rmsNormEps;
  return spec;
}

std::unique_ptr<LlamaAttention> LlamaForCausalLM::makeAttention(ModelContext &context,
                                                                std::string modulePrefix,
                                                                int64_t layerIndex) const {
  return std::make_unique<LlamaAttention>(context, modulePrefix, attentionSpec(layerIndex));
}

std::unique_ptr<LlamaMLP> LlamaForCausalLM::makeMLP(ModelContext &context,
                                                    std::string modulePrefix,
                                                    int64_t layerIndex) const {
  const ModelConfig &c = config();
  return std::make_unique<LlamaMLP>(context, modulePrefix, c.hiddenSize, c.intermediateSize,
                                    c.hiddenAct, c.mlpBias);
}

std::unique_ptr<LlamaDecoderLayer>
LlamaForCausalLM::makeDecoderLayer(ModelContext &context, std::string modulePrefix,
                                   int64_t layerIndex) const {
  return std::make_unique<LlamaDecoderLayer>(context, modulePrefix, layerIndex, *this);
}
