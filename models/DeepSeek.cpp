//===- DeepSeek.cpp - DeepseekV2ForCausalLM and DeepseekV3ForCausalLM ---------------===//

#include "vgcu/Models/DeepSeek.h"

#include "vgcu/Models/WeightLoader.h"
#include "vgcu/Support/Log.h"

#include "dialects/vgcu/VgcuOps.h"

#include "llvm/Support/Regex.h"

#include <cmath>

using namespace mlir;
using namespace vgcu;

namespace {

/// The remote code's yarn_get_mscale.
double yarnMscale(double scale, double mscale) {
  if (scale <= 1.0)
    return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

/// A number of `object`, or `fallback` when absent or null.
double numberOr(const llvm::json::Object *object, llvm::StringRef key, double fallback) {
  if (!object)
    return fallback;
  if (auto value = object->getNumber(key))
    return *value;
  return fallback;
}

} // namespace

DeepseekAttention::DeepseekAttention(ModelContext &ctx, std::string prefix,
                                     const AttentionSpec &spec, const MlaConfig &mla)
    : LlamaAttention(ctx, prefix, spec), mla(mla),
      qProj(ctx, child("q_proj"), spec.hiddenSize,
            spec.numHeads * (mla.qkNopeHeadDim + mla.qkRopeHeadDim), false),
      qAProj(ctx, child("q_a_proj"), spec.hiddenSize, mla.qLoraRank, spec.outputBias),
      qBProj(ctx, child("q_b_proj"), mla.qLoraRank,
             spec.numHeads * (mla.qkNopeHeadDim + mla.qkRopeHeadDim), false),
      kvAProj(ctx, child("kv_a_proj_with_mqa"), spec.hiddenSize,
              mla.kvLoraRank + mla.qkRopeHeadDim, spec.outputBias),
      // The remote code builds both norms with DeepseekV2RMSNorm's default epsilon.
      qANorm(ctx, child("q_a_layernorm"), mla.qLoraRank, 1e-6),
      kvANorm(ctx, child("kv_a_layernorm"), mla.kvLoraRank, 1e-6) {}

Value DeepseekAttention::forward(Value positions, Value hiddenStates) {
  OpBuilder &b = ctx.builder();
  Value query = mla.qLoraRank ? qBProj.forward(qANorm.forward(qAProj.forward(hiddenStates)))
                              : qProj.forward(hiddenStates);
  Value compressed = kvAProj.forward(hiddenStates);
  Location kvLoc = ctx.loc(child("kv_a_proj_with_mqa"));
  int64_t lora = mla.kvLoraRank, rope = mla.qkRopeHeadDim;
  Value latent = kvANorm.forward(SliceOp::create(b, kvLoc, compressed, 1, 0, lora, 1));
  Value keyRope = SliceOp::create(b, kvLoc, compressed, 1, lora, lora + rope, 1);
  Value kvB = param("kv_b_proj.weight",
                    {spec.numHeads * (mla.qkNopeHeadDim + mla.vHeadDim), lora});
  RopeScalingAttr scaling;
  if (spec.ropeScaling)
    scaling = ropeScalingAttr(b.getContext(), *spec.ropeScaling);
  Value attended = MlaAttentionOp::create(
      b, ctx.loc(child("attn")), positions, query, latent, keyRope, kvB,
      b.getI64IntegerAttr(spec.numHeads), b.getI64IntegerAttr(mla.qkNopeHeadDim),
      b.getI64IntegerAttr(rope), b.getI64IntegerAttr(mla.vHeadDim),
      b.getF64FloatAttr(mla.softmaxScale), b.getF64FloatAttr(spec.ropeTheta), scaling);
  return oProj.forward(attended);
}

// The remote DeepseekV2Config's rms_norm_eps (1e-6) and rope_theta (1e4) are vgcu's defaults.
llvm::Error DeepseekV2ForCausalLM::parseConfig(const ConfigReader &reader,
                                               ModelConfig &config) const {
  if (auto error = LlamaForCausalLM::parseConfig(reader, config))
    return error;
  bool v3 = version() == 3;
  MlaConfig mla;
  std::optional<int64_t> qLoraRank;
  FieldReads read;
  read(qLoraRank, reader.optionalPositiveInt("q_lora_rank"))
      (mla.kvLoraRank, reader.positiveInt("kv_lora_rank", 512))
      (mla.qkNopeHeadDim, reader.positiveInt("qk_nope_head_dim", 128))
      (mla.qkRopeHeadDim, reader.positiveInt("qk_rope_head_dim", 64))
      (mla.vHeadDim, reader.positiveInt("v_head_dim", 128));
  if (auto error = read.take())
    return error;
  mla.qLoraRank = qLoraRank.value_or(0);
  if (mla.qkRopeHeadDim % 2 != 0)
    return reader.fieldError("qk_rope_head_dim", "(" + std::to_string(mla.qkRopeHeadDim) +
                                                     ") must be even: rotary rotates pairs");
  // Rotary: plain, or YaRN as the remote DeepseekV2YarnRotaryEmbedding computes it (cos and
  // sin times mscale / mscale_all_dim, the correction range always truncated).
  mla.softmaxScale = 1.0 / std::sqrt(static_cast<double>(mla.qkNopeHeadDim + mla.qkRopeHeadDim));
  config.rotaryDim = mla.qkRopeHeadDim;
  if (config.ropeScaling) {
    if (config.ropeScaling->type != "yarn")
      return reader.fieldError("rope_scaling", "has type '" + config.ropeScaling->type +
                                                   "'; DeepSeek's rotary is plain or yarn");
    const llvm::json::Value *raw = reader.raw().get("rope_scaling");
    if (!raw || !raw->getAsObject())
      raw = reader.raw().get("rope_parameters");
    const llvm::json::Object *scaling = raw ? raw->getAsObject() : nullptr;
    double factor = config.ropeScaling->factor;
    double mscale = numberOr(scaling, "mscale", 1.0);
    double mscaleAllDim = numberOr(scaling, "mscale_all_dim", 0.0);
    config.ropeScaling->attentionFactor =
        yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim);
    config.ropeScaling->truncate = true;
    if (mscaleAllDim != 0.0) {
      double m = yarnMscale(factor, mscaleAllDim);
      mla.softmaxScale *= m * m;
    }
  }
  config.mla = mla;

