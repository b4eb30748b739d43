//===- vgcu-opt.cpp - Runs vgcu and upstream passes over vgcu/gcu IR files --------===//

#include "dialects/gcu/GcuDialect.h"
#include "dialects/vgcu/VgcuOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace {

/// Far deeper than any real IR nests its regions, attributes and types.
constexpr unsigned kMaxNesting = 1000;

/// MLIR's parser recurses once per nesting level and overflows the stack on a few thousand
/// nested `[`: finds where brackets outside strings and comments nest deeper than the limit.
std::optional<std::pair<unsigned, unsigned>> tooDeep(llvm::StringRef text) {
  unsigned depth = 0, line = 1;
  size_t lineStart = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      lineStart = i + 1;
    } else if (c == '"') {
      for (++i; i < text.size() && text[i] != '"' && text[i] != '\n'; ++i)
        if (text[i] == '\\')
          ++i;
    } else if (c == '/' && text.substr(i, 2) == "//") {
      i = std::min(text.find('\n', i), text.size()) - 1;
    } else if (c == '[' || c == '(' || c == '{' || c == '<') {
      if (++depth > kMaxNesting)
        return std::make_pair(line, static_cast<unsigned>(i - lineStart + 1));
    } else if ((c == ']' || c == ')' || c == '}' || (c == '>' && (i == 0 || text[i - 1] != '-'))) &&
               depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

} // namespace

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<vgcu::VgcuDialect, gcu::GcuDialect, mlir::func::FuncDialect>();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  mlir::registerInlinerPass();
  vgcu::registerAllPasses();
  auto [inputFilename, outputFilename] =
      mlir::registerAndParseCLIOptions(argc, argv, "vgcu optimizer driver\n", registry);
  // Standard input can be read only once; MlirOptMain reads it unchecked.
  if (inputFilename != "-") {
    if (auto buffer = llvm::MemoryBuffer::getFile(inputFilename, /*IsText=*/true)) {
      if (auto where = tooDeep((*buffer)->getBuffer())) {
        llvm::errs() << "vgcu-opt: error: " << inputFilename << ":" << where->first << ":"
                     << where->second << ": brackets nest more than " << kMaxNesting
                     << " levels deep\n";
        return 1;
      }
    }
  }
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, inputFilename, outputFilename, registry));
}
