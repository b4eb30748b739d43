//===- WeightLoader.h - Matching checkpoint tensors to graph parameters -----------===//
#ifndef VGCU_MODELS_WEIGHTLOADER_H
#define VGCU_MODELS_WEIGHTLOADER_H

#include "vgcu/Config/ModelConfig.h"
#include "vgcu/Weights/SafeTensors.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace vgcu {

/// A graph parameter: its shape and, for a packed linear's weight or bias, the checkpoint
/// modules stacked along dim 0 (name and rows of each).
struct ParamInfo {
  std::string name;
  llvm::SmallVector<int64_t, 4> shape;
  DType dtype = DType::F32;
  std::vector<std::pair<std::string, int64_t>> segments;
  /// A computed weight (`computed_by`): made at artifact time, not loaded.
  bool computed = false;
};

/// The parameters of a `vgcu` module, by name.
class ParamTable {
public:
  /// Collects every `vgcu.param` and the packing recorded on the linears that use it.
  static llvm::Expected<ParamTable> fromModule(mlir::ModuleOp module);
  const ParamInfo *find(llvm::StringRef name) const;
  const std::map<std::string, ParamInfo> &params() const { return table; }
  /// Total number of elements of the checkpoint's parameters (each name once, computed
  /// weights left out); nothing if it does not fit in 64 bits.
  std::optional<int64_t> numElements() const;

private:
  std::map<std::string, ParamInfo> table;
};

/// A checkpoint tensor rewritten as it is loaded, for layouts vgcu's parameters do not have
/// (GPT-2's [in, out] Conv1D weights, InternLM2's q/k/v grouped per KV head, Baichuan 2's
/// row-normalised head). `apply` computes the tensor of shape `shape` from the checkpoint's
/// of shape `sourceShape` (both as f32, exact for every float checkpoint dtype) when the
/// artifact is written, one tensor at a time; the loader refuses a checkpoint tensor of
/// another shape, so `apply` may rely on it.
struct TensorTransform {
  /// What it does, for messages ("transposed from [in, out]").
  std::string description;
  llvm::SmallVector<int64_t, 4> sourceShape;
  llvm::SmallVector<int64_t, 4> shape;
  std::function<void(llvm::ArrayRef<float> source, llvm::ArrayRef<int64_t> sourceShape,
                     llvm::MutableArrayRef<float> out)>
      apply;
};

/// Where a parameter's data comes from: one checkpoint tensor per segment (one segment for
/// an unpacked parameter), each maybe transformed as it is loaded.
struct LoadedParam {
  std::vector<Checkpoint::Entry> segments;
  /// Per segment, the transform applied to it (null: none).
  std::vector<std::shared_ptr<const TensorTransform>> transforms;
};

/// For a packed parameter stored whole (Phi-3's qkv_proj), the transform that takes each
/// segment's rows of the whole tensor.
std::vector<std::shared_ptr<const TensorTransform>> packedRowSlices(const ParamInfo &info);

/// Rows `rows[i]` of a checkpoint tensor of `sourceShape` as row i of the result (a regrouping
/// along dim 0, such as InternLM2's q/k/v interleaved per KV head).
std::shared_ptr<const TensorTransform> gatherRows(std::string description,
                                                  llvm::ArrayRef<int64_t> sourceShape,
                                                  std::vector<int64_t> rows);
/// Columns [first, first + count) of a 2-d [in, out] checkpoint tensor, transposed to
/// [count, in] (a Conv1D weight, or a segment of a packed one, as an [out, in] linear).
std::shared_ptr<const TensorTransform> transposedColumns(llvm::ArrayRef<int64_t> sourceShape,
                                                         int64_t first, int64_t count);

/// A checkpoint tensor's data as f32 (a quantized module's weight dequantized).
std::vector<float> dequantizeEntry(const Checkpoint::Entry &entry);
/// The data of segment `index` of `param` as f32, transformed if it has a transform.
std::vector<float> materializeSegment(const LoadedParam &param, size_t index);
using LoadedWeights = std::map<std::string, LoadedParam>;

/// What a builder's loadWeights() talks to: the checkpoint's tensor names, and load() to
/// put one of them into a parameter (or one segment of a packed parameter). Shapes and
/// dtypes are checked as they are loaded; finish() reports parameters left empty and
/// checkpoint tensors nobody took.
class WeightLoader {
public:
  WeightLoader(const Checkpoint &checkpoint, const ParamTable &params,
               const ModelConfig &config);

  const ModelConfig &config() const { return modelConfig; }
  /// Checkpoint tensor names, sorted.
  const std::vector<std::string> &checkpointNames() const { return names; }
  bool hasParam(llvm::StringRef name) const { return params.find(name) != nullptr; }
  /// The parameter `name`, if the model has it.
  const ParamInfo *param(llvm::StringRef name) const { return params.find(name); }
  const ParamTable &paramTable() const { return params; }
  /// The segment of `param` that holds checkpoint module `module` (e.g. "k_proj"), if any.
  std::optional<int> segmentOf(llvm::StringRef param, llvm::StringRef module) const;

  /// Puts checkpoint tensor `source` into `param` (segment `segment` of a packed one),
  /// rewritten by `transform` if one is given (its result shape is what is checked).
  llvm::Error load(llvm::StringRef param, llvm::StringRef source, int segment = -1,
                   std::shared_ptr<const TensorTransform> transform = nullptr);
  /// Marks a checkpoint tensor as deliberately unused.
  void skip(llvm::StringRef source);

  /// Errors for unfilled parameters and unused tensors; on success the loaded weights.
  llvm::Expected<LoadedWeights> finish();

private:
  const Checkpoint &checkpoint;
  const ParamTable &params;
  const ModelConfig &modelConfig;
  std::vector<std::string> names;
  std::set<std::string> consumed;
  LoadedWeights loaded;
};

} // namespace vgcu

#endif // VGCU_MODELS_WEIGHTLOADER_H
