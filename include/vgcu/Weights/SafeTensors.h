//===- SafeTensors.h - Reading and writing safetensors files ----------------------===//
#ifndef VGCU_WEIGHTS_SAFETENSORS_H
#define VGCU_WEIGHTS_SAFETENSORS_H

#include "vgcu/Weights/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vgcu {

struct TensorToWrite;
struct QuantConfig;
struct QuantizedSource;

/// One tensor's entry in a safetensors header.
struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  llvm::SmallVector<int64_t, 4> shape;
  /// Byte range within the data section.
  uint64_t begin = 0;
  uint64_t end = 0;

  int64_t numElements() const;
  uint64_t numBytes() const { return end - begin; }
};

/// A memory-mapped safetensors file whose header was checked as the reference
/// implementation checks it: header size limit, JSON, known dtypes, dtype × shape = byte
/// length, offsets in bounds and contiguous (no gaps, no overlap), no duplicate names.
class SafeTensorsFile {
public:
  /// The reference implementation's limit on the JSON header.
  static constexpr uint64_t kMaxHeaderSize = 100'000'000;

  static llvm::Expected<std::unique_ptr<SafeTensorsFile>> open(llvm::StringRef path);
  /// Parses an in-memory image (used by open() and by the fuzzer).
  static llvm::Expected<std::unique_ptr<SafeTensorsFile>>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer, llvm::StringRef path);

  /// An in-memory file of `tensors` (computed weights, transformed checkpoint tensors),
  /// checked as a file on disk would be; `name` stands for its path in messages.
  static llvm::Expected<std::unique_ptr<SafeTensorsFile>>
  fromTensors(std::vector<TensorToWrite> tensors, llvm::StringRef name);

  llvm::StringRef path() const { return filePath; }
  /// Tensors in data order.
  llvm::ArrayRef<TensorInfo> tensors() const { return entries; }
  const TensorInfo *find(llvm::StringRef name) const;
  /// The bytes of one of this file's tensors.
  llvm::ArrayRef<uint8_t> data(const TensorInfo &tensor) const;
  /// Moves the tensors' bytes from the mapped file into anonymous memory advised to use
  /// transparent huge pages (read-only once filled), and drops the mapping: a kernel that
  /// streams every weight on each decode step reads it faster with one TLB entry per 2 MiB
  /// than per 4 KiB page. `data()` then points into that memory.
  llvm::Error copyIntoMemory();
  const std::map<std::string, std::string> &metadata() const { return meta; }

private:
  SafeTensorsFile() = default;
  std::string filePath;
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  /// The tensors' bytes after copyIntoMemory(), unmapped with this file.
  std::shared_ptr<uint8_t> memory;
  const uint8_t *dataStart = nullptr;
  std::vector<TensorInfo> entries;
  llvm::StringMap<size_t> byName;
  std::map<std::string, std::string> meta;
};

/// A tensor to write: its header entry and a callback that fills its bytes.
struct TensorToWrite {
  std::string name;
  DType dtype;
  llvm::SmallVector<int64_t, 4> shape;
  std::function<void(llvm::MutableArrayRef<uint8_t>)> fill;
};

/// Writes a safetensors file by mapping it and letting each tensor fill its own bytes;
/// `onBytes` is told how much was written (for progress).
llvm::Error writeSafeTensors(llvm::StringRef path, std::vector<TensorToWrite> tensors,
                             const std::map<std::string, std::string> &metadata,
                             const std::function<void(uint64_t)> &onBytes = nullptr);

/// A model's weights: one safetensors file, or shards listed by
/// model.safetensors.index.json.
class Checkpoint {
public:
  /// Opens the checkpoint in `directory`.
  static llvm::Expected<std::unique_ptr<Checkpoint>> open(llvm::StringRef directory);
  /// Whether `directory` holds any safetensors weights.
  static bool exists(llvm::StringRef directory);

  struct Entry {
    const SafeTensorsFile *file;
    const TensorInfo *tensor;
    /// For a quantized module's `weight` (see applyQuantization): where its codes and
    /// scales are; `tensor` then gives the float [out, in] shape it stands for and there
    /// are no bytes.
    std::shared_ptr<const QuantizedSource> quantized = nullptr;
    llvm::ArrayRef<uint8_t> bytes() const { return file->data(*tensor); }
  };
  /// All tensors, sorted by name.
  const std::map<std::string, Entry> &tensors() const { return entries; }
  const Entry *find(llvm::StringRef name) const;
  uint64_t totalBytes() const;
  /// Replaces each quantized module's tensors (GPTQ's `<m>.qweight`, `.qzeros`, `.scales`,
  /// `.g_idx`; AWQ's; FP8's `<m>.weight` with `.weight_scale_inv` or `.weight_scale`) by
  /// one `<m>.weight` entry standing for the float weight, so that models load it as they
  /// load a float checkpoint (Quantization.cpp). Shapes and dtypes are checked here.
  /// Returns how many modules it found.
  llvm::Expected<int64_t> applyQuantization(const QuantConfig &config);

private:
  std::vector<std::unique_ptr<SafeTensorsFile>> files;
  std::map<std::string, Entry> entries;
  /// The float shapes quantized modules' entries stand for.
  std::vector<std::unique_ptr<TensorInfo>> quantizedShapes;
};

} // namespace vgcu

#endif // VGCU_WEIGHTS_SAFETENSORS_H
