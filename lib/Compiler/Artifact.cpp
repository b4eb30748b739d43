//===- Artifact.cpp - Writing NAME.vgcu: manifest, program and per-rank weights ----===//

#include "vgcu/Compiler/Artifact.h"
#include "vgcu/Compiler/Quantize.h"
#include "vgcu/Compiler/WeightFolding.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Json.h"
#include "vgcu/Support/Log.h"
#include "vgcu/Support/OutputFile.h"
#include "vgcu/Support/Progress.h"
#include "vgcu/Support/StagedDirectory.h"
#include "vgcu/Support/TestHooks.h"
#include "vgcu/Tokenizer/Tokenizer.h"

#include "dialects/vgcu/VgcuOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/xxhash.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace vgcu;

llvm::Expected<std::vector<WeightLayout>> vgcu::collectWeightLayouts(ModuleOp sharded) {
  std::vector<WeightLayout> layouts;
  llvm::StringMap<size_t> seen;
  llvm::Error error = llvm::Error::success();
  auto visit = [&](ParamOp param) {
    WeightLayout layout;
    layout.name = param.getName().str();
    ArrayRef<int64_t> shape = param.getResult().getType().getShape();
    layout.localShape.assign(shape.begin(), shape.end());
    if (ShardAttr shard = param.getShardAttr())
      layout.shard = shard;
    layout.dtype =
        mlirToDType(param.getResult().getType().getElementType()).value_or(DType::F32);
    layout.computed = static_cast<bool>(param.getComputedByAttr());
    if (QuantAttr quant = param.getQuantAttr())
      layout.quant = schemeOf(quant);
    auto [it, inserted] = seen.try_emplace(layout.name, layouts.size());
    if (inserted) {
      layouts.push_back(std::move(layout));
      return;
    }
    const WeightLayout &first = layouts[it->second];
    if ((first.localShape != layout.localShape || first.shard != layout.shard) && !error)
      error = makeError("parameter '{0}' is sharded two different ways", layout.name);
    if (first.quant.has_value() != layout.quant.has_value() && !error)
      error = makeError("parameter '{0}' is read both quantized and as floats", layout.name);
  };
  // Weight functions (@fold.N) hold the checkpoint parameters of computed weights: those
  // are inputs of the artifact writer, not of the program.
  for (llvm::StringRef entry : {"forward", "compute_logits"})
    if (auto function = sharded.lookupSymbol<func::FuncOp>(entry))
      function.walk(visit);
  if (error)
    return std::move(error);
  return layouts;
}

namespace {

/// Reads rows of the whole tensor: the concatenation of `source`'s segments along dim 0.
/// A segment with a load-time transform is materialized (as f32) when this is built.
class RowSource {
public:
  RowSource(const LoadedParam &source, ArrayRef<int64_t> globalShape) {
    rowElements = 1;
    for (int64_t dim : globalShape.drop_front())
      rowElements *= dim;
    int64_t start = 0;
    for (auto [index, entry] : llvm::enumerate(source.segments)) {
      Segment segment;
      ArrayRef<int64_t> shape = entry.tensor->shape;
      const TensorTransform *transform =
          index < source.transforms.size() ? source.transforms[index].get() : nullptr;
      if (transform || entry.quantized) {
        // A quantized module's weight read as floats (a use other than a linear's).
        segment.owned = materializeSegment(source, index);
        segment.bytes = reinterpret_cast<const uint8_t *>(segment.owned.data());
        segment.dtype = DType::F32;
        if (transform)
          shape = transform->shape;
      } else {
        segment.bytes = entry.bytes().data();
        segment.dtype = entry.tensor->dtype;
      }
      int64_t elements = 1;
      for (int64_t dim : shape)
        elements *= dim;
      int64_t rows = shape.empty() ? 1 : shape[0];
      if (shape.size() == 1 && globalShape.size() == 1)
        rows = elements;
      segmentStarts.push_back(start);
      start += rows;
      segments.push_back(std::move(segment));
    }
    totalRows = start;
  }

