//===- ModelEntries.h - The functions a model module must define, checked once -----===//
#ifndef VGCU_PASSES_MODELENTRIES_H
#define VGCU_PASSES_MODELENTRIES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace vgcu {

struct ModelEntries {
  mlir::func::FuncOp forward;
  mlir::func::FuncOp computeLogits;
};

/// `@forward(input_ids, positions) -> hidden_states` and `@compute_logits(hidden_states) ->
/// logits`, both defined with a body of one block; otherwise an error on the module (or the
/// offending function) and failure. Passes call this before touching either function.
inline mlir::FailureOr<ModelEntries> getModelEntries(mlir::ModuleOp module) {
  auto check = [&](llvm::StringRef name, unsigned arguments) -> mlir::func::FuncOp {
    auto function = module.lookupSymbol<mlir::func::FuncOp>(name);
    if (!function) {
      module.emitError() << "the module has no @" << name << " function";
      return {};
    }
    if (function.isExternal() || !llvm::hasSingleElement(function.getBody())) {
      function.emitError() << "@" << name << " must have a body of exactly one block";
      return {};
    }
    if (function.getNumArguments() != arguments || function.getNumResults() != 1) {
      function.emitError() << "@" << name << " must take " << arguments
                           << (arguments == 1 ? " argument" : " arguments")
                           << " and return one value";
      return {};
    }
    return function;
  };
  ModelEntries entries{check("forward", 2), check("compute_logits", 1)};
  if (!entries.forward || !entries.computeLogits)
    return mlir::failure();
  return entries;
}

} // namespace vgcu

#endif // VGCU_PASSES_MODELENTRIES_H
