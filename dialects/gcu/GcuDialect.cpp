//===- GcuDialect.cpp - Registration of the gcu kernel-call dialect ---------------===//

#include "dialects/gcu/GcuDialect.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace gcu;

#include "dialects/gcu/GcuDialect.cpp.inc"
#include "dialects/gcu/GcuEnums.cpp.inc"
#include "dialects/gcu/GcuInterfaces.cpp.inc"

void GcuDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/gcu/GcuOps.cpp.inc"
      >();
}
