//===- SimdVector.h - The float vector the decode GEMM kernels are written in ----*- C++ -*-===//
//
// GemmKernelsSimd.inc is compiled once per instruction set (GemmKernelsAvx512.cpp,
// GemmKernelsAvx2.cpp, each with its own -m flags): this header gives it one vector type and
// the handful of operations it needs, in a namespace per instruction set so that the two
// copies never meet at link time.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_KERNELS_SIMDVECTOR_H
#define VGCU_KERNELS_SIMDVECTOR_H

#include <cstdint>
#include <immintrin.h>

#if defined(VGCU_SIMD_AVX512)
#define VGCU_SIMD_NAMESPACE avx512
#elif defined(VGCU_SIMD_AVX2)
#define VGCU_SIMD_NAMESPACE avx2
#else
#error "define VGCU_SIMD_AVX512 or VGCU_SIMD_AVX2"
#endif

namespace vgcu::runtime::gemm::VGCU_SIMD_NAMESPACE {

#if defined(VGCU_SIMD_AVX512)
using Vec = __m512;
constexpr int kLanes = 16;
inline Vec zero() { return _mm512_setzero_ps(); }
inline Vec broadcast(float value) { return _mm512_set1_ps(value); }
inline Vec load(const float *p) { return _mm512_loadu_ps(p); }
inline void store(float *p, Vec v) { _mm512_storeu_ps(p, v); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
inline Vec sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
inline Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
inline float reduce(Vec v) { return _mm512_reduce_add_ps(v); }
/// kLanes 16-bit weights as f32 (bf16: the high half of a float; f16: F16C).
inline Vec widen16(const uint16_t *p, bool bf16) {
  __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
  return bf16 ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16))
              : _mm512_cvtph_ps(raw);
}
/// Bytes [part · kLanes, (part + 1) · kLanes) of `bytes` as f32.
inline Vec widenBytes(__m128i bytes, int) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes));
}
using IntVec = __m512i;
/// kLanes bytes from `p`, one per 32-bit lane.
inline IntVec loadBytes(const uint8_t *p) {
  return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}
/// Each lane's byte as f32, or its low or its high nibble.
inline Vec bytesAsFloats(IntVec bytes) { return _mm512_cvtepi32_ps(bytes); }
inline Vec lowNibbles(IntVec bytes) {
  return _mm512_cvtepi32_ps(_mm512_and_si512(bytes, _mm512_set1_epi32(15)));
}
inline Vec highNibbles(IntVec bytes) { return _mm512_cvtepi32_ps(_mm512_srli_epi32(bytes, 4)); }
#else
using Vec = __m256;
constexpr int kLanes = 8;
inline Vec zero() { return _mm256_setzero_ps(); }
inline Vec broadcast(float value) { return _mm256_set1_ps(value); }
inline Vec load(const float *p) { return _mm256_loadu_ps(p); }
inline void store(float *p, Vec v) { _mm256_storeu_ps(p, v); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline Vec sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
inline Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
inline float reduce(Vec v) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_shuffle_ps(sum, sum, 1));
  return _mm_cvtss_f32(sum);
}
inline Vec widen16(const uint16_t *p, bool bf16) {
  __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
  return bf16 ? _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16))
              : _mm256_cvtph_ps(raw);
}
inline Vec widenBytes(__m128i bytes, int part) {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(part == 0 ? bytes : _mm_srli_si128(bytes, 8)));
}
using IntVec = __m256i;
inline IntVec loadBytes(const uint8_t *p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(p)));
}
inline Vec bytesAsFloats(IntVec bytes) { return _mm256_cvtepi32_ps(bytes); }
inline Vec lowNibbles(IntVec bytes) {
  return _mm256_cvtepi32_ps(_mm256_and_si256(bytes, _mm256_set1_epi32(15)));
}
inline Vec highNibbles(IntVec bytes) { return _mm256_cvtepi32_ps(_mm256_srli_epi32(bytes, 4)); }
#endif

/// kLanes weights of a row from `p` as f32: f32 as stored, 16-bit widened in registers.
inline Vec weights(const float *p, bool) { return load(p); }
inline Vec weights(const uint16_t *p, bool bf16) { return widen16(p, bf16); }

} // namespace vgcu::runtime::gemm::VGCU_SIMD_NAMESPACE

#endif // VGCU_KERNELS_SIMDVECTOR_H
