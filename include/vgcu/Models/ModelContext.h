//===- ModelContext.h - What the modules of one model share while emitting IR -----===//
#ifndef VGCU_MODELS_MODELCONTEXT_H
#define VGCU_MODELS_MODELCONTEXT_H

#include "vgcu/Config/ModelConfig.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"

namespace vgcu {

/// The builder, config and element type a model's modules emit `vgcu` IR with, plus the
/// parameters already created in the function being built (a name is one `vgcu.param`,
/// however many modules use it, e.g. tied embeddings).
class ModelContext {
public:
  ModelContext(mlir::MLIRContext *context, const ModelConfig &config, mlir::Type dtype);

  mlir::OpBuilder &builder() { return opBuilder; }
  mlir::MLIRContext *getContext() { return opBuilder.getContext(); }
  const ModelConfig &config() const { return modelConfig; }
  /// The element type of activations and weights.
  mlir::Type dtype() const { return elementType; }

  /// Starts emitting at the end of `block` (a new function): parameters are per function.
  void beginFunction(mlir::Block *block);

  /// The location of everything a module emits: its prefix.
  mlir::Location loc(llvm::StringRef prefix);

  /// The parameter `name` of `shape` in the model's dtype, created once per function.
  mlir::Value param(llvm::StringRef name, llvm::ArrayRef<int64_t> shape);

  /// `tensor<? x trailing... x element>`, the type of per-token values.
  mlir::RankedTensorType tokenType(llvm::ArrayRef<int64_t> trailing, mlir::Type element = {});

  // Small helpers for the primitive ops modules need between module-level ops.
  mlir::Value slice(mlir::Value input, int64_t dim, int64_t start, int64_t end,
                    mlir::Location loc);
  /// Reshapes a [tokens, ...] value to [tokens, trailing...].
  mlir::Value reshapeTokens(mlir::Value input, llvm::ArrayRef<int64_t> trailing,
                            mlir::Location loc);
  mlir::Value add(mlir::Value lhs, mlir::Value rhs, mlir::Location loc);
  mlir::Value mul(mlir::Value lhs, mlir::Value rhs, mlir::Location loc);
  /// A 0-d constant `value` of `element` (the model dtype by default); it broadcasts
  /// against any tensor in elementwise ops.
  mlir::Value scalar(double value, mlir::Location loc, mlir::Type element = {});
  /// `input · factor`, the factor a scalar of the input's element type (rounded to it, as
  /// `x * torch.tensor(factor, dtype=x.dtype)` is).
  mlir::Value scale(mlir::Value input, double factor, mlir::Location loc);
  /// `input` converted to `element` (a no-op when it already is).
  mlir::Value cast(mlir::Value input, mlir::Type element, mlir::Location loc);
  /// `input + offset` for an integer tensor (OPT's positions + 2).
  mlir::Value addIndexOffset(mlir::Value input, int64_t offset, mlir::Location loc);

private:
  mlir::OpBuilder opBuilder;
  const ModelConfig &modelConfig;
  mlir::Type elementType;
  llvm::StringMap<mlir::Value> params;
};

} // namespace vgcu

#endif // VGCU_MODELS_MODELCONTEXT_H
