//===- Distributed.cpp - Tensor/expert-parallel ranks joined by c10d Gloo ------------===//

#include "vgcu/Runtime/Distributed.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/Log.h"
#include "vgcu/Support/Signals.h"

#include "llvm/ADT/ScopeExit.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <csignal>
#include <cstring>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace vgcu;
using namespace vgcu::runtime;

namespace {

class GlooCollectives : public Collectives {
public:
  GlooCollectives(c10::intrusive_ptr<c10d::Store> store,
                  c10::intrusive_ptr<c10d::ProcessGroupGloo> world,
                  c10::intrusive_ptr<c10d::ProcessGroupGloo> tensorGroup, int64_t rank,
                  int64_t size, int64_t tensorParallel)
      : store(std::move(store)), world(std::move(world)), tensorGroup(std::move(tensorGroup)),
        rankIndex(rank), size(size), tensorParallel(tensorParallel) {}

  int64_t rank() const override { return rankIndex; }
  int64_t worldSize() const override { return size; }
  int64_t tensorParallelSize() const override { return tensorParallel; }

  void allReduce(at::Tensor &tensor, CollectiveGroup group) override {
    c10d::ProcessGroupGloo *processGroup =
        group == CollectiveGroup::expert ? world.get() : tensorGroup.get();
    if (!processGroup)
      return; // a tensor group of one rank
    // Gloo wants dense tensors. Partial sums are added in f64 and rounded once, so the
    // result is as close to a single device's as the partials allow.
    at::Tensor buffer = tensor.to(at::kDouble).contiguous();
    std::vector<at::Tensor> tensors{buffer};
    processGroup->allreduce(tensors)->wait();
    tensor.copy_(buffer);
  }

  void allGather(const at::Tensor &input, at::Tensor &output, int64_t dim) override {
    if (!tensorGroup) {
      output.copy_(input);
      return;
    }
    at::Tensor local = input.to(at::kFloat).contiguous();
    std::vector<at::Tensor> parts;
    for (int64_t r = 0; r < tensorParallel; ++r)
      parts.push_back(at::empty_like(local));
    std::vector<std::vector<at::Tensor>> outputs{parts};
    std::vector<at::Tensor> inputs{local};
    tensorGroup->allgather(outputs, inputs)->wait();
    output.copy_(at::cat(outputs[0], dim));
  }

private:
  c10::intrusive_ptr<c10d::Store> store;
  /// All ranks; the tensor group's ranks (the world itself without expert parallelism,
  /// null when it is a single rank).
  c10::intrusive_ptr<c10d::ProcessGroupGloo> world, tensorGroup;
  int64_t rankIndex, size, tensorParallel;
};

std::string describeStatus(int status) {
  if (WIFSIGNALED(status))
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

} // namespace

llvm::Expected<std::unique_ptr<Collectives>>
vgcu::runtime::connectGloo(int64_t rank, int64_t worldSize, int64_t tensorParallel,
                           const std::string &storeHost, int port,
                           std::chrono::milliseconds timeout) {
  try {
    // A launcher serves the store (see RankProcesses); every rank is a client.
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(port);
    options.isServer = false;
    options.timeout = timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(storeHost, options);
    auto groupOptions = c10d::ProcessGroupGloo::Options::create(timeout);
    // Peers reach this rank at the address it reaches the store from (loopback on one host).
    groupOptions->devices.push_back(
        storeHost == "127.0.0.1" || storeHost == "localhost"
            ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
            : c10d::ProcessGroupGloo::createDefaultDevice());
    groupOptions->threads = 1;
    auto world = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, worldSize, groupOptions);
    c10::intrusive_ptr<c10d::ProcessGroupGloo> tensorGroup;
    if (tensorParallel == worldSize) {
      tensorGroup = world;
    } else if (tensorParallel > 1) {
      // Each expert-parallel index's tp ranks meet under their own key prefix.
      auto prefixed = c10::make_intrusive<c10d::PrefixStore>(
          "tensor" + std::to_string(rank / tensorParallel) + "/", store);
      tensorGroup = c10::make_intrusive<c10d::ProcessGroupGloo>(
          prefixed, rank % tensorParallel, tensorParallel, groupOptions);
    }
    return std::make_unique<GlooCollectives>(store, world, tensorGroup, rank, worldSize,
                                             tensorParallel);
  } catch (const std::exception &error) {
    return makeError("rank {0} cannot join the process group on {1}:{2}: {3}", rank, storeHost,
                     port, error.what());
  }
}

struct RankProcesses::State {
  c10::intrusive_ptr<c10d::TCPStore> store;
  int port = 0;
  int64_t worldSize = 0;
  int64_t firstRank = 0;
  std::vector<pid_t> children;
  std::vector<int> childSlots;

  void stopAll() {
    for (pid_t child : children)
      if (child > 0)
        kill(child, SIGKILL);
  }
};

RankProcesses::RankProcesses(std::unique_ptr<State> state) : state(std::move(state)) {}

