//===- Registration.cpp - vgcu's built-in architectures in the model registry -----===//

#include "vgcu/Models/Llama.h"
#include "vgcu/Models/ModelRegistry.h"
#include "vgcu/Models/OPT.h"

using namespace vgcu;

void ModelRegistry::registerBuiltinModels() {
  static bool registered = [] {
    registerBuiltin("LlamaForCausalLM", [] { return std::make_unique<LlamaForCausalLM>(); },
                    {"Llama", "RMSNorm, rotary (neox), grouped KV heads, SiLU-gated MLP",
                     {"meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-70b-hf"}});
    registerBuiltin("MistralForCausalLM", [] { return std::make_unique<MistralForCausalLM>(); },
                    {"Llama", "Llama layout with a sliding attention window",
                     {"mistralai/Mistral-7B-v0.1"}});
    registerBuiltin("Qwen2ForCausalLM", [] { return std::make_unique<Qwen2ForCausalLM>(); },
                    {"Llama", "q/k/v biases, tied embeddings when configured, opt-in sliding "
                              "window",
                     {"Qwen/Qwen2.5-0.5B", "Qwen/Qwen2-7B"}});
    registerBuiltin("Qwen3ForCausalLM", [] { return std::make_unique<Qwen3ForCausalLM>(); },
                    {"Llama", "per-head q/k RMSNorm before rotary, explicit head_dim",
                     {"Qwen/Qwen3-0.6B", "Qwen/Qwen3-8B"}});
    registerBuiltin("OPTForCausalLM", [] { return std::make_unique<OPTForCausalLM>(); },
                    {"OPT", "LayerNorm, learned positions offset by 2, ReLU, biases, tied head",
                     {"facebook/opt-125m", "facebook/opt-6.7b"}});
    return true;
  }();
  (void)registered;
}
