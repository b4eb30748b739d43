//===- GPT2.cpp - GPT2LMHeadModel and its modules ------------------------------------===//

#include "vgcu/Models/GPT2.h"
#include "vgcu/Models/WeightLoader.h"

#include <cmath>

using namespace mlir;
using namespace vgcu;

llvm::Error GPT2LMHeadModel::parseConfig(const ConfigReader &reader, ModelConfig &config) const {
  config.sourcePath = reader.filePath().str();
  config.json = reader.raw();
  bool crossAttention = false;
  std::optional<int64_t> inner;
  // configuration_gpt2.GPT2Config's defaults.
  FieldReads read;
  read(config.architecture, readArchitecture(reader))
      (config.modelType, reader.string("model_type", "gpt2"))
      (config.vocabSize, reader.positiveInt("vocab_size", 50257))
      (config.hiddenSize, reader.positiveInt("n_embd", 768))
      (config.numHiddenLayers, reader.positiveInt("n_layer", 12))
      .check([&] { return checkLayerCount(reader, "n_layer", config.numHiddenLayers); })
      (config.numAttentionHeads, reader.positiveInt("n_head", 12))
      (config.maxPositionEmbeddings, reader.positiveInt("n_positions", 1024))
      (inner, reader.optionalPositiveInt("n_inner"))
      (config.layerNormEps, reader.positiveNumber("layer_norm_epsilon", 1e-5))
      (config.hiddenAct, reader.string("activation_function", "gelu_new"))
      .check([&]() -> llvm::Error {
        if (config.hiddenAct == "swish")
          config.hiddenAct = "silu";
        for (llvm::StringRef supported : {"gelu_new", "gelu", "gelu_pytorch_tanh", "relu", "silu"})
          if (config.hiddenAct == supported)
            return llvm::Error::success();
        return reader.fieldError("activation_function",
                                 "names '" + config.hiddenAct +
                                     "'; GPT-2 supports gelu_new, gelu, gelu_pytorch_tanh, "
                                     "relu and silu");
      })
      (config.tieWordEmbeddings, reader.boolean("tie_word_embeddings", true))
      (crossAttention, reader.boolean("add_cross_attention", false))
      .check([&]() -> llvm::Error {
        if (!crossAttention)
          return llvm::Error::success();
        return reader.fieldError("add_cross_attention",
                                 "is true; GPT-2 as an encoder-decoder is not supported");
      })
      .check([&]() -> llvm::Error {
        // The scaling flags are read again by init(); here they are only checked.
        for (llvm::StringRef key : {"scale_attn_weights", "scale_attn_by_inverse_layer_idx",
                                    "reorder_and_upcast_attn"})
          if (auto flag = reader.boolean(key, false); !flag)
            return flag.takeError();
        return llvm::Error::success();
      })
      (config.torchDtype, reader.string("torch_dtype", "float32"));
  if (auto error = read.take())
    return error;
  config.intermediateSize = inner.value_or(4 * config.hiddenSize);
  config.numKeyValueHeads = config.numAttentionHeads;
  config.headDim = config.hiddenSize / config.numAttentionHeads;
  config.rotaryDim = config.headDim;
  config.attentionBias = config.mlpBias = true;
  config.slidingWindows.assign(config.numHiddenLayers, std::nullopt);
  return validateHeads(reader, config);
}

PackedModulesMapping GPT2LMHeadModel::packedModulesMapping() const {
  return {{"c_attn", {"q", "k", "v"}}};
}

std::string GPT2LMHeadModel::parameterNameFor(llvm::StringRef checkpointName) const {
  // The original openai-community/gpt2 files hold the base model's tensors without the
  // `transformer.` prefix (as vLLM's load_weights also accepts).
  if (checkpointName.starts_with("transformer.") || checkpointName.starts_with("lm_head."))
    return checkpointName.str();
  return "transformer." + checkpointName.str();
}

