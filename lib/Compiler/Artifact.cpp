//===- Artifact.cpp - Writing NAME.vgcu: manifest, program and per-rank weights ----===//

#include "vgcu/Compiler/Artifact.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Json.h"
#include "vgcu/Support/Log.h"
#include "vgcu/Support/OutputFile.h"
#include "vgcu/Support/Progress.h"
#include "vgcu/Support/StagedDirectory.h"
#include "vgcu/Support/TestHooks.h"

#include "dialects/vgcu/VgcuOps.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/xxhash.h"

#include <cstring>

using namespace mlir;
using namespace vgcu;

llvm::Expected<std::vector<WeightLayout>> vgcu::collectWeightLayouts(ModuleOp sharded) {
  std::vector<WeightLayout> layouts;
  llvm::StringMap<size_t> seen;
  llvm::Error error = llvm::Error::success();
  sharded.walk([&](ParamOp param) {
    WeightLayout layout;
    layout.name = param.getName().str();
    ArrayRef<int64_t> shape = param.getResult().getType().getShape();
    layout.localShape.assign(shape.begin(), shape.end());
    if (ShardAttr shard = param.getShardAttr())
      layout.shard = shard;
    auto [it, inserted] = seen.try_emplace(layout.name, layouts.size());
    if (inserted) {
      layouts.push_back(std::move(layout));
      return;
    }
    const WeightLayout &first = layouts[it->second];
    if ((first.localShape != layout.localShape || first.shard != layout.shard) && !error)
      error = makeError("parameter '{0}' is sharded two different ways", layout.name);
  });
  if (error)
    return std::move(error);
  return layouts;
}

namespace {

/// Reads rows of the whole tensor: the concatenation of `source`'s segments along dim 0.
class RowSource {
public:
  RowSource(const LoadedParam &source, ArrayRef<int64_t> globalShape) : source(source) {
    rowElements = 1;
    for (int64_t dim : globalShape.drop_front())
      rowElements *= dim;
    int64_t start = 0;
    for (const Checkpoint::Entry &entry : source.segments) {
      int64_t rows = entry.tensor->shape.empty() ? 1 : entry.tensor->shape[0];
      if (entry.tensor->shape.size() == 1 && globalShape.size() == 1)
        rows = entry.tensor->numElements();
      segmentStarts.push_back(start);
      start += rows;
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
      size_t segment = std::upper_bound(segmentStarts.begin(), segmentStarts.end(), r) -
                       segmentStarts.begin() - 1;
      const Checkpoint::Entry &entry = source.segments[segment];
      DType sourceType = entry.tensor->dtype;
      const uint8_t *base = entry.bytes().data() +
                            ((r - segmentStarts[segment]) * rowElements + columnStart) *
                                dtypeSize(sourceType);
      convertFloats(base, sourceType, target, dtype, columnCount);
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
      size_t segment = std::upper_bound(segmentStarts.begin(), segmentStarts.end(), row) -
                       segmentStarts.begin() - 1;
      int64_t segmentEnd = segment + 1 < segmentStarts.size() ? segmentStarts[segment + 1]
                                                              : totalRows;
      int64_t rows = std::min(count, segmentEnd - row);
      const Checkpoint::Entry &entry = source.segments[segment];
      DType sourceType = entry.tensor->dtype;
      const uint8_t *base = entry.bytes().data() +
                            (row - segmentStarts[segment]) * rowElements * dtypeSize(sourceType);
      convertFloats(base, sourceType, out, dtype, rows * rowElements);
      out += rows * rowElements * elementSize;
      row += rows;
      count -= rows;
    }
  }

  int64_t elementsPerRow() const { return rowElements; }

private:
  const LoadedParam &source;
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
  // Split along columns of a 2-D weight: every row contributes its column ranges.
  int64_t localColumns = shard.getLocalSize();
  for (int64_t row = 0; row < globalShape[0]; ++row) {
    int64_t column = 0;
    for (auto [offset, size] : ranges) {
      rows.copy(row, 1, offset, size, dtype, cursor + column * elementSize);
      column += size;
    }
    cursor += localColumns * elementSize;
  }
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

  // Weights next: a checkpoint that does not fit the model fails before anything is written.
  if (!Checkpoint::exists(source.directory))
    return makeError("'{0}' has no weights (model.safetensors or "
                     "model.safetensors.index.json); nothing to put in an artifact",
                     source.directory);
  auto checkpoint = Checkpoint::open(source.directory);
  if (!checkpoint)
    return checkpoint.takeError();
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

