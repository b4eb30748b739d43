//===- ProgramCheck.h - What a gcu program must satisfy before it runs ------------===//
#ifndef VGCU_RUNTIME_PROGRAMCHECK_H
#define VGCU_RUNTIME_PROGRAMCHECK_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Error.h"

namespace vgcu::runtime {

/// Checks an entry of a gcu program beyond the op verifiers, so a crafted program fails with
/// an error instead of a crash: the entry has a body; every kernel writes only into buffers
/// the program allocated (never a weight, which is a read-only mapping, a constant, an entry
/// argument, or a broadcast view), and only the cache kernels write into a KV cache.
llvm::Error checkEntry(mlir::func::FuncOp entry);

} // namespace vgcu::runtime

#endif // VGCU_RUNTIME_PROGRAMCHECK_H
