//===- Executor.h - Loading a rank's gcu program and running prefill and decode ----===//
#ifndef VGCU_RUNTIME_EXECUTOR_H
#define VGCU_RUNTIME_EXECUTOR_H

#include "vgcu/Artifact/ArtifactReader.h"
#include "vgcu/Runtime/Kernels.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <memory>

namespace vgcu {
class SafeTensorsFile;
}

namespace vgcu::runtime {

/// One entry (prefill or decode) bound to kernels: registers, the weights and constants
/// they start with, and the instructions in program order.
struct BoundEntry {
  std::vector<Instruction> instructions;
  Frame frame;
  int64_t inputIds = 0, positions = 0, slotMapping = 0, blockTable = 0, result = 0;
  int64_t launches = 0;
};

/// A rank of an artifact, ready to run: its program bound to a kernel library, its weights
/// mapped from disk, and a paged KV cache for one sequence.
class Executor {
public:
  static llvm::Expected<std::unique_ptr<Executor>>
  load(const ArtifactManifest &manifest, int64_t rank, const KernelLibrary &library,
       Collectives &collectives);
  ~Executor();

  /// Allocates the KV cache for a sequence of up to `maxTokens` tokens; fails when that
  /// much memory cannot be had.
  llvm::Error resetCache(int64_t maxTokens);
  /// Runs the prompt; returns the last token's logits [vocab] as f32.
  llvm::Expected<at::Tensor> prefill(llvm::ArrayRef<int64_t> tokens);
  /// Runs one new token at `position`; returns its logits [vocab] as f32.
  llvm::Expected<at::Tensor> decode(int64_t token, int64_t position);

  int64_t launchesPerDecodeStep() const { return decodeEntry.launches; }
  const ArtifactManifest &manifest() const { return artifact; }

private:
  Executor() = default;
  llvm::Expected<at::Tensor> run(BoundEntry &entry, const at::Tensor &ids,
                                 const at::Tensor &positions);

  ArtifactManifest artifact;
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> program;
  std::unique_ptr<SafeTensorsFile> weights;
  RuntimeState state;
  BoundEntry prefillEntry, decodeEntry;
  /// Per attention layer: what its KV cache holds.
  struct CacheShape {
    /// The value cache's head_dim differs from the key cache's under multi-head latent
    /// attention (the latent and the rotary key).
    int64_t kvHeads, headDim, valueHeadDim, dtype;
  };
  std::vector<CacheShape> cacheShapes;
  at::Tensor blockTable;
  int64_t blockSize = 64;
  int64_t cacheCapacity = 0;

  friend class EntryBinder;
};

} // namespace vgcu::runtime

#endif // VGCU_RUNTIME_EXECUTOR_H
