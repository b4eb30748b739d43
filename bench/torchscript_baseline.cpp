//===- torchscript_baseline.cpp - The PyTorch reference on LibTorch, for benchmarks --===//
//
// Runs a model traced by python/trace_model.py --with-cache the way an eager engine would:
// TorchScript on LibTorch, prefill of the prompt into a preallocated KV cache, then one
// token at a time, greedy. Prints the timings as JSON for bench/run.
//
//===----------------------------------------------------------------------===//

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <unordered_map>

namespace {

int usage() {
  std::cerr << "usage: vgcu-bench-torchscript MODEL.pt PROMPT_TOKENS NEW_TOKENS THREADS\n";
  return 2;
}

/// The cache shape recorded by trace_model.py in the archive's vgcu_ref.json.
std::vector<int64_t> cacheShape(const std::string &json) {
  auto key = json.find("\"kv_cache_shape\"");
  if (key == std::string::npos)
    throw std::runtime_error("the trace has no kv_cache_shape (trace with --with-cache)");
  auto open = json.find('[', key), close = json.find(']', key);
  std::vector<int64_t> shape;
  std::string list = json.substr(open + 1, close - open - 1);
  size_t start = 0;
  while (start < list.size()) {
    size_t comma = list.find(',', start);
    shape.push_back(std::stoll(list.substr(start, comma - start)));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return shape;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 5)
    return usage();
  try {
    int64_t promptTokens = std::stoll(argv[2]), newTokens = std::stoll(argv[3]);
    at::set_num_threads(std::stoi(argv[4]));
    torch::NoGradGuard noGrad;
    std::unordered_map<std::string, std::string> extra{{"vgcu_ref.json", ""}, {"config.json", ""}};
    torch::jit::Module module = torch::jit::load(argv[1], c10::nullopt, extra);
    module.eval();
    std::vector<int64_t> shape = cacheShape(extra["vgcu_ref.json"]);
    at::ScalarType dtype = module.attr("lm_head").toModule().attr("weight").toTensor().scalar_type();
    at::Tensor keys = at::zeros(shape, at::TensorOptions().dtype(dtype));
    at::Tensor values = at::zeros(shape, at::TensorOptions().dtype(dtype));
    auto vocab = module.attr("lm_head").toModule().attr("weight").toTensor().size(0);
    at::Tensor prompt = at::arange(promptTokens, at::kLong).mul(7).remainder(vocab);
    torch::jit::Method step = module.get_method("forward_with_cache");

    // Untimed warm-up of both shapes: TorchScript's profiling executor specializes and
    // optimizes the graph on its first runs.
    {
      at::Tensor warmKeys = at::zeros_like(keys), warmValues = at::zeros_like(values);
      step({prompt, at::arange(promptTokens, at::kLong), warmKeys, warmValues});
      for (int64_t i = 0; i < 3; ++i)
        step({at::tensor({int64_t(1)}, at::kLong), at::tensor({promptTokens + i}, at::kLong),
              warmKeys, warmValues});
    }

    using Clock = std::chrono::steady_clock;
    auto start = Clock::now();
    at::Tensor logits =
        step({prompt, at::arange(promptTokens, at::kLong), keys, values}).toTensor();
    int64_t next = logits[-1].argmax().item<int64_t>();
    auto prefilled = Clock::now();
    for (int64_t i = 1; i < newTokens; ++i) {
      int64_t position = promptTokens + i - 1;
      logits = step({at::tensor({next}, at::kLong), at::tensor({position}, at::kLong), keys, values})
                   .toTensor();
      next = logits[-1].argmax().item<int64_t>();
    }
    auto end = Clock::now();
    double prefill = std::chrono::duration<double>(prefilled - start).count();
    double decode = std::chrono::duration<double>(end - prefilled).count();
    std::cout << "{\"prefill_seconds\": " << prefill << ", \"decode_seconds\": " << decode
              << ", \"prefill_tokens_per_second\": " << promptTokens / prefill
              << ", \"decode_tokens_per_second\": " << (newTokens - 1) / decode << "}\n";
  } catch (const std::exception &error) {
    std::cerr << "vgcu-bench-torchscript: error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
