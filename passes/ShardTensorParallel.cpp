//===- ShardTensorParallel.cpp - Column/row/vocab-parallel sharding of a graph -----===//
//
// The pass finds the Megatron structure vLLM's model files spell by hand: a column-parallel
// projection (qkv, gate_up, fc1) feeding per-head or per-channel work (rotary, attention,
// gated activation) that ends in a row-parallel projection (o, down, fc2), whose partial
// sums an all_reduce completes. Every op between the two is rewritten to its per-rank shape;
// parameters record how their rank's slice is cut (`shard`), so one program serves all ranks
// and the weight writer slices the checkpoint to match.
//
//===----------------------------------------------------------------------===//

#include "passes/ModelEntries.h"
#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "llvm/ADT/SetVector.h"

namespace vgcu {
#define GEN_PASS_DEF_SHARDTENSORPARALLEL
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

/// A column-parallel linear and, per packed segment, how many units (heads or channels)
/// the segment has.
struct ColumnPlan {
  LinearOp linear;
  SmallVector<int64_t> segmentSizes;
  SmallVector<int64_t> segmentUnits;
};

/// One tensor-parallel block: column linears, the ops between them and the row linear.
struct BlockPlan {
  SmallVector<ColumnPlan> columns;
  llvm::SetVector<Operation *> interior;
  LinearOp row;
  /// Units the row linear's input is made of (heads or channels).
  int64_t rowUnits = 0;
  Operation *anchor = nullptr; // attention or activation, for diagnostics
};

std::string nameOf(Operation *op) {
  if (auto loc = dyn_cast<NameLoc>(op->getLoc()))
    return loc.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(op->getLoc()))
    for (Location inner : fused.getLocations())
      if (auto name = dyn_cast<NameLoc>(inner))
        return name.getName().str();
  return op->getName().getStringRef().str();
}

/// Ops that keep working per head or per channel when their input is a rank's slice.
bool isShardTransparent(Operation *op) {
  if (isa<ReshapeOp, SliceOp, RmsNormOp, RotaryEmbeddingOp, AttentionOp, SiluAndMulOp,
          GeluAndMulOp, ReluOp, GeluOp, SiluOp, CastOp, ConcatOp>(op))
    return true;
  if (auto mul = dyn_cast<MulOp>(op))
    return matchScaleConstant(mul.getLhs()) || matchScaleConstant(mul.getRhs());
  return false;
}

/// The linear a per-head value comes from, and the slice of its output taken on the way.
struct Source {
  LinearOp linear;
  SliceOp slice;
};

std::optional<Source> traceToLinear(Value value, llvm::SetVector<Operation *> &interior) {
  while (true) {
    Operation *op = value.getDefiningOp();
    if (!op)
      return std::nullopt;
    if (auto linear = dyn_cast<LinearOp>(op))
      return Source{linear, SliceOp()};
    if (auto slice = dyn_cast<SliceOp>(op)) {
      interior.insert(op);
      auto linear = slice.getInput().getDefiningOp<LinearOp>();
      if (!linear)
        return std::nullopt;
      return Source{linear, slice};
    }
    if (!isShardTransparent(op))
      return std::nullopt;
    interior.insert(op);
    if (auto rotary = dyn_cast<RotaryEmbeddingOp>(op))
      value = cast<OpResult>(value).getResultNumber() == 0 ? rotary.getQuery() : rotary.getKey();
    else if (auto mul = dyn_cast<MulOp>(op))
      value = matchScaleConstant(mul.getLhs()) ? mul.getRhs() : mul.getLhs();
    else
      value = op->getOperand(0);
  }
}

/// The one linear that consumes `value` (through transparent ops); records them.
LinearOp followToRowLinear(Value value, llvm::SetVector<Operation *> &interior) {
  while (true) {
    if (!value.hasOneUse())
      return {};
    Operation *user = *value.getUsers().begin();
    if (auto linear = dyn_cast<LinearOp>(user))
      return linear.getInput() == value ? linear : LinearOp();
    if (!isa<ReshapeOp, CastOp>(user))
      return {};
    interior.insert(user);
    value = user->getResult(0);
  }
}

