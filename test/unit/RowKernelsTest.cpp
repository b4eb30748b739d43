//===- RowKernelsTest.cpp - Row-loop kernels against the ATen compositions they replace -===//

#include "lib/Kernels/RowKernels.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace vgcu::runtime;

namespace {

/// Hugging Face LlamaRMSNorm in ATen, as ReferenceKernels.cpp composes it.
at::Tensor atenRmsNorm(const at::Tensor &x, const at::Tensor &w, double eps) {
  at::Tensor h = x.to(at::kFloat);
  h = h * at::rsqrt(h.pow(2).mean(-1, true) + eps);
  if (w.scalar_type() == at::kFloat && x.scalar_type() != at::kFloat)
    return (h * w).to(x.scalar_type());
  return w * h.to(x.scalar_type());
}

/// Largest difference in units of the dtype's precision at the values' scale.
double relativeError(const at::Tensor &got, const at::Tensor &want) {
  at::Tensor a = got.to(at::kDouble), b = want.to(at::kDouble);
  return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item<double>();
}

double toleranceOf(at::ScalarType type) {
  return type == at::kFloat ? 1e-5 : type == at::kBFloat16 ? 2e-2 : 4e-3;
}

class RowKernels : public testing::TestWithParam<at::ScalarType> {};

/// Paged caches of random keys and values holding two sequences in scattered blocks, of 13
/// and 20 tokens.
struct TwoSequences {
  int64_t heads = 4, kvHeads = 2, dim = 16;
  at::Tensor keyCache, valueCache;
  at::Tensor seqLens = at::tensor({int64_t{13}, int64_t{20}});
  at::Tensor tables = at::tensor(std::vector<int64_t>{4, 1, 0, 2, 5, 3}).view({2, 3});