  /// Copies `columns` [columnStart, columnStart + columnCount) of rows [row, row + count),
  /// converted to `dtype`, to `out` (zeros for rows past the end: vocabulary padding).
  void copy(int64_t row, int64_t count, int64_t columnStart, int64_t columnCount, DType dtype,
            uint8_t *out) const {
    size_t elementSize = dtypeSize(dtype);
    for (int64_t r = row; r < row + count; ++r) {
      uint8_t *target = out + (r - row) * columnCount * elementSize;
      if (r >= totalRows) {
        std::memset(target, 0, columnCount * elementSize);
        continue;
      }
      size_t index = segmentOf(r);
      const Segment &segment = segments[index];
      const uint8_t *base =
          segment.bytes +
          ((r - segmentStarts[index]) * rowElements + columnStart) * dtypeSize(segment.dtype);
      convertFloats(base, segment.dtype, target, dtype, columnCount);
    }
  }

  /// Copies whole rows [row, row + count) in one go when they live in one segment.
  void copyRows(int64_t row, int64_t count, DType dtype, uint8_t *out) const {
    size_t elementSize = dtypeSize(dtype);
    while (count > 0) {
      if (row >= totalRows) {
        std::memset(out, 0, count * rowElements * elementSize);
        return;
      }
      size_t index = segmentOf(row);
      int64_t segmentEnd =
          index + 1 < segmentStarts.size() ? segmentStarts[index + 1] : totalRows;
      int64_t rows = std::min(count, segmentEnd - row);
      const Segment &segment = segments[index];
      const uint8_t *base = segment.bytes + (row - segmentStarts[index]) * rowElements *
                                                dtypeSize(segment.dtype);
      convertFloats(base, segment.dtype, out, dtype, rows * rowElements);
      out += rows * rowElements * elementSize;
      row += rows;
      count -= rows;
    }
  }

  int64_t elementsPerRow() const { return rowElements; }

private:
  struct Segment {
    const uint8_t *bytes = nullptr;
    DType dtype = DType::F32;
    std::vector<float> owned; // a transformed segment's data
  };
  size_t segmentOf(int64_t row) const {
    return std::upper_bound(segmentStarts.begin(), segmentStarts.end(), row) -
           segmentStarts.begin() - 1;
  }
  std::vector<Segment> segments;
  std::vector<int64_t> segmentStarts;
  int64_t totalRows = 0;
  int64_t rowElements = 1;
};

} // namespace

void vgcu::copyRankSlice(const LoadedParam &source, ArrayRef<int64_t> globalShape,
                         const WeightLayout &layout, int64_t rank, DType dtype,
                         llvm::MutableArrayRef<uint8_t> out) {
  RowSource rows(source, globalShape);
  size_t elementSize = dtypeSize(dtype);
  uint8_t *cursor = out.data();
  if (!layout.shard) {
    rows.copyRows(0, globalShape.empty() ? 1 : globalShape[0], dtype, cursor);
    return;
  }
  ShardAttr shard = *layout.shard;
  auto ranges = shard.getRankRanges(rank);
  if (shard.getDim() == 0) {
    for (auto [offset, size] : ranges) {
      rows.copyRows(offset, size, dtype, cursor);
      cursor += size * rows.elementsPerRow() * elementSize;
    }
    return;
  }
  // Split along columns of a 2-D weight: every row (of the rank's expert block, under
  // expert parallelism) contributes its column ranges.
  int64_t localColumns = shard.getLocalSize();
  int64_t blockRows = globalShape[0] / shard.getEp();
  int64_t firstRow = shard.getExpertIndex(rank) * blockRows;
  for (int64_t row = firstRow; row < firstRow + blockRows; ++row) {
    int64_t column = 0;
    for (auto [offset, size] : ranges) {
      rows.copy(row, 1, offset, size, dtype, cursor + column * elementSize);
      column += size;
    }
    cursor += localColumns * elementSize;
  }
}

