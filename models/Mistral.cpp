//===- Mistral.cpp - MistralForCausalLM: Llama with a sliding attention window ----===//

#include "vgcu/Models/Llama.h"

using namespace vgcu;

ConfigDefaults MistralForCausalLM::configDefaults() const {
  ConfigDefaults defaults;
  defaults.slidingWindow = 4096;
  return defaults;
}

llvm::Error MistralForCausalLM::parseConfig(const ConfigReader &reader,
                                            ModelConfig &config) const {
  if (auto error = LlamaForCausalLM::parseConfig(reader, config))
    return error;
  // Unlike Llama, Hugging Face's MistralConfig defaults num_key_value_heads to 8.
  if (!reader.has("num_key_value_heads")) {
    config.numKeyValueHeads = 8;
    return validateHeads(reader, config);
  }
  return llvm::Error::success();
}
