//===- Progress.cpp - A progress bar for long work on a terminal ------------------===//

#include "vgcu/Support/Progress.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

using namespace vgcu;

static std::string humanBytes(double bytes) {
  const char *units[] = {"B", "KB", "MB", "GB", "TB"};
  int unit = 0;
  while (bytes >= 1000.0 && unit < 4) {
    bytes /= 1000.0;
    ++unit;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format(unit ? "%.1f %s" : "%.0f %s", bytes, units[unit]);
  return text;
}

ProgressBar::ProgressBar(llvm::StringRef label, uint64_t totalBytes, llvm::StringRef itemUnit)
    : label(label.str()), itemUnit(itemUnit.str()), total(totalBytes),
      enabled(llvm::sys::Process::StandardErrIsDisplayed()),
      start(std::chrono::steady_clock::now()), lastDraw(start) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::advance(uint64_t bytes) {
  done += bytes;
  if (!enabled)
    return;
  auto now = std::chrono::steady_clock::now();
  if (now - lastDraw < std::chrono::milliseconds(100))
    return;
  lastDraw = now;
  draw(false);
}

void ProgressBar::finish() {
  if (finished)
    return;
  finished = true;
  if (enabled)
    draw(true);
}

void ProgressBar::draw(bool final) {
  constexpr int width = 30;
  double fraction = total ? static_cast<double>(done) / total : 1.0;
  if (fraction > 1.0)
    fraction = 1.0;
  int filled = static_cast<int>(fraction * width);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  llvm::errs() << "\r" << label << " [" << std::string(filled, '#')
               << std::string(width - filled, ' ') << "] "
               << llvm::format("%3d%%", static_cast<int>(fraction * 100)) << " ";
  if (!itemUnit.empty()) {
    llvm::errs() << done << "/" << total << " " << itemUnit;
    if (seconds > 0)
      llvm::errs() << llvm::format(" %.1f ", done / seconds) << itemUnit << "/s";
  } else {
    llvm::errs() << humanBytes(done) << "/" << humanBytes(total);
    if (seconds > 0)
      llvm::errs() << " " << humanBytes(done / seconds) << "/s";
  }
  llvm::errs() << (final ? "\n" : "   ");
  llvm::errs().flush();
}
