//===- Distributed.h - Tensor/expert-parallel ranks as processes joined by c10d Gloo ===//
#ifndef VGCU_RUNTIME_DISTRIBUTED_H
#define VGCU_RUNTIME_DISTRIBUTED_H

#include "vgcu/Runtime/Kernels.h"

#include "llvm/Support/Error.h"

#include <chrono>
#include <string>
#include <vector>

namespace vgcu::runtime {

/// Joins rank `rank` of `worldSize` to a c10d ProcessGroupGloo over the TCPStore a launcher
/// serves at `storeHost`:`port`, and, when `tensorParallel` ranks make a tensor group smaller
/// than the world (expert parallelism), to its tensor group's own process group.
llvm::Expected<std::unique_ptr<Collectives>>
connectGloo(int64_t rank, int64_t worldSize, int64_t tensorParallel,
            const std::string &storeHost, int port, std::chrono::milliseconds timeout);

/// What RankProcesses::start starts: this executable with `arguments` plus `--rank=R`,
/// `--master-port=P` and `--master-addr=H` for ranks [firstRank, endRank) of `worldSize`.
struct RankLaunch {
  std::string executable;
  std::vector<std::string> arguments;
  int64_t worldSize = 1;
  int64_t firstRank = 0;
  int64_t endRank = 1;
  /// Where the ranks find the TCPStore.
  std::string storeHost = "127.0.0.1";
  /// 0 with serveStore: a port the kernel picks.
  int storePort = 0;
  /// Serve the store here (one launcher per job does; another host's launcher does not).
  bool serveStore = true;
};

/// Rank processes started from this one (serving their TCPStore): stopped when this object
/// goes, whatever happened.
class RankProcesses {
public:
  static llvm::Expected<std::unique_ptr<RankProcesses>> start(const RankLaunch &launch);
  ~RankProcesses();
  int storePort() const;
  /// Waits for every started rank. When one fails or dies, the others are stopped and the
  /// error names it; nothing waits forever.
  llvm::Error wait();

private:
  struct State;
  explicit RankProcesses(std::unique_ptr<State> state);
  std::unique_ptr<State> state;
};

/// A launcher's arguments (argv[1..]) to pass on to its ranks: all but the host options
/// (--nnodes, --node-rank, --master-addr, --master-port), which RankProcesses sets per rank.
std::vector<std::string> rankArguments(int argc, char **argv);

/// Starts one process per rank on this host (serving their store on a free loopback port)
/// and waits for all of them (RankProcesses::wait).
llvm::Error runRankProcesses(const std::string &executable,
                             const std::vector<std::string> &arguments, int64_t worldSize);

} // namespace vgcu::runtime

#endif // VGCU_RUNTIME_DISTRIBUTED_H
