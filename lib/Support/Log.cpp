//===- Log.cpp - The vgcu logger and its --log-level option -----------------------===//

#include "vgcu/Support/Log.h"
#include "vgcu/Support/Error.h"

#include "llvm/Support/CommandLine.h"

#include <spdlog/sinks/stdout_color_sinks.h>

using namespace vgcu;

spdlog::logger &vgcu::logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto created = spdlog::stderr_color_mt("vgcu", spdlog::color_mode::never);
    created->set_pattern("[%n] [%l] %v");
    created->set_level(spdlog::level::info);
    return created;
  }();
  return *instance;
}

llvm::Error vgcu::setLogLevel(llvm::StringRef level) {
  auto parsed = spdlog::level::from_str(level.str());
  // spdlog maps unknown names to "off"; only "off" itself may mean that.
  if (parsed == spdlog::level::off && level != "off")
    return makeError("unknown log level '{0}' (expected trace, debug, info, warn, error or off)",
                     level);
  logger().set_level(parsed);
  return llvm::Error::success();
}

namespace {
llvm::cl::opt<std::string> *logLevelOption = nullptr;
} // namespace

void vgcu::registerLogLevelOption(llvm::cl::OptionCategory &category) {
  static llvm::cl::opt<std::string> option(
      "log-level", llvm::cl::desc("Log verbosity: trace, debug, info, warn, error or off"),
      llvm::cl::init("info"), llvm::cl::cat(category));
  logLevelOption = &option;
}

llvm::Error vgcu::applyLogLevelOption() {
  if (!logLevelOption)
    return llvm::Error::success();
  return setLogLevel(*logLevelOption);
}
