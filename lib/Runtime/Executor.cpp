//===- Executor.cpp - Loading a rank's gcu program and running prefill and decode ---===//

#include "vgcu/Runtime/Executor.h"
#include "vgcu/Runtime/ProgramCheck.h"
#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/Log.h"
#include "vgcu/Support/ModulePaths.h"
#include "vgcu/Weights/SafeTensors.h"

#include "dialects/gcu/GcuDialect.h"

#include "mlir/Bytecode/BytecodeReader.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <c10/util/Exception.h>

#include <limits>

using namespace mlir;
using namespace vgcu;
using namespace vgcu::runtime;

namespace {

llvm::Expected<at::ScalarType> scalarTypeOf(Type type) {
  if (type.isF32())
    return at::kFloat;
  if (type.isF16())
    return at::kHalf;
  if (type.isBF16())
    return at::kBFloat16;
  if (type.isInteger(64))
    return at::kLong;
  if (type.isInteger(32))
    return at::kInt;
  if (type.isInteger(8))
    return at::kChar;
  if (type.isInteger(1))
    return at::kBool;
  // FP8 codes (a quantized KV cache) are bytes to ATen 1.13, which has no FP8 type.
  if (isa<Float8E4M3FNType>(type))
    return at::kByte;
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return makeError("element type {0} has no runtime representation", text);
}

at::ScalarType scalarTypeOf(DType dtype) {
  switch (dtype) {
  case DType::F32: return at::kFloat;
  case DType::F16: return at::kHalf;
  case DType::BF16: return at::kBFloat16;
  case DType::F64: return at::kDouble;
  case DType::I64: return at::kLong;
  case DType::I32: return at::kInt;
  case DType::I16: return at::kShort;
  case DType::I8: return at::kChar;
  case DType::U8: return at::kByte;
  case DType::Bool: return at::kBool;
  case DType::F8E4M3: return at::kByte;
  }
  return at::kFloat;
}

/// A dense constant as an owned tensor.
llvm::Expected<at::Tensor> constantTensor(DenseElementsAttr value) {
  auto type = scalarTypeOf(value.getElementType());
  if (!type)
    return type.takeError();
  std::vector<int64_t> shape(value.getType().getShape().begin(), value.getType().getShape().end());
  if (isa<FloatType>(value.getElementType())) {
    std::vector<double> values;
    for (APFloat element : value.getValues<APFloat>())
      values.push_back(element.convertToDouble());
    return at::tensor(values, at::kDouble).view(shape).to(*type);
  }
  std::vector<int64_t> values;
  for (APInt element : value.getValues<APInt>())
    values.push_back(value.getElementType().isInteger(1) ? element.getZExtValue()
                                                         : element.getSExtValue());
  return at::tensor(values, at::kLong).view(shape).to(*type);
}

std::vector<int64_t> staticShape(MemRefType type) {
  return std::vector<int64_t>(type.getShape().begin(), type.getShape().end());
}

/// A view's shape for at::reshape / expand: its dynamic dimension (the rows: tokens or
/// sequences) taken from the source, which -1 means to both.
std::vector<int64_t> resolveShape(const std::vector<int64_t> &shape) {
  std::vector<int64_t> result(shape);
  for (int64_t &dim : result)
    if (ShapedType::isDynamic(dim))
      dim = -1;
  return result;
}

/// Whether a rotary table of `op` depends on the largest position of the call.
bool usesCallLengthRotary(Operation *op) {
  for (NamedAttribute attribute : op->getAttrDictionary())
    if (auto scaling = dyn_cast<vgcu::RopeScalingAttr>(attribute.getValue()))
      if (scaling.getType() == vgcu::RopeType::dynamic ||
          scaling.getType() == vgcu::RopeType::longrope)
        return true;
  return false;
}

/// The manifest is not checksummed: every field the runtime relies on must agree with the
/// (checksummed) program and weights, or the error names the field instead of a kernel
/// failing later.
llvm::Error checkManifestAgainstProgram(const ArtifactManifest &manifest, int64_t rank,
                                        ModuleOp program, const SafeTensorsFile &weights) {
  auto attribute = [&](llvm::StringRef name) -> std::optional<int64_t> {
    if (auto value = program->getAttrOfType<IntegerAttr>(name))
      return value.getInt();
    return std::nullopt;
  };
  auto mismatch = [](llvm::StringRef field, int64_t manifestValue, llvm::StringRef what,
                     int64_t programValue) {
    return makeError("field '{0}' is {1}, but {2} {3}", field, manifestValue, what,
                     programValue);
  };
  if (auto tp = attribute("vgcu.tp"); tp && *tp != manifest.tp)
    return mismatch("tp", manifest.tp, "the program was sharded for tp =", *tp);
  if (int64_t ep = attribute("vgcu.ep").value_or(1); ep != manifest.ep)
    return mismatch("ep", manifest.ep, "the program was sharded for ep =", ep);
  if (auto layers = attribute("vgcu.kv_layers"); layers && *layers != manifest.kvLayers)
    return mismatch("kv_cache.layers", manifest.kvLayers,
                    "the number of attention layers in the program is", *layers);
  if (auto block = attribute("vgcu.kv_block_size"); block && *block != manifest.kvBlockSize)
    return mismatch("kv_cache.block_size", manifest.kvBlockSize,
                    "the program's KV cache block size is", *block);
  if (auto positions = attribute("vgcu.max_positions");
      positions && *positions != manifest.maxPositions)
    return mismatch("max_position_embeddings", manifest.maxPositions,
                    "the program was compiled for positions up to", *positions);
  if (attribute("vgcu.recompute_at").value_or(0) != manifest.recomputeAt)
    return mismatch("recompute_at_length", manifest.recomputeAt,
                    "the program recomputes the sequence at length",
                    attribute("vgcu.recompute_at").value_or(0));
  if (auto architecture = program->getAttrOfType<StringAttr>("vgcu.architecture");
      architecture && architecture.getValue() != manifest.architecture)
    return makeError("field 'architecture' is '{0}', but the program is a {1}",
                     manifest.architecture, architecture.getValue());
  const auto &metadata = weights.metadata();
  auto metadataInt = [&](llvm::StringRef key) -> std::optional<int64_t> {
    auto it = metadata.find(key.str());
    int64_t value;
    if (it == metadata.end() || llvm::StringRef(it->second).getAsInteger(10, value))
      return std::nullopt;
    return value;
  };
  if (auto weightsRank = metadataInt("rank"); weightsRank && *weightsRank != rank)
    return makeError("field 'ranks[{0}].weights' names '{1}', which holds the weights of rank {2}",
                     rank, manifest.ranks[rank].weights, *weightsRank);
  if (auto weightsTp = metadataInt("tp"); weightsTp && *weightsTp != manifest.tp)
    return mismatch("tp", manifest.tp, "the weights were sharded for tp =", *weightsTp);
  if (int64_t weightsEp = metadataInt("ep").value_or(1); weightsEp != manifest.ep)
    return mismatch("ep", manifest.ep, "the weights were sharded for ep =", weightsEp);
  if (auto dtype = program->getAttrOfType<StringAttr>("vgcu.dtype");
      dtype && dtype.getValue() != dtypeName(manifest.dtype))
    return makeError("field 'dtype' is {0}, but the program computes in {1}",
                     dtypeName(manifest.dtype), dtype.getValue());
  return llvm::Error::success();
}

} // namespace