RankProcesses::~RankProcesses() {
  state->stopAll();
  for (pid_t &child : state->children)
    if (child > 0) {
      waitpid(child, nullptr, 0);
      child = -1;
    }
  for (int slot : state->childSlots)
    unregisterChildProcess(slot);
}

int RankProcesses::storePort() const { return state->port; }

llvm::Expected<std::unique_ptr<RankProcesses>>
RankProcesses::start(const RankLaunch &launch) {
  auto state = std::make_unique<State>();
  state->worldSize = launch.worldSize;
  state->firstRank = launch.firstRank;
  state->port = launch.storePort;
  if (launch.serveStore) {
    // The launcher serves the ranks' TCPStore on a port it keeps bound (the kernel picks one
    // when none is given): a port found free, closed, and bound later by a rank could be taken
    // by another process in between (seen when tests ran tensor-parallel jobs side by side).
    try {
      c10d::TCPStoreOptions options;
      options.port = static_cast<uint16_t>(launch.storePort);
      options.isServer = true;
      options.waitWorkers = false;
      state->store = c10::make_intrusive<c10d::TCPStore>(launch.storeHost, options);
      state->port = state->store->getPort();
    } catch (const std::exception &error) {
      return makeError("cannot serve the ranks' TCPStore on {0}:{1}: {2}", launch.storeHost,
                       launch.storePort, error.what());
    }
  }
  // An interrupt of the launcher stops its ranks (and a launcher killed outright takes them
  // along through PR_SET_PDEATHSIG).
  installSignalHandlers();
  auto group = std::unique_ptr<RankProcesses>(new RankProcesses(std::move(state)));
  State &running = *group->state;
  pid_t launcher = getpid();
  for (int64_t rank = launch.firstRank; rank < launch.endRank; ++rank) {
    // Rank options first: everything after a "--" among `arguments` is positional.
    std::vector<std::string> argv{launch.executable, "--rank=" + std::to_string(rank),
                                  "--master-port=" + std::to_string(running.port),
                                  "--master-addr=" + launch.storeHost};
    argv.insert(argv.end(), launch.arguments.begin(), launch.arguments.end());
    std::vector<char *> pointers;
    for (std::string &argument : argv)
      pointers.push_back(argument.data());
    pointers.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0)
      return makeError("cannot start rank {0}: {1}", rank, strerror(errno));
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != launcher) // the launcher died before prctl took effect
        _exit(1);
      // A launcher that waits for signals in a thread has them blocked; its ranks do not.
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      execv(launch.executable.c_str(), pointers.data());
      _exit(127);
    }
    running.children.push_back(pid);
    running.childSlots.push_back(registerChildProcess(pid));
  }
  logger().debug("started ranks {} to {} of {} (store {}:{})", launch.firstRank,
                 launch.endRank - 1, launch.worldSize, launch.storeHost, running.port);
  return group;
}

llvm::Error RankProcesses::wait() {
  // The first rank to fail decides the outcome; the rest are stopped so nothing hangs.
  std::optional<std::string> failure;
  int64_t remaining = llvm::count_if(state->children, [](pid_t pid) { return pid > 0; });
  while (remaining > 0) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    auto it = std::find(state->children.begin(), state->children.end(), pid);
    if (it == state->children.end())
      continue;
    int64_t rank = state->firstRank + (it - state->children.begin());
    *it = -1;
    --remaining;
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && !failure) {
      failure = "rank " + std::to_string(rank) + " of " + std::to_string(state->worldSize) +
                " " + describeStatus(status);
      state->stopAll();
    }
  }
  if (failure)
    return makeError("parallel run failed: {0}", *failure);
  return llvm::Error::success();
}

std::vector<std::string> vgcu::runtime::rankArguments(int argc, char **argv) {
  static const char *const kHostOptions[] = {"nnodes", "node-rank", "master-addr",
                                             "master-port"};
  std::vector<std::string> arguments;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef argument(argv[i]);
    if (argument == "--") { // the rest is positional
      for (; i < argc; ++i)
        arguments.push_back(argv[i]);
      break;
    }
    llvm::StringRef name = argument;
    if (!name.consume_front("--") && !name.consume_front("-")) {
      arguments.push_back(argument.str());
      continue;
    }
    auto [key, value] = name.split('=');
    if (!llvm::is_contained(kHostOptions, key)) {
      arguments.push_back(argument.str());
      continue;
    }
    if (!name.contains('=') && i + 1 < argc)
      ++i; // "--master-port 29500": the value goes too
  }
  return arguments;
}

llvm::Error vgcu::runtime::runRankProcesses(const std::string &executable,
                                            const std::vector<std::string> &arguments,
                                            int64_t worldSize) {
  RankLaunch launch;
  launch.executable = executable;
  launch.arguments = arguments;
  launch.worldSize = worldSize;
  launch.endRank = worldSize;
  auto group = RankProcesses::start(launch);
  if (!group)
    return group.takeError();
  return (*group)->wait();
}
