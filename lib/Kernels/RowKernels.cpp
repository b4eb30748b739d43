//===- RowKernels.cpp - Reference kernels written as loops over rows -------------===//

#include "RowKernels.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <immintrin.h>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

using namespace vgcu::runtime;

namespace {

/// Calls `body(T{})` with T the C++ type of `type` (f32, bf16, f16); false for others.
template <typename Body>
bool withFloatType(at::ScalarType type, Body &&body) {
  switch (type) {
  case at::kFloat: body(float{}); return true;
  case at::kBFloat16: body(c10::BFloat16{}); return true;
  case at::kHalf: body(c10::Half{}); return true;
  default: return false;
  }
}

/// An element as f32.
template <typename T> inline float widened(T value) { return static_cast<float>(value); }

/// c10::Half converts to and from f32 in software, bit by bit, which the attention loops
/// feel: widening reads a table of all 65536 halves, and rounding uses F16C where the CPU
/// has it (both exact, as c10's conversions are; rounding to nearest even).
const std::vector<float> halfToFloat = [] {
  std::vector<float> values(1 << 16);
  for (uint32_t bits = 0; bits < values.size(); ++bits)
    values[bits] =
        static_cast<float>(c10::Half(static_cast<uint16_t>(bits), c10::Half::from_bits()));
  return values;
}();
template <> inline float widened(c10::Half value) { return halfToFloat[value.x]; }

const bool hasF16c = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("f16c") != 0;
}();
__attribute__((target("f16c"))) uint16_t halfBitsF16c(float value) {
  return _cvtss_sh(value, _MM_FROUND_TO_NEAREST_INT);
}

// Whole rows at a time: a call per element to a function built for F16C (it cannot inline
// into code built without it) cost an f16 RMSNorm four times a bf16 one.
__attribute__((target("avx,f16c"))) void widenHalvesF16c(const uint16_t *from, float *to,
                                                          int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(to + i, _mm256_cvtph_ps(_mm_loadu_si128(
                                 reinterpret_cast<const __m128i *>(from + i))));
  for (; i < n; ++i)
    to[i] = halfToFloat[from[i]];
}
__attribute__((target("avx,f16c"))) void narrowHalvesF16c(const float *from, uint16_t *to,
                                                           int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i *>(to + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(from + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i)
    to[i] = _cvtss_sh(from[i], _MM_FROUND_TO_NEAREST_INT);
}
__attribute__((target("avx,f16c"))) void roundHalvesF16c(float *values, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(values + i,
                     _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(values + i),
                                                     _MM_FROUND_TO_NEAREST_INT)));
  for (; i < n; ++i)
    values[i] = halfToFloat[_cvtss_sh(values[i], _MM_FROUND_TO_NEAREST_INT)];
}

/// `row` as f32: itself, or widened into `scratch`, so that the loops over it vectorize.
template <typename T> const float *asFloats(const T *row, int64_t n, float *scratch) {
  if constexpr (std::is_same_v<T, float>) {
    return row;
  } else if constexpr (std::is_same_v<T, c10::Half>) {
    if (hasF16c)
      widenHalvesF16c(reinterpret_cast<const uint16_t *>(row), scratch, n);
    else
      for (int64_t i = 0; i < n; ++i)
        scratch[i] = halfToFloat[row[i].x];
    return scratch;
  } else {
    for (int64_t i = 0; i < n; ++i)
      scratch[i] = static_cast<float>(row[i]);
    return scratch;
  }
}

/// A value rounded to T (to nearest even, as c10 rounds).
template <typename T> inline T narrowed(float value) { return static_cast<T>(value); }
template <> inline c10::Half narrowed<c10::Half>(float value) {
  if (!hasF16c)
    return c10::Half(value);
  return c10::Half(halfBitsF16c(value), c10::Half::from_bits());
}

/// to[i] = narrowed<T>(from[i]) for a row.
template <typename T> void narrowAll(const float *from, T *to, int64_t n) {
  if constexpr (std::is_same_v<T, c10::Half>) {
    if (hasF16c) {
      narrowHalvesF16c(from, reinterpret_cast<uint16_t *>(to), n);
      return;
    }
  }
  for (int64_t i = 0; i < n; ++i)
    to[i] = narrowed<T>(from[i]);
}