bool GPT2LMHeadModel::skipCheckpointTensor(llvm::StringRef name,
                                           const ModelConfig &config) const {
  // Causal-mask buffers of older checkpoints, and a tied head.
  if (name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias"))
    return true;
  return config.tieWordEmbeddings && name == "lm_head.weight";
}

std::shared_ptr<const TensorTransform>
GPT2LMHeadModel::checkpointTransform(llvm::StringRef checkpointName, llvm::StringRef param,
                                     const ModelConfig &config) const {
  // Conv1D stores [in, out]; vgcu's linears take [out, in].
  int64_t hidden = config.hiddenSize, inner = config.intermediateSize;
  if (param.ends_with(".attn.c_proj.weight"))
    return transposedColumns({hidden, hidden}, 0, hidden);
  if (param.ends_with(".mlp.c_fc.weight"))
    return transposedColumns({hidden, inner}, 0, inner);
  if (param.ends_with(".mlp.c_proj.weight"))
    return transposedColumns({inner, hidden}, 0, hidden);
  return nullptr;
}

std::vector<std::shared_ptr<const TensorTransform>>
GPT2LMHeadModel::packedSegmentTransforms(llvm::StringRef checkpointName, const ParamInfo &param,
                                         const ModelConfig &config) const {
  if (!checkpointName.ends_with(".weight"))
    return CausalLM::packedSegmentTransforms(checkpointName, param, config);
  // c_attn's [in, 3·hidden] columns are q, k and v.
  std::vector<std::shared_ptr<const TensorTransform>> slices;
  int64_t hidden = config.hiddenSize;
  for (int64_t part = 0; part < 3; ++part)
    slices.push_back(transposedColumns({hidden, 3 * hidden}, part * hidden, hidden));
  return slices;
}

GPT2Attention::GPT2Attention(ModelContext &ctx, std::string prefix, double scale)
    : Module(ctx, prefix),
      cAttn(ctx, child("c_attn"), ctx.config().hiddenSize,
            {{"q", ctx.config().hiddenSize},
             {"k", ctx.config().hiddenSize},
             {"v", ctx.config().hiddenSize}},
            /*bias=*/true),
      cProj(ctx, child("c_proj"), ctx.config().hiddenSize, ctx.config().hiddenSize,
            /*bias=*/true),
      attn(ctx, child("attn"), ctx.config().numAttentionHeads, ctx.config().numAttentionHeads,
           ctx.config().headDim, scale, std::nullopt) {}

Value GPT2Attention::forward(Value hiddenStates) {
  std::vector<Value> qkv = cAttn.split(cAttn.forward(hiddenStates));
  return cProj.forward(attn.forward(qkv[0], qkv[1], qkv[2]));
}

GPT2MLP::GPT2MLP(ModelContext &ctx, std::string prefix)
    : Module(ctx, prefix),
      cFc(ctx, child("c_fc"), ctx.config().hiddenSize, ctx.config().intermediateSize,
          /*bias=*/true),
      cProj(ctx, child("c_proj"), ctx.config().intermediateSize, ctx.config().hiddenSize,
            /*bias=*/true) {}

Value GPT2MLP::forward(Value hiddenStates) {
  return cProj.forward(activation(ctx, ctx.config().hiddenAct, cFc.forward(hiddenStates), loc()));
}

/// GPT2Attention's scale: 1/sqrt(head_dim) with scale_attn_weights, and a further
/// 1/(layer + 1) with scale_attn_by_inverse_layer_idx.
static double attentionScale(const ModelConfig &config, int64_t layerIndex) {
  double scale = 1.0;
  if (config.json.getBoolean("scale_attn_weights").value_or(true))
    scale /= std::sqrt(static_cast<double>(config.headDim));
  if (config.json.getBoolean("scale_attn_by_inverse_layer_idx").value_or(false))
    scale /= static_cast<double>(layerIndex + 1);
  return scale;
}

GPT2Block::GPT2Block(ModelContext &ctx, std::string prefix, int64_t layerIndex)
    : Module(ctx, prefix),
      ln1(ctx, child("ln_1"), ctx.config().hiddenSize, ctx.config().layerNormEps),
      attn(ctx, child("attn"), attentionScale(ctx.config(), layerIndex)),
      ln2(ctx, child("ln_2"), ctx.config().hiddenSize, ctx.config().layerNormEps),
      mlp(ctx, child("mlp")) {}

Value GPT2Block::forward(Value hiddenStates) {
  Value residual = hiddenStates;
  hiddenStates = ctx.add(attn.forward(ln1.forward(hiddenStates)), residual, loc());
  residual = hiddenStates;
  return ctx.add(residual, mlp.forward(ln2.forward(hiddenStates)), loc());
}

GPT2Model::GPT2Model(ModelContext &ctx, std::string prefix)
    : Module(ctx, prefix),
      wte(ctx, child("wte"), ctx.config().vocabSize, ctx.config().hiddenSize),
      wpe(ctx, child("wpe"), ctx.config().maxPositionEmbeddings, ctx.config().hiddenSize),
      lnF(ctx, child("ln_f"), ctx.config().hiddenSize, ctx.config().layerNormEps) {
  for (int64_t i = 0; i < ctx.config().numHiddenLayers; ++i)
    h.push_back(std::make_unique<GPT2Block>(ctx, child("h." + std::to_string(i)), i));
}

Value GPT2Model::getInputEmbeddings(Value inputIds) { return wte.forward(inputIds); }

Value GPT2Model::forward(Value inputIds, Value positions) {
  Value hiddenStates = ctx.add(getInputEmbeddings(inputIds), wpe.forward(positions), loc());
  for (auto &block : h)
    hiddenStates = block->forward(hiddenStates);
  return lnF.forward(hiddenStates);
}

void GPT2LMHeadModel::init(ModelContext &ctx, llvm::StringRef prefix) {
  auto name = [&](llvm::StringRef child) {
    return prefix.empty() ? child.str() : prefix.str() + "." + child.str();
  };
  transformer = std::make_unique<GPT2Model>(ctx, name("transformer"));
  if (ctx.config().tieWordEmbeddings)
    lmHead = std::make_unique<LMHead>(LMHead::tiedTo(ctx, transformer->embedding()));
  else
    lmHead = std::make_unique<LMHead>(ctx, name("lm_head"), ctx.config().vocabSize,
                                      ctx.config().hiddenSize);
}

Value GPT2LMHeadModel::getInputEmbeddings(Value inputIds) {
  return transformer->getInputEmbeddings(inputIds);
}

Value GPT2LMHeadModel::forward(Value inputIds, Value positions) {
  return transformer->forward(inputIds, positions);
}

Value GPT2LMHeadModel::computeLogits(Value hiddenStates) { return lmHead->forward(hiddenStates); }
