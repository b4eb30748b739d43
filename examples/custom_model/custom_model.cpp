//===- custom_model.cpp - An example plugin: a new architecture and an override ----===//
//
// Option A: CustomModelForCausalLM, written from vgcu's module pieces. Its decoder layer is
// "parallel": attention and MLP both read one normalized input and both add to the residual
// (as GPT-J and Falcon do), which no built-in builder provides.
//
// Option B: LlamaForCausalLM overridden by a subclass that changes one hook, the MLP, to a
// GELU(tanh)-gated one. Registering an existing name replaces it (and says so in the log).
// And GemmaStyleLlamaForCausalLM, a Llama variant made of hooks only: (1 + w) RMSNorms,
// embeddings scaled by √hidden, a GELU(tanh)-gated MLP and a tied head (the Gemma recipe);
// its PyTorch reference is reference.py next to this file.
//
//===----------------------------------------------------------------------===//

#include "vgcu/Models/Layers.h"
#include "vgcu/Models/Llama.h"
#include "vgcu/Models/ModelRegistry.h"

#include <cmath>

using namespace vgcu;
using mlir::Value;

namespace {

//===----------------------------------------------------------------------===//
// Option A: a new architecture from the module pieces
//===----------------------------------------------------------------------===//

class CustomAttention : public Module {
public:
  CustomAttention(ModelContext &ctx, std::string prefix)
      : Module(ctx, prefix), config(ctx.config()),
        qkvProj(ctx, child("qkv_proj"), config.hiddenSize,
                {{"q_proj", config.numAttentionHeads * config.headDim},
                 {"k_proj", config.numKeyValueHeads * config.headDim},
                 {"v_proj", config.numKeyValueHeads * config.headDim}},
                /*bias=*/false),
        oProj(ctx, child("o_proj"), config.numAttentionHeads * config.headDim,
              config.hiddenSize, /*bias=*/false),
        rotaryEmb(ctx, child("rotary_emb"), config.headDim, config.rotaryDim, config.ropeTheta),
        attn(ctx, child("attn"), config.numAttentionHeads, config.numKeyValueHeads,
             config.headDim, 1.0 / std::sqrt(static_cast<double>(config.headDim)),
             std::nullopt) {}

  Value forward(Value positions, Value hiddenStates) {
    std::vector<Value> qkv = qkvProj.split(qkvProj.forward(hiddenStates));
    auto [query, key] = rotaryEmb.forward(positions, qkv[0], qkv[1]);
    return oProj.forward(attn.forward(query, key, qkv[2]));
  }

private:
  const ModelConfig &config;
  PackedLinear qkvProj;
  Linear oProj;
  RotaryEmbedding rotaryEmb;
  Attention attn;
};

class CustomMLP : public Module {
public:
  CustomMLP(ModelContext &ctx, std::string prefix)
      : Module(ctx, prefix),
        gateUpProj(ctx, child("gate_up_proj"), ctx.config().hiddenSize,
                   {{"gate_proj", ctx.config().intermediateSize},
                    {"up_proj", ctx.config().intermediateSize}},
                   /*bias=*/false),
        downProj(ctx, child("down_proj"), ctx.config().intermediateSize,
                 ctx.config().hiddenSize, /*bias=*/false) {}

  Value forward(Value hiddenStates) {
    Value gateUp = gateUpProj.forward(hiddenStates);
    return downProj.forward(gatedActivation(ctx, "silu", gateUp, loc()));
  }

private:
  PackedLinear gateUpProj;
  Linear downProj;
};

/// x + attention(norm(x)) + mlp(norm(x)).
class CustomDecoderLayer : public Module {
public:
  CustomDecoderLayer(ModelContext &ctx, std::string prefix)
      : Module(ctx, prefix), selfAttn(ctx, child("self_attn")), mlp(ctx, child("mlp")),
        inputLayernorm(ctx, child("input_layernorm"), ctx.config().hiddenSize,
                       ctx.config().rmsNormEps) {}

  Value forward(Value positions, Value hiddenStates) {
    Value normed = inputLayernorm.forward(hiddenStates);
    Value attended = selfAttn.forward(positions, normed);
    Value transformed = mlp.forward(normed);
    return ctx.add(ctx.add(hiddenStates, attended, loc()), transformed, loc());
  }

private:
  CustomAttention selfAttn;
  CustomMLP mlp;
  RMSNorm inputLayernorm;
};

class CustomModel : public Module {
public:
  CustomModel(ModelContext &ctx, std::string prefix)
      : Module(ctx, prefix),
        embedTokens(ctx, child("embed_tokens"), ctx.config().vocabSize, ctx.config().hiddenSize),
        norm(ctx, child("norm"), ctx.config().hiddenSize, ctx.config().rmsNormEps) {
    for (int64_t i = 0; i < ctx.config().numHiddenLayers; ++i)
      layers.push_back(std::make_unique<CustomDecoderLayer>(ctx, child("layers." + std::to_string(i))));
  }