  // DeepSeekMoE, when the config has routed experts.
  const llvm::json::Value *routed = reader.raw().get("n_routed_experts");
  if (!routed || routed->kind() == llvm::json::Value::Null)
    return llvm::Error::success();
  if (config.hiddenAct != "silu")
    return reader.fieldError("hidden_act", "is '" + config.hiddenAct +
                                               "'; vgcu's experts are SiLU-gated");
  MoeConfig moe;
  int64_t shared = 0, firstDense = 0, frequency = 1;
  std::string method, scoring;
  bool normalize = false;
  double scalingFactor = 1.0;
  FieldReads moeRead;
  moeRead(moe.numExperts, reader.requirePositiveInt("n_routed_experts"))
      (moe.topK, reader.requirePositiveInt("num_experts_per_tok"))
      .check([&]() -> llvm::Error {
        if (moe.topK <= moe.numExperts)
          return llvm::Error::success();
        return reader.fieldError("num_experts_per_tok",
                                 "(" + std::to_string(moe.topK) + ") exceeds n_routed_experts (" +
                                     std::to_string(moe.numExperts) + ")");
      })
      (moe.intermediateSize, reader.positiveInt("moe_intermediate_size", v3 ? 2048 : 1407))
      (shared, reader.nonNegativeInt("n_shared_experts", 0))
      (firstDense, reader.nonNegativeInt("first_k_dense_replace", v3 ? 3 : 0))
      (frequency, reader.positiveInt("moe_layer_freq", 1))
      (method, reader.string("topk_method", v3 ? "noaux_tc" : "gready"))
      (scoring, reader.string("scoring_func", v3 ? "sigmoid" : "softmax"))
      (normalize, reader.boolean("norm_topk_prob", v3))
      (scalingFactor, reader.positiveNumber("routed_scaling_factor", v3 ? 2.5 : 1.0));
  if (auto error = moeRead.take())
    return error;
  if (scoring != "softmax" && scoring != "sigmoid")
    return reader.fieldError("scoring_func", "is '" + scoring + "'; MoEGate has softmax and "
                                                                 "sigmoid");
  bool grouped = method == "group_limited_greedy" || method == "noaux_tc";
  if (!grouped && method != "greedy" && method != "gready")
    return reader.fieldError("topk_method", "is '" + method + "'; MoEGate has greedy, "
                                                               "group_limited_greedy and noaux_tc");
  if (grouped) {
    FieldReads groupRead;
    groupRead(moe.numGroups, reader.requirePositiveInt("n_group"))
        (moe.topkGroups, reader.requirePositiveInt("topk_group"));
    if (auto error = groupRead.take())
      return error;
    if (moe.numExperts % moe.numGroups != 0)
      return reader.fieldError("n_group", "(" + std::to_string(moe.numGroups) +
                                              ") does not divide n_routed_experts (" +
                                              std::to_string(moe.numExperts) + ")");
    if (moe.topkGroups > moe.numGroups)
      return reader.fieldError("topk_group", "(" + std::to_string(moe.topkGroups) +
                                                 ") exceeds n_group (" +
                                                 std::to_string(moe.numGroups) + ")");
    if (method == "noaux_tc" && moe.numExperts / moe.numGroups < 2)
      return reader.fieldError("n_group", "leaves fewer than 2 experts per group, which "
                                          "noaux_tc scores by their two best");
  }
  moe.routeInF32 = true;
  moe.sigmoidScoring = scoring == "sigmoid";
  moe.groupTopTwoSum = method == "noaux_tc";
  moe.correctionBias = method == "noaux_tc";
  moe.renormalize = moe.topK > 1 && normalize;
  // V2 scales only weights it does not renormalise; V3 scales them either way.
  if ((v3 || !moe.renormalize) && scalingFactor != 1.0)
    moe.scalingFactor = scalingFactor;
  moe.sharedIntermediateSize = moe.intermediateSize * shared;
  moe.sharedModule = "shared_experts";
  moe.sharedGate = false;
  // DeepseekV2DecoderLayer: experts on layers >= first_k_dense_replace on the frequency.
  moe.sparseLayers.assign(config.numHiddenLayers, false);
  for (int64_t layer = firstDense; layer < config.numHiddenLayers; ++layer)
    moe.sparseLayers[layer] = layer % frequency == 0;
  config.moe = std::move(moe);
  return llvm::Error::success();
}

