//===- ExecutorOptions.h - How run and serve load a rank's executor -------------------===//
#ifndef VGCU_TOOLS_COMMON_EXECUTOROPTIONS_H
#define VGCU_TOOLS_COMMON_EXECUTOROPTIONS_H

#include "vgcu/Runtime/Executor.h"

#include "llvm/Support/CommandLine.h"

#include <cstdlib>
#include <cstring>

namespace vgcu {

/// --mmap-weights and --batch-invariant (or vLLM's VLLM_BATCH_INVARIANT=1, which users of
/// vLLM set for the same). One object per tool, at namespace scope.
class ExecutorOptions {
public:
  explicit ExecutorOptions(llvm::cl::OptionCategory &category)
      : mmapWeights("mmap-weights",
                    llvm::cl::desc("Read the weights from the mapped artifact instead of copying "
                                   "them into memory on huge pages (a quicker start, a slower "
                                   "decode)"),
                    llvm::cl::init(false), llvm::cl::cat(category)),
        batchInvariant("batch-invariant",
                       llvm::cl::desc("Give every request the logits it gets alone, bit for "
                                      "bit, whatever it is batched with (slower prompts; also "
                                      "VLLM_BATCH_INVARIANT=1)"),
                       llvm::cl::init(false), llvm::cl::cat(category)) {}

  llvm::cl::opt<bool> mmapWeights;
  llvm::cl::opt<bool> batchInvariant;

  /// Rank `rank`'s executor of `manifest` on the reference kernels, as the options say.
  llvm::Expected<std::unique_ptr<runtime::Executor>>
  load(const ArtifactManifest &manifest, int64_t rank, runtime::Collectives &collectives) const {
    auto executor = runtime::Executor::load(
        manifest, rank, runtime::referenceKernelLibrary(), collectives,
        mmapWeights ? runtime::WeightPlacement::Mapped : runtime::WeightPlacement::Memory);
    const char *fromEnvironment = std::getenv("VLLM_BATCH_INVARIANT");
    if (executor)
      (*executor)->setBatchInvariant(batchInvariant ||
                                     (fromEnvironment && std::strcmp(fromEnvironment, "1") == 0));
    return executor;
  }
};

} // namespace vgcu

#endif // VGCU_TOOLS_COMMON_EXECUTOROPTIONS_H