/// Adds `units` for the part of `source`'s output its slice selects.
LogicalResult addColumnSegment(SmallVectorImpl<ColumnPlan> &columns, Source source,
                               int64_t units) {
  LinearOp linear = source.linear;
  ColumnPlan *plan = nullptr;
  for (ColumnPlan &existing : columns)
    if (existing.linear == linear)
      plan = &existing;
  if (!plan) {
    columns.push_back(ColumnPlan{linear, {}, {}});
    plan = &columns.back();
    if (auto sizes = linear.getPackedSizesAttr())
      plan->segmentSizes.assign(sizes.asArrayRef().begin(), sizes.asArrayRef().end());
    else
      plan->segmentSizes.push_back(cast<RankedTensorType>(linear.getType()).getShape().back());
    plan->segmentUnits.assign(plan->segmentSizes.size(), 0);
  }
  int64_t segment = 0;
  if (source.slice) {
    int64_t start = 0;
    segment = -1;
    for (auto [index, size] : llvm::enumerate(plan->segmentSizes)) {
      if (source.slice.getStart() == start && source.slice.getEnd() == start + size &&
          source.slice.getStep() == 1)
        segment = index;
      start += size;
    }
    if (segment < 0)
      return failure();
  } else if (plan->segmentSizes.size() != 1) {
    return failure();
  }
  if (plan->segmentUnits[segment] && plan->segmentUnits[segment] != units)
    return failure();
  plan->segmentUnits[segment] = units;
  return success();
}

/// Whether per-rank values stay inside the block: every user of a column linear or of an
/// interior op is interior or the row linear (anything else would see a rank's slice).
bool isClosed(BlockPlan &plan) {
  auto inside = [&](Operation *user) {
    return plan.interior.contains(user) || user == plan.row.getOperation();
  };
  for (ColumnPlan &column : plan.columns)
    if (!llvm::all_of(column.linear->getUsers(), inside))
      return false;
  for (Operation *op : plan.interior)
    if (!llvm::all_of(op->getUsers(), inside))
      return false;
  return true;
}

/// Attention: q/k/v from column linears, output into a row linear.
std::optional<BlockPlan> planAttention(AttentionOp attention) {
  BlockPlan plan;
  plan.anchor = attention;
  plan.interior.insert(attention);
  int64_t heads[] = {attention.getNumHeads(), attention.getNumKvHeads(),
                     attention.getNumKvHeads()};
  for (auto [operand, units] : llvm::zip(attention->getOperands(), heads)) {
    auto source = traceToLinear(operand, plan.interior);
    if (!source || failed(addColumnSegment(plan.columns, *source, units)))
      return std::nullopt;
  }
  plan.row = followToRowLinear(attention.getResult(), plan.interior);
  if (!plan.row)
    return std::nullopt;
  plan.rowUnits = attention.getNumHeads();
  if (!isClosed(plan))
    return std::nullopt;
  return plan;
}

/// Multi-head latent attention: the query projection column-parallel by heads, kv_b's rows
/// split by heads, the output into a row linear; the latent and the rotary key (one per
/// token, shared by the heads) stay whole on every rank.
std::optional<BlockPlan> planMla(MlaAttentionOp mla) {
  BlockPlan plan;
  plan.anchor = mla;
  plan.interior.insert(mla);
  auto query = mla.getQuery().getDefiningOp<LinearOp>();
  auto kvB = mla.getKvB().getDefiningOp<ParamOp>();
  if (!query || query.getPackedSizesAttr() || !kvB || kvB.getShardAttr() ||
      !query->hasOneUse() || !kvB->hasOneUse())
    return std::nullopt;
  if (failed(addColumnSegment(plan.columns, Source{query, SliceOp()}, mla.getNumHeads())))
    return std::nullopt;
  plan.row = followToRowLinear(mla.getResult(), plan.interior);
  if (!plan.row)
    return std::nullopt;
  plan.rowUnits = mla.getNumHeads();
  if (!isClosed(plan))
    return std::nullopt;
  return plan;
}