/// The whole quantized tensor of parameter `layout`: its checkpoint modules decoded and
/// stacked, or its float checkpoint quantized as its scheme says.
static llvm::Expected<QuantizedTensor> wholeQuantizedTensor(const LoadedParam &source,
                                                            ArrayRef<int64_t> globalShape,
                                                            const WeightLayout &layout) {
  if (!source.segments.empty() && source.segments.front().quantized) {
    std::vector<QuantizedTensor> parts;
    for (const Checkpoint::Entry &segment : source.segments) {
      auto part = segment.quantized->decode();
      if (!part)
        return part.takeError();
      parts.push_back(std::move(*part));
    }
    return concatenateRows(std::move(parts), "parameter '" + layout.name + "'");
  }
  const QuantScheme &scheme = *layout.quant;
  QuantizeMode mode = scheme.codes == QuantCodeKind::UInt8 ? QuantizeMode::W8A16
                      : scheme.blockRows == 1          ? QuantizeMode::FP8
                                                       : QuantizeMode::FP8Block;
  int64_t rows = globalShape[0], cols = globalShape[1];
  std::vector<float> weight(static_cast<size_t>(rows) * cols);
  RowSource(source, globalShape)
      .copyRows(0, rows, DType::F32, reinterpret_cast<uint8_t *>(weight.data()));
  for (size_t index = 0; index < weight.size(); ++index)
    if (!std::isfinite(weight[index]))
      return makeError("parameter '{0}' holds {1} at [{2}, {3}]; --quantize needs finite weights",
                       layout.name, weight[index], index / cols, index % cols);
  return quantizeFloatWeight(weight.data(), rows, cols, mode);
}

/// The tensors of rank `rank`'s slice of a quantized parameter (see #vgcu.quant).
static llvm::Error addQuantizedTensors(const QuantizedTensor &whole, const WeightLayout &layout,
                                       int64_t rank, std::vector<TensorToWrite> &tensors) {
  int dim = -1;
  SmallVector<std::pair<int64_t, int64_t>> ranges;
  std::optional<std::pair<int64_t, int64_t>> rows;
  if (ShardAttr shard = layout.shard.value_or(ShardAttr())) {
    dim = static_cast<int>(shard.getDim());
    ranges = shard.getRankRanges(rank);
    // Columns of an expert-parallel rank's block of experts (as copyRankSlice cuts them).
    if (shard.getEp() > 1 && shard.getEpDim() != shard.getDim()) {
      int64_t blockRows = whole.rows / shard.getEp();
      rows = std::make_pair(shard.getExpertIndex(rank) * blockRows, blockRows);
    }
  }
  auto slice = sliceQuantized(whole, dim, ranges, "parameter '" + layout.name + "'", rows);
  if (!slice)
    return slice.takeError();
  auto shared = std::make_shared<QuantizedSlice>(std::move(*slice));
  auto bytesOf = [](const auto &values) {
    return llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(values.data()),
                                   values.size() * sizeof(values[0]));
  };
  auto add = [&](std::string name, DType dtype, llvm::SmallVector<int64_t, 4> shape,
                 llvm::ArrayRef<uint8_t> bytes) {
    tensors.push_back({std::move(name), dtype, std::move(shape),
                       [shared, bytes](llvm::MutableArrayRef<uint8_t> out) {
                         std::memcpy(out.data(), bytes.data(), bytes.size());
                       }});
  };
  add(layout.name, DType::I8,
      {shared->rows, static_cast<int64_t>(shared->codes.size()) / std::max<int64_t>(1, shared->rows)},
      bytesOf(shared->codes));
  add(layout.name + ".scales", DType::F32, {shared->scaleRows, shared->scaleColumns},
      bytesOf(shared->scales));
  if (layout.quant->zeroPoint)
    add(layout.name + ".zeros", DType::F32, {shared->scaleRows, shared->scaleColumns},
        bytesOf(shared->zeros));
  if (layout.quant->actOrder)
    add(layout.name + ".g_idx", DType::I32, {shared->cols}, bytesOf(shared->groupIndex));
  return llvm::Error::success();
}

/// What --force may replace: a directory whose manifest.json says it is a vgcu artifact.
static bool isVgcuArtifact(llvm::StringRef directory) {
  llvm::SmallString<256> manifest(directory);
  llvm::sys::path::append(manifest, "manifest.json");
  auto buffer = readInputFile(manifest, "manifest", kMaxJsonFileBytes);
  if (!buffer) {
    llvm::consumeError(buffer.takeError());
    return false;
  }
  auto json = parseJson((*buffer)->getBuffer());
  if (!json) {
    llvm::consumeError(json.takeError());
    return false;
  }
  const llvm::json::Object *object = json->getAsObject();
  return object && object->getString("format") == "vgcu-artifact";
}

static llvm::Expected<std::string> fileChecksum(llvm::StringRef path, uint64_t &size) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError("cannot read back '{0}': {1}", path, buffer.getError().message());
  size = (*buffer)->getBufferSize();
  return llvm::utohexstr(llvm::xxh3_64bits(llvm::arrayRefFromStringRef((*buffer)->getBuffer())),
                         /*LowerCase=*/true, /*Width=*/16);
}

