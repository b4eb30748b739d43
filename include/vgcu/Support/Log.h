//===- Log.h - The vgcu logger and its --log-level option -------------------------===//
#ifndef VGCU_SUPPORT_LOG_H
#define VGCU_SUPPORT_LOG_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

#include <spdlog/spdlog.h>

namespace vgcu {

/// The logger every vgcu component writes to (stderr, "[vgcu] [level] message").
spdlog::logger &logger();

/// Sets the level from its name (trace, debug, info, warn, error, off).
llvm::Error setLogLevel(llvm::StringRef level);

/// Registers `--log-level` with llvm::cl in the tool's `category` (so that --help lists it
/// next to the tool's own options); call before parsing the command line.
void registerLogLevelOption(llvm::cl::OptionCategory &category);

/// Applies the parsed `--log-level`; call after parsing the command line.
llvm::Error applyLogLevelOption();

} // namespace vgcu

#endif // VGCU_SUPPORT_LOG_H