namespace vgcu::runtime {

/// Binds one entry function: registers, weights, and an instruction per op.
class EntryBinder {
public:
  EntryBinder(Executor &executor, const KernelLibrary &library)
      : executor(executor), library(library) {}

  llvm::Expected<BoundEntry> bind(func::FuncOp function);

private:
  llvm::Error bindOp(Operation *op, BoundEntry &entry);
  llvm::Error bindWeight(gcu::WeightOp op, BoundEntry &entry);
  LaunchInfo describeLaunch(Operation *op, int64_t index);
  Value rootOf(Value buffer) const { return roots.lookup(buffer) ? roots.lookup(buffer) : buffer; }

  Executor &executor;
  const KernelLibrary &library;
  RegisterMap regs;
  /// Views lead to the buffer they view; each buffer to the module that last wrote it.
  llvm::DenseMap<Value, Value> roots;
  llvm::DenseMap<Value, std::string> lastWriter;
  llvm::DenseSet<Value> kvCaches;
};

/// The residual kernels: `residual += input` (after reducing `input` over the ranks, in the
/// all_reduce_ forms), then `input = norm(residual)` with `weight` (the norm after the add).
struct ResidualOperands {
  Value input, residual, weight;
  std::optional<CollectiveGroup> reducedOver;
};
static std::optional<ResidualOperands> residualOperands(Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<ResidualOperands>>(op)
      .Case<gcu::FusedAddRmsNormOp, gcu::FusedNormAddNormOp, gcu::FusedAddLayerNormOp>(
          [](auto fused) {
            return ResidualOperands{fused.getInput(), fused.getResidual(), fused.getWeight(),
                                    std::nullopt};
          })
      .Case<gcu::AllReduceFusedAddRmsNormOp, gcu::AllReduceFusedNormAddNormOp,
            gcu::AllReduceFusedAddLayerNormOp>([](auto fused) {
        return ResidualOperands{fused.getInput(), fused.getResidual(), fused.getWeight(),
                                fused.getGroup()};
      })
      .Default([](Operation *) { return std::nullopt; });
}

/// The module a weight belongs to.
static std::string weightModule(Value weight) {
  if (auto op = weight.getDefiningOp<gcu::WeightOp>()) {
    if (auto path = primaryModulePath(op.getLoc()))
      return path->str();
    return op.getName().str();
  }
  return "";
}

/// What a residual add brought in: the child of the decoder layer the branch's last writer
/// lies in (`model.layers.3.mlp.down_proj` -> `model.layers.3.mlp`).
static std::string branchModule(llvm::StringRef writer) {
  auto layer = decoderLayerOf(writer);
  if (!layer || layer->path.size() >= writer.size())
    return writer.str();
  size_t end = writer.find('.', layer->path.size() + 1);
  return writer.take_front(end).str();
}

LaunchInfo EntryBinder::describeLaunch(Operation *op, int64_t index) {
  LaunchInfo info;
  info.index = index;
  info.kernel = op->getName().stripDialect().str();
  info.hardwareEntry = cast<gcu::KernelLaunchOpInterface>(op).getHardwareEntry().str();
  if (auto path = primaryModulePath(op->getLoc()))
    info.modulePath = path->str();
  if (auto layer = decoderLayerOf(info.modulePath))
    info.layer = layer->index;
  info.collective = isa<gcu::AllReduceOp, gcu::AllGatherOp, gcu::AllReduceFusedAddRmsNormOp,
                        gcu::AllReduceFusedNormAddNormOp, gcu::AllReduceFusedAddLayerNormOp>(op);
  llvm::SmallVector<MemoryEffects::EffectInstance> effects;
  if (auto memory = dyn_cast<MemoryEffectOpInterface>(op))
    memory.getEffects(effects);
  for (Value operand : op->getOperands()) {
    if (!isa<MemRefType>(operand.getType()))
      continue;
    LaunchInfo::Operand entry;
    entry.reg = regs[operand];
    entry.kvCache = kvCaches.contains(rootOf(operand));
    entry.written = llvm::any_of(effects, [&](const MemoryEffects::EffectInstance &effect) {
      return effect.getValue() == operand && isa<MemoryEffects::Write>(effect.getEffect());
    });
    info.operands.push_back(entry);
  }
  auto intAttr = [&](llvm::StringRef name) -> int64_t {
    if (auto value = op->getAttrOfType<IntegerAttr>(name))
      return value.getInt();
    return 0;
  };
  info.attentionHeads = intAttr("num_heads");
  info.attentionHeadDim = intAttr("head_dim");
  auto operandIndex = [&](Value value) {
    for (auto [position, operand] : llvm::enumerate(op->getOperands()))
      if (operand == value) {
        int memrefIndex = 0;
        for (Value earlier : op->getOperands().take_front(position))
          memrefIndex += isa<MemRefType>(earlier.getType());
        return memrefIndex;
      }
    return -1;
  };
  if (auto residual = residualOperands(op)) {
    info.inputOperand = operandIndex(residual->input);
    info.residualOperand = operandIndex(residual->residual);
    info.normPath = weightModule(residual->weight);
    info.branchPath = branchModule(lastWriter.lookup(rootOf(residual->input)));
    if (residual->reducedOver) {
      info.partialInput = true;
      info.group = *residual->reducedOver;
    }
  } else if (isa<gcu::EmbeddingOp, gcu::AllReduceOp, gcu::RmsNormOp, gcu::LayerNormOp>(op) ||
             (info.layer >= 0 && decoderLayerOf(info.modulePath)->path == info.modulePath)) {
    // An embedding (complete once its all-reduce, at the same path, has run), a norm, or a
    // decoder layer's own op: the residual add of a layer whose add no norm took in.
    for (auto [position, operand] : llvm::enumerate(info.operands))
      if (operand.written && !operand.kvCache) {
        info.moduleOutputPath = info.modulePath;
        info.outputOperand = static_cast<int>(position);
        break;
      }
  }
  // The residual and a kernel's outputs in place: from here on they hold this module's
  // results.
  for (Value operand : op->getOperands())
    if (llvm::any_of(effects, [&](const MemoryEffects::EffectInstance &effect) {
          return effect.getValue() == operand && isa<MemoryEffects::Write>(effect.getEffect());
        }))
      lastWriter[rootOf(operand)] = info.modulePath;
  return info;
}

/// A decoder layer's output is the residual once the add closing it has run: the first
/// residual kernel whose norm opens the next layer (or the final norm) follows the last one
/// whose norm lies in this layer.
static void markLayerOutputs(std::vector<LaunchInfo> &launches) {
  std::optional<LayerPath> previous;
  for (LaunchInfo &launch : launches) {
    if (launch.residualOperand < 0)
      continue;
    std::optional<LayerPath> layer = decoderLayerOf(launch.normPath);
    if (previous && (!layer || layer->index != previous->index))
      launch.layerOutputPath = previous->path.str();
    if (layer)
      previous = layer;
  }
}

llvm::Expected<BoundEntry> EntryBinder::bind(func::FuncOp function) {
  BoundEntry entry;
  if (function.getNumArguments() != 6 || function.getNumResults() != 1)
    return makeError("entry @{0} must take (input_ids, positions, slot_mapping, "
                     "query_start_loc, seq_lens, block_tables) and return logits",
                     function.getSymName());
  Block &body = function.getBody().front();
  for (BlockArgument argument : body.getArguments())
    regs.assign(argument);
  body.walk([&](Operation *op) {
    for (Value result : op->getResults())
      regs.assign(result);
  });
  entry.frame.tensors.resize(regs.size());
  entry.frame.integers.resize(regs.size());
  for (auto [index, argument] : llvm::enumerate(body.getArguments()))
    entry.arguments[index] = regs[argument];
  for (Operation &op : body) {
    if (usesCallLengthRotary(&op))
      executor.callLengthRotary = true;
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      entry.result = regs[ret.getOperand(0)];
      continue;
    }
    if (auto error = bindOp(&op, entry))
      return std::move(error);
  }
  markLayerOutputs(entry.launchInfos);
  entry.name = function.getSymName().str();
  return std::move(entry);
}

