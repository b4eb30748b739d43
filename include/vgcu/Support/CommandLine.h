//===- CommandLine.h - What --help shows in vgcu's tools -----------------------------===//
#ifndef VGCU_SUPPORT_COMMANDLINE_H
#define VGCU_SUPPORT_COMMANDLINE_H

#include "llvm/Support/CommandLine.h"

namespace vgcu {

/// Makes --help list only `toolCategory` and MLIR's own options (pass manager, timing, IR
/// printing, crash reproducers: every registered `--mlir-*` option, gathered in a category
/// of their own); LLVM's several hundred backend options stay available but hidden
/// (--help-hidden lists everything). Call after registering MLIR's options.
void showOnlyToolOptions(llvm::cl::OptionCategory &toolCategory);

} // namespace vgcu

#endif // VGCU_SUPPORT_COMMANDLINE_H
