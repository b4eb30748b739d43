//===- Progress.h - A progress bar for long work on a terminal --------------------===//
#ifndef VGCU_SUPPORT_PROGRESS_H
#define VGCU_SUPPORT_PROGRESS_H

#include "llvm/ADT/StringRef.h"

#include <chrono>
#include <cstdint>
#include <string>

namespace vgcu {

/// Draws "label [#####     ]  42% 1.2 GB/2.9 GB 850 MB/s" (or, counting items of a named
/// unit, "label [###   ]  25% 16/64 requests 3.2 requests/s") on stderr when stderr is a
/// terminal; silent otherwise, so logs and pipes stay clean.
class ProgressBar {
public:
  ProgressBar(llvm::StringRef label, uint64_t totalBytes, llvm::StringRef itemUnit = "");
  ~ProgressBar();
  void advance(uint64_t bytes);
  void finish();

private:
  void draw(bool final);
  std::string label;
  std::string itemUnit;
  uint64_t total;
  uint64_t done = 0;
  bool enabled;
  bool finished = false;
  std::chrono::steady_clock::time_point start;
  std::chrono::steady_clock::time_point lastDraw;
};

} // namespace vgcu

#endif // VGCU_SUPPORT_PROGRESS_H
