//===- VgcuDialect.h - The vgcu graph dialect -------------------------------------===//
#ifndef VGCU_DIALECT_VGCU_VGCUDIALECT_H
#define VGCU_DIALECT_VGCU_VGCUDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"

#include "dialects/common/CommonEnums.h"
#include "dialects/vgcu/VgcuDialect.h.inc"
#include "dialects/vgcu/VgcuEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/vgcu/VgcuAttrs.h.inc"

namespace vgcu {
/// The rules between a rotary op's `rope_scaling` (if any) and its `rotary_dim`: longrope
/// factors come one per frequency (rotary_dim / 2), and dynamic NTK needs rotary_dim > 2.
mlir::LogicalResult verifyRopeScaling(mlir::Operation *op, RopeScalingAttr scaling,
                                      int64_t rotaryDim);
} // namespace vgcu

#endif // VGCU_DIALECT_VGCU_VGCUDIALECT_H
