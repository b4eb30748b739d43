//===- SafeTensors.cpp - Reading and writing safetensors files --------------------===//

#include "vgcu/Weights/SafeTensors.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Json.h"
#include "vgcu/Support/OutputFile.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ConvertUTF.h"

#include <cstring>
#include <sys/mman.h>

using namespace vgcu;

int64_t TensorInfo::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

/// The keys of the top-level JSON object in the order written, duplicates kept (llvm::json
/// keeps only the last of equal keys, and a duplicate must be reported).
static std::vector<std::string> topLevelKeys(llvm::StringRef text) {
  std::vector<std::string> keys;
  int depth = 0;
  bool expectKey = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      size_t start = ++i;
      while (i < text.size() && text[i] != '"')
        i += text[i] == '\\' ? 2 : 1;
      if (depth == 1 && expectKey) {
        auto key = llvm::json::parse("\"" + text.slice(start, std::min(i, text.size())).str() +
                                     "\"");
        if (key && key->getAsString())
          keys.push_back(key->getAsString()->str());
        else
          llvm::consumeError(key.takeError());
        expectKey = false;
      }
    } else if (c == '{' || c == '[') {
      ++depth;
      expectKey = depth == 1 && c == '{';
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expectKey = true;
    }
  }
  return keys;
}

llvm::Expected<std::unique_ptr<SafeTensorsFile>> SafeTensorsFile::open(llvm::StringRef path) {
  auto buffer = readInputFile(path, "safetensors file");
  if (!buffer)
    return buffer.takeError();
  return parse(std::move(*buffer), path);
}

