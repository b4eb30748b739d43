//===- GcuDialect.h - The gcu kernel-call dialect ---------------------------------===//
#ifndef VGCU_DIALECT_GCU_GCUDIALECT_H
#define VGCU_DIALECT_GCU_GCUDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/common/CommonEnums.h"
#include "dialects/vgcu/VgcuDialect.h"
#include "dialects/gcu/GcuDialect.h.inc"
#include "dialects/gcu/GcuEnums.h.inc"
#include "dialects/gcu/GcuInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/gcu/GcuOps.h.inc"

#endif // VGCU_DIALECT_GCU_GCUDIALECT_H