llvm::Error EntryBinder::bindWeight(gcu::WeightOp op, BoundEntry &entry) {
  const TensorInfo *info = executor.weights->find(op.getName());
  if (!info)
    return makeError("weight '{0}' used by the program is missing from {1}", op.getName(),
                     executor.weights->path());
  MemRefType type = op.getResult().getType();
  auto scalar = scalarTypeOf(type.getElementType());
  if (!scalar)
    return scalar.takeError();
  if (llvm::ArrayRef<int64_t>(info->shape) != type.getShape() ||
      scalarTypeOf(info->dtype) != *scalar)
    return makeError("weight '{0}' in {1} does not have the type the program expects",
                     op.getName(), executor.weights->path());
  llvm::ArrayRef<uint8_t> bytes = executor.weights->data(*info);
  // Weights stay where the file put them (mapped or copied); kernels only read them.
  entry.frame.tensors[regs[op.getResult()]] =
      at::from_blob(const_cast<uint8_t *>(bytes.data()), staticShape(type),
                    at::TensorOptions().dtype(*scalar));
  return llvm::Error::success();
}

llvm::Error EntryBinder::bindOp(Operation *op, BoundEntry &entry) {
  auto add = [&](Instruction instruction) {
    entry.instructions.push_back(std::move(instruction));
    entry.launchOfInstruction.push_back(-1);
    return llvm::Error::success();
  };
  if (isa<gcu::SliceViewOp, gcu::ReshapeViewOp, gcu::TransposeViewOp, gcu::BroadcastViewOp,
          gcu::LastTokenViewOp>(op))
    roots[op->getResult(0)] = rootOf(op->getOperand(0));
  if (auto weight = dyn_cast<gcu::WeightOp>(op))
    return bindWeight(weight, entry);
  if (auto constant = dyn_cast<gcu::ConstantOp>(op)) {
    auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
    if (!dense)
      return makeError("constant of an unsupported attribute kind");
    auto tensor = constantTensor(dense);
    if (!tensor)
      return tensor.takeError();
    entry.frame.tensors[regs[constant.getResult()]] = *tensor;
    return llvm::Error::success();
  }
  if (auto dim = dyn_cast<gcu::DimOp>(op)) {
    int64_t source = regs[dim.getSource()], result = regs[dim.getResult()];
    int64_t index = dim.getIndex();
    return add([=](Frame &f, RuntimeState &) { f.integers[result] = f.tensors[source].size(index); });
  }
  if (auto alloc = dyn_cast<gcu::AllocOp>(op)) {
    MemRefType type = alloc.getResult().getType();
    auto scalar = scalarTypeOf(type.getElementType());
    if (!scalar)
      return scalar.takeError();
    std::vector<int64_t> shape = staticShape(type);
    std::vector<int64_t> sizeRegs;
    for (Value size : alloc.getDynamicSizes())
      sizeRegs.push_back(regs[size]);
    int64_t result = regs[alloc.getResult()];
    int64_t slot = alloc.getSlot() ? static_cast<int64_t>(*alloc.getSlot()) : -1;
    at::ScalarType dtype = *scalar;
    int64_t elementSize = at::elementSize(dtype);
    return add([=](Frame &f, RuntimeState &state) {
      std::vector<int64_t> sizes(shape);
      size_t next = 0;
      int64_t elements = 1;
      for (int64_t &dim : sizes) {
        if (ShapedType::isDynamic(dim))
          dim = f.integers[sizeRegs[next++]];
        elements *= dim;
      }
      if (slot < 0) {
        f.tensors[result] = at::empty(sizes, at::TensorOptions().dtype(dtype));
        return;
      }
      std::vector<at::Tensor> &arena = state.arenaSlots;
      if (static_cast<int64_t>(arena.size()) <= slot)
        arena.resize(slot + 1);
      int64_t bytes = std::max<int64_t>(elements * elementSize, 1);
      if (!arena[slot].defined() || arena[slot].numel() < bytes) {
        // Tensors of this step may still point into the old storage until it ends.
        if (arena[slot].defined())
          state.retiredSlots.push_back(arena[slot]);
        arena[slot] = at::empty({bytes + bytes / 4 + 64}, at::TensorOptions().dtype(at::kByte));
      }
      f.tensors[result] = at::from_blob(arena[slot].data_ptr(), sizes,
                                        at::TensorOptions().dtype(dtype));
    });
  }
  if (auto cache = dyn_cast<gcu::KvCacheOp>(op)) {
    kvCaches.insert(cache.getKeyCache());
    kvCaches.insert(cache.getValueCache());
    int64_t layer = cache.getLayer(), key = regs[cache.getKeyCache()],
            value = regs[cache.getValueCache()];
    MemRefType type = cache.getKeyCache().getType();
    auto scalar = scalarTypeOf(type.getElementType());
    if (!scalar)
      return scalar.takeError();
    if (layer >= executor.artifact.kvLayers)
      return makeError("kv_cache layer {0} is beyond the manifest's {1} layers", layer,
                       executor.artifact.kvLayers);
    if (type.getDimSize(1) != executor.cacheBlockSize)
      return makeError("kv_cache block size {0} differs from the manifest's {1}",
                       type.getDimSize(1), executor.cacheBlockSize);
    auto &shapes = executor.cacheShapes;
    if (static_cast<int64_t>(shapes.size()) <= layer)
      shapes.resize(layer + 1);
    shapes[layer] = {type.getDimSize(2), type.getDimSize(3),
                     cache.getValueCache().getType().getDimSize(3), static_cast<int64_t>(*scalar)};
    return add([=](Frame &f, RuntimeState &state) {
      f.tensors[key] = state.kvCaches[layer].first;
      f.tensors[value] = state.kvCaches[layer].second;
    });
  }
  if (auto scales = dyn_cast<gcu::KvCacheScalesOp>(op)) {
    kvCaches.insert(scales.getKeyScales());
    kvCaches.insert(scales.getValueScales());
    int64_t layer = scales.getLayer(), key = regs[scales.getKeyScales()],
            value = regs[scales.getValueScales()];
    auto &shapes = executor.cacheShapes;
    if (layer >= static_cast<int64_t>(shapes.size()) || !shapes[layer].quantized())
      return makeError("kv_cache_scales of layer {0}, whose cache is not quantized", layer);
    if (scales.getKeyScales().getType().getDimSize(2) != shapes[layer].kvHeads)
      return makeError("kv_cache_scales of layer {0} has {1} heads, its cache {2}", layer,
                       scales.getKeyScales().getType().getDimSize(2), shapes[layer].kvHeads);
    return add([=](Frame &f, RuntimeState &state) {
      f.tensors[key] = state.kvScales[layer].first;
      f.tensors[value] = state.kvScales[layer].second;
    });
  }
  if (auto last = dyn_cast<gcu::LastTokenViewOp>(op)) {
    int64_t source = regs[last.getSource()], starts = regs[last.getQueryStartLoc()],
            result = regs[last.getResult()];
    return add([=](Frame &f, RuntimeState &) {
      const at::Tensor &offsets = f.tensors[starts];
      at::Tensor rows = offsets.narrow(0, 1, offsets.size(0) - 1) - 1;
      f.tensors[result] = f.tensors[source].index_select(0, rows);
    });
  }
  if (isa<gcu::SliceViewOp, gcu::ReshapeViewOp, gcu::TransposeViewOp, gcu::BroadcastViewOp>(
          op)) {
    int64_t source = regs[op->getOperand(0)], result = regs[op->getResult(0)];
    std::vector<int64_t> shape = staticShape(cast<MemRefType>(op->getResult(0).getType()));
    if (auto slice = dyn_cast<gcu::SliceViewOp>(op)) {
      int64_t dim = slice.getDim(), start = slice.getStart(), end = slice.getEnd(),
              step = slice.getStep();
      return add([=](Frame &f, RuntimeState &) {
        f.tensors[result] = f.tensors[source].slice(dim, start, end, step);
      });
    }
    if (isa<gcu::ReshapeViewOp>(op))
      return add([=](Frame &f, RuntimeState &) {
        f.tensors[result] = f.tensors[source].reshape(resolveShape(shape));
      });
    if (auto transpose = dyn_cast<gcu::TransposeViewOp>(op)) {
      std::vector<int64_t> permutation(transpose.getPermutation().begin(),
                                       transpose.getPermutation().end());
      return add([=](Frame &f, RuntimeState &) {
        f.tensors[result] = f.tensors[source].permute(permutation);
      });
    }
    return add([=](Frame &f, RuntimeState &) {
      f.tensors[result] = f.tensors[source].expand(resolveShape(shape));
    });
  }
  if (!isa<gcu::KernelLaunchOpInterface>(op))
    return makeError("op {0} is neither a kernel launch nor a buffer op the runtime knows",
                     op->getName().getStringRef());
  const KernelBinder *binder = library.lookup(op->getName().getStringRef());
  if (!binder)
    return makeError("kernel library '{0}' has no kernel for {1}", library.name(),
                     op->getName().getStringRef());
  auto instruction = (*binder)(op, regs);
  if (!instruction)
    return instruction.takeError();
  entry.launchInfos.push_back(describeLaunch(op, entry.launches++));
  entry.instructions.push_back(std::move(*instruction));
  entry.launchOfInstruction.push_back(entry.launchInfos.back().index);
  return llvm::Error::success();
}

} // namespace vgcu::runtime

