//===- Verifiers.h - Verifier rules shared by the vgcu and gcu dialects -----------===//
//
// A graph op and the kernel it lowers to obey the same rules (a norm weight as long as the
// features, a positive epsilon, rotary dimensions within the head); each rule is written
// once, over shaped types, so tensors and buffers are checked alike.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_DIALECTS_COMMON_VERIFIERS_H
#define VGCU_DIALECTS_COMMON_VERIFIERS_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/APFloat.h"

namespace vgcu {

/// `weight` (or a bias) is 1-D, as long as the last dimension of `input`, of its element
/// type; with `allowF32`, also f32 over an f16/bf16 input (an RMSNorm that scales in f32
/// before its one rounding, as Gemma's does).
mlir::LogicalResult verifyNormWeight(mlir::Operation *op, mlir::Value input, mlir::Value weight,
                                     llvm::StringRef weightName, bool allowF32 = false);

mlir::LogicalResult verifyEpsilon(mlir::Operation *op, const llvm::APFloat &epsilon);

/// head_dim positive, rotary_dim even within (0, head_dim], theta positive.
mlir::LogicalResult verifyRotaryParams(mlir::Operation *op, int64_t headDim, int64_t rotaryDim,
                                       double theta);

} // namespace vgcu

#endif // VGCU_DIALECTS_COMMON_VERIFIERS_H