namespace {
/// What the manifest says about the model, however its graph was made.
struct ArtifactDescription {
  std::string architecture;
  llvm::json::Object config;
  DType dtype = DType::F32;
  int64_t vocabSize = 0;
  /// Unset: no limit known (a trace without a config).
  std::optional<int64_t> maxPositions;
  /// See CausalLM::recomputeAtLength.
  std::optional<int64_t> recomputeAt;
  /// Where generation stops: config.json's eos_token_id with generation_config.json's.
  std::vector<int64_t> eosTokenIds;
  /// The model directory when it has a tokenizer.json (copied into the artifact), else empty.
  std::string tokenizerDirectory;
};

/// The files of a model directory's tokenizer an artifact carries (tokenizer.json first).
const char *const kTokenizerFiles[] = {"tokenizer.json", "tokenizer_config.json"};
/// Where they go in the artifact.
constexpr const char *kArtifactTokenizerDirectory = "tokenizer";
} // namespace

/// `eos_token_id` of a config (a token id, a list of them, or null) added to `ids`;
/// `where` names the file in errors.
static llvm::Error addEosTokenIds(const llvm::json::Object &config, llvm::StringRef where,
                                  int64_t vocabSize, std::vector<int64_t> &ids) {
  const llvm::json::Value *value = config.get("eos_token_id");
  if (!value || value->kind() == llvm::json::Value::Null)
    return llvm::Error::success();
  std::vector<const llvm::json::Value *> entries;
  if (const llvm::json::Array *list = value->getAsArray())
    for (const llvm::json::Value &entry : *list)
      entries.push_back(&entry);
  else
    entries.push_back(value);
  for (const llvm::json::Value *entry : entries) {
    std::optional<int64_t> id = entry->getAsInteger();
    if (!id || *id < 0 || (vocabSize > 0 && *id >= vocabSize))
      return makeError("{0}: eos_token_id must be a token id in [0, {1}) or a list of them",
                       where, vocabSize);
    if (!llvm::is_contained(ids, *id))
      ids.push_back(*id);
  }
  return llvm::Error::success();
}

/// The end-of-sequence ids of a model directory: config.json's, then those of
/// generation_config.json where the directory has one (Llama 3 lists several there).
static llvm::Expected<std::vector<int64_t>> modelEosTokenIds(const ModelSource &source) {
  std::vector<int64_t> ids;
  const ModelConfig &config = source.resolved.config;
  if (auto error = addEosTokenIds(config.json, source.configPath, config.vocabSize, ids))
    return std::move(error);
  llvm::SmallString<256> path(source.directory);
  llvm::sys::path::append(path, "generation_config.json");
  if (!llvm::sys::fs::exists(path))
    return ids;
  auto buffer = readInputFile(path, "generation config", kMaxJsonFileBytes);
  if (!buffer)
    return buffer.takeError();
  auto json = parseJson((*buffer)->getBuffer());
  if (!json)
    return makeError("{0}: invalid JSON: {1}", path, llvm::toString(json.takeError()));
  const llvm::json::Object *object = json->getAsObject();
  if (!object)
    return makeError("{0}: expected a JSON object", path);
  if (auto error = addEosTokenIds(*object, path, config.vocabSize, ids))
    return std::move(error);
  return ids;
}

