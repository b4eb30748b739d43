//===- Qwen3.cpp - Qwen3ForCausalLM: per-head q/k RMSNorm before rotary -----------===//

#include "vgcu/Models/Llama.h"

using namespace mlir;
using namespace vgcu;

Qwen3Attention::Qwen3Attention(ModelContext &ctx, std::string prefix, const AttentionSpec &spec)
    : LlamaAttention(ctx, prefix, spec),
      qNorm(ctx, child("q_norm"), spec.headDim, spec.normEpsilon),
      kNorm(ctx, child("k_norm"), spec.headDim, spec.normEpsilon) {}

Value Qwen3Attention::forward(Value positions, Value hiddenStates) {
  std::vector<Value> qkv = qkvProj.split(qkvProj.forward(hiddenStates));
  auto perHead = [&](RMSNorm &norm, Value projected, int64_t heads) {
    Value byHead = ctx.reshapeTokens(projected, {heads, spec.headDim}, loc());
    return ctx.reshapeTokens(norm.forward(byHead), {heads * spec.headDim}, loc());
  };
  Value query = perHead(qNorm, qkv[0], spec.numHeads);
  Value key = perHead(kNorm, qkv[1], spec.numKvHeads);
  std::tie(query, key) = rotaryEmb.forward(positions, query, key);
  return oProj.forward(attn.forward(query, key, qkv[2]));
}

ConfigDefaults Qwen3ForCausalLM::configDefaults() const {
  ConfigDefaults defaults;
  defaults.headDim = 128;
  defaults.slidingWindow = 4096;
  defaults.slidingWindowNeedsFlag = true;
  return defaults;
}

std::unique_ptr<LlamaAttention> Qwen3ForCausalLM::makeAttention(ModelContext &context,
                                                                std::string modulePrefix,
                                                                int64_t layerIndex) const {
  return std::make_unique<Qwen3Attention>(context, modulePrefix, attentionSpec(layerIndex));
}