  OwningOpRef<ModuleOp> module = (*graph)->clone();
  if (auto error = fuseGraph(*module, options))
    return error;
  if (auto error = shardGraph(*module, options))
    return error;
  auto layouts = collectWeightLayouts(*module);
  if (!layouts)
    return layouts.takeError();
  if (auto error = lowerToKernels(*module, options))
    return error;

  llvm::StringRef root = staged->path();
  auto pathIn = [&](llvm::StringRef relative) {
    llvm::SmallString<256> full(root);
    llvm::sys::path::append(full, relative);
    return full.str().str();
  };

  // The program: one for every rank (sharding made it rank-independent). It records what the
  // manifest (which is not checksummed) must agree with.
  (*module)->setAttr("vgcu.max_positions",
                     IntegerAttr::get(IntegerType::get(&context, 64),
                                      source.resolved.config.maxPositionEmbeddings));
  {
    auto file = OutputFile::create(pathIn("program.mlirbc"));
    if (!file)
      return file.takeError();
    if (failed(writeBytecodeToFile(*module, (*file)->stream())))
      return makeError("cannot encode the program as MLIR bytecode");
    if (auto error = (*file)->close())
      return error;
  }

  int64_t tp = options.tensorParallel;
  uint64_t totalBytes = 0;
  for (const WeightLayout &layout : *layouts) {
    int64_t elements = 1;
    for (int64_t dim : layout.localShape)
      elements *= dim;
    totalBytes += elements * dtypeSize(source.dtype) * tp;
  }
  debugPausePoint("weights");
  ProgressBar progress("converting weights", totalBytes);
  llvm::json::Array ranks;
  for (int64_t rank = 0; rank < tp; ++rank) {
    std::string directory = "rank" + std::to_string(rank);
    if (std::error_code ec = llvm::sys::fs::create_directory(pathIn(directory)))
      return makeError("cannot create '{0}': {1}", pathIn(directory), ec.message());
    std::vector<TensorToWrite> tensors;
    for (const WeightLayout &layout : *layouts) {
      const ParamInfo *info = params->find(layout.name);
      auto it = loaded->find(layout.name);
      if (!info || it == loaded->end())
        return makeError("parameter '{0}' of the compiled program has no loaded weight",
                         layout.name);
      const LoadedParam &param = it->second;
      tensors.push_back({layout.name, source.dtype, layout.localShape,
                         [&param, info, &layout, rank, &source](llvm::MutableArrayRef<uint8_t> out) {
                           copyRankSlice(param, info->shape, layout, rank, source.dtype, out);
                         }});
    }
    std::string weights = directory + "/weights.safetensors";
    if (auto error = writeSafeTensors(
            pathIn(weights), std::move(tensors),
            {{"format", "vgcu"}, {"rank", std::to_string(rank)}, {"tp", std::to_string(tp)}},
            [&](uint64_t bytes) { progress.advance(bytes); }))
      return error;
    ranks.push_back(llvm::json::Object{{"rank", rank}, {"program", "program.mlirbc"},
                                       {"weights", weights}});
  }
  progress.finish();

  llvm::json::Object files;
  std::vector<std::string> fileNames{"program.mlirbc"};
  for (int64_t rank = 0; rank < tp; ++rank)
    fileNames.push_back("rank" + std::to_string(rank) + "/weights.safetensors");
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
      {"architecture", source.resolved.config.architecture},
      {"config", configSummary(source.resolved.config)},
      {"dtype", dtypeName(source.dtype)},
      {"tp", tp},
      {"vocab_size", source.resolved.config.vocabSize},
      {"kv_cache", llvm::json::Object{
                       {"layers", program->getAttrOfType<IntegerAttr>("vgcu.kv_layers").getInt()},
                       {"block_size",
                        program->getAttrOfType<IntegerAttr>("vgcu.kv_block_size").getInt()}}},
      {"max_position_embeddings", source.resolved.config.maxPositionEmbeddings},
      {"ranks", std::move(ranks)},
      {"files", std::move(files)},
  };
  {
    auto file = OutputFile::create(pathIn("manifest.json"));
    if (!file)
      return file.takeError();
    (*file)->stream() << llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest))) << "\n";
    if (auto error = (*file)->close())
      return error;
  }
  if (auto error = staged->commit())
    return error;
  logger().info("wrote {} ({} rank{}, {})", outputPath.str(), tp, tp == 1 ? "" : "s",
                dtypeName(source.dtype).str());
  return llvm::Error::success();
}