/// Shards and lowers `fused`, computes its computed weights, writes the program, the
/// per-rank weights and the manifest into `staged`, and commits it. `params` and `loaded`
/// describe the parameters of `fused`.
static llvm::Error writeCompiledArtifact(StagedDirectory &staged, ModuleOp fused,
                                         const ParamTable &params, const LoadedWeights &loaded,
                                         const ArtifactDescription &description,
                                         MLIRContext &context, const CompileOptions &options,
                                         llvm::StringRef outputPath) {
  OwningOpRef<ModuleOp> module = fused.clone();
  if (auto error = shardGraph(*module, options))
    return error;
  auto layouts = collectWeightLayouts(*module);
  if (!layouts)
    return layouts.takeError();
  auto computed = evaluateComputedParams(*module, loaded);
  if (!computed)
    return computed.takeError();
  if (auto error = lowerToKernels(*module, options))
    return error;

  llvm::StringRef root = staged.path();
  auto pathIn = [&](llvm::StringRef relative) {
    llvm::SmallString<256> full(root);
    llvm::sys::path::append(full, relative);
    return full.str().str();
  };

  // The program: one for every rank (sharding made it rank-independent). It records what the
  // manifest (which is not checksummed) must agree with.
  if (description.maxPositions)
    (*module)->setAttr("vgcu.max_positions", IntegerAttr::get(IntegerType::get(&context, 64),
                                                              *description.maxPositions));
  if (description.recomputeAt)
    (*module)->setAttr("vgcu.recompute_at", IntegerAttr::get(IntegerType::get(&context, 64),
                                                             *description.recomputeAt));
  {
    auto file = OutputFile::create(pathIn("program.mlirbc"));
    if (!file)
      return file.takeError();
    if (failed(writeBytecodeToFile(*module, (*file)->stream())))
      return makeError("cannot encode the program as MLIR bytecode");
    if (auto error = (*file)->close())
      return error;
  }

  int64_t tp = options.tensorParallel, ep = options.expertParallel, worldSize = tp * ep;
  uint64_t totalBytes = 0;
  for (const WeightLayout &layout : *layouts) {
    int64_t elements = 1;
    for (int64_t dim : layout.localShape)
      elements *= dim;
    // A quantized weight's codes (its scales are a rounding error of the estimate).
    totalBytes += (layout.quant ? elements * layout.quant->bits() / 8
                                : elements * dtypeSize(layout.dtype)) *
                  worldSize;
  }
  // Where each weight's whole tensor comes from: the checkpoint, or the computed weights.
  std::map<std::string, std::pair<LoadedParam, llvm::SmallVector<int64_t, 4>>> sources;
  std::map<std::string, std::shared_ptr<const QuantizedTensor>> quantizedWholes;
  for (const WeightLayout &layout : *layouts) {
    if (layout.computed) {
      const TensorInfo *tensor = *computed ? (*computed)->find(layout.name) : nullptr;
      if (!tensor)
        return makeError("computed weight '{0}' was not computed", layout.name);
      sources[layout.name] = {LoadedParam{{Checkpoint::Entry{computed->get(), tensor}}},
                              tensor->shape};
      continue;
    }
    const ParamInfo *info = params.find(layout.name);
    auto it = loaded.find(layout.name);
    if (!info || it == loaded.end())
      return makeError("parameter '{0}' of the compiled program has no loaded weight",
                       layout.name);
    sources[layout.name] = {it->second, info->shape};
    if (layout.quant) {
      auto whole = wholeQuantizedTensor(it->second, info->shape, layout);
      if (!whole)
        return whole.takeError();
      quantizedWholes[layout.name] = std::make_shared<QuantizedTensor>(std::move(*whole));
      continue;
    }
    // A quantized module read as floats is decoded here first, so that a bad value is
    // reported before anything is written.
    for (const Checkpoint::Entry &segment : it->second.segments)
      if (segment.quantized)
        if (auto decoded = segment.quantized->decode(); !decoded)
          return decoded.takeError();
  }
  debugPausePoint("weights");
  ProgressBar progress("converting weights", totalBytes);
  llvm::json::Array ranks;
  for (int64_t rank = 0; rank < worldSize; ++rank) {
    std::string directory = "rank" + std::to_string(rank);
    if (std::error_code ec = llvm::sys::fs::create_directory(pathIn(directory)))
      return makeError("cannot create '{0}': {1}", pathIn(directory), ec.message());
    std::vector<TensorToWrite> tensors;
    for (const WeightLayout &layout : *layouts) {
      if (layout.quant) {
        if (auto error = addQuantizedTensors(*quantizedWholes.at(layout.name), layout, rank,
                                             tensors))
          return error;
        continue;
      }
      const auto &[param, globalShape] = sources.at(layout.name);
      tensors.push_back({layout.name, layout.dtype, layout.localShape,
                         [&param = param, &globalShape = globalShape, &layout,
                          rank](llvm::MutableArrayRef<uint8_t> out) {
                           copyRankSlice(param, globalShape, layout, rank, layout.dtype, out);
                         }});
    }
    std::string weights = directory + "/weights.safetensors";
    if (auto error = writeSafeTensors(
            pathIn(weights), std::move(tensors),
            {{"format", "vgcu"},
             {"rank", std::to_string(rank)},
             {"tp", std::to_string(tp)},
             {"ep", std::to_string(ep)}},
            [&](uint64_t bytes) { progress.advance(bytes); }))
      return error;
    ranks.push_back(llvm::json::Object{{"rank", rank}, {"program", "program.mlirbc"},
                                       {"weights", weights}});
  }
  progress.finish();

  llvm::json::Object files;
  std::vector<std::string> fileNames{"program.mlirbc"};
  for (int64_t rank = 0; rank < worldSize; ++rank)
    fileNames.push_back("rank" + std::to_string(rank) + "/weights.safetensors");
  if (!description.tokenizerDirectory.empty()) {
    if (std::error_code ec =
            llvm::sys::fs::create_directory(pathIn(kArtifactTokenizerDirectory)))
      return makeError("cannot create '{0}': {1}", pathIn(kArtifactTokenizerDirectory),
                       ec.message());
    for (const char *name : kTokenizerFiles) {
      llvm::SmallString<256> from(description.tokenizerDirectory);
      llvm::sys::path::append(from, name);
      if (!llvm::sys::fs::exists(from))
        continue;
      std::string relative = (llvm::Twine(kArtifactTokenizerDirectory) + "/" + name).str();
      if (std::error_code ec = llvm::sys::fs::copy_file(from, pathIn(relative)))
        return makeError("cannot copy '{0}' into the artifact: {1}", from, ec.message());
      fileNames.push_back(relative);
    }
  }
  for (const std::string &name : fileNames) {
    uint64_t size = 0;
    auto checksum = fileChecksum(pathIn(name), size);
    if (!checksum)
      return checksum.takeError();
    files[name] = llvm::json::Object{{"bytes", static_cast<int64_t>(size)}, {"xxh3_64", *checksum}};
  }
  ModuleOp program = *module;
  llvm::json::Object manifest{
      {"format", "vgcu-artifact"},
      {"abi_version", kKernelAbiVersion},
      {"architecture", description.architecture},
      {"config", llvm::json::Object(description.config)},
      {"dtype", dtypeName(description.dtype)},
      {"tp", tp},
      {"ep", ep},
      {"vocab_size", description.vocabSize},
      {"kv_cache", llvm::json::Object{
                       {"layers", program->getAttrOfType<IntegerAttr>("vgcu.kv_layers").getInt()},
                       {"block_size",
                        program->getAttrOfType<IntegerAttr>("vgcu.kv_block_size").getInt()},
                       {"dtype", options.kvCacheDtype == "auto"
                                     ? std::string(dtypeName(description.dtype))
                                     : options.kvCacheDtype}}},
      {"ranks", std::move(ranks)},
      {"files", std::move(files)},
  };
  if (description.maxPositions)
    manifest["max_position_embeddings"] = *description.maxPositions;
  if (description.recomputeAt)
    manifest["recompute_at_length"] = *description.recomputeAt;
  if (!description.eosTokenIds.empty())
    manifest["eos_token_ids"] = llvm::json::Array(description.eosTokenIds);
  if (!description.tokenizerDirectory.empty())
    manifest["tokenizer"] = kArtifactTokenizerDirectory;
  {
    auto file = OutputFile::create(pathIn("manifest.json"));
    if (!file)
      return file.takeError();
    (*file)->stream() << llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest))) << "\n";
    if (auto error = (*file)->close())
      return error;
  }
  if (auto error = staged.commit())
    return error;
  logger().info("wrote {} ({} rank{}, {})", outputPath.str(), tp, tp == 1 ? "" : "s",
                dtypeName(description.dtype).str());
  return llvm::Error::success();
}

