//===- ProgramCheck.cpp - What a gcu program must satisfy before it runs ----------===//

#include "vgcu/Runtime/ProgramCheck.h"
#include "vgcu/Support/Error.h"

#include "dialects/gcu/GcuDialect.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace vgcu;

namespace {

std::string describe(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << op->getName() << " at " << op->getLoc();
  return text;
}

/// Why a kernel may not write into `buffer`, or an empty string if it may.
std::string forbiddenWrite(Value buffer, Operation *writer) {
  Value root = buffer;
  while (Operation *producer = root.getDefiningOp()) {
    if (isa<gcu::BroadcastViewOp>(producer))
      return "a broadcast view (its elements alias each other)";
    if (!isa<gcu::SliceViewOp, gcu::ReshapeViewOp, gcu::TransposeViewOp,
             gcu::LastTokenViewOp>(producer))
      break;
    root = producer->getOperand(0);
  }
  Operation *producer = root.getDefiningOp();
  if (!producer)
    return "an argument of the entry (inputs belong to the runtime)";
  if (isa<gcu::AllocOp>(producer))
    return "";
  if (isa<gcu::KvCacheOp, gcu::KvCacheScalesOp>(producer))
    return isa<gcu::ReshapeAndCacheOp, gcu::FusedRopeCacheAttentionOp, gcu::MlaAttentionOp>(writer)
               ? ""
               : "a KV cache (only the cache-writing kernels may)";
  if (isa<gcu::WeightOp>(producer))
    return "a weight (weights are read-only)";
  if (isa<gcu::ConstantOp>(producer))
    return "a constant";
  return "a value of " + producer->getName().getStringRef().str() + ", not an allocated buffer";
}

} // namespace

llvm::Error runtime::checkEntry(func::FuncOp entry) {
  if (entry.isExternal() || entry.getBody().empty())
    return makeError("entry @{0} is declared without a body", entry.getSymName());
  if (!llvm::hasSingleElement(entry.getBody()))
    return makeError("entry @{0} has more than one block", entry.getSymName());
  for (Operation &op : entry.getBody().front()) {
    if (op.getNumRegions() != 0)
      return makeError("{0}: ops with regions are not part of gcu programs", describe(&op));
    auto effects = dyn_cast<MemoryEffectOpInterface>(&op);
    if (!effects || !isa<gcu::KernelLaunchOpInterface>(op))
      continue;
    SmallVector<MemoryEffects::EffectInstance> instances;
    effects.getEffects(instances);
    for (const MemoryEffects::EffectInstance &instance : instances) {
      if (!isa<MemoryEffects::Write>(instance.getEffect()) || !instance.getValue())
        continue;
      std::string why = forbiddenWrite(instance.getValue(), &op);
      if (!why.empty())
        return makeError("entry @{0}: {1} writes into {2}", entry.getSymName(), describe(&op),
                         why);
    }
  }
  return llvm::Error::success();
}
