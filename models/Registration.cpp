//===- Registration.cpp - vgcu's built-in architectures in the model registry -----===//

#include "vgcu/Models/Baichuan.h"
#include "vgcu/Models/ChatGLM.h"
#include "vgcu/Models/DeepSeek.h"
#include "vgcu/Models/GPT2.h"
#include "vgcu/Models/Gemma.h"
#include "vgcu/Models/InternLM2.h"
#include "vgcu/Models/Llama.h"
#include "vgcu/Models/MoE.h"
#include "vgcu/Models/ModelRegistry.h"
#include "vgcu/Models/OPT.h"
#include "vgcu/Models/Phi3.h"

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
    registerBuiltin("GemmaForCausalLM", [] { return std::make_unique<GemmaForCausalLM>(); },
                    {"Gemma", "(1 + w) RMSNorm in f32, √hidden-scaled embeddings, GELU(tanh) "
                              "MLP, explicit head_dim, tied head",
                     {"google/gemma-2b", "google/gemma-7b"}});
    registerBuiltin("Gemma2ForCausalLM", [] { return std::make_unique<Gemma2ForCausalLM>(); },
                    {"Gemma", "Gemma with sandwich norms, soft-capped attention and logits, "
                              "sliding window on alternating layers",
                     {"google/gemma-2-9b", "google/gemma-2-27b"}});
    registerBuiltin("Phi3ForCausalLM", [] { return std::make_unique<Phi3ForCausalLM>(); },
                    {"Phi-3", "packed qkv_proj and gate_up_proj in the checkpoint, LongRoPE, "
                              "partial rotary, sliding window",
                     {"microsoft/Phi-3-mini-4k-instruct", "microsoft/Phi-3.5-mini-instruct"}});
    registerBuiltin("InternLM2ForCausalLM",
                    [] { return std::make_unique<InternLM2ForCausalLM>(); },
                    {"InternLM2", "Llama layout under InternLM2's names; wqkv grouped per KV head, "
                                  "regrouped when loaded",
                     {"internlm/internlm2-7b", "internlm/internlm2-chat-7b"}});
    registerBuiltin("BaichuanForCausalLM", [] { return std::make_unique<BaichuanForCausalLM>(); },
                    {"Baichuan", "packed W_pack, RoPE, NormHead (rows L2-normalised when the "
                                 "artifact is written); 13B (ALiBi) refused",
                     {"baichuan-inc/Baichuan2-7B-Base", "baichuan-inc/Baichuan2-7B-Chat"}});
    registerBuiltin("BaiChuanForCausalLM", [] { return std::make_unique<BaiChuanForCausalLM>(); },
                    {"Baichuan", "packed W_pack, RoPE", {"baichuan-inc/Baichuan-7B"}});
    registerBuiltin("ChatGLMModel", [] { return std::make_unique<ChatGLMForCausalLM>(); },
                    {"ChatGLM", "multi-query groups, q/k/v bias, rotary on interleaved pairs of "
                                "half of each head (rope_ratio), RMSNorm scaled in f32, SwiGLU",
                     {"THUDM/chatglm3-6b", "THUDM/glm-4-9b-chat"}});
    registerBuiltin("ChatGLMForConditionalGeneration",
                    [] { return std::make_unique<ChatGLMForCausalLM>(); },
                    {"ChatGLM", "the same model as ChatGLMModel", {"THUDM/chatglm2-6b"}});
    registerBuiltin("GPT2LMHeadModel", [] { return std::make_unique<GPT2LMHeadModel>(); },
                    {"GPT-2", "Conv1D weights transposed when loaded, learned positions, "
                              "LayerNorm, gelu_new, tied head",
                     {"openai-community/gpt2", "openai-community/gpt2-xl"}});
    registerBuiltin("MixtralForCausalLM", [] { return std::make_unique<MixtralForCausalLM>(); },
                    {"Mixture of experts", "Mistral attention, a SiLU-gated mixture of experts "
                                           "on every layer, renormalised top-k routing",
                     {"mistralai/Mixtral-8x7B-v0.1", "mistralai/Mixtral-8x22B-v0.1"}});
    registerBuiltin("Qwen2MoeForCausalLM", [] { return std::make_unique<Qwen2MoeForCausalLM>(); },
                    {"Mixture of experts", "Qwen2 attention, experts plus a sigmoid-gated "
                                           "shared expert in the same fused launch",
                     {"Qwen/Qwen1.5-MoE-A2.7B", "Qwen/Qwen2-57B-A14B"}});
    registerBuiltin("Qwen3MoeForCausalLM", [] { return std::make_unique<Qwen3MoeForCausalLM>(); },
                    {"Mixture of experts", "Qwen3 attention, experts on the layers "
                                           "decoder_sparse_step / mlp_only_layers choose, "
                                           "norm_topk_prob",
                     {"Qwen/Qwen3-30B-A3B", "Qwen/Qwen3-235B-A22B"}});
    registerBuiltin("DeepseekV2ForCausalLM",
                    [] { return std::make_unique<DeepseekV2ForCausalLM>(); },
                    {"DeepSeek", "multi-head latent attention with a latent KV cache (kv_lora_rank "
                                 "+ qk_rope_head_dim per token), DeepSeekMoE with shared experts, "
                                 "greedy or group-limited routing",
                     {"deepseek-ai/DeepSeek-V2-Lite", "deepseek-ai/DeepSeek-V2"}});
    registerBuiltin("DeepseekV3ForCausalLM",
                    [] { return std::make_unique<DeepseekV3ForCausalLM>(); },
                    {"DeepSeek", "V2's layers with sigmoid noaux_tc routing "
                                 "(e_score_correction_bias, groups by their two best); MTP layers "
                                 "skipped",
                     {"deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-R1"}});
    registerBuiltin("OPTForCausalLM", [] { return std::make_unique<OPTForCausalLM>(); },
                    {"OPT", "LayerNorm, learned positions offset by 2, ReLU, biases, tied head",
                     {"facebook/opt-125m", "facebook/opt-6.7b"}});
    return true;
  }();
  (void)registered;
}
