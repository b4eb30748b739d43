//===- StagedDirectory.cpp - Output directories that appear whole or not at all ---===//

#include "vgcu/Support/StagedDirectory.h"
#include "vgcu/Support/Error.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"

#include <mutex>
#include <set>

using namespace vgcu;
namespace fs = llvm::sys::fs;

namespace {
/// Staging directories alive in this process, removed if an interrupt arrives.
std::mutex liveMutex;
std::set<std::string> &liveStagingDirs() {
  static std::set<std::string> dirs;
  return dirs;
}

void removeLiveStagingDirs(void *) {
  // Runs in a signal handler: best effort, no locking beyond a try.
  if (!liveMutex.try_lock())
    return;
  for (const std::string &dir : liveStagingDirs())
    removeTree(dir);
  liveMutex.unlock();
}
} // namespace

void vgcu::removeTree(llvm::StringRef path) {
  if (fs::exists(path))
    (void)fs::remove_directories(path, /*IgnoreErrors=*/true);
}

llvm::Expected<StagedDirectory> StagedDirectory::create(llvm::StringRef destination,
                                                        bool overwrite) {
  llvm::SmallString<256> absolute(destination);
  if (std::error_code ec = fs::make_absolute(absolute))
    return makeError("cannot resolve output path '{0}': {1}", destination, ec.message());
  llvm::sys::path::remove_dots(absolute, /*remove_dot_dot=*/true);
  if (fs::exists(absolute) && !overwrite)
    return makeError("output '{0}' already exists (pass --force to replace it)", destination);
  llvm::StringRef parent = llvm::sys::path::parent_path(absolute);
  if (!fs::is_directory(parent))
    return makeError("output directory's parent '{0}' does not exist", parent);

  llvm::SmallString<256> model(parent);
  llvm::sys::path::append(model, "." + llvm::sys::path::filename(absolute) + ".tmp-%%%%%%");
  llvm::SmallString<256> staging;
  for (int attempt = 0; attempt < 16; ++attempt) {
    fs::createUniquePath(model, staging, /*MakeAbsolute=*/false);
    std::error_code ec = fs::create_directory(staging, /*IgnoreExisting=*/false);
    if (!ec)
      return StagedDirectory(absolute.str().str(), staging.str().str(), overwrite);
    if (ec != std::errc::file_exists)
      return makeError("cannot create staging directory '{0}': {1}", staging, ec.message());
  }
  return makeError("cannot find a free staging directory name next to '{0}'", destination);
}

StagedDirectory::StagedDirectory(std::string destination, std::string staging, bool overwrite)
    : destinationPath(std::move(destination)), stagingPath(std::move(staging)),
      overwrite(overwrite) {
  static bool handlerInstalled = [] {
    llvm::sys::AddSignalHandler(removeLiveStagingDirs, nullptr);
    return true;
  }();
  (void)handlerInstalled;
  std::lock_guard<std::mutex> lock(liveMutex);
  liveStagingDirs().insert(stagingPath);
}

StagedDirectory::StagedDirectory(StagedDirectory &&other)
    : destinationPath(std::move(other.destinationPath)),
      stagingPath(std::move(other.stagingPath)), overwrite(other.overwrite),
      committed(other.committed) {
  other.committed = true;
}

StagedDirectory::~StagedDirectory() {
  if (committed)
    return;
  removeTree(stagingPath);
  std::lock_guard<std::mutex> lock(liveMutex);
  liveStagingDirs().erase(stagingPath);
}

llvm::Error StagedDirectory::commit() {
  if (fs::exists(destinationPath)) {
    if (!overwrite)
      return makeError("output '{0}' appeared while compiling; not replacing it",
                       destinationPath);
    removeTree(destinationPath);
  }
  if (std::error_code ec = fs::rename(stagingPath, destinationPath))
    return makeError("cannot move '{0}' to '{1}': {2}", stagingPath, destinationPath,
                     ec.message());
  committed = true;
  std::lock_guard<std::mutex> lock(liveMutex);
  liveStagingDirs().erase(stagingPath);
  return llvm::Error::success();
}
