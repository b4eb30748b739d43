//===- Shapes.h - Shape rules shared by the vgcu and gcu dialects -----------------===//
#ifndef VGCU_SUPPORT_SHAPES_H
#define VGCU_SUPPORT_SHAPES_H

#include "mlir/IR/BuiltinTypeInterfaces.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>

namespace vgcu {

inline bool isDynamicDim(int64_t dim) { return mlir::ShapedType::isDynamic(dim); }

/// Two dimensions that may be equal at run time.
inline bool compatibleDims(int64_t a, int64_t b) {
  return a == b || isDynamicDim(a) || isDynamicDim(b);
}

inline bool compatibleShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return false;
  for (auto [x, y] : llvm::zip(a, b))
    if (!compatibleDims(x, y))
      return false;
  return true;
}

/// "[?, 64]" for diagnostics.
inline std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (auto [i, dim] : llvm::enumerate(shape)) {
    if (i)
      text += ", ";
    text += isDynamicDim(dim) ? std::string("?") : std::to_string(dim);
  }
  return text + "]";
}

/// "?" for a dynamic dimension, else the number.
inline std::string dimString(int64_t dim) {
  return isDynamicDim(dim) ? std::string("?") : std::to_string(dim);
}

/// `a * b` for attribute values, or nothing when it would overflow (absurd head counts must
/// be a diagnostic, not undefined behaviour).
inline std::optional<int64_t> checkedProduct(int64_t a, int64_t b) {
  int64_t product;
  if (__builtin_mul_overflow(a, b, &product))
    return std::nullopt;
  return product;
}

/// NumPy broadcasting of two shapes, or nothing when they cannot broadcast.
inline std::optional<llvm::SmallVector<int64_t>> broadcastShapes(llvm::ArrayRef<int64_t> a,
                                                                 llvm::ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  llvm::SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (x == 1)
      result[i] = y;
    else if (y == 1)
      result[i] = x;
    else if (isDynamicDim(x))
      result[i] = y;
    else if (isDynamicDim(y) || x == y)
      result[i] = x;
    else
      return std::nullopt;
  }
  return result;
}

/// A dimension index with negative values counted from the end, if it is in range.
inline std::optional<int64_t> normalizeDim(int64_t dim, int64_t rank) {
  if (dim < 0)
    dim += rank;
  if (dim < 0 || dim >= rank)
    return std::nullopt;
  return dim;
}

/// Why `from` cannot be reshaped to `to`, or an empty string when it can. With dynamic
/// dimensions on both sides the token count is shared, so the static parts must differ by a
/// whole factor that the token dimension absorbs.
inline std::string reshapeMismatch(llvm::ArrayRef<int64_t> from, llvm::ArrayRef<int64_t> to) {
  auto staticProduct = [](llvm::ArrayRef<int64_t> shape, int &dynamicCount) {
    int64_t product = 1;
    for (int64_t dim : shape) {
      if (isDynamicDim(dim))
        ++dynamicCount;
      else
        product *= dim;
    }
    return product;
  };
  int fromDynamic = 0, toDynamic = 0;
  int64_t fromProduct = staticProduct(from, fromDynamic);
  int64_t toProduct = staticProduct(to, toDynamic);
  if (fromDynamic == 0 && toDynamic == 0) {
    if (fromProduct != toProduct)
      return "input has " + std::to_string(fromProduct) + " elements but the result has " +
             std::to_string(toProduct);
    return "";
  }
  if ((fromDynamic == 0) != (toDynamic == 0))
    return "a dynamic shape cannot be reshaped to a static one or back";
  int64_t larger = std::max(fromProduct, toProduct);
  int64_t smaller = std::min(fromProduct, toProduct);
  if (smaller == 0 || larger % smaller != 0)
    return "static element counts " + std::to_string(fromProduct) + " and " +
           std::to_string(toProduct) + " are not compatible";
  return "";
}

/// Why `from` cannot broadcast (torch expand) to `to`, or an empty string.
inline std::string broadcastToMismatch(llvm::ArrayRef<int64_t> from, llvm::ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return "result rank must be at least the input rank";
  size_t offset = to.size() - from.size();
  for (auto [i, dim] : llvm::enumerate(from)) {
    int64_t target = to[i + offset];
    if (dim != 1 && !compatibleDims(dim, target))
      return "input dimension " + std::to_string(i) + " of size " + std::to_string(dim) +
             " cannot broadcast to " + std::to_string(target);
  }
  return "";
}

/// The shape left by reducing `dims` (already checked by the caller), or an error text.
inline std::string reducedShape(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> dims,
                                bool keepdim, llvm::SmallVectorImpl<int64_t> &result) {
  int64_t rank = shape.size();
  llvm::SmallVector<bool> reduced(rank, false);
  if (dims.empty())
    return "needs at least one dimension to reduce";
  for (int64_t dim : dims) {
    auto normalized = normalizeDim(dim, rank);
    if (!normalized)
      return "dim " + std::to_string(dim) + " is out of range for rank " + std::to_string(rank);
    if (reduced[*normalized])
      return "dim " + std::to_string(dim) + " is reduced twice";
    reduced[*normalized] = true;
  }
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced[i])
      result.push_back(shape[i]);
    else if (keepdim)
      result.push_back(1);
  }
  return "";
}

/// The shape permuted by `permutation`, or an error text.
inline std::string permutedShape(llvm::ArrayRef<int64_t> shape,
                                 llvm::ArrayRef<int64_t> permutation,
                                 llvm::SmallVectorImpl<int64_t> &result) {
  int64_t rank = shape.size();
  if (static_cast<int64_t>(permutation.size()) != rank)
    return "permutation has " + std::to_string(permutation.size()) + " entries for rank " +
           std::to_string(rank);
  llvm::SmallVector<bool> seen(rank, false);
  for (int64_t index : permutation) {
    if (index < 0 || index >= rank || seen[index])
      return "permutation is not a permutation of [0, " + std::to_string(rank) + ")";
    seen[index] = true;
    result.push_back(shape[index]);
  }
  return "";
}

} // namespace vgcu

#endif // VGCU_SUPPORT_SHAPES_H