  explicit TwoSequences(at::ScalarType type) {
    int64_t blockSize = 8, blocks = 6;
    keyCache = at::randn({blocks, blockSize, kvHeads, dim}).to(type);
    valueCache = at::randn({blocks, blockSize, kvHeads, dim}).to(type);
  }
};

TEST_P(RowKernels, RmsNormMatchesAten) {
  at::manual_seed(1);
  at::ScalarType type = GetParam();
  at::Tensor x = at::randn({5, 96}).to(type), w = (at::rand({96}) + 0.5).to(type);
  at::Tensor out = at::empty_like(x);
  ASSERT_TRUE(rows::rmsNorm(x, w, 1e-6, out));
  EXPECT_LT(relativeError(out, atenRmsNorm(x, w, 1e-6)), toleranceOf(type));
  // Gemma's f32 (1 + w) over a narrower input scales before the one rounding.
  at::Tensor wide = at::rand({96}) + 0.5;
  ASSERT_TRUE(rows::rmsNorm(x, wide, 1e-6, out));
  EXPECT_LT(relativeError(out, atenRmsNorm(x, wide, 1e-6)), toleranceOf(type));
}

TEST_P(RowKernels, AddRmsNormUpdatesBothInPlace) {
  at::manual_seed(2);
  at::ScalarType type = GetParam();
  at::Tensor x = at::randn({3, 64}).to(type), residual = at::randn({3, 64}).to(type);
  at::Tensor w = (at::rand({64}) + 0.5).to(type);
  at::Tensor sum = residual.clone().add_(x);
  at::Tensor normed = atenRmsNorm(sum, w, 1e-5);
  ASSERT_TRUE(rows::addRmsNorm(x, residual, w, 1e-5));
  EXPECT_TRUE(at::equal(residual, sum));
  EXPECT_LT(relativeError(x, normed), toleranceOf(type));
}

TEST_P(RowKernels, AttentionOverBlocksMatchesGatheredSoftmax) {
  at::manual_seed(3);
  at::ScalarType type = GetParam();
  TwoSequences caches(type);
  int64_t heads = caches.heads, kvHeads = caches.kvHeads, dim = caches.dim;
  const at::Tensor &keyCache = caches.keyCache, &valueCache = caches.valueCache,
                   &seqLens = caches.seqLens, &tables = caches.tables;
  // Each sequence querying its last position.
  at::Tensor q = at::randn({2, heads, dim}).to(type);
  at::Tensor positions = seqLens - 1;
  for (std::optional<int64_t> window : {std::optional<int64_t>(), std::optional<int64_t>(5)}) {
    for (std::optional<double> softcap : {std::optional<double>(), std::optional<double>(3.0)}) {
      at::Tensor out = at::empty({2, heads * dim}, q.options());
      ASSERT_TRUE(rows::attendEachQuery(q, keyCache, valueCache, positions, seqLens, tables,
                                        0.25, window, softcap, out));
      for (int64_t s = 0; s < 2; ++s) {
        int64_t length = seqLens[s].item<int64_t>();
        auto gather = [&](const at::Tensor &cache) {
          return cache.index_select(0, tables[s]).reshape({-1, kvHeads, dim}).narrow(0, 0, length)
              .to(at::kDouble);
        };
        at::Tensor keys = gather(keyCache).repeat_interleave(heads / kvHeads, 1);
        at::Tensor values = gather(valueCache).repeat_interleave(heads / kvHeads, 1);
        at::Tensor scores = at::einsum("hd,khd->hk", {q[s].to(at::kDouble), keys}) * 0.25;
        if (softcap)
          scores = at::tanh(scores / *softcap) * *softcap;
        at::Tensor key = at::arange(length, at::kLong);
        at::Tensor masked = key > positions[s];
        if (window)
          masked = masked.logical_or(positions[s] - key >= *window);
        at::Tensor probs = at::softmax(scores.masked_fill(masked, -1e300), -1);
        at::Tensor want = at::einsum("hk,khd->hd", {probs, values}).reshape({-1});
        EXPECT_LT(relativeError(out[s], want), 4 * toleranceOf(type))
            << "sequence " << s << (window ? " with a window" : "")
            << (softcap ? " with a soft cap" : "");
      }
    }
  }
}

TEST_P(RowKernels, EachQueryOfAChunkGetsWhatItGetsAlone) {
  at::manual_seed(4);
  at::ScalarType type = GetParam();
  TwoSequences c(type);
  // Sequence 0's last three tokens (of 13) and sequence 1's last four (of 20) in one call.
  at::Tensor q = at::randn({7, c.heads, c.dim}).to(type);
  at::Tensor starts = at::tensor({int64_t{0}, int64_t{3}, int64_t{7}});
  at::Tensor positions = at::tensor(std::vector<int64_t>{10, 11, 12, 16, 17, 18, 19});
  at::Tensor out = at::empty({7, c.heads * c.dim}, q.options());
  ASSERT_TRUE(rows::attendEachQuery(q, c.keyCache, c.valueCache, positions, c.seqLens, c.tables,
                                    0.25, std::nullopt, 3.0, out, starts));
  for (int64_t t = 0; t < 7; ++t) {
    int64_t s = t < 3 ? 0 : 1;
    at::Tensor alone = at::empty({1, c.heads * c.dim}, q.options());
    ASSERT_TRUE(rows::attendEachQuery(q.narrow(0, t, 1), c.keyCache, c.valueCache,
                                      positions.narrow(0, t, 1), c.seqLens.narrow(0, s, 1),
                                      c.tables.narrow(0, s, 1), 0.25, std::nullopt, 3.0, alone));
    EXPECT_TRUE(at::equal(out.narrow(0, t, 1), alone)) << "query " << t;
  }
}

TEST_P(RowKernels, RotationAndCacheWriteMatchAten) {
  at::manual_seed(4);
  at::ScalarType type = GetParam();
  int64_t heads = 4, kvHeads = 2, dim = 16, rotaryDim = 8;
  at::Tensor q = at::randn({2, heads, dim}).to(type), k = at::randn({2, kvHeads, dim}).to(type);
  at::Tensor v = at::randn({2, kvHeads, dim}).to(type);
  at::Tensor positions = at::tensor({int64_t{7}, int64_t{30}}), slots = at::tensor({int64_t{3}, int64_t{12}});
  at::Tensor invFreq = 1.0 / at::pow(10000.0, at::arange(0, rotaryDim, 2).to(at::kFloat) / rotaryDim);
  for (bool neox : {true, false}) {
    at::Tensor keyCache = at::zeros({2, 8, kvHeads, dim}, q.options());
    at::Tensor valueCache = at::zeros_like(keyCache), rotated;
    ASSERT_TRUE(rows::rotateAndCache(q, k, v, positions, slots,
                                     rows::RotaryCall{invFreq, 1.0, rotaryDim, neox}, keyCache,
                                     valueCache, rotated));
    at::Tensor freqs = positions.to(at::kFloat).unsqueeze(1) * invFreq.unsqueeze(0);
    at::Tensor angles = neox ? at::cat({freqs, freqs}, -1) : freqs.repeat_interleave(2, -1);
    at::Tensor cos = angles.cos().to(type).unsqueeze(1), sin = angles.sin().to(type).unsqueeze(1);
    auto rotate = [&](const at::Tensor &x) {
      at::Tensor part = x.narrow(-1, 0, rotaryDim);
      at::Tensor partner =
          neox ? at::cat({-part.narrow(-1, rotaryDim / 2, rotaryDim / 2),
                          part.narrow(-1, 0, rotaryDim / 2)}, -1)
               : at::stack({-part.slice(-1, 1, rotaryDim, 2), part.slice(-1, 0, rotaryDim, 2)}, -1)
                     .flatten(-2);
      return at::cat({part * cos + partner * sin, x.narrow(-1, rotaryDim, dim - rotaryDim)}, -1);
    };
    EXPECT_LT(relativeError(rotated, rotate(q)), toleranceOf(type)) << (neox ? "neox" : "gptj");
    at::Tensor cachedKeys = keyCache.view({-1, kvHeads, dim}).index_select(0, slots);
    EXPECT_LT(relativeError(cachedKeys, rotate(k)), toleranceOf(type));
    EXPECT_TRUE(at::equal(valueCache.view({-1, kvHeads, dim}).index_select(0, slots), v));
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, RowKernels,
                         testing::Values(at::kFloat, at::kBFloat16, at::kHalf),
                         [](const testing::TestParamInfo<at::ScalarType> &info) {
                           return std::string(c10::toString(info.param));
                         });

} // namespace