/// A value rounded to T and read back, as an ATen op on a T tensor leaves it.
template <typename T> inline float rounded(float value) { return widened(narrowed<T>(value)); }

/// values[i] = rounded<T>(values[i]) for a row.
template <typename T> void roundAll(float *values, int64_t n) {
  if constexpr (std::is_same_v<T, float>)
    return;
  if constexpr (std::is_same_v<T, c10::Half>) {
    if (hasF16c) {
      roundHalvesF16c(values, n);
      return;
    }
  }
  for (int64_t i = 0; i < n; ++i)
    values[i] = rounded<T>(values[i]);
}

/// Work below this many multiply-adds runs on the calling thread: an OpenMP region costs
/// more than it saves.
constexpr int64_t kParallelWork = 1 << 15;

template <typename Body>
void forRows(int64_t rows, int64_t workPerRow, Body &&body) {
  if (rows * workPerRow < kParallelWork) {
    body(0, rows);
    return;
  }
  int64_t grain = std::max<int64_t>(1, kParallelWork / std::max<int64_t>(workPerRow, 1));
  at::parallel_for(0, rows, grain, body);
}

bool rowsOf(const at::Tensor &t, int64_t columns) {
  return t.dim() == 2 && t.size(1) == columns && t.stride(1) == 1;
}

/// One row of rmsNorm (ReferenceKernels.cpp): normalize in f32, then either scale by an f32
/// weight and round once (Gemma's 1 + w over a narrower input) or round and scale in T.
/// `scratch` holds n floats.
template <typename T, typename W>
void normRow(const T *x, const W *weight, T *out, int64_t n, float epsilon, float *scratch) {
  const float *h = asFloats(x, n, scratch);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += static_cast<double>(h[i] * h[i]);
  float variance = static_cast<float>(sum) / static_cast<float>(n);
  float inverse = 1.0f / std::sqrt(variance + epsilon);
  for (int64_t i = 0; i < n; ++i)
    scratch[i] = h[i] * inverse;
  if constexpr (std::is_same_v<W, float> && !std::is_same_v<T, float>) {
    for (int64_t i = 0; i < n; ++i)
      scratch[i] *= weight[i];
  } else {
    roundAll<T>(scratch, n);
    const float *scale = asFloats(weight, n, scratch + n);
    for (int64_t i = 0; i < n; ++i)
      scratch[i] *= scale[i];
  }
  narrowAll(scratch, out, n);
}

/// Runs `body(T{}, W{})` when the weight suits rmsNorm's two forms.
template <typename Body>
bool withNormTypes(const at::Tensor &input, const at::Tensor &weight, Body &&body) {
  at::ScalarType type = input.scalar_type();
  if (weight.dim() != 1 || !weight.is_contiguous() ||
      (weight.scalar_type() != type && weight.scalar_type() != at::kFloat))
    return false;
  bool f32Weight = weight.scalar_type() == at::kFloat;
  return withFloatType(type, [&](auto tag) {
    using T = decltype(tag);
    if (f32Weight)
      body(T{}, float{});
    else
      body(T{}, T{});
  });
}

} // namespace

bool rows::rmsNorm(const at::Tensor &input, const at::Tensor &weight, double epsilon,
                   at::Tensor &out) {
  int64_t n = input.size(-1);
  if (!rowsOf(input, n) || !rowsOf(out, n) || out.scalar_type() != input.scalar_type() ||
      out.size(0) != input.size(0) || weight.numel() != n)
    return false;
  return withNormTypes(input, weight, [&](auto t, auto w) {
    using T = decltype(t);
    using W = decltype(w);
    const T *x = input.data_ptr<T>();
    T *y = out.data_ptr<T>();
    const W *scale = weight.data_ptr<W>();
    int64_t inStride = input.stride(0), outStride = out.stride(0);
    forRows(input.size(0), n, [&](int64_t begin, int64_t end) {
      std::vector<float> scratch(2 * n);
      for (int64_t r = begin; r < end; ++r)
        normRow<T, W>(x + r * inStride, scale, y + r * outStride, n, static_cast<float>(epsilon),
                      scratch.data());
    });
  });
}

