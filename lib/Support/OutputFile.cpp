//===- OutputFile.cpp - Writing a file whose every error is reported, never fatal -===//

#include "vgcu/Support/OutputFile.h"
#include "vgcu/Support/Error.h"

#include "llvm/Support/FileSystem.h"

using namespace vgcu;

static llvm::Error writeError(llvm::StringRef path, std::error_code ec) {
  return makeError("cannot write '{0}': {1} (errno {2})", path, ec.message(), ec.value());
}

llvm::Expected<std::unique_ptr<OutputFile>> OutputFile::create(llvm::StringRef path) {
  std::error_code ec;
  auto os = std::make_unique<llvm::raw_fd_ostream>(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    os->clear_error();
    return makeError("cannot create '{0}': {1} (errno {2})", path, ec.message(), ec.value());
  }
  return std::unique_ptr<OutputFile>(new OutputFile(path.str(), std::move(os)));
}

OutputFile::~OutputFile() {
  // Errors were reported by close(), or the write was abandoned for another error.
  os->clear_error();
}

llvm::Error OutputFile::close() {
  os->close();
  if (!os->has_error())
    return llvm::Error::success();
  std::error_code ec = os->error();
  os->clear_error();
  return writeError(path, ec);
}