Executor::~Executor() = default;

llvm::Expected<std::unique_ptr<Executor>> Executor::load(const ArtifactManifest &manifest,
                                                        int64_t rank,
                                                        const KernelLibrary &library,
                                                        Collectives &collectives,
                                                        WeightPlacement placement) {
  if (rank < 0 || rank >= manifest.worldSize())
    return makeError("rank {0} is outside the artifact's {1} ranks", rank, manifest.worldSize());
  std::unique_ptr<Executor> executor(new Executor());
  executor->artifact = manifest;
  executor->cacheBlockSize = manifest.kvBlockSize;
  executor->state.collectives = &collectives;
  executor->context = std::make_unique<MLIRContext>();
  executor->context->loadDialect<gcu::GcuDialect, func::FuncDialect>();

  std::string programPath = manifest.path(manifest.ranks[rank].program);
  auto programBuffer = readInputFile(programPath, "program");
  if (!programBuffer)
    return programBuffer.takeError();
  // The compiler writes bytecode whatever the manifest calls the file; text would reach MLIR's
  // recursive text parser, which a deeply nested file overflows.
  if (!isBytecode(**programBuffer))
    return makeError("program '{0}' is not MLIR bytecode", programPath);
  std::string diagnostics;
  {
    llvm::raw_string_ostream os(diagnostics);
    ScopedDiagnosticHandler handler(executor->context.get(), [&](Diagnostic &diag) {
      os << diag.getLocation() << ": " << diag << "\n";
      return success();
    });
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(std::move(*programBuffer), llvm::SMLoc());
    executor->program =
        parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(executor->context.get()));
  }
  if (!executor->program)
    return makeError("cannot load program '{0}':\n{1}", programPath, diagnostics);
  auto weights = SafeTensorsFile::open(manifest.path(manifest.ranks[rank].weights));
  if (!weights)
    return weights.takeError();
  executor->weights = std::move(*weights);
  if (placement == WeightPlacement::Memory)
    if (auto error = executor->weights->copyIntoMemory())
      return std::move(error);
  if (auto error = checkManifestAgainstProgram(manifest, rank, *executor->program,
                                               *executor->weights))
    return addContext(std::move(error), manifest.path("manifest.json"));

  for (auto [name, target] : {std::pair<llvm::StringRef, BoundEntry *>{"prefill",
                                                                       &executor->prefillEntry},
                              std::pair<llvm::StringRef, BoundEntry *>{"decode",
                                                                       &executor->decodeEntry}}) {
    auto function = executor->program->lookupSymbol<func::FuncOp>(name);
    if (!function)
      return makeError("program '{0}' has no @{1} entry", programPath, name);
    if (auto error = checkEntry(function))
      return addContext(std::move(error), "program '" + programPath + "'");
    // The manifest is not checksummed; its vocabulary must agree with the program's logits
    // before token ids are checked against it.
    auto logits = function.getNumResults() == 1
                      ? dyn_cast<MemRefType>(function.getResultTypes()[0])
                      : MemRefType();
    if (!logits || logits.getRank() != 2 || logits.getDimSize(1) != manifest.vocabSize)
      return makeError("program '{0}': @{1} does not return logits [sequences, vocab] over "
                       "the manifest's vocab_size of {2} tokens",
                       programPath, name, manifest.vocabSize);
    EntryBinder binder(*executor, library);
    auto bound = binder.bind(function);
    if (!bound)
      return addContext(bound.takeError(), programPath);
    *target = std::move(*bound);
  }
  return std::move(executor);
}