  Value getInputEmbeddings(Value inputIds) { return embedTokens.forward(inputIds); }

  Value forward(Value inputIds, Value positions) {
    Value hiddenStates = getInputEmbeddings(inputIds);
    for (auto &layer : layers)
      hiddenStates = layer->forward(positions, hiddenStates);
    return norm.forward(hiddenStates);
  }

  const VocabEmbedding &embedding() const { return embedTokens; }

private:
  VocabEmbedding embedTokens;
  std::vector<std::unique_ptr<CustomDecoderLayer>> layers;
  RMSNorm norm;
};

class CustomModelForCausalLM : public CausalLM {
public:
  void init(ModelContext &ctx, llvm::StringRef prefix) override {
    std::string modelPrefix = prefix.empty() ? "model" : prefix.str() + ".model";
    model = std::make_unique<CustomModel>(ctx, modelPrefix);
    lmHead = std::make_unique<LMHead>(ctx, prefix.empty() ? "lm_head" : prefix.str() + ".lm_head",
                                      ctx.config().vocabSize, ctx.config().hiddenSize);
  }
  Value getInputEmbeddings(Value inputIds) override {
    return model->getInputEmbeddings(inputIds);
  }
  Value forward(Value inputIds, Value positions) override {
    return model->forward(inputIds, positions);
  }
  Value computeLogits(Value hiddenStates) override { return lmHead->forward(hiddenStates); }

private:
  std::unique_ptr<CustomModel> model;
  std::unique_ptr<LMHead> lmHead;
};

//===----------------------------------------------------------------------===//
// Option B: an existing architecture with one hook changed
//===----------------------------------------------------------------------===//

/// Llama whose MLP gates with GELU(tanh) instead of SiLU.
class CustomLlamaForCausalLM : public LlamaForCausalLM {
public:
  std::unique_ptr<LlamaMLP> makeMLP(ModelContext &ctx, std::string prefix,
                                    int64_t layerIndex) const override {
    const ModelConfig &c = config();
    return std::make_unique<LlamaMLP>(ctx, prefix, c.hiddenSize, c.intermediateSize,
                                      "gelu_pytorch_tanh", c.mlpBias);
  }
};

/// Llama with Gemma's recipe, as hooks: every norm scales by (1 + w) (computed once when the
/// artifact is written), embeddings are scaled by √hidden_size, the MLP gates with
/// GELU(tanh), and the LM head is the embedding table.
class GemmaStyleLlamaForCausalLM : public LlamaForCausalLM {
public:
  ConfigDefaults configDefaults() const override {
    ConfigDefaults defaults;
    defaults.tieWordEmbeddings = true;
    return defaults;
  }
  std::unique_ptr<RMSNorm> makeNorm(ModelContext &ctx, std::string prefix,
                                    int64_t size) const override {
    return std::make_unique<RMSNorm>(ctx, prefix, size, config().rmsNormEps,
                                     /*weightOffset=*/1.0);
  }
  std::optional<double> embeddingScale() const override {
    return std::sqrt(static_cast<double>(config().hiddenSize));
  }
  std::unique_ptr<LlamaMLP> makeMLP(ModelContext &ctx, std::string prefix,
                                    int64_t layerIndex) const override {
    const ModelConfig &c = config();
    return std::make_unique<LlamaMLP>(ctx, prefix, c.hiddenSize, c.intermediateSize,
                                      "gelu_pytorch_tanh", c.mlpBias);
  }
};

} // namespace

extern "C" void vgcuRegisterPlugin(ModelRegistry &registry) {
  registry.registerModel(
      "GemmaStyleLlamaForCausalLM", [] { return std::make_unique<GemmaStyleLlamaForCausalLM>(); },
      {"Custom (plugin)", "Llama with (1 + w) norms, √hidden-scaled embeddings, GELU(tanh) MLP",
       {"examples/custom_model/gemma_style"}});
  registry.registerModel(
      "CustomModelForCausalLM", [] { return std::make_unique<CustomModelForCausalLM>(); },
      {"Custom (plugin)", "parallel attention + MLP decoder layer, one RMSNorm per layer",
       {"examples/custom_model"}});
  registry.registerModel(
      "LlamaForCausalLM", [] { return std::make_unique<CustomLlamaForCausalLM>(); },
      {"Llama (plugin override)", "Llama with a GELU(tanh)-gated MLP", {}});
}
