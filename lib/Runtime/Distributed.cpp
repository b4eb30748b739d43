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
vgcu::runtime::connectGloo(int64_t rank, int64_t worldSize, int64_t tensorParallel, int port,
                           std::chrono::milliseconds timeout) {
  try {
    // The launcher serves the store (see runRankProcesses); every rank is a client.
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(port);
    options.isServer = false;
    options.timeout = timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", options);
    auto groupOptions = c10d::ProcessGroupGloo::Options::create(timeout);
    groupOptions->devices.push_back(
        c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
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
    return makeError("rank {0} cannot join the process group on 127.0.0.1:{1}: {2}", rank, port,
                     error.what());
  }
}

llvm::Error vgcu::runtime::runRankProcesses(const std::string &executable,
                                            const std::vector<std::string> &arguments,
                                            int64_t worldSize) {
  // The launcher serves the ranks' TCPStore on a port the kernel picks and keeps bound: a port
  // found free and closed again for rank 0 to bind later could be taken by another process in
  // between (seen as a rare failure when tests ran tensor-parallel jobs side by side).
  c10::intrusive_ptr<c10d::TCPStore> store;
  int port = 0;
  try {
    c10d::TCPStoreOptions options;
    options.port = 0;
    options.isServer = true;
    options.waitWorkers = false;
    store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", options);
    port = store->getPort();
  } catch (const std::exception &error) {
    return makeError("cannot serve the ranks' TCPStore on 127.0.0.1: {0}", error.what());
  }
  // An interrupt of the launcher stops its ranks (and a launcher killed outright takes them
  // along through PR_SET_PDEATHSIG).
  installSignalHandlers();
  std::vector<pid_t> children;
  std::vector<int> childSlots;
  auto forget = llvm::make_scope_exit([&] {
    for (int slot : childSlots)
      unregisterChildProcess(slot);
  });
  auto stopAll = [&](pid_t except) {
    for (pid_t child : children)
      if (child > 0 && child != except)
        kill(child, SIGKILL);
  };
  pid_t launcher = getpid();
  for (int64_t rank = 0; rank < worldSize; ++rank) {
    // Rank options first: everything after a "--" among `arguments` is positional.
    std::vector<std::string> argv{executable, "--rank=" + std::to_string(rank),
                                  "--master-port=" + std::to_string(port)};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    std::vector<char *> pointers;
    for (std::string &argument : argv)
      pointers.push_back(argument.data());
    pointers.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) {
      int saved = errno;
      stopAll(-1);
      return makeError("cannot start rank {0}: {1}", rank, strerror(saved));
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != launcher) // the launcher died before prctl took effect
        _exit(1);
      execv(executable.c_str(), pointers.data());
      _exit(127);
    }
    children.push_back(pid);
    childSlots.push_back(registerChildProcess(pid));
  }
  logger().debug("started {} ranks on port {}", worldSize, port);
  // The first rank to fail decides the outcome; the rest are stopped so nothing hangs.
  std::optional<std::string> failure;
  int64_t running = worldSize;
  while (running > 0) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    auto it = std::find(children.begin(), children.end(), pid);
    if (it == children.end())
      continue;
    int64_t rank = it - children.begin();
    *it = -1;
    --running;
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && !failure) {
      failure = "rank " + std::to_string(rank) + " of " + std::to_string(worldSize) + " " +
                describeStatus(status);
      stopAll(-1);
    }
  }
  if (failure)
    return makeError("parallel run failed: {0}", *failure);
  return llvm::Error::success();
}
