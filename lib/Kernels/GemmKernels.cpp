//===- GemmKernels.cpp - Products of one token or a few with a weight as stored ----------===//
//
// A decode step multiplies one token (a batch of decode steps a few) by each weight: BLAS
// would repack the whole weight for such a product. These kernels read each weight row once
// as stored (f32, or 16-bit widened in AVX-512 registers) and sum in f32.
//
//===----------------------------------------------------------------------===//

#include "GemmKernels.h"

#include <ATen/Parallel.h>

#include <cstring>
#include <immintrin.h>

using namespace vgcu::runtime;

bool gemm::hasAvx512() {
  static const bool supported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma");
  }();
  return supported;
}

namespace {

/// Sixteen 16-bit weights widened to f32 in registers (bf16: the high half of a float;
/// f16: F16C). AVX-512 is chosen per function so the rest of vgcu keeps the baseline x86-64
/// target.
__attribute__((target("avx512f,avx512bw,f16c,fma"))) inline __m512 widen16(const uint16_t *p,
                                                                           bool bf16) {
  __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
  return bf16 ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16))
              : _mm512_cvtph_ps(raw);
}

/// Sixteen weights of a row from `p` as f32: f32 as stored, 16-bit widened in registers.
__attribute__((target("avx512f,avx512bw,f16c,fma"))) inline __m512 weights16(const float *p,
                                                                             bool) {
  return _mm512_loadu_ps(p);
}
__attribute__((target("avx512f,avx512bw,f16c,fma"))) inline __m512 weights16(const uint16_t *p,
                                                                             bool bf16) {
  return widen16(p, bf16);
}

/// One weight as f32, for the columns past the last whole vector.
inline float weightAt(const float *row, int64_t k, bool) { return row[k]; }
__attribute__((target("avx512f,avx512bw,f16c,fma"))) inline float
weightAt(const uint16_t *row, int64_t k, bool bf16) {
  if (!bf16)
    return _cvtsh_ss(row[k]);
  uint32_t bits = static_cast<uint32_t>(row[k]) << 16;
  float element;
  std::memcpy(&element, &bits, sizeof element);
  return element;
}

/// How many bytes ahead of the FMAs matVec prefetches each row.
constexpr int64_t kPrefetchBytes = 512;

/// y[r] = Σ_k w[r, k] · x[k] over rows [begin, end) of a weight read as stored, the products
/// summed in f32 (16-bit weights: a decode step reads half the bytes of an f32 copy).
template <typename W>
__attribute__((target("avx512f,avx512bw,f16c,fma"))) void
matVec(const W *w, const float *x, float *y, int64_t begin, int64_t end, int64_t cols,
       bool bf16) {
  // Four rows at a time: four independent chains of FMAs and four streams from memory per
  // load of x, where one row's chain would wait on the adder. Each row's sum runs in the same
  // order as alone, and as skinnyTile's.
  constexpr int64_t kLine = 64 / sizeof(W), kAhead = kPrefetchBytes / sizeof(W);
  int64_t r = begin;
  if (cols % 16 == 0)
    for (; r + 4 <= end; r += 4) {
      const W *row = w + r * cols;
      __m512 sum0 = _mm512_setzero_ps(), sum1 = _mm512_setzero_ps(),
             sum2 = _mm512_setzero_ps(), sum3 = _mm512_setzero_ps();
      for (int64_t k = 0; k < cols; k += 16) {
        // The hardware prefetchers keep too few lines in flight for four streams per core.
        if (k % kLine == 0)
          for (int i = 0; i < 4; ++i)
            _mm_prefetch(reinterpret_cast<const char *>(row + i * cols + k + kAhead),
                         _MM_HINT_T0);
        __m512 input = _mm512_loadu_ps(x + k);
        sum0 = _mm512_fmadd_ps(weights16(row + k, bf16), input, sum0);
        sum1 = _mm512_fmadd_ps(weights16(row + cols + k, bf16), input, sum1);
        sum2 = _mm512_fmadd_ps(weights16(row + 2 * cols + k, bf16), input, sum2);
        sum3 = _mm512_fmadd_ps(weights16(row + 3 * cols + k, bf16), input, sum3);
      }
      y[r] = _mm512_reduce_add_ps(sum0);
      y[r + 1] = _mm512_reduce_add_ps(sum1);
      y[r + 2] = _mm512_reduce_add_ps(sum2);
      y[r + 3] = _mm512_reduce_add_ps(sum3);
    }
  for (; r < end; ++r) {
    const W *row = w + r * cols;
    __m512 sum = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= cols; k += 16)
      sum = _mm512_fmadd_ps(weights16(row + k, bf16), _mm512_loadu_ps(x + k), sum);
    float total = _mm512_reduce_add_ps(sum);
    for (; k < cols; ++k)
      total += weightAt(row, k, bf16) * x[k];
    y[r] = total;
  }
}

