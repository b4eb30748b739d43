//===- GemmKernels.h - Products of one token or a few with a weight as stored ----*- C++ -*-===//
//
// gcu.gemm's and gcu.quant_gemm's paths for decode-sized inputs (see GemmKernels.cpp). Each
// output feature is summed by one thread in one order whatever the thread split.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_KERNELS_GEMMKERNELS_H
#define VGCU_KERNELS_GEMMKERNELS_H

#include "QuantizedWeight.h"

#include <ATen/ATen.h>

namespace vgcu::runtime::gemm {

/// The instruction set the kernels below run with on this CPU: "avx512" (AVX-512 F and BW),
/// "avx2" (with FMA and F16C), or "" when neither is there and the kernels do not apply.
const char *instructionSet();

/// Whether ATen's own bf16 GEMM is fast on this CPU (oneDNN's, which needs AVX-512 BW, VL and
/// DQ); without it ATen multiplies bf16 matrices in scalar loops, and gcu.gemm widens the
/// weight and multiplies in f32 instead.
bool atenBf16GemmIsFast();

/// Whether linearOneToken takes `x`·`w`ᵀ: one token, a 2-D f32 / f16 / bf16 weight and an
/// instructionSet().
bool oneTokenApplies(const at::Tensor &x, const at::Tensor &w);

/// x·Wᵀ (+ b) of one token: rows split over ATen's threads, each read once as stored (16-bit
/// widened in registers), the sum in f32 rounded to the input's dtype once. Each row's sum
/// runs in the order linearFewTokens gives it, so a token's products do not depend on the
/// batch it is in.
at::Tensor linearOneToken(const at::Tensor &input, const at::Tensor &weight,
                          const at::Tensor &bias);

/// Whether linearFewTokens takes `x`·`w`ᵀ: 2 to 64 tokens (one token has the matrix-vector
/// paths; `anyCount`: 2 or more), a contiguous 2-D f32 / f16 / bf16 weight whose rows are
/// whole vectors, and an instructionSet().
bool fewTokensApply(const at::Tensor &x, const at::Tensor &w, bool anyCount = false);

/// x·Wᵀ (+ b) of a few tokens: each weight row read once for all of them (for every 64
/// tokens), f32 sums rounded once to the input's dtype, the bias added in f32.
at::Tensor linearFewTokens(const at::Tensor &input, const at::Tensor &weight,
                           const at::Tensor &bias);

/// Whether the vectorized integer-code kernels take `weight`: integer codes in groups of
/// whole 32-column blocks (no act order) and an instructionSet().
bool codesApply(const QuantizedWeight &weight);

/// y = dequantize(W)·x for one token of f32 `x`, the codes widened in registers (the weight
/// is read as stored). Needs codesApply(weight).
void matVecCodes(const QuantizedWeight &weight, const float *x, float *y);

/// Rows [begin, end) of an integer-coded weight dequantized to f32 into `out` (row-major,
/// cols wide). Needs codesApply(weight).
void dequantizeCodes(const QuantizedWeight &weight, float *out, int64_t begin, int64_t end);

} // namespace vgcu::runtime::gemm

#endif // VGCU_KERNELS_GEMMKERNELS_H
