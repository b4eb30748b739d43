//===- WeightFolding.h - Computed parameters, evaluated when the artifact is written --===//
#ifndef VGCU_COMPILER_WEIGHTFOLDING_H
#define VGCU_COMPILER_WEIGHTFOLDING_H

#include "vgcu/Models/WeightLoader.h"
#include "vgcu/Weights/SafeTensors.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace vgcu {

/// Evaluates the weight function (`@fold.N`, see vgcu-fold-weights) of every parameter
/// `computed_by` one in @forward and @compute_logits, on the checkpoint tensors loaded for
/// its leaf parameters. Each op is computed in f32 and rounded to its result's element type,
/// which is what PyTorch does for f32, f16 and bf16 arithmetic. Returns an in-memory file of
/// the results (named as the parameters, in their element types), or null when there are
/// none.
llvm::Expected<std::unique_ptr<SafeTensorsFile>>
evaluateComputedParams(mlir::ModuleOp module, const LoadedWeights &loaded);

} // namespace vgcu

#endif // VGCU_COMPILER_WEIGHTFOLDING_H