llvm::Expected<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::parse(std::unique_ptr<llvm::MemoryBuffer> buffer, llvm::StringRef path) {
  auto fail = [&](const llvm::Twine &problem) {
    return makeError("{0}: invalid safetensors file: {1}", path, problem.str());
  };
  llvm::StringRef bytes = buffer->getBuffer();
  if (bytes.size() < 8)
    return fail("file of " + llvm::Twine(bytes.size()) +
                " bytes is too small for the 8-byte header length");
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | static_cast<uint8_t>(bytes[i]);
  if (headerSize > kMaxHeaderSize)
    return fail("header length " + llvm::Twine(headerSize) + " exceeds the limit of " +
                llvm::Twine(kMaxHeaderSize) + " bytes");
  if (headerSize > bytes.size() - 8)
    return fail("header length " + llvm::Twine(headerSize) + " runs past the end of the " +
                llvm::Twine(bytes.size()) + "-byte file");
  llvm::StringRef header = bytes.substr(8, headerSize);
  if (!llvm::json::isUTF8(header))
    return fail("header is not valid UTF-8");
  if (!header.starts_with("{"))
    return fail("header does not start with '{'");
  auto json = parseJson(header);
  if (!json)
    return fail("header is not valid JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *object = json->getAsObject();
  if (!object)
    return fail("header is not a JSON object");

  llvm::StringSet<> seen;
  for (const std::string &key : topLevelKeys(header))
    if (!seen.insert(key).second)
      return fail("tensor '" + key + "' appears twice in the header");

  std::unique_ptr<SafeTensorsFile> file(new SafeTensorsFile());
  file->filePath = path.str();
  for (const auto &[key, value] : *object) {
    llvm::StringRef name = key;
    if (name == "__metadata__") {
      const llvm::json::Object *metadata = value.getAsObject();
      if (!metadata)
        return fail("__metadata__ is not an object");
      for (const auto &[metaKey, metaValue] : *metadata) {
        auto text = metaValue.getAsString();
        if (!text)
          return fail("__metadata__ value of '" + metaKey.str() + "' is not a string");
        file->meta[metaKey.str()] = text->str();
      }
      continue;
    }
    const llvm::json::Object *entry = value.getAsObject();
    if (!entry)
      return fail("entry of tensor '" + name + "' is not an object");
    TensorInfo tensor;
    tensor.name = name.str();
    auto dtypeText = entry->getString("dtype");
    if (!dtypeText)
      return fail("tensor '" + name + "' has no dtype string");
    auto dtype = parseDTypeName(*dtypeText);
    if (!dtype)
      return fail("tensor '" + name + "' has unsupported dtype '" + *dtypeText + "'");
    tensor.dtype = *dtype;
    const llvm::json::Array *shape = entry->getArray("shape");
    if (!shape)
      return fail("tensor '" + name + "' has no shape list");
    uint64_t elements = 1;
    for (const llvm::json::Value &dim : *shape) {
      auto size = dim.getAsInteger();
      if (!size || *size < 0)
        return fail("tensor '" + name + "' has a shape entry that is not a non-negative "
                                        "integer");
      if (*size != 0 && elements > (uint64_t(1) << 62) / static_cast<uint64_t>(*size))
        return fail("tensor '" + name + "' has a shape whose size overflows");
      elements *= static_cast<uint64_t>(*size);
      tensor.shape.push_back(*size);
    }
    if (elements > (uint64_t(1) << 62) / dtypeSize(tensor.dtype))
      return fail("tensor '" + name + "' has a shape whose size overflows (" +
                  llvm::Twine(elements) + " elements of " + dtypeName(tensor.dtype) + ")");
    const llvm::json::Array *offsets = entry->getArray("data_offsets");
    if (!offsets || offsets->size() != 2 || !(*offsets)[0].getAsUINT64() ||
        !(*offsets)[1].getAsUINT64())
      return fail("tensor '" + name + "' needs data_offsets [begin, end]");
    tensor.begin = *(*offsets)[0].getAsUINT64();
    tensor.end = *(*offsets)[1].getAsUINT64();
    if (tensor.end < tensor.begin)
      return fail("tensor '" + name + "' ends before it begins");
    if (tensor.end - tensor.begin != elements * dtypeSize(tensor.dtype))
      return fail("tensor '" + name + "' is " + dtypeName(tensor.dtype) + " of " +
                  llvm::Twine(elements) + " elements (" +
                  llvm::Twine(elements * dtypeSize(tensor.dtype)) + " bytes) but its offsets "
                  "span " + llvm::Twine(tensor.end - tensor.begin) + " bytes");
    file->entries.push_back(std::move(tensor));
  }
  llvm::sort(file->entries, [](const TensorInfo &a, const TensorInfo &b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  uint64_t expectedBegin = 0;
  for (const TensorInfo &tensor : file->entries) {
    if (tensor.begin != expectedBegin)
      return fail("tensor '" + tensor.name + "' starts at byte " + llvm::Twine(tensor.begin) +
                  " where " + llvm::Twine(expectedBegin) +
                  (tensor.begin < expectedBegin ? " was expected (it overlaps the previous "
                                                  "tensor)"
                                                : " was expected (a gap precedes it)"));
    expectedBegin = tensor.end;
  }
  uint64_t dataSize = bytes.size() - 8 - headerSize;
  if (expectedBegin != dataSize)
    return fail("tensors cover " + llvm::Twine(expectedBegin) + " bytes but the data section "
                "has " + llvm::Twine(dataSize) + " bytes");
  for (auto [index, tensor] : llvm::enumerate(file->entries))
    file->byName[tensor.name] = index;
  file->dataStart = reinterpret_cast<const uint8_t *>(bytes.data()) + 8 + headerSize;
  file->buffer = std::move(buffer);
  return std::move(file);
}

const TensorInfo *SafeTensorsFile::find(llvm::StringRef name) const {
  auto it = byName.find(name);
  return it == byName.end() ? nullptr : &entries[it->second];
}

llvm::ArrayRef<uint8_t> SafeTensorsFile::data(const TensorInfo &tensor) const {
  return llvm::ArrayRef<uint8_t>(dataStart + tensor.begin, tensor.numBytes());
}

llvm::Error SafeTensorsFile::copyIntoMemory() {
  uint64_t size = 0;
  for (const TensorInfo &tensor : entries)
    size = std::max(size, tensor.end);
  if (size == 0 || memory)
    return llvm::Error::success();
  // Mapped with a huge page of slack, then trimmed to start on a huge-page boundary: the
  // kernel backs only aligned 2 MiB ranges with huge pages.
  constexpr uint64_t kHugePage = 2 << 20;
  uint64_t rounded = (size + kHugePage - 1) / kHugePage * kHugePage;
  void *mapped = mmap(nullptr, rounded + kHugePage, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED)
    return makeError("{0}: cannot allocate {1} bytes of memory for the weights: {2}", filePath,
                     size, std::strerror(errno));
  auto start = reinterpret_cast<uintptr_t>(mapped);
  uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start)
    munmap(mapped, aligned - start);
  if (uintptr_t tail = start + rounded + kHugePage - (aligned + rounded))
    munmap(reinterpret_cast<void *>(aligned + rounded), tail);
  auto *base = reinterpret_cast<uint8_t *>(aligned);
  // Advice only: without transparent huge pages the copy still works, on small pages.
  madvise(base, rounded, MADV_HUGEPAGE);
  std::memcpy(base, dataStart, size);
  mprotect(base, rounded, PROT_READ);
  memory = std::shared_ptr<uint8_t>(base, [rounded](uint8_t *p) { munmap(p, rounded); });
  dataStart = base;
  buffer.reset();
  return llvm::Error::success();
}

/// The header of a safetensors file holding `tensors` in order (padded so the data starts
/// 8-byte aligned, as the reference writer does), and each tensor's byte size.
static std::string safeTensorsHeader(const std::vector<TensorToWrite> &tensors,
                                     const std::map<std::string, std::string> &metadata,
                                     std::vector<uint64_t> &sizes) {
  llvm::json::Object header;
  if (!metadata.empty()) {
    llvm::json::Object meta;
    for (const auto &[key, value] : metadata)
      meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const TensorToWrite &tensor : tensors) {
    uint64_t elements = 1;
    for (int64_t dim : tensor.shape)
      elements *= dim;
    uint64_t size = elements * dtypeSize(tensor.dtype);
    llvm::json::Array shape;
    for (int64_t dim : tensor.shape)
      shape.push_back(dim);
    header[tensor.name] = llvm::json::Object{
        {"dtype", dtypeName(tensor.dtype)},
        {"shape", std::move(shape)},
        {"data_offsets", llvm::json::Array{offset, offset + size}}};
    sizes.push_back(size);
    offset += size;
  }
  std::string text = llvm::formatv("{0}", llvm::json::Value(std::move(header))).str();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string prefixed(8, '\0');
  for (int i = 0; i < 8; ++i)
    prefixed[i] = static_cast<char>(static_cast<uint64_t>(text.size()) >> (8 * i));
  return prefixed + text;
}

llvm::Error vgcu::writeSafeTensors(llvm::StringRef path, std::vector<TensorToWrite> tensors,
                                   const std::map<std::string, std::string> &metadata,
                                   const std::function<void(uint64_t)> &onBytes) {
  std::vector<uint64_t> sizes;
  std::string header = safeTensorsHeader(tensors, metadata, sizes);
  uint64_t largest = sizes.empty() ? 0 : *std::max_element(sizes.begin(), sizes.end());
  // Written with write() from one reused staging buffer: a mapped output file would have the
  // kernel zero every page before the data lands in it.
  auto file = OutputFile::create(path);
  if (!file)
    return file.takeError();
  llvm::raw_fd_ostream &os = (*file)->stream();
  os << header;
  std::unique_ptr<uint8_t[]> staging(new uint8_t[std::max<uint64_t>(largest, 1)]);
  for (auto [tensor, size] : llvm::zip(tensors, sizes)) {
    if ((*file)->failed())
      break; // a full disk: stop converting, close() names the failure
    tensor.fill(llvm::MutableArrayRef<uint8_t>(staging.get(), size));
    os.write(reinterpret_cast<const char *>(staging.get()), size);
    if (onBytes)
      onBytes(size);
  }
  return (*file)->close();
}

llvm::Expected<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::fromTensors(std::vector<TensorToWrite> tensors, llvm::StringRef name) {
  std::vector<uint64_t> sizes;
  std::string header = safeTensorsHeader(tensors, {}, sizes);
  uint64_t total = header.size();
  for (uint64_t size : sizes)
    total += size;
  auto buffer = llvm::WritableMemoryBuffer::getNewUninitMemBuffer(total, name);
  if (!buffer)
    return makeError("cannot allocate {0} bytes for '{1}'", total, name);
  uint8_t *cursor = reinterpret_cast<uint8_t *>(buffer->getBufferStart());
  std::memcpy(cursor, header.data(), header.size());
  cursor += header.size();
  for (auto [tensor, size] : llvm::zip(tensors, sizes)) {
    tensor.fill(llvm::MutableArrayRef<uint8_t>(cursor, size));
    cursor += size;
  }
  return parse(std::move(buffer), name);
}

//===----------------------------------------------------------------------===//
// Checkpoint
//===----------------------------------------------------------------------===//

static constexpr const char *kIndexName = "model.safetensors.index.json";
static constexpr const char *kSingleName = "model.safetensors";

bool Checkpoint::exists(llvm::StringRef directory) {
  llvm::SmallString<256> index(directory), single(directory);
  llvm::sys::path::append(index, kIndexName);
  llvm::sys::path::append(single, kSingleName);
  return llvm::sys::fs::exists(index) || llvm::sys::fs::exists(single);
}

llvm::Expected<std::unique_ptr<Checkpoint>> Checkpoint::open(llvm::StringRef directory) {
  auto checkpoint = std::make_unique<Checkpoint>();
  llvm::SmallString<256> indexPath(directory);
  llvm::sys::path::append(indexPath, kIndexName);
  std::map<std::string, std::string> weightMap;
  std::vector<std::string> fileNames;
  if (llvm::sys::fs::exists(indexPath)) {
    auto buffer = readInputFile(indexPath, "checkpoint index", kMaxJsonFileBytes);
    if (!buffer)
      return buffer.takeError();
    auto json = parseJson((*buffer)->getBuffer());
    if (!json)
      return makeError("{0}: invalid JSON: {1}", indexPath, llvm::toString(json.takeError()));
    const llvm::json::Object *map =
        json->getAsObject() ? json->getAsObject()->getObject("weight_map") : nullptr;
    if (!map)
      return makeError("{0}: expected an object with a 'weight_map' object", indexPath);
    for (const auto &[name, file] : *map) {
      auto fileName = file.getAsString();
      if (!fileName || fileName->contains('/') || fileName->starts_with(".."))
        return makeError("{0}: weight_map entry '{1}' must name a file in the checkpoint "
                         "directory",
                         indexPath, name.str());
      weightMap[name.str()] = fileName->str();
      if (!llvm::is_contained(fileNames, fileName->str()))
        fileNames.push_back(fileName->str());
    }
    if (fileNames.empty())
      return makeError("{0}: weight_map is empty", indexPath);
  } else {
    fileNames.push_back(kSingleName);
  }
  llvm::sort(fileNames);
  for (const std::string &fileName : fileNames) {
    llvm::SmallString<256> path(directory);
    llvm::sys::path::append(path, fileName);
    auto file = SafeTensorsFile::open(path);
    if (!file)
      return file.takeError();
    for (const TensorInfo &tensor : (*file)->tensors()) {
      if (!weightMap.empty()) {
        auto listed = weightMap.find(tensor.name);
        if (listed == weightMap.end() || listed->second != fileName)
          return makeError("{0}: tensor '{1}' is not listed for this file in {2}", path,
                           tensor.name, kIndexName);
      }
      if (!checkpoint->entries.emplace(tensor.name, Entry{file->get(), &tensor}).second)
        return makeError("{0}: tensor '{1}' is also stored in another shard", path,
                         tensor.name);
    }
    checkpoint->files.push_back(std::move(*file));
  }
  for (const auto &[name, fileName] : weightMap)
    if (!checkpoint->entries.count(name))
      return makeError("{0}: tensor '{1}' is listed in {2} but '{3}' does not contain it",
                       directory, name, kIndexName, fileName);
  return std::move(checkpoint);
}

const Checkpoint::Entry *Checkpoint::find(llvm::StringRef name) const {
  auto it = entries.find(name.str());
  return it == entries.end() ? nullptr : &it->second;
}

uint64_t Checkpoint::totalBytes() const {
  uint64_t total = 0;
  for (const auto &[name, entry] : entries)
    total += entry.tensor->numBytes();
  return total;
}
