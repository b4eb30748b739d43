//===- Executor.cpp - Loading a rank's gcu program and running prefill and decode ---===//

#include "vgcu/Runtime/Executor.h"
#include "vgcu/Runtime/ProgramCheck.h"
#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/Log.h"
#include "vgcu/Weights/SafeTensors.h"

#include "dialects/gcu/GcuDialect.h"

#include "mlir/Bytecode/BytecodeReader.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <c10/util/Exception.h>

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
  if (type.isInteger(1))
    return at::kBool;
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

/// Shape with every dynamic dimension set to the step's token count.
std::vector<int64_t> resolveShape(const std::vector<int64_t> &shape, int64_t tokens) {
  std::vector<int64_t> result(shape);
  for (int64_t &dim : result)
    if (ShapedType::isDynamic(dim))
      dim = tokens;
  return result;
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

  Executor &executor;
  const KernelLibrary &library;
  RegisterMap regs;
};

llvm::Expected<BoundEntry> EntryBinder::bind(func::FuncOp function) {
  BoundEntry entry;
  if (function.getNumArguments() != 4 || function.getNumResults() != 1)
    return makeError("entry @{0} must take (input_ids, positions, slot_mapping, block_table) "
                     "and return logits",
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
  entry.inputIds = regs[body.getArgument(0)];
  entry.positions = regs[body.getArgument(1)];
  entry.slotMapping = regs[body.getArgument(2)];
  entry.blockTable = regs[body.getArgument(3)];
  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      entry.result = regs[ret.getOperand(0)];
      continue;
    }
    if (auto error = bindOp(&op, entry))
      return std::move(error);
  }
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
  // Weights stay in the mapped file; kernels only read them.
  entry.frame.tensors[regs[op.getResult()]] =
      at::from_blob(const_cast<uint8_t *>(bytes.data()), staticShape(type),
                    at::TensorOptions().dtype(*scalar));
  return llvm::Error::success();
}

llvm::Error EntryBinder::bindOp(Operation *op, BoundEntry &entry) {
  auto add = [&](Instruction instruction) {
    entry.instructions.push_back(std::move(instruction));
    return llvm::Error::success();
  };
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
    int64_t layer = cache.getLayer(), key = regs[cache.getKeyCache()],
            value = regs[cache.getValueCache()];
    MemRefType type = cache.getKeyCache().getType();
    auto scalar = scalarTypeOf(type.getElementType());
    if (!scalar)
      return scalar.takeError();
    if (layer >= executor.artifact.kvLayers)
      return makeError("kv_cache layer {0} is beyond the manifest's {1} layers", layer,
                       executor.artifact.kvLayers);
    if (type.getDimSize(1) != executor.blockSize)
      return makeError("kv_cache block size {0} differs from the manifest's {1}",
                       type.getDimSize(1), executor.blockSize);
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
  if (isa<gcu::SliceViewOp, gcu::ReshapeViewOp, gcu::TransposeViewOp, gcu::BroadcastViewOp,
          gcu::LastTokenViewOp>(op)) {
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
        f.tensors[result] = f.tensors[source].reshape(resolveShape(shape, f.tokens));
      });
    if (auto transpose = dyn_cast<gcu::TransposeViewOp>(op)) {
      std::vector<int64_t> permutation(transpose.getPermutation().begin(),
                                       transpose.getPermutation().end());
      return add([=](Frame &f, RuntimeState &) {
        f.tensors[result] = f.tensors[source].permute(permutation);
      });
    }
    if (isa<gcu::BroadcastViewOp>(op))
      return add([=](Frame &f, RuntimeState &) {
        f.tensors[result] = f.tensors[source].expand(resolveShape(shape, f.tokens));
      });
    return add([=](Frame &f, RuntimeState &) {
      const at::Tensor &all = f.tensors[source];
      f.tensors[result] = all.narrow(0, all.size(0) - 1, 1);
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
  ++entry.launches;
  return add(std::move(*instruction));
}

} // namespace vgcu::runtime

Executor::~Executor() = default;

