//===- vgcu-opt.cpp - Runs vgcu and upstream passes over vgcu/gcu IR files --------===//

#include "dialects/gcu/GcuDialect.h"
#include "dialects/vgcu/VgcuOps.h"
#include "passes/Passes.h"
#include "vgcu/Support/Nesting.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

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
  // MLIR's parser recurses once per nesting level; standard input can be read only once, so
  // MlirOptMain reads it unchecked.
  if (inputFilename != "-") {
    if (auto buffer = llvm::MemoryBuffer::getFile(inputFilename, /*IsText=*/true)) {
      if (auto where = vgcu::findExcessiveNesting((*buffer)->getBuffer(), vgcu::kMaxMlirNesting,
                                                  vgcu::NestingSyntax::Mlir)) {
        llvm::errs() << "vgcu-opt: error: " << inputFilename << ":" << where->line << ":"
                     << where->column << ": brackets nest more than " << vgcu::kMaxMlirNesting
                     << " levels deep\n";
        return 1;
      }
    }
  }
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, inputFilename, outputFilename, registry));
}
