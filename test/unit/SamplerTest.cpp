//===- SamplerTest.cpp - Sampling: processors against Hugging Face's, seeds ----------===//

#include "vgcu/Runtime/Sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace vgcu::runtime;

namespace {

std::vector<double> softmax(const std::vector<double> &scores) {
  double top = *std::max_element(scores.begin(), scores.end());
  std::vector<double> result(scores.size());
  double sum = 0.0;
  for (size_t i = 0; i < scores.size(); ++i)
    sum += result[i] = std::isinf(scores[i]) ? 0.0 : std::exp(scores[i] - top);
  for (double &value : result)
    value /= sum;
  return result;
}

std::vector<double> toVector(const at::Tensor &tensor) {
  at::Tensor values = tensor.to(at::kDouble).contiguous();
  return std::vector<double>(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
}

/// The tokens Hugging Face's TopPLogitsWarper keeps, written out with loops: sorted
/// ascending, the ones whose cumulative probability is at most 1 - top_p go, the most
/// likely always stays.
std::vector<bool> referenceTopP(const std::vector<double> &logits, double topP) {
  std::vector<size_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return logits[a] < logits[b]; });
  std::vector<double> probabilities = softmax(logits);
  std::vector<bool> kept(logits.size(), true);
  double cumulative = 0.0;
  for (size_t rank = 0; rank + 1 < order.size(); ++rank) {
    cumulative += probabilities[order[rank]];
    if (cumulative <= 1.0 - topP)
      kept[order[rank]] = false;
  }
  return kept;
}

const std::vector<double> kLogits{2.0, -1.0, 0.5, 3.0, 1.0, -2.0, 0.0, 2.5};

at::Tensor logitsTensor() { return at::tensor(kLogits, at::kFloat); }

TEST(SamplerTest, ValidateNamesTheBadParameter) {
  SamplingParams params;
  params.topP = 0.0;
  EXPECT_NE(llvm::toString(params.validate()).find("top_p"), std::string::npos);
  params = SamplingParams();
  params.temperature = -1;
  EXPECT_NE(llvm::toString(params.validate()).find("temperature"), std::string::npos);
  params = SamplingParams();
  params.maxTokens = 0;
  EXPECT_NE(llvm::toString(params.validate()).find("max_tokens"), std::string::npos);
  EXPECT_FALSE(static_cast<bool>(SamplingParams().validate()));
}

TEST(SamplerTest, GreedyIsTheArgmaxOfThePenalizedLogits) {
  SamplingParams params;
  params.temperature = 0.0;
  std::mt19937_64 generator(0);
  EXPECT_EQ(sampleToken(logitsTensor(), params, {}, generator), 3);
  // HF's repetition penalty: 3.0 / 2 = 1.5 drops below 2.5 (token 7).
  params.repetitionPenalty = 2.0;
  EXPECT_EQ(sampleToken(logitsTensor(), params, {3}, generator), 7);
}

TEST(SamplerTest, TopKKeepsTheKBest) {
  SamplingParams params;
  params.topK = 3;
  std::vector<double> distribution = toVector(samplingDistribution(logitsTensor(), params, {}));
  std::vector<double> expected = softmax({2.0, -INFINITY, -INFINITY, 3.0, -INFINITY, -INFINITY,
                                          -INFINITY, 2.5});
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(distribution[i], expected[i], 1e-12) << "token " << i;
}

TEST(SamplerTest, TopPMatchesHuggingFacesWarper) {
  for (double topP : {0.1, 0.5, 0.7, 0.9, 0.95, 0.999}) {
    SamplingParams params;
    params.topP = topP;
    params.temperature = 0.7;
    std::vector<double> scaled(kLogits);
    for (double &value : scaled)
      value /= 0.7;
    std::vector<bool> kept = referenceTopP(scaled, topP);
    std::vector<double> masked(scaled);
    for (size_t i = 0; i < masked.size(); ++i)
      if (!kept[i])
        masked[i] = -INFINITY;
    std::vector<double> expected = softmax(masked);
    std::vector<double> distribution =
        toVector(samplingDistribution(logitsTensor(), params, {}));
    for (size_t i = 0; i < expected.size(); ++i)
      EXPECT_NEAR(distribution[i], expected[i], 1e-7) << "top_p " << topP << " token " << i;
  }
}

TEST(SamplerTest, MinPDropsTokensBelowAFractionOfTheBest) {
  SamplingParams params;
  params.minP = 0.3;
  std::vector<double> probabilities = softmax(kLogits);
  double threshold = 0.3 * *std::max_element(probabilities.begin(), probabilities.end());
  std::vector<double> masked(kLogits);
  for (size_t i = 0; i < masked.size(); ++i)
    if (probabilities[i] < threshold)
      masked[i] = -INFINITY;
  std::vector<double> expected = softmax(masked);
  std::vector<double> distribution = toVector(samplingDistribution(logitsTensor(), params, {}));
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(distribution[i], expected[i], 1e-7) << "token " << i;
}

TEST(SamplerTest, ASeedReproducesTheDraws) {
  SamplingParams params;
  params.temperature = 1.3;
  auto draws = [&](uint64_t seed) {
    std::mt19937_64 generator(seed);
    std::vector<int64_t> tokens;
    for (int i = 0; i < 64; ++i)
      tokens.push_back(sampleToken(logitsTensor(), params, {}, generator));
    return tokens;
  };
  EXPECT_EQ(draws(7), draws(7));
  EXPECT_NE(draws(7), draws(8));
}

TEST(SamplerTest, DrawsFollowTheDistribution) {
  SamplingParams params;
  params.temperature = 0.9;
  params.topK = 6;
  params.topP = 0.9;
  std::vector<double> distribution = toVector(samplingDistribution(logitsTensor(), params, {}));
  std::vector<int64_t> counts(kLogits.size(), 0);
  std::mt19937_64 generator(123);
  constexpr int kDraws = 40000;
  for (int i = 0; i < kDraws; ++i)
    ++counts[sampleToken(logitsTensor(), params, {}, generator)];
  for (size_t token = 0; token < counts.size(); ++token) {
    double frequency = static_cast<double>(counts[token]) / kDraws;
    // Five standard deviations of a binomial frequency: fails by chance about once in 10^6.
    double sigma = std::sqrt(distribution[token] * (1 - distribution[token]) / kDraws);
    EXPECT_NEAR(frequency, distribution[token], 5 * sigma + 1e-12) << "token " << token;
    if (distribution[token] == 0.0)
      EXPECT_EQ(counts[token], 0) << "token " << token << " is masked";
  }
}

} // namespace
