//===- CommandLine.cpp - What --help shows in vgcu's tools ---------------------------===//

#include "vgcu/Support/CommandLine.h"

#include "llvm/ADT/STLExtras.h"

// The options live in libLLVM/libMLIR, built without RTTI, so UBSan's vptr check cannot
// recognise them as cl::Option and would abort every tool at startup under the sanitizers.
__attribute__((no_sanitize("vptr"))) void
vgcu::showOnlyToolOptions(llvm::cl::OptionCategory &toolCategory) {
  static llvm::cl::OptionCategory mlirCategory(
      "MLIR options (pass manager, timing, IR printing, crash reproducers)");
  for (auto &[name, option] : llvm::cl::getRegisteredOptions()) {
    if (name.starts_with("mlir-")) {
      option->addCategory(mlirCategory);
      continue;
    }
    // The rest (LLVM's backend options) becomes Hidden, not ReallyHidden as
    // cl::HideUnrelatedOptions would make it: --help-hidden still lists everything.
    bool shown = llvm::any_of(option->Categories, [&](llvm::cl::OptionCategory *category) {
      return category == &toolCategory || category->getName() == "Generic Options";
    });
    if (!shown && option->getOptionHiddenFlag() == llvm::cl::NotHidden)
      option->setHiddenFlag(llvm::cl::Hidden);
  }
}