bool rows::addRmsNorm(at::Tensor &input, at::Tensor &residual, const at::Tensor &weight,
                      double epsilon) {
  int64_t n = input.size(-1);
  if (!rowsOf(input, n) || !rowsOf(residual, n) || residual.scalar_type() != input.scalar_type() ||
      residual.size(0) != input.size(0) || weight.numel() != n)
    return false;
  return withNormTypes(input, weight, [&](auto t, auto w) {
    using T = decltype(t);
    using W = decltype(w);
    T *x = input.data_ptr<T>(), *sum = residual.data_ptr<T>();
    const W *scale = weight.data_ptr<W>();
    int64_t xStride = input.stride(0), sumStride = residual.stride(0);
    forRows(input.size(0), n, [&](int64_t begin, int64_t end) {
      std::vector<float> scratch(2 * n);
      for (int64_t r = begin; r < end; ++r) {
        T *xr = x + r * xStride, *sr = sum + r * sumStride;
        const float *addend = asFloats(xr, n, scratch.data() + n);
        const float *total = asFloats(sr, n, scratch.data());
        for (int64_t i = 0; i < n; ++i)
          scratch[i] = total[i] + addend[i];
        narrowAll(scratch.data(), sr, n);
        normRow<T, W>(sr, scale, xr, n, static_cast<float>(epsilon), scratch.data());
      }
    });
  });
}

namespace {

/// [tokens, heads, dim] with unit stride in dim.
bool headRows(const at::Tensor &t) { return t.dim() == 3 && t.stride(2) == 1; }

/// The rotary of rotate() in ReferenceKernels.cpp for one head vector: x·cos + rotate(x)·sin,
/// each product and the sum rounded to T; channels past rotary_dim unchanged. `cos` and `sin`
/// hold values of T; `scratch` 3 · dim floats.
template <typename T>
void rotateHead(const T *x, const float *cos, const float *sin, int64_t rotaryDim, int64_t dim,
                bool neox, T *out, float *scratch) {
  int64_t half = rotaryDim / 2;
  const float *xs = asFloats(x, dim, scratch);
  float *first = scratch + dim, *second = scratch + 2 * dim;
  for (int64_t i = 0; i < rotaryDim; ++i) {
    float partner;
    if (neox)
      partner = i < half ? -xs[i + half] : xs[i - half];
    else
      partner = i % 2 == 0 ? -xs[i + 1] : xs[i - 1];
    first[i] = xs[i] * cos[i];
    second[i] = partner * sin[i];
  }
  roundAll<T>(first, rotaryDim);
  roundAll<T>(second, rotaryDim);
  for (int64_t i = 0; i < rotaryDim; ++i)
    first[i] += second[i];
  narrowAll(first, out, rotaryDim);
  for (int64_t i = rotaryDim; i < dim; ++i)
    out[i] = x[i];
}

} // namespace

