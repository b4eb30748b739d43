//===- Observer.h - Watching an entry run: each launch with what the program says of it -===//
//
// The executor describes every kernel launch when it binds a program (LaunchInfo: kernel,
// Hugging Face module path, decoder layer, operands, and for the fused residual kernels which
// module's output each operand holds) and, when observers are attached, calls them around
// each launch. The kernel tracer and the activation recorder are observers. With no
// observer attached the run loop is the plain one; building with VGCU_RUNTIME_HOOKS=OFF
// removes even the check (bench/RESULTS.md measures both).
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_RUNTIME_OBSERVER_H
#define VGCU_RUNTIME_OBSERVER_H

#include "dialects/common/CommonEnums.h"

#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace vgcu::runtime {

struct Batch;
struct Frame;
struct RuntimeState;

/// One kernel launch of an entry, as the program describes it.
struct LaunchInfo {
  /// Position in the entry's launches, in program order.
  int64_t index = 0;
  /// The gcu op without its dialect prefix ("gemm") and its GCU library entry.
  std::string kernel;
  std::string hardwareEntry;
  /// The module the launch implements first ("model.layers.3.mlp.down_proj"; "" if the op
  /// carries no name) and its decoder layer (-1 outside the layers).
  std::string modulePath;
  int64_t layer = -1;
  /// A collective, or a kernel with one folded in: its time is partly waiting for peers.
  bool collective = false;

  struct Operand {
    int64_t reg = 0;
    bool written = false;
    /// A paged KV cache: a launch reads only the blocks of the batch's sequences.
    bool kvCache = false;
  };
  std::vector<Operand> operands;

  /// Attention launches: query heads and head size, for the FLOPs of a trace.
  int64_t attentionHeads = 0, attentionHeadDim = 0;

  /// Residual kernels (`residual += input; input = norm(residual)`): operand positions, the
  /// norm applied after the add, and the module whose output `input` holds before the launch
  /// (the branch added to the residual, e.g. "model.layers.3.mlp"). When the kernel folds the
  /// branch's all-reduce in, `input` is this rank's partial sum over `group`.
  int inputOperand = -1, residualOperand = -1;
  std::string normPath, branchPath;
  bool partialInput = false;
  CollectiveGroup group = CollectiveGroup::tensor;
  /// The decoder layer whose output `residual` holds after this launch ("" if none).
  std::string layerOutputPath;
  /// A module whose output is this launch's written operand `outputOperand` (embeddings after
  /// their all-reduce, a decoder layer's own residual add); "" if none.
  std::string moduleOutputPath;
  int outputOperand = -1;
};

/// Told about each run of an entry and each of its launches. All ranks' observers see the
/// same sequence of calls, so an observer may use collectives in them.
class ExecutionObserver {
public:
  virtual ~ExecutionObserver();
  /// `entry` is "prefill" or "decode"; `launches` describes the entry's launches.
  virtual void entryBegin(llvm::StringRef entry, const std::vector<LaunchInfo> &launches,
                          const Batch &batch) {}
  virtual void launchBegin(const LaunchInfo &launch, Frame &frame, RuntimeState &state) {}
  virtual void launchEnd(const LaunchInfo &launch, Frame &frame, RuntimeState &state) {}
  virtual void entryEnd(llvm::StringRef entry) {}
};

/// False in a runtime built with VGCU_RUNTIME_HOOKS=OFF: observers are never called.
bool runtimeHooksBuiltIn();

} // namespace vgcu::runtime

#endif // VGCU_RUNTIME_OBSERVER_H
