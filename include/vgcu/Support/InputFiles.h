//===- InputFiles.h - Reading files that come from strangers ----------------------===//
#ifndef VGCU_SUPPORT_INPUTFILES_H
#define VGCU_SUPPORT_INPUTFILES_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>

namespace vgcu {

/// JSON inputs (config.json, indexes, manifests) larger than this are refused.
constexpr uint64_t kMaxJsonFileBytes = uint64_t(256) << 20;

/// Reads `path` as an input: it must be a regular file once symlinks are resolved (a device,
/// a FIFO or a directory is refused before anything is read, so /dev/zero cannot exhaust
/// memory and a FIFO cannot hang), no larger than `maxBytes`. Large files are mapped; if one
/// shrinks while mapped, the SIGBUS is reported as an error naming it (see Signals.h).
/// `what` names the file's role in messages ("config", "checkpoint", ...).
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readInputFile(llvm::StringRef path, llvm::StringRef what, uint64_t maxBytes = UINT64_MAX,
              bool requiresNullTerminator = false);

/// Whether `path` is a regular file (after resolving symlinks); otherwise an error saying
/// what it is instead.
llvm::Error checkRegularFile(llvm::StringRef path, llvm::StringRef what);

} // namespace vgcu

#endif // VGCU_SUPPORT_INPUTFILES_H
