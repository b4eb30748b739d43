//===- InputFiles.cpp - Reading files that come from strangers --------------------===//

#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/Signals.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace vgcu;

namespace {

const char *kindOf(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

/// A mapped (or read) buffer registered for SIGBUS reporting while it lives.
class RegisteredBuffer : public llvm::MemoryBuffer {
public:
  RegisteredBuffer(std::unique_ptr<llvm::MemoryBuffer> inner, llvm::StringRef path,
                   bool requiresNullTerminator)
      : inner(std::move(inner)) {
    init(this->inner->getBufferStart(), this->inner->getBufferEnd(), requiresNullTerminator);
    slot = registerMappedFile(getBufferStart(), getBufferSize(), path);
  }
  ~RegisteredBuffer() override { unregisterMappedFile(slot); }
  BufferKind getBufferKind() const override { return inner->getBufferKind(); }
  llvm::StringRef getBufferIdentifier() const override { return inner->getBufferIdentifier(); }

private:
  std::unique_ptr<llvm::MemoryBuffer> inner;
  int slot = -1;
};

} // namespace

llvm::Error vgcu::checkRegularFile(llvm::StringRef path, llvm::StringRef what) {
  struct stat info {};
  if (::stat(path.str().c_str(), &info) != 0)
    return makeError("cannot read {0} '{1}': {2}", what, path, std::strerror(errno));
  if (!S_ISREG(info.st_mode))
    return makeError("{0} '{1}' is {2}; only regular files are read", what, path,
                     kindOf(info.st_mode));
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
vgcu::readInputFile(llvm::StringRef path, llvm::StringRef what, uint64_t maxBytes,
                    bool requiresNullTerminator) {
  installSignalHandlers();
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
  int fd = ::open(path.str().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return makeError("cannot read {0} '{1}': {2}", what, path, std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    int saved = errno;
    ::close(fd);
    return makeError("cannot read {0} '{1}': {2}", what, path, std::strerror(saved));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return makeError("{0} '{1}' is {2}; only regular files are read", what, path,
                     kindOf(info.st_mode));
  }
  uint64_t size = static_cast<uint64_t>(info.st_size);
  if (size > maxBytes) {
    ::close(fd);
    return makeError("{0} '{1}' has {2} bytes, more than the limit of {3}", what, path, size,
                     maxBytes);
  }
  auto buffer = llvm::MemoryBuffer::getOpenFile(fd, path, size, requiresNullTerminator,
                                                /*IsVolatile=*/false);
  ::close(fd);
  if (!buffer)
    return makeError("cannot read {0} '{1}': {2}", what, path, buffer.getError().message());
  return std::unique_ptr<llvm::MemoryBuffer>(
      new RegisteredBuffer(std::move(*buffer), path, requiresNullTerminator));
}
