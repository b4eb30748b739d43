//===- Llama.cpp - LlamaForCausalLM and its modules -------------------------------===//

#include "vgcu/Models/Llama.h"

#include <cmath>

using namespace mlir;
using namespace vgcu;

LlamaMLP::LlamaMLP(ModelContext &ctx, std::string prefix, int64_t hiddenSize,
                   int64_t intermediateSize, std::string hiddenAct, bool bias,
                   const LlamaModuleNames &names)
    : FeedForward(ctx, prefix),
      gateUpProj(ctx, child(names.gateUpProj), hiddenSize,
                 {{names.gateUpParts[0], intermediateSize},
                  {names.gateUpParts[1], intermediateSize}},
                 bias),
      downProj(ctx, child(names.downProj), intermediateSize, hiddenSize, bias),
      hiddenAct(std::move(hiddenAct)) {}

Value LlamaMLP::forward(Value hiddenStates) {
  Value gateUp = gateUpProj.forward(hiddenStates);
  Value activated = gatedActivation(ctx, hiddenAct, gateUp, loc());
  return downProj.forward(activated);
}

LlamaAttention::LlamaAttention(ModelContext &ctx, std::string prefix, const AttentionSpec &spec,
                               const LlamaModuleNames &names)
    : Module(ctx, prefix), spec(spec),
      qkvProj(ctx, child(names.qkvProj), spec.hiddenSize,
              {{names.qkvParts[0], spec.numHeads * spec.headDim},
               {names.qkvParts[1], spec.numKvHeads * spec.headDim},
               {names.qkvParts[2], spec.numKvHeads * spec.headDim}},
              spec.qkvBias),
      oProj(ctx, child(names.oProj), spec.numHeads * spec.headDim, spec.hiddenSize,
            spec.outputBias),
      rotaryEmb(ctx, child("rotary_emb"), spec.headDim, spec.rotaryDim, spec.ropeTheta,
                spec.neoxStyle, spec.ropeScaling),
      attn(ctx, child("attn"), spec.numHeads, spec.numKvHeads, spec.headDim, spec.scale,
           spec.slidingWindow, spec.softcap) {}

Value LlamaAttention::forward(Value positions, Value hiddenStates) {
  std::vector<Value> qkv = qkvProj.split(qkvProj.forward(hiddenStates));
  auto [query, key] = rotaryEmb.forward(positions, qkv[0], qkv[1]);
  Value output = attn.forward(query, key, qkv[2]);
  return oProj.forward(output);
}

LlamaDecoderLayer::LlamaDecoderLayer(ModelContext &ctx, std::string prefix, int64_t layerIndex,
                                     const LlamaForCausalLM &model)
    : Module(ctx, prefix),
      selfAttn(model.makeAttention(ctx, child(model.moduleNames().selfAttn), layerIndex)),
      mlp(model.makeFeedForward(ctx, child(model.moduleNames().mlp), layerIndex)),
      inputLayernorm(model.makeNorm(ctx, child(model.moduleNames().inputLayernorm),
                                    ctx.config().hiddenSize)),
      postAttentionLayernorm(model.makeNorm(ctx, child(model.moduleNames().postAttentionLayernorm),
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
      embedTokens(ctx, child(model.moduleNames().embedTokens), ctx.config().vocabSize,
                  ctx.config().hiddenSize),
      norm(model.makeNorm(ctx, child(model.moduleNames().norm), ctx.config().hiddenSize)) {
  for (int64_t i = 0; i < ctx.config().numHiddenLayers; ++i)
    layers.push_back(model.makeDecoderLayer(
        ctx, child(model.moduleNames().layers + "." + std::to_string(i)), i));
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
  model = makeModel(context, name(moduleNames().model));
  if (config().tieWordEmbeddings)
    lmHead = std::make_unique<LMHead>(LMHead::tiedTo(context, model->embedding()));
  else
    lmHead = std::make_unique<LMHead>(context, name(moduleNames().lmHead), config().vocabSize,
                                      config().hiddenSize);
}

const LlamaModuleNames &LlamaForCausalLM::moduleNames() const {
  static const LlamaModuleNames llamaNames;
  return llamaNames;
}

bool LlamaForCausalLM::skipCheckpointTensor(llvm::StringRef name,
                                            const ModelConfig &config) const {
  if (name.contains("rotary_emb.inv_freq"))
    return true;
  return config.tieWordEmbeddings && name == moduleNames().lmHead + ".weight";
}

PackedModulesMapping LlamaForCausalLM::packedModulesMapping() const {
  const LlamaModuleNames &names = moduleNames();
  return {{names.qkvProj, names.qkvParts}, {names.gateUpProj, names.gateUpParts}};
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
  spec.ropeScaling = c.ropeScaling;
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
  return std::make_unique<LlamaAttention>(context, modulePrefix, attentionSpec(layerIndex),
                                          moduleNames());
}

std::unique_ptr<LlamaMLP> LlamaForCausalLM::makeMLP(ModelContext &context,
                                                    std::string modulePrefix,
                                                    int64_t layerIndex) const {
  const ModelConfig &c = config();
  return std::make_unique<LlamaMLP>(context, modulePrefix, c.hiddenSize, c.intermediateSize,
                                    c.hiddenAct, c.mlpBias, moduleNames());
}

std::unique_ptr<FeedForward> LlamaForCausalLM::makeFeedForward(ModelContext &context,
                                                              std::string modulePrefix,
                                                              int64_t layerIndex) const {
  const ModelConfig &c = config();
  if (c.moe && c.moe->sparseLayers[layerIndex])
    return std::make_unique<SparseMoeBlock>(context, modulePrefix, *c.moe, c.hiddenSize,
                                            moduleNames().expertParts);
  return makeMLP(context, modulePrefix, layerIndex);
}

std::unique_ptr<LlamaDecoderLayer>
LlamaForCausalLM::makeDecoderLayer(ModelContext &context, std::string modulePrefix,
                                   int64_t layerIndex) const {
  return std::make_unique<LlamaDecoderLayer>(context, modulePrefix, layerIndex, *this);
}
