//===- Distributed.h - Tensor/expert-parallel ranks as processes joined by c10d Gloo ===//
#ifndef VGCU_RUNTIME_DISTRIBUTED_H
#define VGCU_RUNTIME_DISTRIBUTED_H

#include "vgcu/Runtime/Kernels.h"

#include "llvm/Support/Error.h"

#include <chrono>
#include <string>
#include <vector>

namespace vgcu::runtime {

/// Joins rank `rank` of `worldSize` to a c10d ProcessGroupGloo over the TCPStore its launcher
/// serves on 127.0.0.1:`port`, and, when `tensorParallel` ranks make a tensor group smaller
/// than the world (expert parallelism), to its tensor group's own process group.
llvm::Expected<std::unique_ptr<Collectives>> connectGloo(int64_t rank, int64_t worldSize,
                                                         int64_t tensorParallel, int port,
                                                         std::chrono::milliseconds timeout);

/// Serves a TCPStore on 127.0.0.1, runs one process per rank (this executable with `arguments`
/// plus `--rank=R` and `--master-port=P`, the store's port) and waits for all of them. When a rank fails or dies, the others are
/// stopped and the error names the rank; nothing waits forever.
llvm::Error runRankProcesses(const std::string &executable,
                             const std::vector<std::string> &arguments, int64_t worldSize);

} // namespace vgcu::runtime

#endif // VGCU_RUNTIME_DISTRIBUTED_H
