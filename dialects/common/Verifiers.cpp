//===- Verifiers.cpp - Verifier rules shared by the vgcu and gcu dialects ---------===//

#include "dialects/common/Verifiers.h"
#include "vgcu/Support/Shapes.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

LogicalResult vgcu::verifyNormWeight(Operation *op, Value input, Value weight,
                                     StringRef weightName, bool allowF32) {
  auto inputType = cast<ShapedType>(input.getType());
  auto weightType = cast<ShapedType>(weight.getType());
  if (inputType.getRank() < 1)
    return op->emitOpError("input must have at least one dimension");
  if (weightType.getRank() != 1)
    return op->emitOpError() << weightName << " must be one-dimensional, got rank "
                             << weightType.getRank();
  int64_t features = inputType.getShape().back();
  if (!compatibleDims(weightType.getDimSize(0), features))
    return op->emitOpError() << weightName << " length " << weightType.getDimSize(0)
                             << " does not match the last input dimension " << features;
  if (weightType.getElementType() != inputType.getElementType() &&
      !(allowF32 && weightType.getElementType().isF32()))
    return op->emitOpError() << weightName << " element type " << weightType.getElementType()
                             << " does not match the input element type "
                             << inputType.getElementType();
  return success();
}

LogicalResult vgcu::verifyEpsilon(Operation *op, const APFloat &epsilon) {
  if (!(epsilon.convertToDouble() > 0.0))
    return op->emitOpError("epsilon must be positive");
  return success();
}

LogicalResult vgcu::verifyRotaryParams(Operation *op, int64_t headDim, int64_t rotaryDim,
                                       double theta) {
  if (headDim <= 0)
    return op->emitOpError("head_dim must be positive");
  if (rotaryDim <= 0 || rotaryDim > headDim || rotaryDim % 2 != 0)
    return op->emitOpError("rotary_dim ") << rotaryDim << " must be even and within (0, "
                                          << headDim << "]";
  if (!(theta > 0.0))
    return op->emitOpError("theta must be positive");
  return success();
}
