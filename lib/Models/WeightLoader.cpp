//===- WeightLoader.cpp - Matching checkpoint tensors to graph parameters ---------===//

#include "vgcu/Models/WeightLoader.h"
#include "vgcu/Support/CheckedMath.h"
#include "vgcu/Support/Error.h"

#include "dialects/vgcu/VgcuOps.h"
#include "vgcu/Support/Shapes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace vgcu;

llvm::Expected<ParamTable> ParamTable::fromModule(ModuleOp module) {
  ParamTable result;
  llvm::Error error = llvm::Error::success();
  module.walk([&](ParamOp op) {
    RankedTensorType type = op.getResult().getType();
    ParamInfo info;
    info.name = op.getName().str();
    info.shape.assign(type.getShape().begin(), type.getShape().end());
    info.dtype = mlirToDType(type.getElementType()).value_or(DType::F32);
    info.computed = static_cast<bool>(op.getComputedByAttr());
    auto [it, inserted] = result.table.emplace(info.name, info);
    if (!inserted && it->second.shape != info.shape && !error)
      error = makeError("parameter '{0}' is used with shapes {1} and {2}", info.name,
                        shapeString(it->second.shape), shapeString(info.shape));
  });
  if (error)
    return std::move(error);
  module.walk([&](LinearOp op) {
    auto modules = op.getPackedModulesAttr();
    auto sizes = op.getPackedSizesAttr();
    if (!modules)
      return;
    for (Value operand : {op.getWeight(), op.getBias()}) {
      auto param = operand ? operand.getDefiningOp<ParamOp>() : ParamOp();
      if (!param)
        continue;
      ParamInfo &info = result.table[param.getName().str()];
      info.segments.clear();
      for (auto [name, size] : llvm::zip(modules, sizes.asArrayRef()))
        info.segments.push_back({cast<StringAttr>(name).str(), size});
    }
  });
  return std::move(result);
}

const ParamInfo *ParamTable::find(llvm::StringRef name) const {
  auto it = table.find(name.str());
  return it == table.end() ? nullptr : &it->second;
}

std::optional<int64_t> ParamTable::numElements() const {
  CheckedInt64 total = 0;
  for (const auto &[name, info] : table) {
    if (info.computed)
      continue;
    CheckedInt64 count = 1;
    for (int64_t dim : info.shape)
      count *= dim;
    total += count;
  }
  return total.get();
}

WeightLoader::WeightLoader(const Checkpoint &checkpoint, const ParamTable &params,
                           const ModelConfig &config)
    : checkpoint(checkpoint), params(params), modelConfig(config) {
  for (const auto &[name, entry] : checkpoint.tensors())
    names.push_back(name);
}

std::optional<int> WeightLoader::segmentOf(llvm::StringRef param, llvm::StringRef module) const {
  const ParamInfo *info = params.find(param);
  if (!info)
    return std::nullopt;
  for (auto [index, segment] : llvm::enumerate(info->segments))
    if (segment.first == module)
      return static_cast<int>(index);
  return std::nullopt;
}

std::vector<float> vgcu::materializeSegment(const LoadedParam &param, size_t index) {
  const Checkpoint::Entry &entry = param.segments[index];
  std::vector<float> data(entry.tensor->numElements());
  convertFloats(entry.bytes().data(), entry.tensor->dtype, data.data(), DType::F32,
                data.size());
  const TensorTransform *transform =
      index < param.transforms.size() ? param.transforms[index].get() : nullptr;
  if (!transform)
    return data;
  int64_t count = 1;
  for (int64_t dim : transform->shape)
    count *= dim;
  std::vector<float> out(count);
  transform->apply(data, entry.tensor->shape, out);
  return out;
}

