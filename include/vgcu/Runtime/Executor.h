//===- Executor.h - Loading a rank's gcu program and running prefill and decode ----===//
#ifndef VGCU_RUNTIME_EXECUTOR_H
#define VGCU_RUNTIME_EXECUTOR_H

#include "vgcu/Artifact/ArtifactReader.h"
#include "vgcu/Runtime/Kernels.h"
#include "vgcu/Runtime/Observer.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <array>
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
  /// The registers of the entry's arguments, in the batch ABI's order, and of its result.
  std::array<int64_t, 6> arguments{};
  int64_t result = 0;
  int64_t launches = 0;
  std::string name;
  /// Each launch as the program describes it, and per instruction its launch (-1: none).
  std::vector<LaunchInfo> launchInfos;
  std::vector<int64_t> launchOfInstruction;
};

/// One step's flattened batch, vLLM's layout (docs/ARCHITECTURE.md, "The batch ABI"); every
/// tensor int64 on the CPU. S sequences, T new tokens in all.
struct Batch {
  at::Tensor inputIds;      // [T]
  at::Tensor positions;     // [T]
  at::Tensor slotMapping;   // [T]: block * block_size + offset of each new token's KV
  at::Tensor queryStartLoc; // [S + 1]: sequence s owns tokens [qsl[s], qsl[s + 1])
  at::Tensor seqLens;       // [S]: tokens of each sequence in the cache, the new ones included
  at::Tensor blockTables;   // [S, max_blocks]: each sequence's blocks, in order
};

/// Where a rank keeps its weights while it runs.
enum class WeightPlacement {
  /// Copied into memory on transparent huge pages when loaded: each decode step streams every
  /// weight, and a 153M Llama decoded 13-21% faster so at f32 and bf16 on a 2-core Zen 3
  /// (docs/ARCHITECTURE.md, "Runtime").
  Memory,
  /// Read from the artifact's mapped file: a quicker start, pages shared through the page
  /// cache, and every page touched on the first run.
  Mapped,
};

/// A rank of an artifact, ready to run: its program bound to a kernel library, its weights
/// (see WeightPlacement), and a paged KV cache shared by the sequences of a batch.
class Executor {
public:
  static llvm::Expected<std::unique_ptr<Executor>>
  load(const ArtifactManifest &manifest, int64_t rank, const KernelLibrary &library,
       Collectives &collectives, WeightPlacement placement = WeightPlacement::Memory);
  ~Executor();

  /// Bytes of KV cache one block of `blockSize()` tokens takes on this rank, all layers.
  uint64_t bytesPerBlock() const;
  int64_t blockSize() const { return cacheBlockSize; }
  int64_t cacheBlocks() const { return cacheCapacity; }
  /// Allocates a KV cache of `blocks` blocks (zeroed); fails when that much memory cannot
  /// be had.
  llvm::Error allocateCache(int64_t blocks);
  /// Runs one batch: logits [S, vocab] as f32, one row per sequence (its newest token).
  /// Runs @decode when every sequence brings exactly one token, else @prefill.
  llvm::Expected<at::Tensor> execute(const Batch &batch);

  /// Batch-invariant execution: every batch runs @prefill (@decode may regroup sums, as
  /// latent attention's absorbed form does) on kernels that give each token the bits it gets
  /// alone: products summed in one order for any number of tokens, attention query by
  /// query. Integer-coded weights and quantized KV caches keep their batched paths.
  void setBatchInvariant(bool on) { state.batchInvariant = on; }
  bool batchInvariant() const { return state.batchInvariant; }

  /// One sequence in blocks 0..n-1 of a cache sized for `maxTokens`: the single-prompt
  /// path of vgcu-run.
  llvm::Error resetCache(int64_t maxTokens);
  /// Runs the prompt; returns the last token's logits [vocab] as f32.
  llvm::Expected<at::Tensor> prefill(llvm::ArrayRef<int64_t> tokens);
  /// Runs one new token at `position`; returns its logits [vocab] as f32.
  llvm::Expected<at::Tensor> decode(int64_t token, int64_t position);

  int64_t launchesPerDecodeStep() const { return decodeEntry.launches; }
  /// Observers see every later run until removed; they must outlive their registration.
  void addObserver(ExecutionObserver *observer) { observers.push_back(observer); }
  void removeObserver(ExecutionObserver *observer);
  const ArtifactManifest &manifest() const { return artifact; }
  /// Whether some rotary table depends on the largest position of the whole call (dynamic
  /// NTK, LongRoPE), as Hugging Face computes it: such a program must run one sequence per
  /// call to give each sequence its own tables.
  bool rotaryDependsOnCallLength() const { return callLengthRotary; }

private:
  Executor() = default;
  llvm::Expected<at::Tensor> run(BoundEntry &entry, const Batch &batch);
  void runObserved(BoundEntry &entry, const Batch &batch);
  llvm::Error checkBatch(const Batch &batch) const;
  /// `what` names the cache in errors.
  llvm::Error allocateCache(int64_t blocks, const std::string &what);

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
    /// int8 or FP8 codes (kChar, kByte), with scales in RuntimeState::kvScales.
    bool quantized() const {
      return dtype == static_cast<int64_t>(at::kChar) || dtype == static_cast<int64_t>(at::kByte);
    }
  };
  std::vector<CacheShape> cacheShapes;
  int64_t cacheBlockSize = 64;
  int64_t cacheCapacity = 0;
  bool callLengthRotary = false;
  std::vector<ExecutionObserver *> observers;

  friend class EntryBinder;
};

} // namespace vgcu::runtime

#endif // VGCU_RUNTIME_EXECUTOR_H
