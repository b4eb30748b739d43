//===- Sampler.h - Picking the next token: penalties, temperature, top-k/p, min-p -----===//
#ifndef VGCU_RUNTIME_SAMPLER_H
#define VGCU_RUNTIME_SAMPLER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace vgcu::runtime {

/// A request's sampling parameters, with the meaning (and defaults) of vLLM's
/// SamplingParams; the processors follow Hugging Face's logits warpers.
struct SamplingParams {
  /// 0: greedy (the other processors but the penalty do not apply).
  double temperature = 1.0;
  /// 0: off.
  int64_t topK = 0;
  double topP = 1.0;
  double minP = 0.0;
  double repetitionPenalty = 1.0;
  /// Unset: a seed drawn for the request (results are then not reproducible).
  std::optional<uint64_t> seed;
  int64_t maxTokens = 16;
  std::vector<int64_t> stopTokenIds;
  /// Keep generating past the model's end-of-sequence tokens.
  bool ignoreEos = false;

  /// Out-of-range values, named.
  llvm::Error validate() const;
};

/// The distribution a token is drawn from: `logits` [vocab] after the repetition penalty
/// (over `history`, the prompt and generated tokens), temperature, top-k, top-p and min-p,
/// as f64 probabilities summing to 1. Not for greedy parameters.
at::Tensor samplingDistribution(const at::Tensor &logits, const SamplingParams &params,
                                llvm::ArrayRef<int64_t> history);

/// The next token: the argmax of the penalized logits when greedy, else a draw from
/// samplingDistribution with `generator` (one per request, so a seed reproduces it).
int64_t sampleToken(const at::Tensor &logits, const SamplingParams &params,
                    llvm::ArrayRef<int64_t> history, std::mt19937_64 &generator);

} // namespace vgcu::runtime

#endif // VGCU_RUNTIME_SAMPLER_H
