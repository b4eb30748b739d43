//===- ArtifactReader.h - Opening and checking a NAME.vgcu artifact ---------------===//
#ifndef VGCU_ARTIFACT_ARTIFACTREADER_H
#define VGCU_ARTIFACT_ARTIFACTREADER_H

#include "vgcu/Weights/DType.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace vgcu {

/// Bumped whenever the meaning of a gcu op, the manifest or the weight layout changes;
/// vgcu-run refuses artifacts of another version.
constexpr int64_t kKernelAbiVersion = 2;

/// A checked artifact: the manifest's ABI version matches this runtime, every file it lists
/// exists with the recorded size and checksum, and every rank has a program and weights.
struct ArtifactManifest {
  std::string directory;
  std::string architecture;
  DType dtype = DType::F32;
  int64_t tp = 1;
  /// Expert-parallel groups of tp ranks each (1: no expert parallelism); tp · ep ranks.
  int64_t ep = 1;
  int64_t worldSize() const { return tp * ep; }
  int64_t vocabSize = 0;
  int64_t kvLayers = 0;
  int64_t kvBlockSize = 64;
  int64_t maxPositions = 0;
  /// The sequence length at which generation recomputes the whole sequence (Phi-3 with
  /// LongRoPE, as Hugging Face's generate does); 0: never.
  int64_t recomputeAt = 0;
  /// Token ids that end a generation (config.json's and generation_config.json's).
  std::vector<int64_t> eosTokenIds;
  struct Rank {
    std::string program;
    std::string weights;
  };
  std::vector<Rank> ranks;
  /// The directory (relative to the artifact) with the model's tokenizer.json and
  /// tokenizer_config.json; empty when the model came without one.
  std::string tokenizer;

  /// Absolute path of a file named relative to the artifact.
  std::string path(llvm::StringRef relative) const;
};

/// Reads `directory`/manifest.json and checks it; `verifyChecksums` re-hashes every file.
llvm::Expected<ArtifactManifest> readArtifact(llvm::StringRef directory,
                                              bool verifyChecksums = true);

/// Reads manifest JSON text (the fuzzer's entry); `directory` is only used in messages and
/// for file checks when `checkFiles` is set.
llvm::Expected<ArtifactManifest> parseManifest(llvm::StringRef text, llvm::StringRef directory,
                                               bool checkFiles, bool verifyChecksums);

} // namespace vgcu

#endif // VGCU_ARTIFACT_ARTIFACTREADER_H
