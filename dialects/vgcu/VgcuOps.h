//===- VgcuOps.h - Operations of the vgcu graph dialect ---------------------------===//
#ifndef VGCU_DIALECT_VGCU_VGCUOPS_H
#define VGCU_DIALECT_VGCU_VGCUOPS_H

#include "dialects/vgcu/VgcuDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/vgcu/VgcuOps.h.inc"

#endif // VGCU_DIALECT_VGCU_VGCUOPS_H
