//===- fuzz_safetensors.cpp - libFuzzer: the safetensors header parser -------------===//

#include "vgcu/Weights/SafeTensors.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz.safetensors");
  auto file = vgcu::SafeTensorsFile::parse(std::move(buffer), "fuzz.safetensors");
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  // Every accepted tensor must lie inside the file: touch its first and last byte.
  volatile uint8_t sink = 0;
  for (const vgcu::TensorInfo &tensor : (*file)->tensors()) {
    llvm::ArrayRef<uint8_t> bytes = (*file)->data(tensor);
    if (!bytes.empty())
      sink ^= bytes.front() ^ bytes.back();
    (void)(*file)->find(tensor.name);
  }
  (void)sink;
  return 0;
}
