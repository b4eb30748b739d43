// Times llama.cpp on a GGUF file through its C API: a prompt, then greedy decode, as
// vgcu-bench-torchscript times the TorchScript reference. Built by bench/llama_cpp/baseline.py
// against the headers and prebuilt CPU libraries of the npm packages it fetches.
//
//   llama-cpp-driver MODEL.gguf PROMPT_TOKENS NEW_TOKENS THREADS BACKEND_DIR
//
// Prints one JSON object: prefill and decode tokens/s and the prompt's last logits.
#include "ggml-backend.h"
#include "llama.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

static int fail(const char *what) {
  std::fprintf(stderr, "llama-cpp-driver: %s\n", what);
  return 1;
}

static llama_token greedy(const float *logits, int vocab) {
  int best = 0;
  for (int i = 1; i < vocab; ++i)
    if (logits[i] > logits[best])
      best = i;
  return best;
}

int main(int argc, char **argv) {
  if (argc != 6)
    return fail("usage: MODEL.gguf PROMPT_TOKENS NEW_TOKENS THREADS BACKEND_DIR");
  int promptTokens = std::atoi(argv[2]), newTokens = std::atoi(argv[3]),
      threads = std::atoi(argv[4]);
  // The CPU variants are separate libraries: the best one this CPU runs is picked here.
  ggml_backend_load_all_from_path(argv[5]);
  llama_backend_init();
  llama_model_params modelParams = llama_model_default_params();
  llama_model *model = llama_model_load_from_file(argv[1], modelParams);
  if (!model)
    return fail("cannot load the model");
  llama_context_params contextParams = llama_context_default_params();
  contextParams.n_ctx = promptTokens + newTokens;
  contextParams.n_batch = contextParams.n_ubatch = promptTokens;
  contextParams.n_seq_max = 1;
  contextParams.n_threads = contextParams.n_threads_batch = threads;
  // As vgcu computes: no flash attention, an f32 KV cache.
  contextParams.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  contextParams.type_k = contextParams.type_v = GGML_TYPE_F32;
  llama_context *context = llama_init_from_model(model, contextParams);
  if (!context)
    return fail("cannot create a context");
  int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  // The same prompt as the other benchmarks: token i is 7i mod vocab.
  std::vector<llama_token> prompt(promptTokens);
  for (int i = 0; i < promptTokens; ++i)
    prompt[i] = 7 * i % vocab;

  using Clock = std::chrono::steady_clock;
  std::vector<float> promptLogits;
  double prefillSeconds = 0, decodeSeconds = 0;
  for (int round = 0; round < 2; ++round) { // a warm-up round, then the timed one
    llama_memory_clear(llama_get_memory(context), true);
    auto start = Clock::now();
    if (llama_decode(context, llama_batch_get_one(prompt.data(), promptTokens)) != 0)
      return fail("prefill failed");
    const float *logits = llama_get_logits_ith(context, -1);
    auto prefillEnd = Clock::now();
    promptLogits.assign(logits, logits + vocab);
    llama_token token = greedy(logits, vocab);
    for (int step = 1; step < newTokens; ++step) {
      if (llama_decode(context, llama_batch_get_one(&token, 1)) != 0)
        return fail("decode failed");
      token = greedy(llama_get_logits_ith(context, -1), vocab);
    }
    auto end = Clock::now();
    prefillSeconds = std::chrono::duration<double>(prefillEnd - start).count();
    decodeSeconds = std::chrono::duration<double>(end - prefillEnd).count();
  }
  std::printf("{\"prefill_tokens_per_second\": %.6g, \"decode_tokens_per_second\": %.6g, "
              "\"logits\": [",
              promptTokens / prefillSeconds, (newTokens - 1) / decodeSeconds);
  for (int i = 0; i < vocab; ++i)
    std::printf(i ? ", %.9g" : "%.9g", promptLogits[i]);
  std::printf("]}\n");
  llama_free(context);
  llama_model_free(model);
  llama_backend_free();
  return 0;
}
