//===- StagedDirectory.cpp - Output directories that appear whole or not at all ---===//

#include "vgcu/Support/StagedDirectory.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/Signals.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>

using namespace vgcu;
namespace fs = llvm::sys::fs;

namespace {

/// The longest file name Linux file systems take; staging names must fit as well.
constexpr size_t kNameMax = NAME_MAX;
/// ".<name>.tmp-XXXXXX" adds this much to a (shortened) name.
constexpr size_t kStagingOverhead = 12;

std::optional<std::string> realPath(llvm::StringRef path) {
  char resolved[PATH_MAX];
  if (!::realpath(path.str().c_str(), resolved))
    return std::nullopt;
  return std::string(resolved);
}

/// Whether `path` is `directory` or lies inside it (both resolved).
bool isWithin(llvm::StringRef path, llvm::StringRef directory) {
  if (path == directory)
    return true;
  if (directory == "/")
    return true;
  return path.starts_with(directory) && path.size() > directory.size() &&
         path[directory.size()] == '/';
}

/// A unique sibling name of `destination`: ".<name>.<tag>-XXXXXX", shortened to fit.
std::string siblingModel(llvm::StringRef destination, llvm::StringRef tag) {
  llvm::StringRef name = llvm::sys::path::filename(destination);
  llvm::SmallString<256> model(llvm::sys::path::parent_path(destination));
  llvm::sys::path::append(model, "." + name.take_front(kNameMax - kStagingOverhead) + "." + tag +
                                     "-%%%%%%");
  return model.str().str();
}

} // namespace

void vgcu::removeTree(llvm::StringRef path) {
  struct stat info {};
  if (::lstat(path.str().c_str(), &info) != 0)
    return;
  if (S_ISDIR(info.st_mode))
    (void)fs::remove_directories(path, /*IgnoreErrors=*/true);
  else
    (void)fs::remove(path);
}

llvm::Expected<StagedDirectory> StagedDirectory::create(llvm::StringRef destination,
                                                        const StagingOptions &options) {
  installSignalHandlers();
  llvm::SmallString<256> absolute(destination);
  if (std::error_code ec = fs::make_absolute(absolute))
    return makeError("cannot resolve output path '{0}': {1}", destination, ec.message());
  llvm::sys::path::remove_dots(absolute, /*remove_dot_dot=*/true);
  llvm::StringRef name = llvm::sys::path::filename(absolute);
  if (name.empty() || name == "." || name == ".." || name == "/")
    return makeError("output '{0}' does not name a new directory", destination);
  if (name.size() > kNameMax)
    return makeError("output name '{0}' is {1} bytes long; file names may have at most {2}",
                     name, name.size(), kNameMax);
  llvm::StringRef parent = llvm::sys::path::parent_path(absolute);
  if (!fs::is_directory(parent))
    return makeError("output directory's parent '{0}' does not exist", parent);
  auto realParent = realPath(parent);
  if (!realParent)
    return makeError("cannot resolve the output directory's parent '{0}': {1}", parent,
                     std::strerror(errno));
  // The destination itself is never resolved: a link there is refused, not followed.
  llvm::SmallString<256> resolved(*realParent);
  llvm::sys::path::append(resolved, name);
  for (const std::string &input : options.protectedInputs) {
    auto realInput = realPath(input);
    if (realInput && isWithin(*realInput, resolved))
      return makeError("output '{0}' {1} the input '{2}'; vgcu-compile never replaces its "
                       "input",
                       destination, *realInput == resolved ? "is" : "contains", input);
  }

  struct stat info {};
  if (::lstat(absolute.c_str(), &info) == 0) {
    if (!options.overwrite)
      return makeError("output '{0}' already exists (pass --force to replace it)", destination);
    StagedDirectory probe(absolute.str().str(), "", options);
    if (auto error = probe.checkReplaceable())
      return error;
  }

  std::string model = siblingModel(absolute, "tmp");
  llvm::SmallString<256> staging;
  for (int attempt = 0; attempt < 16; ++attempt) {
    fs::createUniquePath(model, staging, /*MakeAbsolute=*/false);
    std::error_code ec = fs::create_directory(staging, /*IgnoreExisting=*/false);
    if (!ec)
      return StagedDirectory(absolute.str().str(), staging.str().str(), options);
    if (ec != std::errc::file_exists)
      return makeError("cannot create staging directory '{0}': {1}", staging, ec.message());
  }
  return makeError("cannot find a free staging directory name next to '{0}'", destination);
}