/// y[i, r] = Σ_k x[i, k] · w[r, k] for `Tokens` rows of x and `Rows` rows of w (cols a
/// multiple of 16): every weight vector loaded once feeds all the tokens' FMAs. Each sum
/// runs in 16 lanes, then one reduction, as matVec's.
template <int Rows, int Tokens, typename W>
__attribute__((target("avx512f,avx512bw,f16c,fma"))) inline void
skinnyTile(const W *w, const float *x, float *y, int64_t cols, int64_t ldy, bool bf16) {
  // Fully unrolled, so that the sums live in registers (Rows × Tokens of the 32).
  __m512 sums[Tokens][Rows];
#pragma GCC unroll 8
  for (int i = 0; i < Tokens; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < Rows; ++j)
      sums[i][j] = _mm512_setzero_ps();
  for (int64_t k = 0; k < cols; k += 16) {
    __m512 weights[Rows];
#pragma GCC unroll 8
    for (int j = 0; j < Rows; ++j)
      weights[j] = weights16(w + j * cols + k, bf16);
#pragma GCC unroll 8
    for (int i = 0; i < Tokens; ++i) {
      __m512 input = _mm512_loadu_ps(x + i * cols + k);
#pragma GCC unroll 8
      for (int j = 0; j < Rows; ++j)
        sums[i][j] = _mm512_fmadd_ps(weights[j], input, sums[i][j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < Tokens; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < Rows; ++j)
      y[i * ldy + j] = _mm512_reduce_add_ps(sums[i][j]);
}

/// Every token against `Rows` weight rows, kTokenTile tokens per register tile.
constexpr int kTokenTile = 6;

template <int Rows, typename W>
__attribute__((target("avx512f,avx512bw,f16c,fma"))) void
skinnyRows(const W *w, const float *x, float *y, int64_t tokens, int64_t cols, int64_t ldy,
           bool bf16) {
  int64_t i = 0;
  for (; i + kTokenTile <= tokens; i += kTokenTile)
    skinnyTile<Rows, kTokenTile>(w, x + i * cols, y + i * ldy, cols, ldy, bf16);
  const float *xs = x + i * cols;
  float *ys = y + i * ldy;
  switch (tokens - i) {
  case 5: skinnyTile<Rows, 5>(w, xs, ys, cols, ldy, bf16); break;
  case 4: skinnyTile<Rows, 4>(w, xs, ys, cols, ldy, bf16); break;
  case 3: skinnyTile<Rows, 3>(w, xs, ys, cols, ldy, bf16); break;
  case 2: skinnyTile<Rows, 2>(w, xs, ys, cols, ldy, bf16); break;
  case 1: skinnyTile<Rows, 1>(w, xs, ys, cols, ldy, bf16); break;
  default: break;
  }
}

/// Rows [begin, end) of y = x·wᵀ for a few tokens: four weight rows at a time against every
/// token while those rows are in cache, so the weight streams from memory once. BLAS GEMM would
/// repack every weight panel on every call, which for a batch of decode tokens costs as much
/// as the products.
template <typename W>
__attribute__((target("avx512f,avx512bw,f16c,fma"))) void
skinnyGemm(const W *w, const float *x, float *y, int64_t tokens, int64_t begin, int64_t end,
           int64_t cols, int64_t ldy, bool bf16) {
  int64_t r = begin;
  for (; r + 4 <= end; r += 4)
    skinnyRows<4>(w + r * cols, x, y + r, tokens, cols, ldy, bf16);
  for (; r < end; ++r)
    skinnyRows<1>(w + r * cols, x, y + r, tokens, cols, ldy, bf16);
}

/// The most tokens skinnyGemm takes: past them BLAS's packing pays for itself.
constexpr int64_t kFewTokens = 64;

} // namespace

at::Tensor gemm::linearOneToken(const at::Tensor &input, const at::Tensor &weight,
                                const at::Tensor &bias) {
  at::Tensor x = input.reshape({-1}).to(at::kFloat).contiguous();
  at::Tensor w = weight.contiguous();
  int64_t rows = w.size(0), cols = w.size(1);
  at::Tensor y = at::empty({rows}, x.options());
  bool bf16 = w.scalar_type() == at::kBFloat16;
  const float *xs = x.data_ptr<float>();
  float *ys = y.data_ptr<float>();
  at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
    if (w.scalar_type() == at::kFloat)
      matVec(w.data_ptr<float>(), xs, ys, begin, end, cols, false);
    else
      matVec(reinterpret_cast<const uint16_t *>(w.data_ptr()), xs, ys, begin, end, cols, bf16);
  });
  if (bias.defined())
    y = y + bias.to(at::kFloat);
  std::vector<int64_t> shape(input.sizes().begin(), input.sizes().end());
  shape.back() = rows;
  return y.view(shape).to(input.scalar_type());
}