llvm::Error vgcu::writeArtifact(ModelSource &source, MLIRContext &context,
                                const CompileOptions &options, llvm::StringRef outputPath,
                                bool overwrite) {
  // The destination is checked (and its staging directory made) before any work: a refused
  // --force or a name too long fails at once.
  StagingOptions staging;
  staging.overwrite = overwrite;
  staging.isReplaceable = isVgcuArtifact;
  staging.replaceableKind = "vgcu artifact (a directory with a vgcu manifest.json)";
  staging.protectedInputs = {source.directory, source.configPath};
  auto staged = StagedDirectory::create(outputPath, staging);
  if (!staged)
    return staged.takeError();

  // generation_config.json is read before the long work, so that a mistake in it is found
  // at once.
  auto eosTokenIds = modelEosTokenIds(source);
  if (!eosTokenIds)
    return eosTokenIds.takeError();
  // So is the tokenizer, which the artifact carries for text in and out.
  std::string tokenizerDirectory;
  if (llvm::sys::fs::exists(source.directory + "/tokenizer.json")) {
    auto tokenizer = tokenizer::Tokenizer::fromDirectory(source.directory);
    if (!tokenizer)
      return tokenizer.takeError();
    int64_t tokens = (*tokenizer)->vocabSize();
    if (tokens > source.resolved.config.vocabSize)
      logger().warn("{}/tokenizer.json has token ids up to {}, but the model's vocab_size is {}: "
                    "text holding the tokens past it cannot be encoded for this model",
                    source.directory, tokens - 1, source.resolved.config.vocabSize);
    tokenizerDirectory = source.directory;
  }

  // Weights next: a checkpoint that does not fit the model fails before anything is written.
  if (!Checkpoint::exists(source.directory))
    return makeError("'{0}' has no weights (model.safetensors or "
                     "model.safetensors.index.json); nothing to put in an artifact",
                     source.directory);
  auto checkpoint = Checkpoint::open(source.directory);
  if (!checkpoint)
    return checkpoint.takeError();
  auto quantization = QuantConfig::fromModelConfig(source.resolved.config.json, source.configPath);
  if (!quantization)
    return quantization.takeError();
  if (*quantization) {
    if (options.quantize)
      return makeError("{0} describes a {1} checkpoint; --quantize applies to float checkpoints",
                       source.configPath, (*quantization)->describe());
    auto modules = (*checkpoint)->applyQuantization(**quantization);
    if (!modules)
      return modules.takeError();
    if (*modules == 0)
      logger().warn("{} says the checkpoint is {}, but it holds no quantized module; its weights "
                    "are stored as floats",
                    source.configPath, (*quantization)->describe());
    else
      logger().info("{} quantized modules ({})", *modules, (*quantization)->describe());
  }
  auto graph = compileToStage(source, context, Stage::Graph, options);
  if (!graph)
    return graph.takeError();
  auto params = ParamTable::fromModule(**graph);
  if (!params)
    return params.takeError();
  WeightLoader loader(**checkpoint, *params, source.resolved.config);
  auto loadedNames = source.resolved.model->loadWeights(loader);
  if (!loadedNames)
    return loadedNames.takeError();
  auto loaded = loader.finish();
  if (!loaded)
    return loaded.takeError();
  logger().info("loaded {} parameters from {} checkpoint tensors", loadedNames->size(),
                (*checkpoint)->tensors().size());
  int64_t quantized = markQuantizedParams(**graph, *loaded, options.quantize);
  if (options.quantize && quantized == 0)
    return makeError("--quantize: {0} has no decoder-layer linear weights to quantize",
                     source.configPath);

  // Fusion keeps the builder's parameters (packing is the builder's job).
  if (auto error = fuseGraph(**graph, options))
    return error;
  const ModelConfig &config = source.resolved.config;
  ArtifactDescription description{config.architecture, configSummary(config), source.dtype,
                                  config.vocabSize, maxSequenceLength(config),
                                  source.resolved.model->recomputeAtLength(config),
                                  std::move(*eosTokenIds), tokenizerDirectory};
  return writeCompiledArtifact(*staged, **graph, *params, *loaded, description, context,
                               options, outputPath);
}

