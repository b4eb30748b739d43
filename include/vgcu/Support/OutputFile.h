//===- OutputFile.h - Writing a file whose every error is reported, never fatal ---===//
#ifndef VGCU_SUPPORT_OUTPUTFILE_H
#define VGCU_SUPPORT_OUTPUTFILE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>

namespace vgcu {

/// A file written through a raw_fd_ostream. llvm's stream aborts the process ("IO failure on
/// output stream") when it dies with an unreported error, e.g. after a full disk; this one
/// turns every write error into an llvm::Error from close() naming the file and errno.
class OutputFile {
public:
  static llvm::Expected<std::unique_ptr<OutputFile>> create(llvm::StringRef path);
  ~OutputFile();

  llvm::raw_fd_ostream &stream() { return *os; }
  /// Whether a write has failed so far (writers may stop early).
  bool failed() const { return os->has_error(); }
  /// Flushes and closes; an error names the file and the system's reason.
  llvm::Error close();

private:
  OutputFile(std::string path, std::unique_ptr<llvm::raw_fd_ostream> os)
      : path(std::move(path)), os(std::move(os)) {}
  std::string path;
  std::unique_ptr<llvm::raw_fd_ostream> os;
};

} // namespace vgcu

#endif // VGCU_SUPPORT_OUTPUTFILE_H