uint64_t Executor::bytesPerBlock() const {
  // Saturates: a program's shapes are not trusted to keep the product within 64 bits.
  constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();
  uint64_t bytes = 0;
  for (const CacheShape &shape : cacheShapes) {
    uint64_t layer = at::elementSize(static_cast<at::ScalarType>(shape.dtype));
    // A quantized cache keeps an f32 scale per key and per value vector beside the codes.
    int64_t perHead = shape.headDim + shape.valueHeadDim +
                      (shape.quantized() ? 2 * static_cast<int64_t>(sizeof(float)) : 0);
    for (int64_t factor : {cacheBlockSize, shape.kvHeads, perHead})
      if (__builtin_mul_overflow(layer, static_cast<uint64_t>(factor), &layer))
        return kSaturated;
    if (__builtin_add_overflow(bytes, layer, &bytes))
      return kSaturated;
  }
  return bytes;
}

llvm::Error Executor::allocateCache(int64_t blocks) {
  if (blocks < 1)
    return makeError("cannot allocate a KV cache of {0} blocks", blocks);
  return allocateCache(blocks, "a KV cache of " + std::to_string(blocks) + " blocks");
}

llvm::Error Executor::allocateCache(int64_t blocks, const std::string &what) {
  if (blocks == cacheCapacity && !state.kvCaches.empty())
    return llvm::Error::success();
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(bytesPerBlock(), static_cast<uint64_t>(blocks), &bytes))
    return makeError("{0} would be larger than 2^64 bytes", what);
  state.kvCaches.clear();
  state.kvScales.clear();
  cacheCapacity = 0;
  std::string failure;
  try {
    for (const CacheShape &shape : cacheShapes) {
      auto options = at::TensorOptions().dtype(static_cast<at::ScalarType>(shape.dtype));
      std::vector<int64_t> keySizes{blocks, cacheBlockSize, shape.kvHeads, shape.headDim};
      std::vector<int64_t> valueSizes{blocks, cacheBlockSize, shape.kvHeads, shape.valueHeadDim};
      state.kvCaches.emplace_back(at::zeros(keySizes, options), at::zeros(valueSizes, options));
      if (shape.quantized()) {
        std::vector<int64_t> scaleSizes{blocks, cacheBlockSize, shape.kvHeads};
        state.kvScales.emplace_back(at::zeros(scaleSizes, at::kFloat),
                                    at::zeros(scaleSizes, at::kFloat));
      } else {
        state.kvScales.emplace_back();
      }
    }
  } catch (const c10::Error &error) {
    failure = error.what_without_backtrace();
  } catch (const std::exception &error) {
    failure = error.what();
  }
  if (!failure.empty()) {
    state.kvCaches.clear();
    state.kvScales.clear();
    return makeError("cannot allocate {0} ({1} bytes on this rank): {2}", what, bytes, failure);
  }
  cacheCapacity = blocks;
  return llvm::Error::success();
}

