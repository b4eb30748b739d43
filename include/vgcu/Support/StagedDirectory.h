//===- StagedDirectory.h - Output directories that appear whole or not at all -----===//
#ifndef VGCU_SUPPORT_STAGEDDIRECTORY_H
#define VGCU_SUPPORT_STAGEDDIRECTORY_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>
#include <vector>

namespace vgcu {

/// What may be done to an existing destination.
struct StagingOptions {
  /// Replace an existing destination (--force); only one `isReplaceable` accepts.
  bool overwrite = false;
  /// Whether an existing destination directory is something we may replace (e.g. a vgcu
  /// artifact, recognised by its manifest). Unset: nothing is replaceable.
  std::function<bool(llvm::StringRef directory)> isReplaceable;
  /// What `isReplaceable` recognises, for messages ("vgcu artifact").
  std::string replaceableKind = "output";
  /// Inputs of the run: the destination may neither be one of them nor contain one.
  std::vector<std::string> protectedInputs;
};

/// A directory written under a temporary name next to its destination and moved into place
/// by commit(). Until then it is removed when this object dies or the process gets an
/// interrupt (SIGINT, SIGTERM, SIGHUP) or a SIGBUS, so a failed run never leaves a
/// half-written result behind. Symbolic links at the destination are never followed, and an
/// old destination is exchanged atomically with the new one before it is removed, so a
/// crash at any moment leaves either the old or the new directory in place.
class StagedDirectory {
public:
  static llvm::Expected<StagedDirectory> create(llvm::StringRef destination,
                                                const StagingOptions &options);
  StagedDirectory(StagedDirectory &&other);
  StagedDirectory &operator=(StagedDirectory &&) = delete;
  ~StagedDirectory();

  /// Where to write the contents while staging.
  llvm::StringRef path() const { return stagingPath; }
  /// Moves the staged directory to its destination (replacing an old one if allowed).
  llvm::Error commit();

private:
  StagedDirectory(std::string destination, std::string staging, StagingOptions options);
  /// Errors unless the existing `destinationPath` may be replaced.
  llvm::Error checkReplaceable() const;
  std::string destinationPath;
  std::string stagingPath;
  StagingOptions options;
  int cleanupSlot = -1;
  bool committed = false;
};

/// Removes a directory tree; missing paths are fine.
void removeTree(llvm::StringRef path);

} // namespace vgcu

#endif // VGCU_SUPPORT_STAGEDDIRECTORY_H