std::unique_ptr<LlamaAttention> DeepseekV2ForCausalLM::makeAttention(ModelContext &context,
                                                                     std::string modulePrefix,
                                                                     int64_t layerIndex) const {
  AttentionSpec spec = attentionSpec(layerIndex);
  // o_proj reads num_heads × v_head_dim.
  spec.headDim = config().mla->vHeadDim;
  return std::make_unique<DeepseekAttention>(context, modulePrefix, spec, *config().mla);
}

llvm::Expected<std::set<std::string>>
DeepseekV2ForCausalLM::loadWeights(WeightLoader &loader) const {
  auto loaded = LlamaForCausalLM::loadWeights(loader);
  if (!loaded)
    return loaded.takeError();
  const ModelConfig &c = loader.config();
  int64_t mtpTensors = 0;
  for (const std::string &name : loader.checkpointNames())
    if (!LlamaForCausalLM::skipCheckpointTensor(name, c) && skipCheckpointTensor(name, c))
      ++mtpTensors;
  if (mtpTensors > 0)
    logger().info("skipped {} tensors of the {} multi-token-prediction layer(s) from "
                  "model.layers.{} on (num_nextn_predict_layers): vgcu compiles the causal LM",
                  mtpTensors, c.json.getInteger("num_nextn_predict_layers").value_or(0),
                  c.numHiddenLayers);
  return loaded;
}

bool DeepseekV2ForCausalLM::skipCheckpointTensor(llvm::StringRef name,
                                                 const ModelConfig &config) const {
  if (LlamaForCausalLM::skipCheckpointTensor(name, config))
    return true;
  // model.layers.<L .. L + num_nextn_predict_layers - 1>.*: V3's multi-token prediction.
  int64_t extra = config.json.getInteger("num_nextn_predict_layers").value_or(0);
  llvm::SmallVector<llvm::StringRef, 2> match;
  static const llvm::Regex layer("^model\\.layers\\.([0-9]+)\\.");
  if (extra <= 0 || !layer.match(name, &match))
    return false;
  int64_t index = 0;
  if (match[1].getAsInteger(10, index))
    return false;
  return index >= config.numHiddenLayers && index < config.numHiddenLayers + extra;
}
