//===- PackProjections.cpp - Linears sharing an input to one packed linear ---------===//

#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/STLExtras.h"

namespace vgcu {
#define GEN_PASS_DEF_PACKPROJECTIONS
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

/// Packed names vLLM gives to well-known groups, with their checkpoint order.
const std::vector<std::pair<std::string, std::vector<std::string>>> &knownPackings() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> packings = {
      {"qkv_proj", {"q_proj", "k_proj", "v_proj"}},
      {"gate_up_proj", {"gate_proj", "up_proj"}},
  };
  return packings;
}

/// A linear whose weight (and bias) are parameters of module `<parent>.<module>`.
struct Candidate {
  LinearOp op;
  std::string parent;
  std::string module;
};

std::optional<Candidate> asCandidate(LinearOp op) {
  if (op.getPackedModulesAttr())
    return std::nullopt;
  auto weight = op.getWeight().getDefiningOp<ParamOp>();
  // A quantized parameter is loaded as the checkpoint packs it; its scheme is per module.
  if (!weight || weight.getShardAttr() || weight.getQuantAttr())
    return std::nullopt;
  StringRef name = weight.getName();
  if (!name.consume_back(".weight"))
    return std::nullopt;
  auto [parent, module] = name.rsplit('.');
  if (module.empty())
    return std::nullopt;
  if (Value bias = op.getBias()) {
    auto biasParam = bias.getDefiningOp<ParamOp>();
    if (!biasParam || biasParam.getName() != (name + ".bias").str())
      return std::nullopt;
  }
  return Candidate{op, parent.str(), module.str()};
}

/// Orders a group as its known packing does; returns the packed module name.
std::string orderGroup(SmallVectorImpl<Candidate> &group) {
  for (const auto &[packedName, modules] : knownPackings()) {
    if (group.size() != modules.size())
      continue;
    SmallVector<Candidate> ordered;
    for (const std::string &module : modules) {
      auto it = llvm::find_if(group, [&](Candidate &c) { return c.module == module; });
      if (it == group.end())
        break;
      ordered.push_back(*it);
    }
    if (ordered.size() == group.size()) {
      group.assign(ordered.begin(), ordered.end());
      return packedName;
    }
  }
  std::string packedName;
  for (Candidate &candidate : group)
    packedName += (packedName.empty() ? "" : "_") + candidate.module;
  return packedName + "_packed";
}

void packGroup(SmallVectorImpl<Candidate> &group, OpBuilder &builder) {
  std::string packedName = orderGroup(group);
  LinearOp first = group.front().op;
  for (Candidate &candidate : group)
    if (candidate.op->isBeforeInBlock(first))
      first = candidate.op;
  builder.setInsertionPoint(first);

  auto weightType = cast<RankedTensorType>(first.getWeight().getType());
  int64_t total = 0;
  SmallVector<StringRef> modules;
  SmallVector<int64_t> sizes;
  SmallVector<Location> locs;
  for (Candidate &candidate : group) {
    int64_t rows = cast<RankedTensorType>(candidate.op.getWeight().getType()).getDimSize(0);
    total += rows;
    modules.push_back(candidate.module);
    sizes.push_back(rows);
    locs.push_back(candidate.op.getLoc());
  }
  std::string prefix = group.front().parent + "." + packedName;
  Location loc = builder.getFusedLoc(locs);
  auto packedWeightType =
      RankedTensorType::get({total, weightType.getDimSize(1)}, weightType.getElementType());
  Value weight = ParamOp::create(builder, NameLoc::get(builder.getStringAttr(prefix)),
                                 packedWeightType, builder.getStringAttr(prefix + ".weight"),
                                 /*shard=*/nullptr, /*computed_by=*/nullptr, /*quant=*/nullptr);
  Value bias;
  if (first.getBias())
    bias = ParamOp::create(builder, NameLoc::get(builder.getStringAttr(prefix)),
                           RankedTensorType::get({total}, weightType.getElementType()),
                           builder.getStringAttr(prefix + ".bias"), /*shard=*/nullptr,
                           /*computed_by=*/nullptr, /*quant=*/nullptr);
  auto resultType = cast<RankedTensorType>(first.getType());
  Value packed = LinearOp::create(builder, NameLoc::get(builder.getStringAttr(prefix), loc),
                                  first.getInput(), weight, bias, /*residual=*/Value(),
                                  builder.getStrArrayAttr(modules),
                                  builder.getDenseI64ArrayAttr(sizes), Epilogue::none,
                                  /*first_rank_bias=*/false, /*soft_cap=*/nullptr);
  // All slices first: the builder inserts before `first`, which is about to go.
  int64_t offset = 0;
  int64_t lastDim = resultType.getRank() - 1;
  SmallVector<Value> slices;
  for (auto [candidate, rows] : llvm::zip(group, sizes)) {
    slices.push_back(SliceOp::create(builder, candidate.op.getLoc(), candidate.op.getType(),
                                     packed, lastDim, offset, offset + rows, 1));
    offset += rows;
  }
  for (auto [candidate, slice] : llvm::zip(group, slices)) {
    candidate.op.getResult().replaceAllUsesWith(slice);
    candidate.op.erase();
  }
}

