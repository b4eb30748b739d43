//===- WeightLoader.h - Matching checkpoint tensors to graph parameters -----------===//
#ifndef VGCU_MODELS_WEIGHTLOADER_H
#define VGCU_MODELS_WEIGHTLOADER_H

#include "vgcu/Config/ModelConfig.h"
#include "vgcu/Weights/SafeTensors.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"

#include <map>
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
};

/// The parameters of a `vgcu` module, by name.
class ParamTable {
public:
  /// Collects every `vgcu.param` and the packing recorded on the linears that use it.
  static llvm::Expected<ParamTable> fromModule(mlir::ModuleOp module);
  const ParamInfo *find(llvm::StringRef name) const;
  const std::map<std::string, ParamInfo> &params() const { return table; }
  /// Total number of elements (each name once); nothing if it does not fit in 64 bits.
  std::optional<int64_t> numElements() const;

private:
  std::map<std::string, ParamInfo> table;
};

/// Where a parameter's data comes from: one checkpoint tensor per segment (one segment for
/// an unpacked parameter).
struct LoadedParam {
  std::vector<Checkpoint::Entry> segments;
};
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
  /// The segment of `param` that holds checkpoint module `module` (e.g. "k_proj"), if any.
  std::optional<int> segmentOf(llvm::StringRef param, llvm::StringRef module) const;

  /// Puts checkpoint tensor `source` into `param` (segment `segment` of a packed one).
  llvm::Error load(llvm::StringRef param, llvm::StringRef source, int segment = -1);
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
