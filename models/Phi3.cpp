//===- Phi3.cpp - Phi3ForCausalLM -------------------------------------------------===//

#include "vgcu/Models/Phi3.h"

using namespace vgcu;

ConfigDefaults Phi3ForCausalLM::configDefaults() const {
  ConfigDefaults defaults; // Hugging Face's Phi3Config
  defaults.rmsNormEps = 1e-5;
  // Phi3Config renames the older "su" and "yarn" to longrope, the only scaling it has.
  defaults.ropeTypeAliases = {{"su", "longrope"}, {"yarn", "longrope"}};
  defaults.ropeTypes = {"longrope"};
  return defaults;
}

std::optional<int64_t> Phi3ForCausalLM::recomputeAtLength(const ModelConfig &config) const {
  // Hugging Face's Phi3ForCausalLM.prepare_inputs_for_generation drops the KV cache when a
  // sequence with rope scaling reaches original_max_position_embeddings + 1 tokens, so every
  // key is rotated again with the long factors.
  if (!config.ropeScaling)
    return std::nullopt;
  return config.ropeScaling->originalMaxPositions + 1;
}