/// A projection already packed in one parameter (Phi-3's qkv_proj, a traced gate_up_proj
/// feeding a gated activation): its output is cut into contiguous slices along the last
/// dimension, or halved by a gated activation. Records the parts as the packing, so sharding
/// splits each part on its own, as it does for a packed linear.
void markPackedParameter(LinearOp op, OpBuilder &builder) {
  if (op.getPackedModulesAttr())
    return;
  auto weight = op.getWeight().getDefiningOp<ParamOp>();
  if (!weight || weight.getShardAttr())
    return;
  int64_t lastDim = cast<RankedTensorType>(op.getType()).getRank() - 1;
  int64_t width = cast<RankedTensorType>(op.getType()).getShape().back();
  SmallVector<int64_t> sizes;
  if (op->hasOneUse() && isa<SiluAndMulOp, GeluAndMulOp>(*op->getUsers().begin())) {
    if (width % 2 != 0)
      return;
    sizes.assign({width / 2, width / 2});
  } else {
    SmallVector<std::pair<int64_t, int64_t>> ranges;
    for (Operation *user : op->getUsers()) {
      auto slice = dyn_cast<SliceOp>(user);
      if (!slice || (slice.getDim() != -1 && slice.getDim() != lastDim) || slice.getStep() != 1)
        return;
      ranges.push_back({slice.getStart(), slice.getEnd()});
    }
    llvm::sort(ranges);
    ranges.erase(std::unique(ranges.begin(), ranges.end()), ranges.end());
    int64_t next = 0;
    for (auto [start, end] : ranges) {
      if (start != next)
        return; // overlapping or leaving a gap: not a packing
      sizes.push_back(end - start);
      next = end;
    }
    if (next != width || sizes.size() < 2)
      return;
  }
  StringRef name = weight.getName();
  name.consume_back(".folded"); // a weight computed from the checkpoint's (transposed, regrouped)
  if (!name.consume_back(".weight"))
    return;
  StringRef module = name.rsplit('.').second;
  SmallVector<std::string> modules;
  for (const auto &[packedName, parts] : knownPackings())
    if (packedName == module && parts.size() == sizes.size())
      modules.assign(parts.begin(), parts.end());
  for (size_t i = modules.size(); i < sizes.size(); ++i)
    modules.push_back(module.str() + "_part" + std::to_string(i));
  SmallVector<StringRef> names(modules.begin(), modules.end());
  op.setPackedModulesAttr(builder.getStrArrayAttr(names));
  op.setPackedSizesAttr(builder.getDenseI64ArrayAttr(sizes));
}

struct PackProjectionsPass : vgcu::impl::PackProjectionsBase<PackProjectionsPass> {
  void runOnOperation() override {
    OpBuilder marker(&getContext());
    getOperation().walk([&](LinearOp op) { markPackedParameter(op, marker); });
    // Linears grouped by (input, parent module, bias or not), in program order.
    llvm::MapVector<std::tuple<Value, StringAttr, int, Block *>, SmallVector<Candidate>> groups;
    getOperation().walk([&](LinearOp op) {
      if (auto candidate = asCandidate(op)) {
        auto key = std::make_tuple(op.getInput(), StringAttr::get(&getContext(), candidate->parent),
                                   static_cast<int>(static_cast<bool>(op.getBias())), op->getBlock());
        groups[key].push_back(*candidate);
      }
    });
    OpBuilder builder(&getContext());
    for (auto &entry : groups) {
      SmallVector<Candidate> &group = entry.second;
      if (group.size() < 2)
        continue;
      Type elementType = cast<RankedTensorType>(group.front().op.getType()).getElementType();
      Type weightType = group.front().op.getWeight().getType().getElementType();
      bool uniform = llvm::all_of(group, [&](Candidate &c) {
        return cast<RankedTensorType>(c.op.getType()).getElementType() == elementType &&
               c.op.getWeight().getType().getElementType() == weightType;
      });
      if (uniform)
        packGroup(group, builder);
    }
  }
};

} // namespace
