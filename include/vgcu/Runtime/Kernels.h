//===- Kernels.h - The kernel library interface: gcu ops bound to implementations --===//
//
// A kernel library is a table from `gcu` op name to a binder. Binding happens once, when a
// program is loaded: the binder reads the op's attributes and operand registers and returns
// an Instruction, a closure the executor calls for every run. The CPU reference library
// implements every kernel on ATen; a GCU library binds the same names to topsvllm/topsaten.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_RUNTIME_KERNELS_H
#define VGCU_RUNTIME_KERNELS_H

#include "dialects/common/CommonEnums.h"

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vgcu::runtime {

/// Collective operations across ranks (ECCL on GCU, Gloo here). The tp · ep ranks are
/// numbered expert-parallel index major (rank = ep index · tp + tp index): the tensor group
/// of a rank is the tp ranks of its expert-parallel index.
class Collectives {
public:
  virtual ~Collectives() = default;
  /// Among all tp · ep ranks.
  virtual int64_t rank() const = 0;
  virtual int64_t worldSize() const = 0;
  /// The tensor-parallel size: the ranks of one tensor group.
  virtual int64_t tensorParallelSize() const = 0;
  int64_t tensorRank() const { return rank() % tensorParallelSize(); }
  int64_t expertRank() const { return rank() / tensorParallelSize(); }
  /// Sums `tensor` over the ranks of `group`, in place.
  virtual void allReduce(at::Tensor &tensor, CollectiveGroup group) = 0;
  /// Concatenates the tensor group's `input`s along `dim`, in tensor-rank order, into
  /// `output`.
  virtual void allGather(const at::Tensor &input, at::Tensor &output, int64_t dim) = 0;
};

/// One process, no peers: all-reduce and all-gather are copies.
std::unique_ptr<Collectives> makeSingleRankCollectives();

/// The registers of one entry: a tensor or an integer per SSA value.
struct Frame {
  std::vector<at::Tensor> tensors;
  std::vector<int64_t> integers;
};

/// What outlives a single run: collectives and the paged KV cache.
struct RuntimeState {
  Collectives *collectives = nullptr;
  /// Per attention layer: key and value caches [blocks, block_size, kv_heads, head_dim].
  std::vector<std::pair<at::Tensor, at::Tensor>> kvCaches;
  /// Per layer, the key and value scales of a quantized cache (undefined for a float one).
  std::vector<std::pair<at::Tensor, at::Tensor>> kvScales;
  /// Arena slots (bytes) that gcu.alloc buffers live in; once large enough, a step
  /// allocates nothing.
  std::vector<at::Tensor> arenaSlots;
  /// Slots outgrown during the current step, kept alive until it ends.
  std::vector<at::Tensor> retiredSlots;
  /// F16 GEMM weights by name, widened to f32 on first use and shared by the entries.
  llvm::StringMap<at::Tensor> widenedWeights;
  /// Kernels give each token the result it gets alone, whatever else the batch holds
  /// (Executor::setBatchInvariant).
  bool batchInvariant = false;
};

using Instruction = std::function<void(Frame &, RuntimeState &)>;

/// The register each SSA value of the entry lives in.
class RegisterMap {
public:
  int64_t operator[](mlir::Value value) const { return registers.lookup(value); }
  int64_t assign(mlir::Value value) {
    auto [it, inserted] = registers.try_emplace(value, registers.size());
    return it->second;
  }
  size_t size() const { return registers.size(); }

private:
  llvm::DenseMap<mlir::Value, int64_t> registers;
};

using KernelBinder =
    std::function<llvm::Expected<Instruction>(mlir::Operation *op, const RegisterMap &regs)>;

/// A table from gcu op name ("gcu.gemm") to the binder of its implementation.
class KernelLibrary {
public:
  explicit KernelLibrary(std::string name) : libraryName(std::move(name)) {}
  void add(llvm::StringRef opName, KernelBinder binder) { binders[opName] = std::move(binder); }
  const KernelBinder *lookup(llvm::StringRef opName) const {
    auto it = binders.find(opName);
    return it == binders.end() ? nullptr : &it->second;
  }
  llvm::StringRef name() const { return libraryName; }
  std::vector<std::string> opNames() const;

private:
  std::string libraryName;
  llvm::StringMap<KernelBinder> binders;
};

/// vgcu's CPU reference kernels on ATen, for F32, F16 and BF16.
const KernelLibrary &referenceKernelLibrary();

/// The reference kernels' threads: ATen's pool of `threads`, and BLAS (OpenBLAS, when the
/// process has it) single-threaded inside it, since the kernels split their products over
/// the pool themselves and a second pool would oversubscribe the cores.
void setReferenceKernelThreads(int threads);

/// The OpenBLAS core type this CPU should use when OpenBLAS picked a weaker one: its CPU
/// detection does not know some virtualized Xeons and falls back to SSE3 ("Prescott")
/// kernels, half as fast as AVX-512's at the GEMMs that dominate a step. Empty when OpenBLAS
/// is absent, was told (OPENBLAS_CORETYPE) or chose well. OpenBLAS reads the core type when
/// it loads, so a process acts on this by starting again with OPENBLAS_CORETYPE set.
std::string preferredBlasCoreType();

} // namespace vgcu::runtime

#endif // VGCU_RUNTIME_KERNELS_H
