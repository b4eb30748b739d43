//===- Qwen2.cpp - Qwen2ForCausalLM: Llama with q/k/v biases ----------------------===//

#include "vgcu/Models/Llama.h"

using namespace vgcu;

ConfigDefaults Qwen2ForCausalLM::configDefaults() const {
  ConfigDefaults defaults;
  defaults.slidingWindow = 4096;
  defaults.slidingWindowNeedsFlag = true;
  return defaults;
}

AttentionSpec Qwen2ForCausalLM::attentionSpec(int64_t layerIndex) const {
  AttentionSpec spec = LlamaForCausalLM::attentionSpec(layerIndex);
  spec.qkvBias = true;
  spec.outputBias = false;
  return spec;
}
