//===- CommonEnums.h - Enums shared by the vgcu and gcu dialects ------------------===//
#ifndef VGCU_DIALECTS_COMMON_COMMONENUMS_H
#define VGCU_DIALECTS_COMMON_COMMONENUMS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/OpImplementation.h"

#include "dialects/common/CommonEnums.h.inc"

namespace vgcu {

/// Whether an epilogue halves the GEMM's width (the gated *_and_mul activations).
inline bool isGatedEpilogue(Epilogue epilogue) {
  return epilogue == Epilogue::silu_and_mul || epilogue == Epilogue::gelu_and_mul ||
         epilogue == Epilogue::gelu_tanh_and_mul;
}

} // namespace vgcu

#endif // VGCU_DIALECTS_COMMON_COMMONENUMS_H