llvm::Error vgcu::writeTracedArtifact(TracedModel &traced, llvm::StringRef tracePath,
                                      MLIRContext &context, const CompileOptions &options,
                                      llvm::StringRef outputPath, bool overwrite) {
  StagingOptions staging;
  staging.overwrite = overwrite;
  staging.isReplaceable = isVgcuArtifact;
  staging.replaceableKind = "vgcu artifact (a directory with a vgcu manifest.json)";
  staging.protectedInputs = {tracePath.str()};
  auto staged = StagedDirectory::create(outputPath, staging);
  if (!staged)
    return staged.takeError();

  ModuleOp graph = *traced.module;
  ArtifactDescription description;
  if (auto architecture = graph->getAttrOfType<StringAttr>("vgcu.architecture"))
    description.architecture = architecture.str();
  if (auto dtype = graph->getAttrOfType<StringAttr>("vgcu.dtype"))
    description.dtype = parseDTypeName(dtype.getValue()).value_or(DType::F32);
  // The config the archive carries (informational, except its position limit).
  if (!traced.configJson.empty()) {
    auto config = parseJson(traced.configJson);
    if (!config)
      return makeError("{0}: its config.json extra file is not valid JSON: {1}", tracePath,
                       llvm::toString(config.takeError()));
    if (llvm::json::Object *object = config->getAsObject()) {
      if (auto positions = object->getInteger("max_position_embeddings");
          positions && *positions > 0)
        description.maxPositions = *positions;
      if (auto error = addEosTokenIds(*object, tracePath, 0, description.eosTokenIds))
        return error;
      description.config = std::move(*object);
    } else {
      return makeError("{0}: its config.json extra file is not a JSON object", tracePath);
    }
  }
  auto forward = graph.lookupSymbol<func::FuncOp>("forward");
  auto logits = forward && forward.getNumResults() == 1
                    ? dyn_cast<RankedTensorType>(forward.getResultTypes()[0])
                    : RankedTensorType();
  if (!logits || logits.getRank() != 2 || logits.isDynamicDim(1))
    return makeError("{0}: forward must return one [tokens, vocabulary] tensor of logits",
                     tracePath);
  description.vocabSize = logits.getDimSize(1);

  // The module's parameters become an in-memory checkpoint.
  std::vector<TensorToWrite> tensors;
  for (const TracedParameter &parameter : traced.parameters) {
    std::optional<DType> dtype = parseDTypeName(parameter.dtype);
    if (!dtype)
      return makeError("{0}: parameter '{1}' has dtype {2}, which vgcu cannot store",
                       tracePath, parameter.name, parameter.dtype);
    llvm::ArrayRef<uint8_t> bytes = parameter.bytes;
    tensors.push_back({parameter.name, *dtype,
                       llvm::SmallVector<int64_t, 4>(parameter.shape.begin(),
                                                     parameter.shape.end()),
                       [bytes](llvm::MutableArrayRef<uint8_t> out) {
                         std::memcpy(out.data(), bytes.data(), bytes.size());
                       }});
  }
  auto weights = SafeTensorsFile::fromTensors(std::move(tensors), tracePath);
  if (!weights)
    return weights.takeError();
  // The module is no longer needed; its parameters are in the copy.
  traced.parameters.clear();
  traced.storage.reset();

  // Fusion packs projections the trace kept apart: a packed parameter's segments are the
  // module's parameters of the packed modules.
  if (auto error = fuseGraph(graph, options))
    return error;
  auto params = ParamTable::fromModule(graph);
  if (!params)
    return params.takeError();
  LoadedWeights loaded;
  for (const auto &[name, info] : params->params()) {
    if (info.computed)
      continue;
    LoadedParam &param = loaded[name];
    std::vector<std::string> sources{name};
    // A projection the module computes packed (one parameter, sliced): its segments are
    // row ranges of that parameter.
    if (const TensorInfo *whole = (*weights)->find(name);
        whole && !info.segments.empty() && whole->shape == info.shape) {
      for (auto &slice : packedRowSlices(info)) {
        param.segments.push_back(Checkpoint::Entry{weights->get(), whole});
        param.transforms.push_back(slice);
      }
      continue;
    }
    if (!info.segments.empty()) {
      sources.clear();
      auto [module, leaf] = llvm::StringRef(name).rsplit('.');
      llvm::StringRef parent = module.rsplit('.').first;
      for (const auto &[segment, rows] : info.segments)
        sources.push_back((parent + "." + segment + "." + leaf).str());
    }
    for (const std::string &source : sources) {
      const TensorInfo *tensor = (*weights)->find(source);
      if (!tensor)
        return makeError("{0}: the graph reads parameter '{1}', which the module does not hold",
                         tracePath, source);
      param.segments.push_back(Checkpoint::Entry{weights->get(), tensor});
      param.transforms.push_back(nullptr);
    }
  }
  logger().info("took {} parameters from the traced module", (*weights)->tensors().size());
  return writeCompiledArtifact(*staged, graph, *params, loaded, description, context, options,
                               outputPath);
}