/// act_and_mul(gate_up) or act(fc1), into a row linear.
std::optional<BlockPlan> planMlp(Operation *activation) {
  BlockPlan plan;
  plan.anchor = activation;
  plan.interior.insert(activation);
  Value input = activation->getOperand(0);
  int64_t width = cast<RankedTensorType>(activation->getResult(0).getType()).getShape().back();
  if (ShapedType::isDynamic(width))
    return std::nullopt;
  if (auto linear = input.getDefiningOp<LinearOp>()) {
    // Every segment (the gate and up halves of a gated activation, packed or not) is split
    // on its own, channel by channel.
    ColumnPlan column{linear, {}, {}};
    if (auto sizes = linear.getPackedSizesAttr())
      column.segmentSizes.assign(sizes.asArrayRef().begin(), sizes.asArrayRef().end());
    else if (isa<SiluAndMulOp, GeluAndMulOp>(activation))
      column.segmentSizes.assign({width, width});
    else
      column.segmentSizes.assign({width});
    column.segmentUnits = column.segmentSizes;
    plan.columns.push_back(column);
  } else if (auto concat = input.getDefiningOp<ConcatOp>()) {
    plan.interior.insert(concat);
    for (Value part : concat.getInputs()) {
      auto linear = part.getDefiningOp<LinearOp>();
      if (!linear || linear.getPackedSizesAttr() ||
          failed(addColumnSegment(plan.columns, Source{linear, SliceOp()},
                                  cast<RankedTensorType>(part.getType()).getShape().back())))
        return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  plan.row = followToRowLinear(activation->getResult(0), plan.interior);
  if (!plan.row)
    return std::nullopt;
  plan.rowUnits = width;
  if (!isClosed(plan))
    return std::nullopt;
  return plan;
}

/// Divisibility a plan needs; an error names the dimension, its value and tp.
LogicalResult checkDivisible(BlockPlan &plan, int64_t tp) {
  std::string where = nameOf(plan.anchor);
  if (auto mla = dyn_cast<MlaAttentionOp>(plan.anchor)) {
    if (mla.getNumHeads() % tp != 0)
      return mla.emitError() << "cannot shard for tensor parallelism: num_heads = "
                             << mla.getNumHeads() << " of '" << where
                             << "' is not divisible by tp = " << tp;
    return success();
  }
  if (auto attention = dyn_cast<AttentionOp>(plan.anchor)) {
    int64_t heads = attention.getNumHeads(), kvHeads = attention.getNumKvHeads();
    if (heads % tp != 0)
      return attention.emitError() << "cannot shard for tensor parallelism: num_heads = " << heads
                                   << " of '" << where << "' is not divisible by tp = " << tp;
    if ((kvHeads >= tp && kvHeads % tp != 0) || (kvHeads < tp && tp % kvHeads != 0))
      return attention.emitError()
             << "cannot shard for tensor parallelism: num_kv_heads = " << kvHeads << " of '"
             << where << "' is " << (kvHeads >= tp ? "not divisible by" : "not a divisor of")
             << " tp = " << tp;
    return success();
  }
  for (ColumnPlan &column : plan.columns)
    for (int64_t units : column.segmentUnits)
      if (units % tp != 0)
        return plan.anchor->emitError()
               << "cannot shard for tensor parallelism: intermediate size " << units << " of '"
               << nameOf(column.linear) << "' is not divisible by tp = " << tp;
  return success();
}

ShardAttr makeShard(MLIRContext *context, int64_t dim, int64_t tp, ArrayRef<int64_t> sizes,
                    ArrayRef<int64_t> units, int64_t valid = 0, int64_t ep = 1,
                    int64_t epDim = 0) {
  return ShardAttr::get(context, dim, tp, sizes, units, valid, ep, epDim);
}

/// Re-creates parameter `param` sliced per rank as `shard` describes.
Value shardParam(OpBuilder &builder, ParamOp param, ShardAttr shard) {
  auto type = param.getResult().getType();
  SmallVector<int64_t> shape(type.getShape());
  shape[shard.getDim()] = shard.getLocalSize();
  if (shard.getEpDim() != shard.getDim())
    shape[shard.getEpDim()] /= shard.getEp();
  builder.setInsertionPoint(param);
  return ParamOp::create(builder, param.getLoc(), RankedTensorType::get(shape, type.getElementType()),
                         param.getNameAttr(), shard, param.getComputedByAttr(),
                         param.getQuantAttr());
}

/// The per-rank size of every segment.
SmallVector<int64_t> localSizes(ShardAttr shard) {
  SmallVector<int64_t> sizes;
  for (auto [offset, size] : shard.getRankRanges(0))
    sizes.push_back(size);
  return sizes;
}

int64_t widthOf(Value value) { return cast<RankedTensorType>(value.getType()).getShape().back(); }

/// Recomputes the result types of an op between a column and a row linear after its
/// operands were narrowed to one rank's slice: type inference does it, once a slice knows
/// its local range and an attention its local head counts. Only reshapes (whose result
/// shape is a choice, not a consequence) and casts are re-typed by hand.
LogicalResult retype(Operation *op,
                     const DenseMap<Operation *, SmallVector<std::pair<int64_t, int64_t>>> &
                         sliceRanges) {
  if (auto slice = dyn_cast<SliceOp>(op)) {
    auto range = sliceRanges.lookup(op);
    if (range.empty())
      return failure();
    slice.setStart(range.front().first);
    slice.setEnd(range.front().first + range.front().second);
  } else if (auto attention = dyn_cast<AttentionOp>(op)) {
    int64_t headDim = attention.getHeadDim();
    attention.setNumHeads(widthOf(attention.getQuery()) / headDim);
    attention.setNumKvHeads(widthOf(attention.getKey()) / headDim);
  } else if (auto mla = dyn_cast<MlaAttentionOp>(op)) {
    mla.setNumHeads(widthOf(mla.getQuery()) /
                    (mla.getQkNopeHeadDim() + mla.getQkRopeHeadDim()));
  } else if (auto reshape = dyn_cast<ReshapeOp>(op)) {
    // [tokens, heads, head_dim]-style views keep their trailing dimensions: the local head
    // count follows from the input's per-token size.
    auto inputType = cast<RankedTensorType>(reshape.getInput().getType());
    int64_t perToken = 1;
    for (int64_t dim : inputType.getShape().drop_front())
      perToken *= dim;
    auto resultType = cast<RankedTensorType>(reshape.getType());
    SmallVector<int64_t> shape(resultType.getShape());
    if (shape.size() < 2)
      return failure();
    int64_t rest = 1;
    for (int64_t dim : ArrayRef<int64_t>(shape).drop_front(2))
      rest *= dim;
    if (perToken % rest != 0)
      return failure();
    shape[1] = perToken / rest;
    reshape.getResult().setType(RankedTensorType::get(shape, resultType.getElementType()));
    return success();
  } else if (auto cast = dyn_cast<CastOp>(op)) {
    auto inputType = mlir::cast<RankedTensorType>(cast.getInput().getType());
    cast.getResult().setType(RankedTensorType::get(
        inputType.getShape(), mlir::cast<RankedTensorType>(cast.getType()).getElementType()));
    return success();
  }
  return reinferResultTypes(op);
}

struct ShardTensorParallelPass
    : vgcu::impl::ShardTensorParallelBase<ShardTensorParallelPass> {
  using ShardTensorParallelBase::ShardTensorParallelBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    if (tp < 1 || ep < 1) {
      module.emitError() << (tp < 1 ? "tensor" : "expert")
                         << "-parallel size must be at least 1, got " << (tp < 1 ? tp : ep);
      return signalPassFailure();
    }
    if (failed(getModelEntries(module)))
      return signalPassFailure();
    module->setAttr("vgcu.tp", IntegerAttr::get(IntegerType::get(context, 64), tp));
    if (ep > 1)
      module->setAttr("vgcu.ep", IntegerAttr::get(IntegerType::get(context, 64), ep));
    if (tp == 1 && ep == 1)
      return;

    // Plan everything first: nothing changes unless the whole model can be sharded.
    SmallVector<BlockPlan> blocks;
    SmallVector<MoeExpertsOp> moeBlocks;
    bool failedCheck = false;
    module.walk([&](Operation *op) {
      std::optional<BlockPlan> plan;
      if (auto experts = dyn_cast<MoeExpertsOp>(op)) {
        if (failed(checkExpertsDivisible(experts)))
          failedCheck = true;
        moeBlocks.push_back(experts);
        return;
      }
      if (tp == 1)
        return; // expert parallelism alone: everything but the experts stays whole
      if (auto attention = dyn_cast<AttentionOp>(op))
        plan = planAttention(attention);
      else if (auto mla = dyn_cast<MlaAttentionOp>(op))
        plan = planMla(mla);
      else if (isa<SiluAndMulOp, GeluAndMulOp>(op) ||
               (isa<ReluOp, GeluOp, SiluOp>(op) && op->getOperand(0).getDefiningOp<LinearOp>()))
        plan = planMlp(op);
      else
        return;
      if (!plan) {
        op->emitWarning() << "'" << nameOf(op)
                          << "' is not between a column and a row projection; it stays "
                             "replicated on every rank";
        return;
      }
      if (failed(checkDivisible(*plan, tp)))
        failedCheck = true;
      blocks.push_back(std::move(*plan));
    });
    if (failedCheck)
      return signalPassFailure();
    if (ep > 1 && moeBlocks.empty()) {
      module.emitError() << "cannot shard for expert parallelism (ep = " << int64_t(ep)
                         << "): the model has no mixture-of-experts layers";
      return signalPassFailure();
    }

    OpBuilder builder(context);
    DenseMap<Operation *, SmallVector<std::pair<int64_t, int64_t>>> sliceRanges;
    for (BlockPlan &block : blocks) {
      for (ColumnPlan &column : block.columns)
        shardColumn(builder, column, sliceRanges);
      if (auto mla = dyn_cast<MlaAttentionOp>(block.anchor)) {
        // kv_b's rows, per head its nope rows then its v rows.
        auto kvB = mla.getKvB().getDefiningOp<ParamOp>();
        int64_t rows = kvB.getResult().getType().getDimSize(0);
        mla.getKvBMutable().assign(shardParam(
            builder, kvB, makeShard(context, 0, tp, {rows}, {mla.getNumHeads()})));
      }
      // Interior ops in program order see their operands' new types first.
      SmallVector<Operation *> ordered(block.interior.begin(), block.interior.end());
      llvm::sort(ordered, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
      for (Operation *op : ordered)
        if (failed(retype(op, sliceRanges))) {
          op->emitError("cannot re-type this op for tensor parallelism");
          return signalPassFailure();
        }
      shardRow(builder, block);
    }
    for (MoeExpertsOp experts : moeBlocks)
      shardExperts(builder, experts);
    if (tp > 1)
      shardVocabulary(builder, module);
    // The old, unsharded parameters are dead now.
    module.walk([&](ParamOp param) {
      if (param->use_empty())
        param->erase();
    });
    WalkResult quantized = module.walk([&](ParamOp param) {
      return failed(checkQuantizedShard(param)) ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (quantized.wasInterrupted())
      return signalPassFailure();
  }

  /// A quantized weight is cut on its scale blocks: every rank's slice starts and ends on a
  /// block boundary (or the tensor's end), so that each rank's scales are whole blocks, and
  /// a rank's 4-bit codes fill whole bytes. Act-order groups are exempt along the columns:
  /// every rank keeps all of them, as vLLM's GPTQ does for row-parallel desc_act layers.
  LogicalResult checkQuantizedShard(ParamOp param) {
    QuantAttr quant = param.getQuantAttr();
    ShardAttr shard = param.getShardAttr();
    if (!quant || !shard)
      return success();
    int64_t dim = shard.getDim();
    int64_t block = dim == 0 ? quant.getBlockRows()
                             : (quant.getActOrder() ? 0 : quant.getBlockCols());
    int64_t extent = shard.getGlobalSize();
    for (int64_t rank = 0; rank < shard.getTp() * shard.getEp(); ++rank)
      for (auto [offset, size] : shard.getRankRanges(rank))
        if (block > 0 && (offset % block != 0 || (size % block != 0 && offset + size != extent)))
          return param.emitOpError()
                 << "cannot shard for tensor parallelism: tp = " << shard.getTp() << " gives rank "
                 << rank << " " << (dim == 0 ? "rows" : "columns") << " [" << offset << ", "
                 << offset + size << ") of " << extent << ", which cuts the quantization "
                 << (dim == 0 ? "blocks of " : "groups of ") << block
                 << (dim == 0 ? " rows" : " columns");
    if (dim == 1 && quant.getBits() == 4 && shard.getLocalSize() % 2 != 0)
      return param.emitOpError() << "cannot shard for tensor parallelism: tp = " << shard.getTp()
                                 << " leaves " << shard.getLocalSize()
                                 << " columns per rank; 4-bit codes are stored two per byte";
    return success();
  }

  /// Each rank holds a slice of every expert's intermediate dimension (vLLM's fused MoE
  /// under tensor parallelism).
  LogicalResult checkExpertsDivisible(MoeExpertsOp experts) {
    if (experts.getNumExperts() % ep != 0)
      return experts.emitError()
             << "cannot shard for expert parallelism: num_experts = " << experts.getNumExperts()
             << " of '" << nameOf(experts) << "' is not divisible by ep = " << int64_t(ep);
    int64_t intermediate = cast<RankedTensorType>(experts.getDown().getType()).getDimSize(1);
    if (intermediate % tp != 0)
      return experts.emitError()
             << "cannot shard for tensor parallelism: expert intermediate size " << intermediate
             << " of '" << nameOf(experts) << "' is not divisible by tp = " << int64_t(tp);
    if (Value sharedDown = experts.getSharedDown()) {
      int64_t width = cast<RankedTensorType>(sharedDown.getType()).getDimSize(1);
      if (width % tp != 0)
        return experts.emitError()
               << "cannot shard for tensor parallelism: shared expert intermediate size "
               << width << " of '" << nameOf(experts) << "' is not divisible by tp = "
               << int64_t(tp);
    }
    return success();
  }

  /// Each rank keeps its expert-parallel group's experts, of which the stacked gate/up rows
  /// are split per expert and part and the down columns split; the partial sums are
  /// all-reduced over every rank that holds a part. The router stays replicated.
  void shardExperts(OpBuilder &builder, MoeExpertsOp experts) {
    auto gateUp = experts.getGateUp().getDefiningOp<ParamOp>();
    auto down = experts.getDown().getDefiningOp<ParamOp>();
    bool sharedParams =
        !experts.getSharedGateUp() ||
        (experts.getSharedGateUp().getDefiningOp<ParamOp>() &&
         experts.getSharedDown().getDefiningOp<ParamOp>());
    if (!gateUp || !down || gateUp.getShardAttr() || down.getShardAttr() || !sharedParams) {
      experts->emitWarning() << "'" << nameOf(experts)
                             << "' does not read its expert weights as parameters; it stays "
                                "replicated on every rank";
      return;
    }
    MLIRContext *context = experts.getContext();
    int64_t intermediate = down.getResult().getType().getDimSize(1);
    // Gate and up rows of the experts in one expert-parallel block.
    SmallVector<int64_t> parts(2 * experts.getNumExperts() / ep, intermediate);
    experts.getGateUpMutable().assign(
        shardParam(builder, gateUp, makeShard(context, 0, tp, parts, parts, 0, ep, 0)));
    experts.getDownMutable().assign(shardParam(
        builder, down, makeShard(context, 1, tp, {intermediate}, {intermediate}, 0, ep, 0)));
    if (ep > 1)
      experts.setExpertParallel(ep);
    // A shared expert is split as a dense MLP is; its sigmoid gate stays whole.
    if (Value sharedGateUpValue = experts.getSharedGateUp(); sharedGateUpValue && tp > 1) {
      auto sharedGateUp = sharedGateUpValue.getDefiningOp<ParamOp>();
      auto sharedDown = experts.getSharedDown().getDefiningOp<ParamOp>();
      int64_t width = sharedDown.getResult().getType().getDimSize(1);
      experts.getSharedGateUpMutable().assign(shardParam(
          builder, sharedGateUp, makeShard(context, 0, tp, {width, width}, {width, width})));
      experts.getSharedDownMutable().assign(
          shardParam(builder, sharedDown, makeShard(context, 1, tp, {width}, {width})));
    }
    builder.setInsertionPointAfter(experts);
    Value reduced =
        AllReduceOp::create(builder, experts.getLoc(), experts.getResult(),
                            ep > 1 ? CollectiveGroup::expert : CollectiveGroup::tensor);
    experts.getResult().replaceAllUsesExcept(reduced, reduced.getDefiningOp());
  }

  void shardColumn(OpBuilder &builder, ColumnPlan &column,
                   DenseMap<Operation *, SmallVector<std::pair<int64_t, int64_t>>> &sliceRanges) {
    LinearOp linear = column.linear;
    if (linear->hasAttr("vgcu.parallel"))
      return;
    MLIRContext *context = linear.getContext();
    for (auto [i, units] : llvm::enumerate(column.segmentUnits))
      if (units == 0) // a segment nothing per-head reads: split by rows
        column.segmentUnits[i] = column.segmentSizes[i];
    ShardAttr shard = makeShard(context, 0, tp, column.segmentSizes, column.segmentUnits);
    SmallVector<int64_t> local = localSizes(shard);
    auto weight = linear.getWeight().getDefiningOp<ParamOp>();
    linear.getWeightMutable().assign(shardParam(builder, weight, shard));
    if (Value bias = linear.getBias())
      linear.getBiasMutable().assign(shardParam(builder, bias.getDefiningOp<ParamOp>(), shard));
    if (linear.getPackedSizesAttr())
      linear.setPackedSizesAttr(DenseI64ArrayAttr::get(context, local));
    (void)reinferResultTypes(linear);
    linear->setAttr("vgcu.parallel", StringAttr::get(context, "column"));
    // Slices of the packed output select whole segments; they now select the local parts.
    for (Operation *user : linear->getUsers()) {
      auto slice = dyn_cast<SliceOp>(user);
      if (!slice)
        continue;
      int64_t globalStart = 0, localStart = 0;
      for (auto [size, localSize] : llvm::zip(column.segmentSizes, local)) {
        if (slice.getStart() == globalStart && slice.getEnd() == globalStart + size)
          sliceRanges[slice] = {{localStart, localSize}};
        globalStart += size;
        localStart += localSize;
      }
    }
  }

  void shardRow(OpBuilder &builder, BlockPlan &block) {
    LinearOp row = block.row;
    if (row->hasAttr("vgcu.parallel"))
      return;
    MLIRContext *context = row.getContext();
    auto weight = row.getWeight().getDefiningOp<ParamOp>();
    int64_t inFeatures = weight.getResult().getType().getDimSize(1);
    ShardAttr shard = makeShard(context, 1, tp, {inFeatures}, {block.rowUnits});
    row.getWeightMutable().assign(shardParam(builder, weight, shard));
    row->setAttr("vgcu.parallel", StringAttr::get(context, "row"));
    // Every rank holds the whole bias; the first adds it to its partial sum (as vLLM's
    // RowParallelLinear does), so the all-reduce adds it once and nothing sits between the
    // all-reduce and the norm it fuses with.
    if (row.getBias())
      row.setFirstRankBias(true);
    builder.setInsertionPointAfter(row);
    Value reduced = AllReduceOp::create(builder, row.getLoc(), row.getResult());
    row.getResult().replaceAllUsesExcept(reduced, reduced.getDefiningOp());
  }

  /// Token embeddings become vocab-parallel (then all-reduced) and the LM head vocab-parallel
  /// (then all-gathered and cut back to the real vocabulary).
  void shardVocabulary(OpBuilder &builder, ModuleOp module) {
    MLIRContext *context = module.getContext();
    int64_t padTo = 64 * tp;
    auto vocabShard = [&](int64_t vocab) {
      int64_t padded = (vocab + padTo - 1) / padTo * padTo;
      return makeShard(context, 0, tp, {padded}, {padded}, vocab);
    };
    module.walk([&](EmbeddingOp embedding) {
      auto arg = dyn_cast<BlockArgument>(embedding.getIds());
      auto table = embedding.getTable().getDefiningOp<ParamOp>();
      if (!arg || arg.getArgNumber() != 0 || !table)
        return; // position tables stay replicated
      int64_t vocab = table.getResult().getType().getDimSize(0);
      embedding.getTableMutable().assign(shardParam(builder, table, vocabShard(vocab)));
      embedding.setVocabParallel(true);
      builder.setInsertionPointAfter(embedding);
      Value reduced = AllReduceOp::create(builder, embedding.getLoc(), embedding.getResult());
      embedding.getResult().replaceAllUsesExcept(reduced, reduced.getDefiningOp());
    });
    module.walk([&](func::ReturnOp ret) {
      auto function = ret->getParentOfType<func::FuncOp>();
      if (function.getSymName() != "compute_logits" || ret.getNumOperands() != 1)
        return;
      // The head, under elementwise work on the logits (Gemma 2's soft cap).
      Value logitsValue = ret.getOperand(0);
      while (auto cap = logitsValue.getDefiningOp<SoftCapOp>())
        logitsValue = cap.getInput();
      auto head = logitsValue.getDefiningOp<LinearOp>();
      auto weight = head ? head.getWeight().getDefiningOp<ParamOp>() : ParamOp();
      if (!weight || head.getBias() || weight.getShardAttr())
        return;
      int64_t vocab = weight.getResult().getType().getDimSize(0);
      ShardAttr shard = vocabShard(vocab);
      head.getWeightMutable().assign(shardParam(builder, weight, shard));
      int64_t lastDim = cast<RankedTensorType>(head.getType()).getRank() - 1;
      (void)reinferResultTypes(head);
      head->setAttr("vgcu.parallel", StringAttr::get(context, "vocab"));
      builder.setInsertionPointAfter(head);
      Value gathered =
          AllGatherOp::create(builder, head.getLoc(), head.getResult(), lastDim, tp);
      Value logits = SliceOp::create(builder, head.getLoc(), gathered, lastDim, 0, vocab, 1);
      head.getResult().replaceAllUsesExcept(logits, gathered.getDefiningOp());
    });
  }
};

} // namespace