bool rows::rotateAndCache(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                          const at::Tensor &positions, const at::Tensor &slots,
                          const std::optional<RotaryCall> &rotary, at::Tensor &keyCache,
                          at::Tensor &valueCache, at::Tensor &rotatedQuery) {
  at::ScalarType type = q.scalar_type();
  if (!headRows(q) || !headRows(k) || !headRows(v) || k.scalar_type() != type ||
      v.scalar_type() != type || keyCache.scalar_type() != type ||
      valueCache.scalar_type() != type || !keyCache.is_contiguous() ||
      !valueCache.is_contiguous() || keyCache.dim() != 4 || valueCache.dim() != 4 ||
      keyCache.size(2) != k.size(1) || keyCache.size(3) != k.size(2) ||
      valueCache.size(2) != v.size(1) || valueCache.size(3) != v.size(2) ||
      !positions.is_contiguous() || !slots.is_contiguous())
    return false;
  if (rotary && (rotary->rotaryDim % 2 != 0 || rotary->rotaryDim > q.size(2) ||
                 rotary->rotaryDim > k.size(2) || rotary->invFreq.scalar_type() != at::kFloat ||
                 !rotary->invFreq.is_contiguous() ||
                 rotary->invFreq.numel() != rotary->rotaryDim / 2))
    return false;
  int64_t tokens = q.size(0);
  rotatedQuery = rotary ? at::empty(q.sizes(), q.options()) : q;
  return withFloatType(type, [&](auto tag) {
    using T = decltype(tag);
    const int64_t *position = positions.data_ptr<int64_t>(), *slot = slots.data_ptr<int64_t>();
    T *keys = keyCache.data_ptr<T>(), *values = valueCache.data_ptr<T>();
    int64_t kvHeads = k.size(1), dim = k.size(2), valueDim = v.size(2);
    std::vector<float> cos, sin, scratch(3 * std::max(dim, q.size(2)));
    for (int64_t t = 0; t < tokens; ++t) {
      const T *keyRow = k.data_ptr<T>() + t * k.stride(0);
      const T *valueRow = v.data_ptr<T>() + t * v.stride(0);
      T *keyDestination = keys + slot[t] * kvHeads * dim;
      T *valueDestination = values + slot[t] * kvHeads * valueDim;
      if (rotary) {
        // rotaryTables(): angles in f32 from the position, cos and sin scaled in f32, then
        // rounded to T; neox repeats the half table, the interleaved style each entry.
        int64_t rotaryDim = rotary->rotaryDim, half = rotaryDim / 2;
        const float *invFreq = rotary->invFreq.data_ptr<float>();
        cos.resize(rotaryDim);
        sin.resize(rotaryDim);
        for (int64_t i = 0; i < rotaryDim; ++i) {
          float angle = static_cast<float>(position[t]) * invFreq[rotary->neox ? i % half : i / 2];
          float c = std::cos(angle), s = std::sin(angle);
          if (rotary->attentionScaling != 1.0) {
            c = c * static_cast<float>(rotary->attentionScaling);
            s = s * static_cast<float>(rotary->attentionScaling);
          }
          cos[i] = c;
          sin[i] = s;
        }
        roundAll<T>(cos.data(), rotaryDim);
        roundAll<T>(sin.data(), rotaryDim);
        for (int64_t h = 0; h < q.size(1); ++h)
          rotateHead<T>(q.data_ptr<T>() + t * q.stride(0) + h * q.stride(1), cos.data(),
                        sin.data(), rotaryDim, q.size(2), rotary->neox,
                        rotatedQuery.data_ptr<T>() + (t * q.size(1) + h) * q.size(2),
                        scratch.data());
        for (int64_t h = 0; h < kvHeads; ++h)
          rotateHead<T>(keyRow + h * k.stride(1), cos.data(), sin.data(), rotaryDim, dim,
                        rotary->neox, keyDestination + h * dim, scratch.data());
      } else {
        for (int64_t h = 0; h < kvHeads; ++h)
          std::copy_n(keyRow + h * k.stride(1), dim, keyDestination + h * dim);
      }
      for (int64_t h = 0; h < kvHeads; ++h)
        std::copy_n(valueRow + h * v.stride(1), valueDim, valueDestination + h * valueDim);
    }
  });
}