llvm::Error WeightLoader::load(llvm::StringRef param, llvm::StringRef source, int segment,
                               std::shared_ptr<const TensorTransform> transform) {
  const Checkpoint::Entry *entry = checkpoint.find(source);
  if (!entry)
    return makeError("checkpoint has no tensor '{0}' (asked for by parameter '{1}')", source,
                     param);
  const ParamInfo *info = params.find(param);
  if (!info)
    return makeError("checkpoint tensor '{0}' matches no parameter of the model (looked for "
                     "'{1}')",
                     source, param);
  if (!isFloatDType(entry->tensor->dtype))
    return makeError("checkpoint tensor '{0}' has dtype {1}; parameter '{2}' needs F32, F16 or "
                     "BF16",
                     source, dtypeName(entry->tensor->dtype), param);
  llvm::SmallVector<int64_t, 4> expected(info->shape);
  size_t segmentCount = std::max<size_t>(1, info->segments.size());
  if (segment >= 0) {
    if (static_cast<size_t>(segment) >= info->segments.size())
      return makeError("checkpoint tensor '{0}' targets segment {1} of parameter '{2}', which "
                       "has {3} segments",
                       source, segment, param, info->segments.size());
    expected[0] = info->segments[segment].second;
  } else if (!info->segments.empty()) {
    return makeError("checkpoint tensor '{0}' would fill the whole of packed parameter '{1}'; "
                     "packed parameters load one segment per checkpoint tensor",
                     source, param);
  }
  if (transform && transform->sourceShape != entry->tensor->shape)
    return makeError("checkpoint tensor '{0}' has shape {1}, but parameter '{2}' reads it {3}, "
                     "which takes {4}",
                     source, shapeString(entry->tensor->shape), param, transform->description,
                     shapeString(transform->sourceShape));
  llvm::ArrayRef<int64_t> loadedShape =
      transform ? llvm::ArrayRef<int64_t>(transform->shape) : entry->tensor->shape;
  if (loadedShape != llvm::ArrayRef<int64_t>(expected))
    return makeError("checkpoint tensor '{0}' has shape {1}{2} but parameter '{3}'{4} expects "
                     "{5}",
                     source, shapeString(entry->tensor->shape),
                     transform ? " (" + shapeString(loadedShape) + " " +
                                     transform->description + ")"
                               : std::string(),
                     param,
                     segment >= 0 ? " (" + info->segments[segment].first + ")" : std::string(),
                     shapeString(expected));
  LoadedParam &target = loaded[param.str()];
  target.segments.resize(segmentCount, Checkpoint::Entry{nullptr, nullptr});
  target.transforms.resize(segmentCount);
  Checkpoint::Entry &slot = target.segments[std::max(segment, 0)];
  if (slot.tensor)
    return makeError("parameter '{0}' is loaded twice: from '{1}' and from '{2}'", param,
                     slot.tensor->name, source);
  slot = *entry;
  target.transforms[std::max(segment, 0)] = std::move(transform);
  consumed.insert(source.str());
  return llvm::Error::success();
}

void WeightLoader::skip(llvm::StringRef source) { consumed.insert(source.str()); }

llvm::Expected<LoadedWeights> WeightLoader::finish() {
  for (const std::string &name : names)
    if (!consumed.count(name))
      return makeError("checkpoint tensor '{0}' is not used by the model", name);
  for (const auto &[name, info] : params.params()) {
    if (info.computed)
      continue;
    auto it = loaded.find(name);
    size_t segmentCount = std::max<size_t>(1, info.segments.size());
    for (size_t index = 0; index < segmentCount; ++index) {
      if (it != loaded.end() && it->second.segments[index].tensor)
        continue;
      if (info.segments.empty())
        return makeError("checkpoint has no tensor '{0}'", name);
      // The checkpoint names the part as the packed module would be named unpacked.
      llvm::SmallVector<llvm::StringRef> components;
      llvm::StringRef(name).split(components, '.');
      std::string expectedName;
      for (auto [i, component] : llvm::enumerate(components)) {
        if (i)
          expectedName += ".";
        expectedName += i + 2 == components.size() ? info.segments[index].first
                                                   : component.str();
      }
      return makeError("checkpoint has no tensor '{0}' (the {1} part of parameter '{2}')",
                       expectedName, info.segments[index].first, name);
    }
  }
  return std::move(loaded);
}
