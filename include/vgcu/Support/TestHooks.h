//===- TestHooks.h - Deterministic pauses for tests of races with the outside world -===//
#ifndef VGCU_SUPPORT_TESTHOOKS_H
#define VGCU_SUPPORT_TESTHOOKS_H

#include "llvm/ADT/StringRef.h"

namespace vgcu {

/// With VGCU_DEBUG_PAUSE=STAGE:FILE in the environment, a process reaching `stage` waits
/// (up to 60 s) until FILE exists, having created FILE.waiting-PID to say so, so that a test can change an input at exactly that moment
/// (truncate a mapped checkpoint, signal a rank). Stages: "weights" (vgcu-compile, before
/// converting weights), "decode" (vgcu-run, each rank before its first decode step).
/// Without the variable this costs one getenv.
void debugPausePoint(llvm::StringRef stage);

} // namespace vgcu

#endif // VGCU_SUPPORT_TESTHOOKS_H
