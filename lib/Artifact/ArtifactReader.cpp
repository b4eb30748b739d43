//===- ArtifactReader.cpp - Opening and checking a NAME.vgcu artifact -------------===//

#include "vgcu/Artifact/ArtifactReader.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Json.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/xxhash.h"

using namespace vgcu;

std::string ArtifactManifest::path(llvm::StringRef relative) const {
  llvm::SmallString<256> full(directory);
  llvm::sys::path::append(full, relative);
  return full.str().str();
}

/// A relative path that stays inside the artifact directory.
static bool isContainedPath(llvm::StringRef relative) {
  if (relative.empty() || llvm::sys::path::is_absolute(relative))
    return false;
  for (auto it = llvm::sys::path::begin(relative), end = llvm::sys::path::end(relative);
       it != end; ++it)
    if (*it == "..")
      return false;
  return true;
}

/// `path` (the artifact's file `relative`), with every symbolic link resolved, must still lie
/// inside the artifact directory.
static llvm::Error checkContained(llvm::StringRef path, llvm::StringRef directory,
                                  llvm::StringRef relative) {
  llvm::SmallString<256> realFile, realDirectory;
  if (llvm::sys::fs::real_path(directory, realDirectory) ||
      llvm::sys::fs::real_path(path, realFile))
    return makeError("{0}: cannot resolve file '{1}'", directory, relative);
  llvm::StringRef file = realFile, root = realDirectory;
  if (!file.starts_with(root) || file.size() <= root.size() || file[root.size()] != '/')
    return makeError("{0}: file '{1}' is a link that leads outside the artifact", directory,
                     relative);
  return llvm::Error::success();
}

