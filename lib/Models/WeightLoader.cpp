//===- WeightLoader.cpp - Matching checkpoint tensors to graph parameters ---------===//

#include "vgcu/Models/WeightLoader.h"
#include "vgcu/Support/CheckedMath.h"
#include "vgcu/Support/Error.h"

#include "dialects/vgcu/VgcuOps.h"
#include "vgcu/Support/Shapes.h"
#include "vgcu/Weights/Quantization.h"

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
  // A mixture of experts stacks every expert's projections: gate_up holds expert e's gate
  // and up rows as segments "<e>.<gate>" and "<e>.<up>", down its down rows as "<e>.<down>"
  // (named relative to the `experts` module both live in).
  module.walk([&](MoeExpertsOp op) {
    auto gateUp = op.getGateUp().getDefiningOp<ParamOp>();
    auto down = op.getDown().getDefiningOp<ParamOp>();
    if (!gateUp || !down)
      return;
    ArrayRef<Attribute> parts = op.getExpertModules().getValue();
    auto part = [&](int64_t expert, size_t index) {
      return std::to_string(expert) + "." + cast<StringAttr>(parts[index]).str();
    };
    int64_t experts = op.getNumExperts();
    int64_t intermediate = down.getResult().getType().getDimSize(1);
    int64_t hidden = down.getResult().getType().getDimSize(0) / experts;
    ParamInfo &gateUpInfo = result.table[gateUp.getName().str()];
    ParamInfo &downInfo = result.table[down.getName().str()];
    gateUpInfo.segments.clear();
    downInfo.segments.clear();
    for (int64_t expert = 0; expert < experts; ++expert) {
      gateUpInfo.segments.push_back({part(expert, 0), intermediate});
      gateUpInfo.segments.push_back({part(expert, 1), intermediate});
      downInfo.segments.push_back({part(expert, 2), hidden});
    }
    // The shared expert's gate_up packs its gate and up projections, as a dense MLP's does.
    if (auto shared = op.getSharedGateUp() ? op.getSharedGateUp().getDefiningOp<ParamOp>()
                                           : ParamOp()) {
      int64_t width = shared.getResult().getType().getDimSize(0) / 2;
      ParamInfo &sharedInfo = result.table[shared.getName().str()];
      sharedInfo.segments = {{cast<StringAttr>(parts[0]).str(), width},
                             {cast<StringAttr>(parts[1]).str(), width}};
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

std::vector<std::shared_ptr<const TensorTransform>>
vgcu::packedRowSlices(const ParamInfo &info) {
  std::vector<std::shared_ptr<const TensorTransform>> slices;
  int64_t rowElements = 1;
  for (int64_t dim : llvm::ArrayRef<int64_t>(info.shape).drop_front())
    rowElements *= dim;
  int64_t row = 0;
  for (const auto &[name, rows] : info.segments) {
    auto slice = std::make_shared<TensorTransform>();
    slice->description =
        "rows " + std::to_string(row) + " to " + std::to_string(row + rows) + " (" + name + ")";
    slice->sourceShape = info.shape;
    slice->shape = info.shape;
    slice->shape[0] = rows;
    slice->apply = [first = row * rowElements](llvm::ArrayRef<float> in, llvm::ArrayRef<int64_t>,
                                               llvm::MutableArrayRef<float> out) {
      std::copy(in.begin() + first, in.begin() + first + out.size(), out.begin());
    };
    slices.push_back(std::move(slice));
    row += rows;
  }
  return slices;
}

std::shared_ptr<const TensorTransform> vgcu::gatherRows(std::string description,
                                                        llvm::ArrayRef<int64_t> sourceShape,
                                                        std::vector<int64_t> rows) {
  auto gather = std::make_shared<TensorTransform>();
  gather->description = std::move(description);
  gather->sourceShape.assign(sourceShape.begin(), sourceShape.end());
  gather->shape = gather->sourceShape;
  gather->shape[0] = static_cast<int64_t>(rows.size());
  int64_t rowElements = 1;
  for (int64_t dim : sourceShape.drop_front())
    rowElements *= dim;
  gather->apply = [rows = std::move(rows), rowElements](llvm::ArrayRef<float> in,
                                                        llvm::ArrayRef<int64_t>,
                                                        llvm::MutableArrayRef<float> out) {
    for (auto [index, row] : llvm::enumerate(rows))
      std::copy_n(in.begin() + row * rowElements, rowElements,
                  out.begin() + static_cast<int64_t>(index) * rowElements);
  };
  return gather;
}

std::shared_ptr<const TensorTransform> vgcu::transposedColumns(llvm::ArrayRef<int64_t> sourceShape,
                                                               int64_t first, int64_t count) {
  auto transpose = std::make_shared<TensorTransform>();
  int64_t inFeatures = sourceShape[0], outFeatures = sourceShape[1];
  transpose->description =
      first == 0 && count == outFeatures
          ? std::string("transposed from [in, out]")
          : "columns " + std::to_string(first) + " to " + std::to_string(first + count) +
                " transposed from [in, out]";
  transpose->sourceShape.assign(sourceShape.begin(), sourceShape.end());
  transpose->shape = {count, inFeatures};
  transpose->apply = [=](llvm::ArrayRef<float> in, llvm::ArrayRef<int64_t>,
                         llvm::MutableArrayRef<float> out) {
    for (int64_t row = 0; row < inFeatures; ++row)
      for (int64_t column = 0; column < count; ++column)
        out[column * inFeatures + row] = in[row * outFeatures + first + column];
  };
  return transpose;
}

std::vector<float> vgcu::dequantizeEntry(const Checkpoint::Entry &entry) {
  std::vector<float> data(entry.tensor->numElements());
  if (!entry.quantized) {
    convertFloats(entry.bytes().data(), entry.tensor->dtype, data.data(), DType::F32,
                  data.size());
    return data;
  }
  // The artifact writer decodes every quantized source before it writes anything (see
  // checkQuantizedSources), so a failure here cannot happen.
  auto decoded = entry.quantized->decode();
  if (!decoded) {
    llvm::consumeError(decoded.takeError());
    return data;
  }
  decoded->dequantizeRows(0, decoded->rows, data.data());
  return data;
}

std::vector<float> vgcu::materializeSegment(const LoadedParam &param, size_t index) {
  const Checkpoint::Entry &entry = param.segments[index];
  std::vector<float> data = dequantizeEntry(entry);
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
                     "BF16{3}",
                     source, dtypeName(entry->tensor->dtype), param,
                     entry->tensor->dtype == DType::F8E4M3
                         ? " (an FP8 checkpoint needs a quantization_config with quant_method "
                           "\"fp8\" in config.json)"
                         : "");
  llvm::SmallVector<int64_t, 4> expected(info->shape);
  size_t segmentCount = std::max<size_t>(1, info->segments.size());
  if (segment >= 0) {
    if (static_cast<size_t>(segment) >= info->segments.size())
      return makeError("checkpoint tensor '{0}' targets segment {1} of parameter '{2}', which "
                       "has {3} segments",
                       source, segment, param, info->segments.size());
    expected[0] = info->segments[segment].second;
  } else if (!info->segments.empty()) {
    // A checkpoint that stores the projections packed (Phi-3's qkv_proj and gate_up_proj):
    // each segment takes its rows of the one tensor.
    if (transform || entry->tensor->shape != llvm::ArrayRef<int64_t>(info->shape))
      return makeError("checkpoint tensor '{0}' has shape {1}, but packed parameter '{2}' "
                       "takes either its whole {3} or one segment per tensor",
                       source, shapeString(entry->tensor->shape), param,
                       shapeString(info->shape));
    for (auto [index, slice] : llvm::enumerate(packedRowSlices(*info)))
      if (auto error = load(param, source, static_cast<int>(index), slice))
        return error;
    return llvm::Error::success();
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