llvm::Error Executor::resetCache(int64_t maxTokens) {
  if (maxTokens < 0)
    return makeError("cannot size a KV cache for {0} tokens", maxTokens);
  int64_t blocks = std::max<int64_t>(1, maxTokens / cacheBlockSize + (maxTokens % cacheBlockSize != 0));
  return allocateCache(blocks, "the KV cache for " + std::to_string(maxTokens) + " tokens");
}

/// The batch comes from another engine as much as from ours: every index a kernel follows is
/// checked, so a bad one is an error rather than a read out of bounds.
llvm::Error Executor::checkBatch(const Batch &batch) const {
  const std::pair<const at::Tensor *, const char *> vectors[] = {
      {&batch.inputIds, "input_ids"},         {&batch.positions, "positions"},
      {&batch.slotMapping, "slot_mapping"},   {&batch.queryStartLoc, "query_start_loc"},
      {&batch.seqLens, "seq_lens"},           {&batch.blockTables, "block_tables"}};
  for (auto [tensor, name] : vectors) {
    if (!tensor->defined() || tensor->scalar_type() != at::kLong || !tensor->is_contiguous())
      return makeError("batch: {0} must be a contiguous int64 tensor", name);
    if (tensor->dim() != (tensor == &batch.blockTables ? 2 : 1))
      return makeError("batch: {0} has {1} dimensions", name, tensor->dim());
  }
  int64_t tokens = batch.inputIds.size(0), sequences = batch.seqLens.size(0);
  if (tokens == 0 || sequences == 0)
    return makeError("batch: no tokens or no sequences");
  if (batch.positions.size(0) != tokens || batch.slotMapping.size(0) != tokens)
    return makeError("batch: positions and slot_mapping must have one entry per input id ({0})",
                     tokens);
  if (batch.queryStartLoc.size(0) != sequences + 1 || batch.blockTables.size(0) != sequences)
    return makeError("batch: query_start_loc must have {0} entries and block_tables {1} rows "
                     "for {1} sequences",
                     sequences + 1, sequences);
  const int64_t *starts = batch.queryStartLoc.data_ptr<int64_t>();
  const int64_t *lengths = batch.seqLens.data_ptr<int64_t>();
  const int64_t *positions = batch.positions.data_ptr<int64_t>();
  int64_t maxBlocks = batch.blockTables.size(1);
  if (starts[0] != 0 || starts[sequences] != tokens)
    return makeError("batch: query_start_loc must run from 0 to the {0} tokens", tokens);
  for (int64_t s = 0; s < sequences; ++s) {
    int64_t queries = starts[s + 1] - starts[s];
    if (queries < 1 || queries > lengths[s])
      return makeError("batch: sequence {0} has {1} new tokens and a length of {2}", s, queries,
                       lengths[s]);
    if (lengths[s] > maxBlocks * cacheBlockSize)
      return makeError("batch: sequence {0} of {1} tokens needs more than the {2} blocks of "
                       "its block table",
                       s, lengths[s], maxBlocks);
    for (int64_t t = starts[s]; t < starts[s + 1]; ++t)
      if (positions[t] < 0 || positions[t] >= lengths[s])
        return makeError("batch: token {0} of sequence {1} is at position {2}, outside its "
                         "length {3}",
                         t, s, positions[t], lengths[s]);
    if (artifact.maxPositions > 0 && lengths[s] > artifact.maxPositions)
      return makeError("batch: sequence {0} of {1} tokens exceeds the model's {2} positions", s,
                       lengths[s], artifact.maxPositions);
  }
  auto outside = [&](const at::Tensor &indices, int64_t limit) {
    return indices.numel() > 0 &&
           (indices.min().item<int64_t>() < 0 || indices.max().item<int64_t>() >= limit);
  };
  if (outside(batch.slotMapping, cacheCapacity * cacheBlockSize))
    return makeError("batch: a slot is outside the KV cache of {0} blocks", cacheCapacity);
  if (outside(batch.blockTables, cacheCapacity))
    return makeError("batch: a block table names a block outside the KV cache of {0} blocks",
                     cacheCapacity);
  if (outside(batch.inputIds, artifact.vocabSize))
    return makeError("batch: a token id is outside the vocabulary [0, {0})", artifact.vocabSize);
  return llvm::Error::success();
}

