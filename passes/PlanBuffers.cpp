//===- PlanBuffers.cpp - Arena slots for gcu buffers with disjoint lifetimes -------===//

#include "passes/Passes.h"

#include <map>

namespace vgcu {
#define GEN_PASS_DEF_PLANBUFFERS
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;

namespace {

bool isBufferView(Operation *op) {
  return isa<gcu::SliceViewOp, gcu::ReshapeViewOp, gcu::TransposeViewOp, gcu::BroadcastViewOp,
             gcu::LastTokenViewOp>(op);
}

struct PlanBuffersPass : vgcu::impl::PlanBuffersBase<PlanBuffersPass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (function.isExternal())
      return;
    Block &body = function.getBody().front();
    DenseMap<Operation *, int64_t> order;
    int64_t index = 0;
    for (Operation &op : body)
      order[&op] = index++;
    const int64_t end = index;

    // The last op that touches an allocation through any of its views.
    auto lastUse = [&](gcu::AllocOp alloc) {
      int64_t last = order[alloc];
      SmallVector<Value> worklist{alloc.getResult()};
      while (!worklist.empty()) {
        Value value = worklist.pop_back_val();
        for (Operation *user : value.getUsers()) {
          if (isa<func::ReturnOp>(user))
            return end;
          last = std::max(last, order.lookup(user));
          if (isBufferView(user))
            worklist.push_back(user->getResult(0));
        }
      }
      return last;
    };

    // Greedy interval assignment in program order: a slot is free again after the last use
    // of the buffer it holds.
    std::multimap<int64_t, int64_t> busyUntil; // last use → slot
    SmallVector<int64_t> freeSlots;
    int64_t slots = 0;
    OpBuilder builder(&getContext());
    for (Operation &op : body) {
      auto alloc = dyn_cast<gcu::AllocOp>(op);
      if (!alloc)
        continue;
      int64_t at = order[alloc];
      while (!busyUntil.empty() && busyUntil.begin()->first < at) {
        freeSlots.push_back(busyUntil.begin()->second);
        busyUntil.erase(busyUntil.begin());
      }
      int64_t slot;
      if (!freeSlots.empty()) {
        slot = freeSlots.back();
        freeSlots.pop_back();
      } else {
        slot = slots++;
      }
      alloc.setSlotAttr(builder.getI64IntegerAttr(slot));
      busyUntil.emplace(lastUse(alloc), slot);
    }
    function->setAttr("vgcu.slots", builder.getI64IntegerAttr(slots));
  }
};

} // namespace
