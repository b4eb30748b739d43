//===- BufferPlacement.h - Where an in-place kernel may write, decided before lowering ===//
//
// vgcu values become buffers one op at a time; a kernel that updates an operand in place
// (the fused add + norm kernels, rotary, all-reduce) may only do so when nothing reads
// that storage later. Views share their source's storage, by region: the q and k slices of
// one qkv buffer are independent. This analysis answers those questions for one function
// body in program order, before any op is rewritten.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_PASSES_BUFFERPLACEMENT_H
#define VGCU_PASSES_BUFFERPLACEMENT_H

#include "mlir/IR/Block.h"
#include "llvm/ADT/DenseMap.h"

namespace vgcu {

class BufferPlacement {
public:
  explicit BufferPlacement(mlir::Block &body);

  /// Whether `op` may overwrite the storage of its operand `tensor`: it is an op's buffer
  /// (not an argument, weight, constant or the newest token's row) and no later op reads
  /// any part of it.
  bool diesAt(mlir::Value tensor, mlir::Operation *op) const;
  /// Whether two values may share storage.
  bool mayOverlap(mlir::Value a, mlir::Value b) const;
  /// The KV cache layer of an attention op: attention ops in program order.
  int64_t kvLayer(mlir::Operation *attention) const { return kvLayers.lookup(attention); }
  int64_t numKvLayers() const { return static_cast<int64_t>(kvLayers.size()); }

private:
  /// Which slice of its root storage a value occupies.
  struct Region {
    mlir::Value root;
    int64_t dim = -1; // -1: the whole root
    int64_t start = 0, end = 0;
    bool overlaps(const Region &other) const;
  };
  Region regionOf(mlir::Value tensor) const;

  llvm::DenseMap<mlir::Operation *, int64_t> order;
  llvm::DenseMap<mlir::Value, int64_t> lastUse;
  llvm::DenseMap<mlir::Operation *, int64_t> kvLayers;
};

} // namespace vgcu

#endif // VGCU_PASSES_BUFFERPLACEMENT_H