llvm::Expected<at::Tensor> Executor::execute(const Batch &batch) {
  if (state.kvCaches.empty() && !cacheShapes.empty())
    return makeError("the KV cache is not allocated");
  if (auto error = checkBatch(batch))
    return std::move(error);
  bool oneTokenEach = batch.inputIds.size(0) == batch.seqLens.size(0);
  return run(oneTokenEach && !state.batchInvariant ? decodeEntry : prefillEntry, batch);
}

llvm::Expected<at::Tensor> Executor::run(BoundEntry &entry, const Batch &batch) {
  try {
    Frame &frame = entry.frame;
    const at::Tensor *inputs[] = {&batch.inputIds,     &batch.positions, &batch.slotMapping,
                                  &batch.queryStartLoc, &batch.seqLens,  &batch.blockTables};
    for (auto [index, input] : llvm::enumerate(inputs))
      frame.tensors[entry.arguments[index]] = *input;
#if VGCU_RUNTIME_HOOKS
    if (!observers.empty())
      runObserved(entry, batch);
    else
#endif
      for (Instruction &instruction : entry.instructions)
        instruction(frame, state);
    at::Tensor logits = frame.tensors[entry.result].to(at::kFloat).clone();
    state.retiredSlots.clear();
    return logits;
  } catch (const c10::Error &error) {
    state.retiredSlots.clear();
    return makeError("kernel failed: {0}", error.what_without_backtrace());
  } catch (const std::exception &error) {
    state.retiredSlots.clear();
    return makeError("kernel failed: {0}", error.what());
  }
}

