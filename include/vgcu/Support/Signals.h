//===- Signals.h - Cleanup and clear messages when a signal ends a vgcu process ---===//
//
// Interrupts (SIGINT, SIGTERM, SIGHUP) and SIGBUS from a mapped file that shrank underneath
// us must not leave staging directories behind or end in a stack dump. Everything here is
// async-signal-safe on the signal side: fixed tables, no allocation, raw system calls.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_SUPPORT_SIGNALS_H
#define VGCU_SUPPORT_SIGNALS_H

#include "llvm/ADT/StringRef.h"

#include <cstddef>

namespace vgcu {

/// Installs vgcu's handlers for SIGINT, SIGTERM, SIGHUP and SIGBUS (idempotent; call after
/// llvm::InitLLVM, whose handlers these replace for those signals). On an interrupt the
/// registered directories are removed and the signal is re-raised with its default action;
/// on SIGBUS the message names the mapped file that was read, the directories are removed
/// and the process exits with status 1.
void installSignalHandlers();

/// A directory removed if a signal ends the process; returns a slot for unregistering, or
/// -1 when the table is full (the directory is then only removed by its owner).
int registerCleanupDirectory(llvm::StringRef path);
void unregisterCleanupDirectory(int slot);

/// A read-only mapping of `path`, named in the message if touching it raises SIGBUS.
int registerMappedFile(const void *start, size_t size, llvm::StringRef path);
void unregisterMappedFile(int slot);

/// A child process killed (SIGKILL) when an interrupt ends this one, e.g. a launcher's ranks.
int registerChildProcess(int pid);
void unregisterChildProcess(int slot);

/// Removes every registered cleanup directory now (what the handlers do).
void removeCleanupDirectories();

/// Removes a directory tree with raw system calls only (safe inside a signal handler).
void removeTreeSignalSafe(const char *path);

} // namespace vgcu

#endif // VGCU_SUPPORT_SIGNALS_H
