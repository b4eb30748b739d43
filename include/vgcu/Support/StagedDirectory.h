//===- StagedDirectory.h - Output directories that appear whole or not at all -----===//
#ifndef VGCU_SUPPORT_STAGEDDIRECTORY_H
#define VGCU_SUPPORT_STAGEDDIRECTORY_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace vgcu {

/// A directory written under a temporary name next to its destination and renamed into
/// place by commit(). Until then it is removed when this object dies or the process gets
/// an interrupt, so a failed run never leaves a half-written result behind.
class StagedDirectory {
public:
  static llvm::Expected<StagedDirectory> create(llvm::StringRef destination, bool overwrite);
  StagedDirectory(StagedDirectory &&other);
  StagedDirectory &operator=(StagedDirectory &&) = delete;
  ~StagedDirectory();

  /// Where to write the contents while staging.
  llvm::StringRef path() const { return stagingPath; }
  /// Moves the staged directory to its destination (replacing an old one if allowed).
  llvm::Error commit();

private:
  StagedDirectory(std::string destination, std::string staging, bool overwrite);
  std::string destinationPath;
  std::string stagingPath;
  bool overwrite;
  bool committed = false;
};

/// Removes a directory tree; missing paths are fine.
void removeTree(llvm::StringRef path);

} // namespace vgcu

#endif // VGCU_SUPPORT_STAGEDDIRECTORY_H
