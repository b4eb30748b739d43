//===- Signals.cpp - Cleanup and clear messages when a signal ends a vgcu process --===//

#include "vgcu/Support/Signals.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

using namespace vgcu;

namespace {

constexpr size_t kPathCapacity = 1024;

enum SlotState : int { Free = 0, Filling = 1, Live = 2 };

struct DirectorySlot {
  std::atomic<int> state{Free};
  char path[kPathCapacity];
};

struct MappedSlot {
  std::atomic<int> state{Free};
  const char *start = nullptr;
  size_t size = 0;
  char path[kPathCapacity];
};

DirectorySlot directories[32];
std::atomic<int> children[1024];
MappedSlot mappedFiles[512];

template <typename Slot, size_t N>
int claim(Slot (&slots)[N], llvm::StringRef path) {
  if (path.size() >= kPathCapacity)
    return -1;
  for (size_t i = 0; i < N; ++i) {
    int expected = Free;
    if (!slots[i].state.compare_exchange_strong(expected, Filling))
      continue;
    std::memcpy(slots[i].path, path.data(), path.size());
    slots[i].path[path.size()] = '\0';
    return static_cast<int>(i);
  }
  return -1;
}

void writeAll(const char *text) {
  size_t length = std::strlen(text);
  while (length > 0) {
    ssize_t written = write(STDERR_FILENO, text, length);
    if (written <= 0) {
      if (written < 0 && errno == EINTR)
        continue;
      return;
    }
    text += written;
    length -= static_cast<size_t>(written);
  }
}

/// Decimal digits of `value` into `out` (at least 21 bytes).
void formatUnsigned(unsigned long long value, char *out) {
  char digits[21];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (int i = 0; i < count; ++i)
    out[i] = digits[count - 1 - i];
  out[count] = '\0';
}

struct LinuxDirent64 {
  unsigned long long d_ino;
  long long d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

void removeAt(int parent, const char *name, int depth) {
  if (depth > 64)
    return;
  if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
    return;
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return;
  alignas(8) char buffer[4096];
  // Entries are removed while the directory is read: read it again from the start until
  // nothing but "." and ".." is left.
  for (int pass = 0; pass < 1024; ++pass) {
    if (lseek(fd, 0, SEEK_SET) < 0)
      break;
    bool removedAny = false;
    long bytes;
    while ((bytes = syscall(SYS_getdents64, fd, buffer, sizeof(buffer))) > 0) {
      for (long offset = 0; offset < bytes;) {
        auto *entry = reinterpret_cast<LinuxDirent64 *>(buffer + offset);
        offset += entry->d_reclen;
        if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0)
          continue;
        removeAt(fd, entry->d_name, depth + 1);
        removedAny = true;
      }
    }
    if (!removedAny)
      break;
  }
  close(fd);
  unlinkat(parent, name, AT_REMOVEDIR);
}

void onInterrupt(int signal) {
  for (std::atomic<int> &child : children)
    if (int pid = child.load(); pid > 0)
      kill(pid, SIGKILL);
  removeCleanupDirectories();
  std::signal(signal, SIG_DFL);
  raise(signal);
}

void onBusError(int signal, siginfo_t *info, void *) {
  const char *address = static_cast<const char *>(info ? info->si_addr : nullptr);
  for (MappedSlot &slot : mappedFiles) {
    if (slot.state.load() != Live || address < slot.start || address >= slot.start + slot.size)
      continue;
    char offset[24];
    formatUnsigned(static_cast<unsigned long long>(address - slot.start), offset);
    removeCleanupDirectories();
    writeAll(program_invocation_short_name);
    writeAll(": error: '");
    writeAll(slot.path);
    writeAll("' changed while it was being read: it no longer has byte ");
    writeAll(offset);
    writeAll(" (was it truncated or replaced?)\n");
    _exit(1);
  }
  // Not one of our mappings: a real fault, reported as one.
  std::signal(signal, SIG_DFL);
  raise(signal);
}

} // namespace

void vgcu::removeTreeSignalSafe(const char *path) { removeAt(AT_FDCWD, path, 0); }

void vgcu::removeCleanupDirectories() {
  for (DirectorySlot &slot : directories)
    if (slot.state.load() == Live)
      removeTreeSignalSafe(slot.path);
}

void vgcu::installSignalHandlers() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true))
    return;
  struct sigaction interrupt {};
  interrupt.sa_handler = onInterrupt;
  sigemptyset(&interrupt.sa_mask);
  for (int signal : {SIGINT, SIGTERM, SIGHUP})
    sigaction(signal, &interrupt, nullptr);
  struct sigaction bus {};
  bus.sa_sigaction = onBusError;
  bus.sa_flags = SA_SIGINFO;
  sigemptyset(&bus.sa_mask);
  sigaction(SIGBUS, &bus, nullptr);
}

int vgcu::registerCleanupDirectory(llvm::StringRef path) {
  int slot = claim(directories, path);
  if (slot >= 0)
    directories[slot].state.store(Live);
  return slot;
}

void vgcu::unregisterCleanupDirectory(int slot) {
  if (slot >= 0)
    directories[slot].state.store(Free);
}

int vgcu::registerChildProcess(int pid) {
  for (size_t i = 0; i < std::size(children); ++i) {
    int expected = 0;
    if (children[i].compare_exchange_strong(expected, pid))
      return static_cast<int>(i);
  }
  return -1;
}

void vgcu::unregisterChildProcess(int slot) {
  if (slot >= 0)
    children[slot].store(0);
}

int vgcu::registerMappedFile(const void *start, size_t size, llvm::StringRef path) {
  int slot = claim(mappedFiles, path);
  if (slot < 0)
    return slot;
  mappedFiles[slot].start = static_cast<const char *>(start);
  mappedFiles[slot].size = size;
  mappedFiles[slot].state.store(Live);
  return slot;
}

void vgcu::unregisterMappedFile(int slot) {
  if (slot >= 0)
    mappedFiles[slot].state.store(Free);
}
