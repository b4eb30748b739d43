//===- vgcu-opt.cpp - Runs vgcu and upstream passes over vgcu/gcu IR files --------===//

#include "dialects/gcu/GcuDialect.h"
#include "dialects/vgcu/VgcuOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<vgcu::VgcuDialect, gcu::GcuDialect, mlir::func::FuncDialect>();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  mlir::registerInlinerPass();
  vgcu::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "vgcu optimizer driver\n", registry));
}
