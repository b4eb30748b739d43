//===- RowKernels.h - Reference kernels written as loops over rows ---------------===//
//
// A decode step's tensors are a row or a few: composed of ATen ops, an RMSNorm or one
// sequence's attention costs a dozen dispatches of a few microseconds each, more than the
// arithmetic. These kernels do the same arithmetic as the ATen compositions they replace,
// in the same dtypes with the same roundings (each ATen op on a 16-bit tensor computes in
// f32 and rounds once), only in loops; sums may associate differently (last-bit
// differences). They return false for layouts they do not take, and the caller falls back.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_KERNELS_ROWKERNELS_H
#define VGCU_KERNELS_ROWKERNELS_H

#include <ATen/ATen.h>

#include <optional>

namespace vgcu::runtime::rows {

/// out = rms_norm(input) · weight for each row of 2-D `input` (see rmsNorm in
/// ReferenceKernels.cpp for the roundings).
bool rmsNorm(const at::Tensor &input, const at::Tensor &weight, double epsilon, at::Tensor &out);

/// residual += input; input = rms_norm(residual) · weight, row by row, in place.
bool addRmsNorm(at::Tensor &input, at::Tensor &residual, const at::Tensor &weight,
                double epsilon);

/// Rotary tables for the rows of a one-query-per-sequence batch, then q and k rotated and k
/// and v written to their cache slots. `invFreq` (f32, rotary_dim / 2) is the call's.
/// `rotatedQuery` receives q, rotated, as a contiguous [tokens, heads, head_dim] tensor.
struct RotaryCall {
  at::Tensor invFreq;
  double attentionScaling;
  int64_t rotaryDim;
  bool neox;
};
bool rotateAndCache(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                    const at::Tensor &positions, const at::Tensor &slots,
                    const std::optional<RotaryCall> &rotary, at::Tensor &keyCache,
                    at::Tensor &valueCache, at::Tensor &rotatedQuery);

/// Attention of each query (q [T, heads, head_dim], at positions [T]) over its sequence's
/// context in the paged caches, into out [T, heads · value_dim]; the scores, mask, soft cap,
/// softmax and product of attendDecodeBatch in ReferenceKernels.cpp. Without
/// `queryStartLoc` query t is sequence t's one query; with it (vLLM's [S + 1] offsets)
/// sequence s owns queries [queryStartLoc[s], queryStartLoc[s + 1]). Each query's
/// arithmetic is the same whatever the other queries of the call are.
bool attendEachQuery(const at::Tensor &q, const at::Tensor &keyCache,
                     const at::Tensor &valueCache, const at::Tensor &positions,
                     const at::Tensor &seqLens, const at::Tensor &blockTables, double scale,
                     std::optional<int64_t> window, std::optional<double> softcap,
                     at::Tensor &out, const at::Tensor &queryStartLoc = at::Tensor());

} // namespace vgcu::runtime::rows

#endif // VGCU_KERNELS_ROWKERNELS_H
