//===- TestHooks.cpp - Deterministic pauses for tests of races with the outside world ===//

#include "vgcu/Support/TestHooks.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/FileSystem.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <unistd.h>
#include <cstdlib>
#include <thread>

void vgcu::debugPausePoint(llvm::StringRef stage) {
  const char *setting = std::getenv("VGCU_DEBUG_PAUSE");
  if (!setting)
    return;
  auto [name, file] = llvm::StringRef(setting).split(':');
  if (name != stage || file.empty())
    return;
  // Tell the test this process is waiting.
  std::string marker = (file + ".waiting-" + llvm::Twine(::getpid())).str();
  if (FILE *f = std::fopen(marker.c_str(), "w"))
    std::fclose(f);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!llvm::sys::fs::exists(file) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}