bool gemm::oneTokenApplies(const at::Tensor &x, const at::Tensor &w) {
  at::ScalarType type = w.scalar_type();
  return x.numel() == x.size(-1) && w.dim() == 2 && x.size(-1) == w.size(1) &&
         (type == at::kFloat || type == at::kHalf || type == at::kBFloat16) && hasAvx512();
}

/// Whether gcu.gemm runs `x`·`w`ᵀ with skinnyGemm: 2 to kFewTokens tokens (one token has
/// its matrix-vector paths), a contiguous 2-D f32 / f16 / bf16 weight with rows of whole
/// 16-float vectors, and an AVX-512 CPU.
bool gemm::fewTokensApply(const at::Tensor &x, const at::Tensor &w) {
  int64_t tokens = x.numel() / std::max<int64_t>(1, x.size(-1));
  at::ScalarType type = w.scalar_type();
  return tokens >= 2 && tokens <= kFewTokens && w.dim() == 2 && w.is_contiguous() &&
         w.size(1) % 16 == 0 && x.size(-1) == w.size(1) &&
         (type == at::kFloat || type == at::kHalf || type == at::kBFloat16) && hasAvx512();
}

/// x·Wᵀ (+ b) of a few tokens by skinnyGemm: output features split over ATen's threads, each
/// written in full by one thread (so the split does not change a sum), f32 sums rounded once
/// to the input's dtype, the bias added in f32.
at::Tensor gemm::linearFewTokens(const at::Tensor &input, const at::Tensor &weight,
                        const at::Tensor &bias) {
  int64_t cols = weight.size(1), features = weight.size(0);
  at::Tensor x = input.reshape({-1, cols}).to(at::kFloat).contiguous();
  int64_t tokens = x.size(0);
  at::Tensor y = at::empty({tokens, features}, x.options());
  const float *xs = x.data_ptr<float>();
  float *ys = y.data_ptr<float>();
  at::parallel_for(0, features, 64, [&](int64_t begin, int64_t end) {
    if (weight.scalar_type() == at::kFloat)
      skinnyGemm(weight.data_ptr<float>(), xs, ys, tokens, begin, end, cols, features, false);
    else
      skinnyGemm(reinterpret_cast<const uint16_t *>(weight.data_ptr()), xs, ys, tokens, begin,
                 end, cols, features, weight.scalar_type() == at::kBFloat16);
  });
  if (bias.defined())
    y = y + bias.to(at::kFloat);
  std::vector<int64_t> shape(input.sizes().begin(), input.sizes().end());
  shape.back() = features;
  return y.view(shape).to(input.scalar_type());
}
