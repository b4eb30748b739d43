//===- ActivationDump.h - Module outputs of a prompt, named by Hugging Face paths ----===//
//
// The activation recorder watches one run of @prefill and keeps, as f32, what the program
// says each Hugging Face module returned: every decoder layer's output (`model.layers.3`),
// the branches added to the residual (`model.layers.3.self_attn`, `model.layers.3.mlp`), the
// norms after them and the embeddings; optionally every kernel's written operands. Branches
// whose all-reduce a kernel folded in are summed over the ranks first, so every rank's record
// is the whole tensor and a tp 2 dump compares with a tp 1 dump.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_RUNTIME_ACTIVATIONDUMP_H
#define VGCU_RUNTIME_ACTIVATIONDUMP_H

#include "vgcu/Runtime/Kernels.h"
#include "vgcu/Runtime/Observer.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace vgcu::runtime {

struct ActivationDumpOptions {
  /// Decoder layers to keep (empty: all); modules outside the layers are always kept.
  std::set<int64_t> layers;
  /// Also every kernel's written operands, named "<module path>:<kernel>".
  bool kernels = false;
};

class ActivationRecorder : public ExecutionObserver {
public:
  ActivationRecorder(Collectives &collectives, ActivationDumpOptions options)
      : collectives(collectives), options(std::move(options)) {}

  void entryBegin(llvm::StringRef entry, const std::vector<LaunchInfo> &launches,
                  const Batch &batch) override;
  void launchBegin(const LaunchInfo &launch, Frame &frame, RuntimeState &state) override;
  void launchEnd(const LaunchInfo &launch, Frame &frame, RuntimeState &state) override;
  void entryEnd(llvm::StringRef entry) override;

  /// Whether a @prefill run has been recorded (only the first is).
  bool done() const { return finished; }

  /// Writes DIR (as a whole or not at all): activations.safetensors (module outputs, f32,
  /// [tokens, ...]), kernels.safetensors with the kernel records, and kernels.json (each
  /// launch: index, kernel, module, layer; the module outputs in the order they were made).
  llvm::Error write(llvm::StringRef directory, bool overwrite) const;

private:
  void record(std::vector<std::pair<std::string, at::Tensor>> &into, llvm::StringRef name,
              const at::Tensor &value);
  bool keeps(llvm::StringRef path) const;

  Collectives &collectives;
  ActivationDumpOptions options;
  bool active = false, finished = false;
  const std::vector<LaunchInfo> *launches = nullptr;
  /// In the order first made; a later record of a name replaces the value in place.
  std::vector<std::pair<std::string, at::Tensor>> modules, kernels;
  llvm::StringMap<int64_t> kernelNameUses;
};

} // namespace vgcu::runtime

#endif // VGCU_RUNTIME_ACTIVATIONDUMP_H
