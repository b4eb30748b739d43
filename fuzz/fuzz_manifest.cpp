//===- fuzz_manifest.cpp - libFuzzer: the artifact manifest reader -----------------===//

#include "vgcu/Artifact/ArtifactReader.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto manifest = vgcu::parseManifest(llvm::StringRef(reinterpret_cast<const char *>(data), size),
                                      "/nonexistent/fuzz.vgcu", /*checkFiles=*/false,
                                      /*verifyChecksums=*/false);
  if (!manifest) {
    llvm::consumeError(manifest.takeError());
    return 0;
  }
  for (const auto &rank : manifest->ranks)
    (void)manifest->path(rank.weights);
  return 0;
}