llvm::Expected<std::unique_ptr<Executor>> Executor::load(const ArtifactManifest &manifest,
                                                        int64_t rank,
                                                        const KernelLibrary &library,
                                                        Collectives &collectives) {
  if (rank < 0 || rank >= manifest.worldSize())
    return makeError("rank {0} is outside the artifact's {1} ranks", rank, manifest.worldSize());
  std::unique_ptr<Executor> executor(new Executor());
  executor->artifact = manifest;
  executor->blockSize = manifest.kvBlockSize;
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
    if (!logits || !logits.hasStaticShape() || logits.getNumElements() != manifest.vocabSize)
      return makeError("program '{0}': @{1} does not return logits over the manifest's "
                       "vocab_size of {2} tokens",
                       programPath, name, manifest.vocabSize);
    EntryBinder binder(*executor, library);
    auto bound = binder.bind(function);
    if (!bound)
      return addContext(bound.takeError(), programPath);
    *target = std::move(*bound);
  }
  return std::move(executor);
}

llvm::Error Executor::resetCache(int64_t maxTokens) {
  if (maxTokens < 0)
    return makeError("cannot size a KV cache for {0} tokens", maxTokens);
  int64_t blocks = std::max<int64_t>(1, maxTokens / blockSize + (maxTokens % blockSize != 0));
  if (blocks == cacheCapacity && !state.kvCaches.empty())
    return llvm::Error::success();
  uint64_t bytes = 0;
  for (const CacheShape &shape : cacheShapes) {
    uint64_t layerBytes = at::elementSize(static_cast<at::ScalarType>(shape.dtype));
    for (int64_t factor : {blocks, blockSize, shape.kvHeads, shape.headDim + shape.valueHeadDim})
      if (__builtin_mul_overflow(layerBytes, static_cast<uint64_t>(factor), &layerBytes))
        return makeError("a KV cache for {0} tokens would be larger than 2^64 bytes", maxTokens);
    if (__builtin_add_overflow(bytes, layerBytes, &bytes))
      return makeError("a KV cache for {0} tokens would be larger than 2^64 bytes", maxTokens);
  }
  state.kvCaches.clear();
  cacheCapacity = 0;
  std::string failure;
  try {
    for (const CacheShape &shape : cacheShapes) {
      auto options = at::TensorOptions().dtype(static_cast<at::ScalarType>(shape.dtype));
      std::vector<int64_t> keySizes{blocks, blockSize, shape.kvHeads, shape.headDim};
      std::vector<int64_t> valueSizes{blocks, blockSize, shape.kvHeads, shape.valueHeadDim};
      state.kvCaches.emplace_back(at::zeros(keySizes, options), at::zeros(valueSizes, options));
    }
  } catch (const c10::Error &error) {
    failure = error.what_without_backtrace();
  } catch (const std::exception &error) {
    failure = error.what();
  }
  if (!failure.empty()) {
    state.kvCaches.clear();
    return makeError("cannot allocate the KV cache for {0} tokens ({1} bytes on this rank): {2}",
                     maxTokens, bytes, failure);
  }
  // One sequence owns blocks 0..n-1 in order.
  blockTable = at::arange(blocks, at::TensorOptions().dtype(at::kLong));
  cacheCapacity = blocks;
  return llvm::Error::success();
}

llvm::Expected<at::Tensor> Executor::run(BoundEntry &entry, const at::Tensor &ids,
                                         const at::Tensor &positions) {
  int64_t last = positions.max().item<int64_t>();
  if (last >= cacheCapacity * blockSize)
    return makeError("position {0} is beyond the KV cache of {1} tokens", last,
                     cacheCapacity * blockSize);
  try {
    Frame &frame = entry.frame;
    frame.tokens = ids.size(0);
    frame.tensors[entry.inputIds] = ids;
    frame.tensors[entry.positions] = positions;
    // With blocks 0..n-1 in order, a position's slot is the position itself.
    frame.tensors[entry.slotMapping] = positions;
    frame.tensors[entry.blockTable] = blockTable;
    for (Instruction &instruction : entry.instructions)
      instruction(frame, state);
    at::Tensor logits = frame.tensors[entry.result].to(at::kFloat).flatten().clone();
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

llvm::Expected<at::Tensor> Executor::prefill(llvm::ArrayRef<int64_t> tokens) {
  if (tokens.empty())
    return makeError("the prompt is empty");
  at::Tensor ids = at::tensor(std::vector<int64_t>(tokens.begin(), tokens.end()), at::kLong);
  at::Tensor positions = at::arange(static_cast<int64_t>(tokens.size()), at::kLong);
  return run(prefillEntry, ids, positions);
}

llvm::Expected<at::Tensor> Executor::decode(int64_t token, int64_t position) {
  return run(decodeEntry, at::tensor({token}, at::kLong), at::tensor({position}, at::kLong));
}
