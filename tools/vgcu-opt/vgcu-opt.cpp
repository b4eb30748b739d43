//===- vgcu-opt.cpp - Runs vgcu and upstream passes over vgcu/gcu IR files --------===//

#include "dialects/gcu/GcuDialect.h"
#include "dialects/vgcu/VgcuOps.h"
#include "passes/Passes.h"
#include "vgcu/Support/Nesting.h"

#include "mlir/Bytecode/BytecodeReader.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
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
  mlir::MlirOptMainConfig config = mlir::MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects() || config.shouldListPasses())
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, inputFilename, outputFilename, registry));

  llvm::InitLLVM initLLVM(argc, argv);
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = mlir::openInputFile(inputFilename, &error);
  if (!input) {
    llvm::errs() << "vgcu-opt: error: " << error << "\n";
    return 1;
  }
  // MLIR's text parser recurses once per nesting level, so deep input would overflow the
  // stack; in bytecode the same bytes are data.
  std::optional<vgcu::TextPosition> where;
  if (!mlir::isBytecode(*input))
    where = vgcu::findExcessiveNesting(input->getBuffer(), vgcu::kMaxMlirNesting,
                                       vgcu::NestingSyntax::Mlir);
  if (where) {
    llvm::errs() << "vgcu-opt: error: " << (inputFilename == "-" ? "<stdin>" : inputFilename)
                 << ":" << where->line << ":" << where->column << ": brackets nest more than "
                 << vgcu::kMaxMlirNesting << " levels deep\n";
    return 1;
  }
  std::unique_ptr<llvm::ToolOutputFile> output = mlir::openOutputFile(outputFilename, &error);
  if (!output) {
    llvm::errs() << "vgcu-opt: error: " << error << "\n";
    return 1;
  }
  if (mlir::failed(mlir::MlirOptMain(output->os(), std::move(input), registry, config)))
    return 1;
  output->keep();
  return 0;
}