StagedDirectory::StagedDirectory(std::string destination, std::string staging,
                                 StagingOptions options)
    : destinationPath(std::move(destination)), stagingPath(std::move(staging)),
      options(std::move(options)) {
  if (stagingPath.empty()) {
    committed = true; // a probe: owns nothing
    return;
  }
  cleanupSlot = registerCleanupDirectory(stagingPath);
}

StagedDirectory::StagedDirectory(StagedDirectory &&other)
    : destinationPath(std::move(other.destinationPath)),
      stagingPath(std::move(other.stagingPath)), options(std::move(other.options)),
      cleanupSlot(other.cleanupSlot), committed(other.committed) {
  other.committed = true;
  other.cleanupSlot = -1;
}

StagedDirectory::~StagedDirectory() {
  if (!committed)
    removeTree(stagingPath);
  unregisterCleanupDirectory(cleanupSlot);
}

llvm::Error StagedDirectory::checkReplaceable() const {
  struct stat info {};
  if (::lstat(destinationPath.c_str(), &info) != 0)
    return llvm::Error::success();
  if (S_ISLNK(info.st_mode))
    return makeError("output '{0}' is a symbolic link; links are never followed or replaced "
                     "(remove it or choose another name)",
                     destinationPath);
  if (!S_ISDIR(info.st_mode) || !options.isReplaceable ||
      !options.isReplaceable(destinationPath))
    return makeError("output '{0}' exists and is not a {1}; --force only replaces a {1}",
                     destinationPath, options.replaceableKind);
  return llvm::Error::success();
}

llvm::Error StagedDirectory::commit() {
  struct stat info {};
  bool exists = ::lstat(destinationPath.c_str(), &info) == 0;
  if (exists && !options.overwrite)
    return makeError("output '{0}' appeared while compiling; not replacing it", destinationPath);
  if (exists) {
    if (auto error = checkReplaceable())
      return error;
    // One atomic step: the new directory takes the old one's place and the old one the
    // staging name, which is then removed (and is still removed on an interrupt).
    if (::renameat2(AT_FDCWD, stagingPath.c_str(), AT_FDCWD, destinationPath.c_str(),
                    RENAME_EXCHANGE) == 0) {
      committed = true;
      removeTree(stagingPath);
      return llvm::Error::success();
    }
    if (errno != EINVAL && errno != ENOSYS)
      return makeError("cannot replace '{0}': {1}", destinationPath, std::strerror(errno));
    // No exchange on this file system: move the old one aside first, back if the new one
    // cannot take its place, and remove it only once the new one is in place.
    llvm::SmallString<256> aside;
    fs::createUniquePath(siblingModel(destinationPath, "old"), aside, /*MakeAbsolute=*/false);
    if (std::error_code ec = fs::rename(destinationPath, aside))
      return makeError("cannot move the old '{0}' aside: {1}", destinationPath, ec.message());
    if (std::error_code ec = fs::rename(stagingPath, destinationPath)) {
      (void)fs::rename(aside, destinationPath);
      return makeError("cannot move '{0}' to '{1}': {2}", stagingPath, destinationPath,
                       ec.message());
    }
    committed = true;
    removeTree(aside);
    return llvm::Error::success();
  }
  if (::renameat2(AT_FDCWD, stagingPath.c_str(), AT_FDCWD, destinationPath.c_str(),
                  RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST)
      return makeError("output '{0}' appeared while compiling; not replacing it",
                       destinationPath);
    if (errno != EINVAL && errno != ENOSYS)
      return makeError("cannot move '{0}' to '{1}': {2}", stagingPath, destinationPath,
                       std::strerror(errno));
    if (std::error_code ec = fs::rename(stagingPath, destinationPath))
      return makeError("cannot move '{0}' to '{1}': {2}", stagingPath, destinationPath,
                       ec.message());
  }
  committed = true;
  return llvm::Error::success();
}
