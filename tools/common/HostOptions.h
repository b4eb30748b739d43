//===- HostOptions.h - torchrun's options for ranks on several hosts (run and serve) ---===//
#ifndef VGCU_TOOLS_COMMON_HOSTOPTIONS_H
#define VGCU_TOOLS_COMMON_HOSTOPTIONS_H

#include "vgcu/Runtime/Distributed.h"
#include "vgcu/Support/Error.h"

#include "llvm/Support/CommandLine.h"

namespace vgcu {

/// --nnodes, --node-rank, --master-addr and --master-port: every host runs the same command,
/// host 0 serves the ranks' store (and prints its port: `--master-port 0` takes any), and
/// each host starts its share of the ranks. One object per tool, at namespace scope.
class HostOptions {
public:
  explicit HostOptions(llvm::cl::OptionCategory &category)
      : nnodes("nnodes", llvm::cl::desc("Hosts the ranks are spread over (as torchrun)"),
               llvm::cl::init(1), llvm::cl::cat(category)),
        nodeRank("node-rank", llvm::cl::desc("This host's index among --nnodes"),
                 llvm::cl::init(0), llvm::cl::cat(category)),
        masterAddr("master-addr", llvm::cl::desc("Host 0's address, where the ranks meet"),
                   llvm::cl::init("127.0.0.1"), llvm::cl::cat(category)),
        masterPort("master-port",
                   llvm::cl::desc("Port host 0 serves the ranks' store on (0: any; host 0 "
                                  "prints it for the other hosts)"),
                   llvm::cl::init(0), llvm::cl::cat(category)) {}

  llvm::cl::opt<int> nnodes;
  llvm::cl::opt<int> nodeRank;
  llvm::cl::opt<std::string> masterAddr;
  llvm::cl::opt<int> masterPort;

  /// The options against an artifact of `worldSize` ranks.
  llvm::Error check(int64_t worldSize) const {
    if (nnodes < 1 || nodeRank < 0 || nodeRank >= nnodes)
      return makeError("--node-rank must be in [0, --nnodes)");
    if (worldSize % nnodes != 0)
      return makeError("the artifact's {0} ranks do not split evenly over {1} hosts",
                       worldSize, nnodes.getValue());
    if (nodeRank > 0 && masterPort == 0)
      return makeError("--node-rank {0} needs --master-port (host 0 prints its port)",
                       nodeRank.getValue());
    return llvm::Error::success();
  }

  /// This host's share of the ranks, with the store served here on host 0.
  runtime::RankLaunch launch(const std::string &executable, std::vector<std::string> arguments,
                             int64_t worldSize) const {
    runtime::RankLaunch launch;
    launch.executable = executable;
    launch.arguments = std::move(arguments);
    launch.worldSize = worldSize;
    int64_t perNode = worldSize / nnodes;
    launch.firstRank = nodeRank * perNode;
    launch.endRank = launch.firstRank + perNode;
    launch.storeHost = masterAddr;
    launch.storePort = masterPort;
    launch.serveStore = nodeRank == 0;
    return launch;
  }

  /// Host 0's line for the other hosts (on stderr): where the ranks' store is.
  void announceStore(llvm::StringRef tool, int port) const {
    if (nnodes > 1 && nodeRank == 0)
      llvm::errs() << tool << ": host 0 serves the ranks' store on " << masterAddr << ":"
                   << port << "\n";
  }
};

} // namespace vgcu

#endif // VGCU_TOOLS_COMMON_HOSTOPTIONS_H
