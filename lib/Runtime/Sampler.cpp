//===- Sampler.cpp - Picking the next token: penalties, temperature, top-k/p, min-p ---===//

#include "vgcu/Runtime/Sampler.h"
#include "vgcu/Support/Error.h"

#include <cmath>
#include <limits>

using namespace vgcu;
using namespace vgcu::runtime;

llvm::Error SamplingParams::validate() const {
  if (!(temperature >= 0.0) || !std::isfinite(temperature))
    return makeError("temperature must be a finite number >= 0, got {0}", temperature);
  if (topK < 0)
    return makeError("top_k must be >= 0 (0: off), got {0}", topK);
  if (!(topP > 0.0 && topP <= 1.0))
    return makeError("top_p must be in (0, 1], got {0}", topP);
  if (!(minP >= 0.0 && minP <= 1.0))
    return makeError("min_p must be in [0, 1], got {0}", minP);
  if (!(repetitionPenalty > 0.0) || !std::isfinite(repetitionPenalty))
    return makeError("repetition_penalty must be a finite number > 0, got {0}",
                     repetitionPenalty);
  if (maxTokens < 1)
    return makeError("max_tokens must be at least 1, got {0}", maxTokens);
  for (int64_t id : stopTokenIds)
    if (id < 0)
      return makeError("stop_token_ids must be token ids, got {0}", id);
  return llvm::Error::success();
}

/// Hugging Face's RepetitionPenaltyLogitsProcessor: each token seen is made less likely,
/// positive logits divided by the penalty, negative ones multiplied.
static at::Tensor penalize(const at::Tensor &logits, double penalty,
                           llvm::ArrayRef<int64_t> history) {
  if (penalty == 1.0 || history.empty())
    return logits;
  at::Tensor seen = at::tensor(std::vector<int64_t>(history.begin(), history.end()), at::kLong)
                        .clamp(0, logits.size(0) - 1);
  at::Tensor scores = logits.index_select(0, seen);
  scores = at::where(scores < 0, scores * penalty, scores / penalty);
  return logits.clone().index_copy_(0, seen, scores);
}

at::Tensor runtime::samplingDistribution(const at::Tensor &logits, const SamplingParams &params,
                                         llvm::ArrayRef<int64_t> history) {
  const double removed = -std::numeric_limits<double>::infinity();
  at::Tensor scores =
      penalize(logits.to(at::kDouble), params.repetitionPenalty, history) / params.temperature;
  int64_t vocab = scores.size(0);
  if (params.topK > 0 && params.topK < vocab) {
    // Every token scoring below the k-th best goes (ties with it stay).
    at::Tensor kth = std::get<0>(at::topk(scores, params.topK)).select(0, params.topK - 1);
    scores = scores.masked_fill(scores < kth, removed);
  }
  if (params.topP < 1.0) {
    // The least likely tokens whose probabilities add up to at most 1 - top_p go; the most
    // likely token always stays.
    auto [sorted, order] = at::sort(scores, /*dim=*/0, /*descending=*/false);
    at::Tensor cumulative = at::softmax(sorted, 0).cumsum(0);
    at::Tensor drop = cumulative <= (1.0 - params.topP);
    drop.select(0, vocab - 1).fill_(false);
    scores = scores.masked_fill(at::zeros_like(drop).index_copy_(0, order, drop), removed);
  }
  if (params.minP > 0.0) {
    at::Tensor probabilities = at::softmax(scores, 0);
    at::Tensor threshold = probabilities.max() * params.minP;
    at::Tensor drop = probabilities < threshold;
    drop.select(0, probabilities.argmax().item<int64_t>()).fill_(false);
    scores = scores.masked_fill(drop, removed);
  }
  return at::softmax(scores, 0);
}

int64_t runtime::sampleToken(const at::Tensor &logits, const SamplingParams &params,
                             llvm::ArrayRef<int64_t> history, std::mt19937_64 &generator) {
  if (params.temperature == 0.0)
    return penalize(logits, params.repetitionPenalty, history).argmax().item<int64_t>();
  at::Tensor distribution = samplingDistribution(logits, params, history).contiguous();
  // 53 random bits as a double in [0, 1): the same on every platform, unlike
  // std::uniform_real_distribution.
  double draw = static_cast<double>(generator() >> 11) * 0x1.0p-53;
  const double *probability = distribution.data_ptr<double>();
  int64_t vocab = distribution.size(0), last = 0;
  double cumulative = 0.0;
  for (int64_t token = 0; token < vocab; ++token) {
    if (probability[token] <= 0.0)
      continue;
    last = token;
    cumulative += probability[token];
    if (draw < cumulative)
      return token;
  }
  return last; // rounding left the sum just below the draw
}