void Executor::runObserved(BoundEntry &entry, const Batch &batch) {
  for (ExecutionObserver *observer : observers)
    observer->entryBegin(entry.name, entry.launchInfos, batch);
  for (auto [instruction, launch] :
       llvm::zip_equal(entry.instructions, entry.launchOfInstruction)) {
    if (launch < 0) {
      instruction(entry.frame, state);
      continue;
    }
    const LaunchInfo &info = entry.launchInfos[launch];
    for (ExecutionObserver *observer : observers)
      observer->launchBegin(info, entry.frame, state);
    instruction(entry.frame, state);
    for (ExecutionObserver *observer : observers)
      observer->launchEnd(info, entry.frame, state);
  }
  for (ExecutionObserver *observer : observers)
    observer->entryEnd(entry.name);
}

void Executor::removeObserver(ExecutionObserver *observer) {
  llvm::erase(observers, observer);
}

ExecutionObserver::~ExecutionObserver() = default;

bool vgcu::runtime::runtimeHooksBuiltIn() { return VGCU_RUNTIME_HOOKS; }

/// The single sequence of vgcu-run's prompt path: blocks 0..n-1 in order, so a position's
/// slot is the position itself.
static Batch singleSequence(at::Tensor ids, at::Tensor positions, int64_t blocks) {
  int64_t tokens = ids.size(0), length = positions[-1].item<int64_t>() + 1;
  Batch batch;
  batch.inputIds = std::move(ids);
  batch.slotMapping = positions;
  batch.positions = std::move(positions);
  batch.queryStartLoc = at::tensor({int64_t{0}, tokens}, at::kLong);
  batch.seqLens = at::tensor({length}, at::kLong);
  batch.blockTables = at::arange(blocks, at::kLong).view({1, blocks});
  return batch;
}

llvm::Expected<at::Tensor> Executor::prefill(llvm::ArrayRef<int64_t> tokens) {
  if (tokens.empty())
    return makeError("the prompt is empty");
  int64_t count = static_cast<int64_t>(tokens.size());
  if (count > cacheCapacity * cacheBlockSize)
    return makeError("position {0} is beyond the KV cache of {1} tokens", count - 1,
                     cacheCapacity * cacheBlockSize);
  at::Tensor ids = at::tensor(std::vector<int64_t>(tokens.begin(), tokens.end()), at::kLong);
  auto logits = execute(singleSequence(ids, at::arange(count, at::kLong), cacheCapacity));
  if (!logits)
    return logits.takeError();
  return logits->flatten();
}

llvm::Expected<at::Tensor> Executor::decode(int64_t token, int64_t position) {
  if (position >= cacheCapacity * cacheBlockSize)
    return makeError("position {0} is beyond the KV cache of {1} tokens", position,
                     cacheCapacity * cacheBlockSize);
  auto logits = execute(singleSequence(at::tensor({token}, at::kLong),
                                       at::tensor({position}, at::kLong), cacheCapacity));
  if (!logits)
    return logits.takeError();
  return logits->flatten();
}
