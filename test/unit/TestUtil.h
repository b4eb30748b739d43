//===- TestUtil.h - Temporary directories and files for unit tests -----------------===//
#ifndef VGCU_TEST_UNIT_TESTUTIL_H
#define VGCU_TEST_UNIT_TESTUTIL_H

#include "vgcu/Support/StagedDirectory.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>
#include <string>

namespace vgcu::test {

/// A directory removed with everything in it when the test ends.
class TempDir {
public:
  TempDir() {
    llvm::SmallString<128> path;
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("vgcu-unittest", path));
    root = path.str().str();
  }
  ~TempDir() { removeTree(root); }
  std::string path(llvm::StringRef name) const {
    llvm::SmallString<128> full(root);
    llvm::sys::path::append(full, name);
    return full.str().str();
  }
  const std::string &str() const { return root; }

  std::string write(llvm::StringRef name, llvm::StringRef contents) const {
    std::string file = path(name);
    EXPECT_FALSE(llvm::sys::fs::create_directories(llvm::sys::path::parent_path(file)));
    std::error_code ec;
    llvm::raw_fd_ostream os(file, ec);
    EXPECT_FALSE(ec) << ec.message();
    if (ec)
      return file;
    os << contents;
    return file;
  }

private:
  std::string root;
};

/// The message of an llvm::Error (consumed), or "" for success.
inline std::string errorText(llvm::Error error) {
  return error ? llvm::toString(std::move(error)) : std::string();
}

template <typename T> std::string errorText(llvm::Expected<T> &expected) {
  return expected ? std::string() : llvm::toString(expected.takeError());
}

template <typename T> std::string errorText(llvm::Expected<T> &&expected) {
  return errorText(expected);
}

} // namespace vgcu::test

#endif // VGCU_TEST_UNIT_TESTUTIL_H
