//===- GemmKernelTable.h - The decode GEMM kernels of one instruction set --------*- C++ -*-===//
//
// GemmKernels.cpp picks one table at first use: AVX-512 where the CPU has it, else AVX2 (with
// FMA and F16C), else none and gcu.gemm keeps ATen's products.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_KERNELS_GEMMKERNELTABLE_H
#define VGCU_KERNELS_GEMMKERNELTABLE_H

#include "QuantizedWeight.h"

#include <cstdint>

namespace vgcu::runtime::gemm {

/// Rows [begin, end) of the products GemmKernels.h describes, for one vector width.
struct KernelTable {
  void (*matVecF32)(const float *w, const float *x, float *y, int64_t begin, int64_t end,
                    int64_t cols);
  void (*matVec16)(const uint16_t *w, const float *x, float *y, int64_t begin, int64_t end,
                   int64_t cols, bool bf16);
  void (*skinnyF32)(const float *w, const float *x, float *y, int64_t tokens, int64_t begin,
                    int64_t end, int64_t cols, int64_t ldy);
  /// `scratch`: 4 · cols floats of the caller's thread.
  void (*skinny16)(const uint16_t *w, const float *x, float *y, int64_t tokens, int64_t begin,
                   int64_t end, int64_t cols, int64_t ldy, bool bf16, float *scratch);
  void (*matVecCodes4)(const QuantizedWeight &weight, const float *xs, const float *groupSums,
                       float *y, int64_t begin, int64_t end);
  void (*matVecCodes8)(const QuantizedWeight &weight, const float *xs, const float *groupSums,
                       float *y, int64_t begin, int64_t end);
  void (*dequantizeCodes)(const QuantizedWeight &weight, float *out, int64_t begin, int64_t end);
  /// Floats per vector: rows of 16-bit or f32 weights must hold whole vectors.
  int lanes;
};

namespace avx512 {
extern const KernelTable kernels;
}
namespace avx2 {
extern const KernelTable kernels;
}

} // namespace vgcu::runtime::gemm

#endif // VGCU_KERNELS_GEMMKERNELTABLE_H
