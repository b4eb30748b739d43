//===- GemmKernels.h - Products of one token or a few with a weight as stored ----*- C++ -*-===//
//
// gcu.gemm's paths for decode-sized inputs (see GemmKernels.cpp). Each output feature is
// summed by one thread in one order whatever the thread split.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_KERNELS_GEMMKERNELS_H
#define VGCU_KERNELS_GEMMKERNELS_H

#include <ATen/ATen.h>

namespace vgcu::runtime::gemm {

/// Whether this CPU runs the AVX-512 kernels (AVX-512 F and BW, F16C, FMA; checked once).
bool hasAvx512();

/// Whether linearOneToken takes `x`·`w`ᵀ: one token, a 2-D f32 / f16 / bf16 weight and
/// hasAvx512().
bool oneTokenApplies(const at::Tensor &x, const at::Tensor &w);

/// x·Wᵀ (+ b) of one token: rows split over ATen's threads, each read once as stored (16-bit
/// widened in registers), the sum in f32 rounded to the input's dtype once. Each row's sum
/// runs in the order linearFewTokens gives it, so a token's products do not depend on the
/// batch it is in.
at::Tensor linearOneToken(const at::Tensor &input, const at::Tensor &weight,
                          const at::Tensor &bias);

/// Whether linearFewTokens takes `x`·`w`ᵀ: 2 to 64 tokens (one token has the matrix-vector
/// paths), a contiguous 2-D f32 / f16 / bf16 weight whose rows are whole 16-float vectors,
/// and hasAvx512().
bool fewTokensApply(const at::Tensor &x, const at::Tensor &w);

/// x·Wᵀ (+ b) of a few tokens: each weight row read once for all of them, f32 sums rounded
/// once to the input's dtype, the bias added in f32.
at::Tensor linearFewTokens(const at::Tensor &input, const at::Tensor &weight,
                           const at::Tensor &bias);

} // namespace vgcu::runtime::gemm

#endif // VGCU_KERNELS_GEMMKERNELS_H