llvm::Expected<ArtifactManifest> vgcu::parseManifest(llvm::StringRef text,
                                                     llvm::StringRef directory, bool checkFiles,
                                                     bool verifyChecksums) {
  std::string where = (llvm::Twine(directory) + "/manifest.json").str();
  auto fail = [&](const llvm::Twine &problem) {
    return makeError("{0}: {1}", where, problem.str());
  };
  auto json = parseJson(text);
  if (!json)
    return fail("invalid JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return fail("expected a JSON object");
  if (root->getString("format") != "vgcu-artifact")
    return fail("not a vgcu artifact (format is not \"vgcu-artifact\")");
  std::optional<int64_t> abi = root->getInteger("abi_version");
  if (!abi)
    return fail("missing abi_version");
  if (*abi != kKernelAbiVersion)
    return fail("kernel ABI version " + llvm::Twine(*abi) + " does not match this runtime's " +
                llvm::Twine(kKernelAbiVersion) + "; recompile the model with this vgcu");

  ArtifactManifest manifest;
  manifest.directory = directory.str();
  auto architecture = root->getString("architecture");
  auto dtype = root->getString("dtype");
  auto tp = root->getInteger("tp");
  auto vocab = root->getInteger("vocab_size");
  const llvm::json::Object *kv = root->getObject("kv_cache");
  if (!architecture || !dtype || !tp || !vocab || !kv)
    return fail("missing architecture, dtype, tp, vocab_size or kv_cache");
  manifest.architecture = architecture->str();
  auto parsedType = parseDTypeName(*dtype);
  if (!parsedType || !isFloatDType(*parsedType))
    return fail("unsupported dtype '" + *dtype + "'");
  manifest.dtype = *parsedType;
  if (*tp < 1 || *tp > 1024)
    return fail("tp " + llvm::Twine(*tp) + " is out of range");
  manifest.tp = *tp;
  if (const llvm::json::Value *ep = root->get("ep")) {
    std::optional<int64_t> value = ep->getAsInteger();
    if (!value || *value < 1 || *value > 1024 || *value * manifest.tp > 1024)
      return fail("ep must be an integer from 1 to 1024 with at most 1024 ranks in all");
    manifest.ep = *value;
  }
  if (*vocab < 1)
    return fail("vocab_size must be positive");
  manifest.vocabSize = *vocab;
  auto layers = kv->getInteger("layers");
  auto blockSize = kv->getInteger("block_size");
  if (!layers || !blockSize || *layers < 0 || *blockSize < 1)
    return fail("kv_cache needs layers and block_size");
  manifest.kvLayers = *layers;
  manifest.kvBlockSize = *blockSize;
  manifest.maxPositions = root->getInteger("max_position_embeddings").value_or(0);
  if (const llvm::json::Value *recompute = root->get("recompute_at_length")) {
    std::optional<int64_t> length = recompute->getAsInteger();
    if (!length || *length < 2)
      return fail("recompute_at_length must be an integer of at least 2");
    manifest.recomputeAt = *length;
  }
  if (const llvm::json::Value *eos = root->get("eos_token_ids")) {
    const llvm::json::Array *ids = eos->getAsArray();
    if (!ids)
      return fail("eos_token_ids must be a list of token ids");
    for (const llvm::json::Value &id : *ids) {
      std::optional<int64_t> value = id.getAsInteger();
      if (!value || *value < 0 || *value >= manifest.vocabSize)
        return fail("eos_token_ids must hold token ids in [0, vocab_size)");
      manifest.eosTokenIds.push_back(*value);
    }
  }

  const llvm::json::Array *ranks = root->getArray("ranks");
  int64_t worldSize = manifest.worldSize();
  if (!ranks || static_cast<int64_t>(ranks->size()) != worldSize)
    return fail("expected " + llvm::Twine(worldSize) + " ranks (tp " + llvm::Twine(manifest.tp) +
                " x ep " + llvm::Twine(manifest.ep) + ")");
  const llvm::json::Object *files = root->getObject("files");
  if (!files)
    return fail("missing the files table");
  for (auto [index, value] : llvm::enumerate(*ranks)) {
    const llvm::json::Object *rank = value.getAsObject();
    auto program = rank ? rank->getString("program") : std::nullopt;
    auto weights = rank ? rank->getString("weights") : std::nullopt;
    if (!program || !weights || rank->getInteger("rank") != static_cast<int64_t>(index))
      return fail("rank " + llvm::Twine(index) + " needs its rank number, program and weights");
    for (llvm::StringRef file : {*program, *weights})
      if (!isContainedPath(file) || !files->get(file))
        return fail("rank " + llvm::Twine(index) + " names '" + file +
                    "', which is not a listed file of the artifact");
    manifest.ranks.push_back({program->str(), weights->str()});
  }

  if (const llvm::json::Value *tokenizer = root->get("tokenizer")) {
    std::optional<llvm::StringRef> directory = tokenizer->getAsString();
    if (!directory || !isContainedPath(*directory) ||
        !files->get((*directory + "/tokenizer.json").str()))
      return fail("tokenizer must name a directory of the artifact whose tokenizer.json is a "
                  "listed file");
    manifest.tokenizer = directory->str();
  }

  if (!checkFiles)
    return std::move(manifest);
  for (const auto &[name, entry] : *files) {
    llvm::StringRef relative = name;
    const llvm::json::Object *info = entry.getAsObject();
    auto bytes = info ? info->getInteger("bytes") : std::nullopt;
    auto checksum = info ? info->getString("xxh3_64") : std::nullopt;
    if (!isContainedPath(relative) || !bytes || !checksum)
      return fail("file entry '" + relative + "' needs a relative path, bytes and xxh3_64");
    std::string path = manifest.path(relative);
    uint64_t size = 0;
    if (!llvm::sys::fs::exists(path))
      return makeError("{0}: file '{1}' listed in the manifest is missing", directory, relative);
    // Links may not lead out of the artifact; nothing about a file outside it is revealed.
    if (auto error = checkContained(path, directory, relative))
      return error;
    if (auto error = checkRegularFile(path, "artifact file"))
      return error;
    if (llvm::sys::fs::file_size(path, size) || static_cast<int64_t>(size) != *bytes)
      return makeError("{0}: file '{1}' has {2} bytes, the manifest says {3}", directory,
                       relative, size, *bytes);
    if (!verifyChecksums)
      continue;
    auto buffer = readInputFile(path, "artifact file");
    if (!buffer)
      return buffer.takeError();
    std::string actual =
        llvm::utohexstr(llvm::xxh3_64bits(llvm::arrayRefFromStringRef((*buffer)->getBuffer())),
                        /*LowerCase=*/true, /*Width=*/16);
    if (actual != *checksum)
      return makeError("{0}: file '{1}' is corrupted (checksum {2}, the manifest says {3})",
                       directory, relative, actual, *checksum);
  }
  return std::move(manifest);
}

llvm::Expected<ArtifactManifest> vgcu::readArtifact(llvm::StringRef directory,
                                                    bool verifyChecksums) {
  if (!llvm::sys::fs::is_directory(directory))
    return makeError("artifact '{0}' is not a directory", directory);
  llvm::SmallString<256> manifestPath(directory);
  llvm::sys::path::append(manifestPath, "manifest.json");
  if (!llvm::sys::fs::exists(manifestPath))
    return makeError("artifact '{0}' has no manifest.json", directory);
  if (auto error = checkContained(manifestPath, directory, "manifest.json"))
    return error;
  auto buffer = readInputFile(manifestPath, "manifest", kMaxJsonFileBytes);
  if (!buffer)
    return buffer.takeError();
  return parseManifest((*buffer)->getBuffer(), directory, /*checkFiles=*/true, verifyChecksums);
}