namespace {

/// How many cached tokens ahead attendOneQueryEach asks for the key and value rows it will
/// read. A decode step streams the weights through the caches, so the KV cache comes from
/// memory, one head's row (128 bytes in bf16) per kvHeads · dim stride, which the hardware
/// prefetchers did not follow: the loads took three quarters of the kernel's time on a Zen 3.
constexpr int64_t kRowsAhead = 16;

/// Asks for the cache lines of `bytes` bytes from `row` on.
inline void prefetchRow(const void *row, int64_t bytes) {
  for (int64_t offset = 0; offset < bytes; offset += 64)
    __builtin_prefetch(static_cast<const char *>(row) + offset);
}

/// Σ x[d]·y[d] in f32 over eight running sums: one sum's chain of dependent additions would
/// bound the loop by the adder's latency. Built for AVX2 too (without FMA, so that both
/// builds round alike), chosen at load time.
__attribute__((target_clones("avx2", "default"))) float dotProduct(const float *x,
                                                                   const float *y, int64_t n) {
  float partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t d = 0;
  for (; d + 8 <= n; d += 8)
    for (int u = 0; u < 8; ++u)
      partial[u] += x[d + u] * y[d + u];
  for (; d < n; ++d)
    partial[d % 8] += x[d] * y[d];
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
         ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

/// accumulator[e] += weight · row[e]: a product and a sum rounded separately, on either build.
__attribute__((target_clones("avx2", "default"))) void addScaled(float *accumulator,
                                                                 const float *row,
                                                                 float weight, int64_t n) {
  for (int64_t e = 0; e < n; ++e)
    accumulator[e] += weight * row[e];
}

} // namespace

bool rows::attendEachQuery(const at::Tensor &q, const at::Tensor &keyCache,
                           const at::Tensor &valueCache, const at::Tensor &positions,
                           const at::Tensor &seqLens, const at::Tensor &blockTables,
                           double scale, std::optional<int64_t> window,
                           std::optional<double> softcap, at::Tensor &out,
                           const at::Tensor &queryStartLoc) {
  at::ScalarType type = q.scalar_type();
  int64_t queries = q.size(0), heads = q.size(1), dim = q.size(2);
  if (!headRows(q) || keyCache.scalar_type() != type || valueCache.scalar_type() != type ||
      out.scalar_type() != type || !keyCache.is_contiguous() || !valueCache.is_contiguous() ||
      keyCache.dim() != 4 || valueCache.dim() != 4 || keyCache.size(3) != dim ||
      keyCache.size(2) < 1 || heads % keyCache.size(2) != 0 ||
      valueCache.size(2) != keyCache.size(2) || !blockTables.is_contiguous() ||
      !positions.is_contiguous() || !seqLens.is_contiguous() || positions.size(0) != queries)
    return false;
  int64_t blockSize = keyCache.size(1), kvHeads = keyCache.size(2),
          valueDim = valueCache.size(3), group = heads / kvHeads;
  if (!rowsOf(out, heads * valueDim) || out.size(0) != queries)
    return false;
  // The sequence of each query.
  std::vector<int64_t> sequenceOf(queries);
  if (queryStartLoc.defined()) {
    if (!queryStartLoc.is_contiguous() || queryStartLoc.size(0) != seqLens.size(0) + 1)
      return false;
    const int64_t *starts = queryStartLoc.data_ptr<int64_t>();
    for (int64_t s = 0; s < seqLens.size(0); ++s)
      for (int64_t t = std::max<int64_t>(starts[s], 0); t < std::min(starts[s + 1], queries);
           ++t)
        sequenceOf[t] = s;
  } else {
    if (seqLens.size(0) != queries)
      return false;
    std::iota(sequenceOf.begin(), sequenceOf.end(), 0);
  }
  return withFloatType(type, [&](auto tag) {
    using T = decltype(tag);
    const T *query = q.data_ptr<T>(), *keys = keyCache.data_ptr<T>(),
            *values = valueCache.data_ptr<T>();
    const int64_t *position = positions.data_ptr<int64_t>(), *length = seqLens.data_ptr<int64_t>(),
                  *tables = blockTables.data_ptr<int64_t>();
    int64_t maxBlocks = blockTables.size(1), longest = 0;
    for (int64_t s = 0; s < seqLens.size(0); ++s)
      longest = std::max(longest, length[s]);
    float scaleValue = static_cast<float>(scale);
    T *output = out.data_ptr<T>();
    // One task per (query, KV head): the heads of its group read each cached key and value
    // row once between them. Each head's arithmetic is the one it would do alone.
    forRows(queries * kvHeads, group * longest * (dim + valueDim),
            [&](int64_t begin, int64_t end) {
      std::vector<float> queryRows(group * dim), scores, accumulators(group * valueDim),
          scratch(std::max(dim, valueDim));
      std::vector<int64_t> cacheRows;
      for (int64_t task = begin; task < end; ++task) {
        int64_t t = task / kvHeads, g = task % kvHeads, s = sequenceOf[t];
        for (int64_t h = 0; h < group; ++h) {
          const T *qRow = query + t * q.stride(0) + (g * group + h) * q.stride(1);
          for (int64_t d = 0; d < dim; ++d)
            queryRows[h * dim + d] = widened(qRow[d]);
        }
        // Keys after the query's position, or before its window, weigh exactly zero in the
        // reference (the most negative value, then exp underflows), so they are skipped.
        int64_t last = std::min(position[t], length[s] - 1);
        int64_t first = window ? std::max<int64_t>(0, position[t] - *window + 1) : 0;
        int64_t count = std::max<int64_t>(0, last - first + 1);
        const int64_t *table = tables + s * maxBlocks;
        // The cache row of each key the query sees, found once (a division per key cost as
        // much as its arithmetic).
        cacheRows.resize(count);
        for (int64_t j = first, block = first / blockSize, slot = first % blockSize; j <= last;
             ++j) {
          cacheRows[j - first] = table[block] * blockSize + slot;
          if (++slot == blockSize) {
            slot = 0;
            ++block;
          }
        }
        auto rowOf = [&](int64_t j) { return cacheRows[j - first]; };
        // scores[h * count + (j - first)]
        scores.assign(group * count, 0.0f);
        for (int64_t j = first; j <= last; ++j) {
          if (j + kRowsAhead <= last)
            prefetchRow(keys + (rowOf(j + kRowsAhead) * kvHeads + g) * dim, dim * sizeof(T));
          const float *keyRow =
              asFloats(keys + (rowOf(j) * kvHeads + g) * dim, dim, scratch.data());
          for (int64_t h = 0; h < group; ++h)
            scores[h * count + (j - first)] = dotProduct(queryRows.data() + h * dim, keyRow, dim);
        }
        // Scores in T, scaled in T; Gemma 2's cap · tanh(s / cap), each step in T; then the
        // probabilities in T. Each step over all of them at once (roundAll).
        int64_t scoreCount = group * count;
        auto roundScores = [&] { roundAll<T>(scores.data(), scoreCount); };
        roundScores();
        for (float &score : scores)
          score *= scaleValue;
        roundScores();
        if (softcap) {
          float cap = static_cast<float>(*softcap);
          for (float &score : scores)
            score /= cap;
          roundScores();
          for (float &score : scores)
            score = std::tanh(score);
          roundScores();
          for (float &score : scores)
            score *= cap;
          roundScores();
        }
        for (int64_t h = 0; h < group; ++h) {
          float *row = scores.data() + h * count;
          float highest = -std::numeric_limits<float>::infinity();
          for (int64_t i = 0; i < count; ++i)
            highest = std::max(highest, row[i]);
          float total = 0;
          for (int64_t i = 0; i < count; ++i) {
            row[i] = std::exp(row[i] - highest);
            total += row[i];
          }
          for (int64_t i = 0; i < count; ++i)
            row[i] /= total;
        }
        roundScores();
        std::fill(accumulators.begin(), accumulators.end(), 0.0f);
        for (int64_t j = first; j <= last; ++j) {
          if (j + kRowsAhead <= last)
            prefetchRow(values + (rowOf(j + kRowsAhead) * kvHeads + g) * valueDim,
                        valueDim * sizeof(T));
          const float *valueRow = asFloats(values + (rowOf(j) * kvHeads + g) * valueDim,
                                           valueDim, scratch.data());
          for (int64_t h = 0; h < group; ++h) {
            addScaled(accumulators.data() + h * valueDim, valueRow,
                      scores[h * count + (j - first)], valueDim);
          }
        }
        for (int64_t h = 0; h < group; ++h)
          narrowAll(accumulators.data() + h * valueDim,
                    output + t * out.stride(0) + (g * group + h) * valueDim, valueDim);
      }
    });
  });
}
