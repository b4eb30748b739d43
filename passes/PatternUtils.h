//===- PatternUtils.h - Small matchers shared by the fusion passes -----------------===//
#ifndef VGCU_PASSES_PATTERNUTILS_H
#define VGCU_PASSES_PATTERNUTILS_H

#include "dialects/vgcu/VgcuOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

#include <optional>

namespace vgcu {

/// Sets the result types of `op` to what its InferTypeOpInterface infers from its current
/// operands and attributes (after a pass changed them); fails for ops that cannot infer.
inline mlir::LogicalResult reinferResultTypes(mlir::Operation *op) {
  auto inference = llvm::dyn_cast<mlir::InferTypeOpInterface>(op);
  if (!inference)
    return mlir::failure();
  llvm::SmallVector<mlir::Type> types;
  if (mlir::failed(inference.inferReturnTypes(
          op->getContext(), op->getLoc(), op->getOperands(), op->getRawDictionaryAttrs(),
          op->getPropertiesStorage(), op->getRegions(), types)))
    return mlir::failure();
  for (auto [result, type] : llvm::zip(op->getResults(), types))
    result.setType(type);
  return mlir::success();
}

/// The value of a constant whose elements are all one float (a scalar or a splat).
inline std::optional<double> matchScalarFloat(mlir::Value value) {
  mlir::DenseElementsAttr elements;
  if (!mlir::matchPattern(value, mlir::m_Constant(&elements)) || !elements.isSplat() ||
      !mlir::isa<mlir::FloatType>(elements.getElementType()))
    return std::nullopt;
  return elements.getSplatValue<llvm::APFloat>().convertToDouble();
}

/// The value of a constant whose elements are all one integer.
inline std::optional<int64_t> matchScalarInt(mlir::Value value) {
  mlir::DenseElementsAttr elements;
  if (!mlir::matchPattern(value, mlir::m_Constant(&elements)) || !elements.isSplat() ||
      !mlir::isa<mlir::IntegerType>(elements.getElementType()))
    return std::nullopt;
  return elements.getSplatValue<llvm::APInt>().getSExtValue();
}

/// A scalar-like float constant: a splat whose shape has no dimension above 1, so that it
/// scales every element by the same number without changing the result shape.
inline std::optional<double> matchScaleConstant(mlir::Value value) {
  auto type = mlir::dyn_cast<mlir::RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape() || type.getNumElements() != 1)
    return std::nullopt;
  return matchScalarFloat(value);
}

/// Looks through element type conversions.
inline mlir::Value stripCasts(mlir::Value value) {
  while (auto cast = value.getDefiningOp<CastOp>())
    value = cast.getInput();
  return value;
}

/// Looks through at most one element type conversion.
inline mlir::Value stripOneCast(mlir::Value value) {
  if (auto cast = value.getDefiningOp<CastOp>())
    return cast.getInput();
  return value;
}

/// Looks through reshapes.
inline mlir::Value stripReshapes(mlir::Value value) {
  while (true) {
    if (auto reshape = value.getDefiningOp<ReshapeOp>())
      value = reshape.getInput();
    else
      return value;
  }
}

/// Looks through reshapes and broadcasts that only add size-1 or broadcast dimensions.
inline mlir::Value stripReshapesAndBroadcasts(mlir::Value value) {
  while (true) {
    if (auto reshape = value.getDefiningOp<ReshapeOp>())
      value = reshape.getInput();
    else if (auto broadcast = value.getDefiningOp<BroadcastOp>())
      value = broadcast.getInput();
    else
      return value;
  }
}

inline int64_t rankOf(mlir::Value value) {
  return mlir::cast<mlir::RankedTensorType>(value.getType()).getRank();
}

/// Whether `dims` names exactly the last dimension of a rank-`rank` tensor.
inline bool isLastDimOnly(llvm::ArrayRef<int64_t> dims, int64_t rank) {
  return dims.size() == 1 && (dims[0] == -1 || dims[0] == rank - 1);
}

/// The operands of a commutative binary op ordered so that `first(lhs)` holds, if either
/// order works.
template <typename Predicate>
inline std::optional<std::pair<mlir::Value, mlir::Value>>
orderOperands(mlir::Operation *op, Predicate first) {
  if (first(op->getOperand(0)))
    return std::make_pair(op->getOperand(0), op->getOperand(1));
  if (first(op->getOperand(1)))
    return std::make_pair(op->getOperand(1), op->getOperand(0));
  return std::nullopt;
}

/// `tensor<shape x element>` with the element type of `like`.
inline mlir::RankedTensorType withShape(mlir::Value like, llvm::ArrayRef<int64_t> shape) {
  return mlir::RankedTensorType::get(
      shape, mlir::cast<mlir::RankedTensorType>(like.getType()).getElementType());
}

/// Whether `values` can all be made available before `point`: each is defined before it
/// already, or by an operand-free producer (a parameter, a constant) later in the same block
/// that can move up. Checked for all before anything moves, so a pattern that then fails
/// leaves the IR untouched.
inline bool canDefineBefore(mlir::ValueRange values, mlir::Operation *point) {
  return llvm::all_of(values, [&](mlir::Value value) {
    mlir::Operation *anchor = value.getParentBlock()->findAncestorOpInBlock(*point);
    if (!anchor)
      return false;
    mlir::Operation *producer = value.getDefiningOp();
    if (!producer || producer->isBeforeInBlock(anchor))
      return true;
    return producer != anchor && producer->getNumOperands() == 0 &&
           producer->getNumRegions() == 0;
  });
}

/// Makes `values` available before `point`; canDefineBefore(values, point) must hold.
inline void defineBefore(mlir::ValueRange values, mlir::Operation *point,
                         mlir::RewriterBase &rewriter) {
  for (mlir::Value value : values) {
    mlir::Operation *anchor = value.getParentBlock()->findAncestorOpInBlock(*point);
    mlir::Operation *producer = value.getDefiningOp();
    if (producer && !producer->isBeforeInBlock(anchor))
      rewriter.moveOpBefore(producer, anchor);
  }
}

} // namespace vgcu

#endif // VGCU_PASSES_PATTERNUTILS_H
