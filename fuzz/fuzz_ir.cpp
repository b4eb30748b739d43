//===- fuzz_ir.cpp - libFuzzer: parse, verify and print vgcu/gcu IR ----------------===//

#include "dialects/gcu/GcuDialect.h"
#include "dialects/vgcu/VgcuOps.h"
#include "vgcu/Support/Nesting.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

static mlir::MLIRContext &context() {
  static mlir::MLIRContext *instance = [] {
    mlir::DialectRegistry registry;
    registry.insert<vgcu::VgcuDialect, gcu::GcuDialect, mlir::func::FuncDialect>();
    auto *created = new mlir::MLIRContext(registry);
    created->loadAllAvailableDialects();
    created->getDiagEngine().registerHandler([](mlir::Diagnostic &) { return mlir::success(); });
    return created;
  }();
  return *instance;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext &ctx = context();
  mlir::ParserConfig config(&ctx);
  // MLIR's lexer reads one byte past the end of a buffer that is not NUL-terminated
  // (llvm/llvm-project#154462); vgcu-opt's files are, so the input is given the same way.
  std::string text(reinterpret_cast<const char *>(data), size);
  // vgcu-opt refuses such input before MLIR's recursive parser sees it.
  if (vgcu::findExcessiveNesting(text, vgcu::kMaxMlirNesting, vgcu::NestingSyntax::Mlir))
    return 0;
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, config);
  if (!module || mlir::failed(mlir::verify(*module)))
    return 0;
  std::string printed;
  llvm::raw_string_ostream os(printed);
  module->print(os);
  module->print(os, mlir::OpPrintingFlags().printGenericOpForm());
  return 0;
}
