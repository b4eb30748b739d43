//===- BufferPlacement.cpp - Where an in-place kernel may write, decided before lowering -===//

#include "passes/BufferPlacement.h"
#include "passes/PatternUtils.h"

using namespace mlir;
using namespace vgcu;

static bool isViewOp(Operation *op) {
  return isa_and_nonnull<SliceOp, ReshapeOp, TransposeOp, BroadcastOp>(op);
}

bool BufferPlacement::Region::overlaps(const Region &other) const {
  if (root != other.root)
    return false;
  if (dim < 0 || other.dim < 0 || dim != other.dim)
    return true;
  return start < other.end && other.start < end;
}

BufferPlacement::BufferPlacement(Block &body) {
  int64_t index = 0;
  for (Operation &op : body) {
    order[&op] = index++;
    if (isa<AttentionOp, RotaryAttentionOp, MlaAttentionOp>(op))
      kvLayers[&op] = static_cast<int64_t>(kvLayers.size());
  }
  for (Operation &op : body)
    for (Value operand : op.getOperands())
      lastUse[operand] = std::max(lastUse.lookup(operand), order[&op]);
}

BufferPlacement::Region BufferPlacement::regionOf(Value tensor) const {
  Region region;
  Value value = tensor;
  while (Operation *producer = value.getDefiningOp()) {
    if (!isViewOp(producer))
      break;
    if (auto slice = dyn_cast<SliceOp>(producer); slice && region.dim < 0 &&
                                                 !isViewOp(slice.getInput().getDefiningOp())) {
      region.dim = slice.getDim() < 0 ? slice.getDim() + rankOf(slice.getInput())
                                      : slice.getDim();
      region.start = slice.getStart();
      region.end = slice.getEnd();
    }
    value = producer->getOperand(0);
  }
  region.root = value;
  return region;
}

bool BufferPlacement::mayOverlap(Value a, Value b) const {
  return regionOf(a).overlaps(regionOf(b));
}

bool BufferPlacement::diesAt(Value tensor, Operation *op) const {
  Region region = regionOf(tensor);
  // Arguments, weights, constants and the newest token's row (the logits' input, which
  // the last hidden states still own) are never scratch space.
  Operation *rootProducer = region.root.getDefiningOp();
  if (!rootProducer || isa<ParamOp, ConstantOp, LastTokenOp>(rootProducer))
    return false;
  int64_t at = order.lookup(op);
  for (const auto &[value, last] : lastUse)
    if (last > at && regionOf(value).overlaps(region))
      return false;
  return true;
}
