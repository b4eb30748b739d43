//===- LowerToGcu.cpp - vgcu graphs to gcu kernel launches on buffers ---------------===//
//
// @forward and @compute_logits become two entries, @prefill and @decode, which differ only
// in the attention phase: each takes vLLM's flattened batch (docs/ARCHITECTURE.md, "The
// batch ABI"), runs @forward's body on all its tokens, selects each sequence's newest token
// (vgcu.last_token) and runs @compute_logits' body on those rows. Then every vgcu
// op is converted by one conversion pattern into the gcu ops that compute it on buffers;
// where a kernel updates an operand in place, the buffer placement decided beforehand
// whether that operand dies there or must be copied first.
//
//===----------------------------------------------------------------------===//

#include "passes/BufferPlacement.h"
#include "passes/ModelEntries.h"
#include "passes/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/DialectConversion.h"

namespace vgcu {
#define GEN_PASS_DEF_LOWERTOGCU
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

constexpr int64_t kBlockSize = 64;

/// What the patterns of one entry share: its runtime inputs and the in-place decisions.
struct EntryLowering {
  gcu::AttentionPhase phase;
  Value positions, slotMapping, queryStartLoc, seqLens, blockTables;
  /// The dynamic dimension of @forward's values is the batch's tokens, that of
  /// @compute_logits' values its sequences.
  Value tokenCount, sequenceCount;
  DenseSet<Operation *> perSequence;
  Value rowCount(Operation *op) const {
    return perSequence.contains(op) ? sequenceCount : tokenCount;
  }
  bool fuseRopeCache = true;
  /// The element type of quantized KV caches (i8 or f8E4M3FN); null: the activations' type.
  Type cacheCodes;
  /// Per in-place op, whether each of its operands may be overwritten there.
  DenseMap<Operation *, SmallVector<bool, 2>> writable;
  DenseMap<Operation *, int64_t> kvLayer;
};

/// Tensors become buffers of the same shape and element type.
class BufferTypeConverter : public TypeConverter {
public:
  BufferTypeConverter() {
    addConversion([](Type type) { return type; });
    addConversion([](RankedTensorType type) -> Type {
      return MemRefType::get(type.getShape(), type.getElementType());
    });
  }
};

/// A pattern converting one vgcu op; `lowering` is the entry it belongs to.
template <typename Op>
struct GcuPattern : OpConversionPattern<Op> {
  GcuPattern(const TypeConverter &converter, MLIRContext *context,
             const EntryLowering &lowering)
      : OpConversionPattern<Op>(converter, context), lowering(lowering) {}

  /// A new buffer for a value of `type` computed by `op` (dynamic dimensions are its rows:
  /// tokens or sequences).
  Value allocate(ConversionPatternRewriter &rewriter, Operation *op, Type type) const {
    auto buffer = cast<MemRefType>(this->getTypeConverter()->convertType(type));
    SmallVector<Value> sizes(buffer.getNumDynamicDims(), lowering.rowCount(op));
    return gcu::AllocOp::create(rewriter, op->getLoc(), buffer, sizes, nullptr);
  }
  /// A fresh copy of `buffer`, an operand of `op`.
  Value copy(ConversionPatternRewriter &rewriter, Operation *op, Value buffer) const {
    auto type = cast<MemRefType>(buffer.getType());
    SmallVector<Value> sizes(type.getNumDynamicDims(), lowering.rowCount(op));
    Value copied = gcu::AllocOp::create(rewriter, op->getLoc(), type, sizes, nullptr);
    gcu::UnaryOp::create(rewriter, op->getLoc(), gcu::UnaryKind::copy, buffer, copied);
    return copied;
  }
  /// `buffer` (operand `index` of `op`) if the kernel may write into it, else a copy.
  Value writable(ConversionPatternRewriter &rewriter, Operation *op, unsigned index,
                 Value buffer) const {
    auto it = lowering.writable.find(op);
    bool dies = it != lowering.writable.end() && index < it->second.size() && it->second[index];
    return dies ? buffer : copy(rewriter, op, buffer);
  }

  const EntryLowering &lowering;
};

#define PATTERN(Name, Op)                                                                    \
  struct Name : GcuPattern<Op> {                                                             \
    using GcuPattern::GcuPattern;                                                            \
    LogicalResult matchAndRewrite(Op op, OpAdaptor adaptor,                                  \
                                  ConversionPatternRewriter &rewriter) const override;       \
  };                                                                                         \
  LogicalResult Name::matchAndRewrite(Op op, OpAdaptor adaptor,                              \
                                      ConversionPatternRewriter &rewriter) const

//===----------------------------------------------------------------------===//
// Weights, constants and views (no launch)
//===----------------------------------------------------------------------===//

PATTERN(LowerParam, ParamOp) {
  // A quantized weight is read only by linears, which name its stored parts themselves.
  if (op.getQuantAttr()) {
    rewriter.eraseOp(op);
    return success();
  }
  rewriter.replaceOpWithNewOp<gcu::WeightOp>(
      op, getTypeConverter()->convertType(op.getType()), op.getName());
  return success();
}

PATTERN(LowerConstant, ConstantOp) {
  rewriter.replaceOpWithNewOp<gcu::ConstantOp>(
      op, getTypeConverter()->convertType(op.getType()), op.getValue());
  return success();
}

PATTERN(LowerSlice, SliceOp) {
  rewriter.replaceOpWithNewOp<gcu::SliceViewOp>(
      op, getTypeConverter()->convertType(op.getType()), adaptor.getInput(), op.getDim(),
      op.getStart(), op.getEnd(), op.getStep());
  return success();
}

PATTERN(LowerReshape, ReshapeOp) {
  rewriter.replaceOpWithNewOp<gcu::ReshapeViewOp>(
      op, getTypeConverter()->convertType(op.getType()), adaptor.getInput());
  return success();
}

PATTERN(LowerTranspose, TransposeOp) {
  rewriter.replaceOpWithNewOp<gcu::TransposeViewOp>(
      op, getTypeConverter()->convertType(op.getType()), adaptor.getInput(),
      op.getPermutationAttr());
  return success();
}

PATTERN(LowerBroadcast, BroadcastOp) {
  rewriter.replaceOpWithNewOp<gcu::BroadcastViewOp>(
      op, getTypeConverter()->convertType(op.getType()), adaptor.getInput());
  return success();
}

PATTERN(LowerLastToken, LastTokenOp) {
  rewriter.replaceOpWithNewOp<gcu::LastTokenViewOp>(
      op, getTypeConverter()->convertType(op.getType()), adaptor.getInput(),
      adaptor.getQueryStartLoc());
  return success();
}

//===----------------------------------------------------------------------===//
// Module-level ops: one launch each
//===----------------------------------------------------------------------===//

PATTERN(LowerEmbedding, EmbeddingOp) {
  Value out = allocate(rewriter, op, op.getType());
  gcu::EmbeddingOp::create(rewriter, op.getLoc(), adaptor.getIds(), adaptor.getTable(), out,
                           op.getVocabParallel());
  rewriter.replaceOp(op, out);
  return success();
}

PATTERN(LowerMoeRouter, MoeRouterOp) {
  Value weights = allocate(rewriter, op, op.getWeights().getType());
  Value ids = allocate(rewriter, op, op.getIds().getType());
  gcu::MoeRouterOp::create(rewriter, op.getLoc(), adaptor.getInput(), adaptor.getGate(),
                           adaptor.getCorrectionBias(), weights, ids, op.getTopKAttr(),
                           op.getRenormalizeAttr(), op.getScoring(), op.getGroupScore(),
                           op.getNumGroupsAttr(), op.getTopkGroupsAttr(),
                           op.getScalingFactorAttr(), op.getRouteInF32Attr());
  rewriter.replaceOp(op, {weights, ids});
  return success();
}

/// The codes, scales and zeros of a quantized parameter as gcu weights (see #vgcu.quant).
struct QuantizedWeights {
  Value codes, scales, zeros, groupIndex;
};

static QuantizedWeights quantizedWeights(ConversionPatternRewriter &rewriter, Location loc,
                                         ParamOp param) {
  QuantAttr quant = param.getQuantAttr();
  MLIRContext *context = param.getContext();
  RankedTensorType type = param.getResult().getType();
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  ShardAttr shard = param.getShardAttr();
  int64_t wholeCols = shard && shard.getDim() == 1 ? shard.getGlobalSize() : cols;
  int64_t groups = quant.getColumnGroups(quant.getActOrder() ? wholeCols : cols);
  std::string name = param.getName().str();
  auto weight = [&](ArrayRef<int64_t> shape, Type element, const std::string &part) {
    return gcu::WeightOp::create(rewriter, loc, MemRefType::get(shape, element), part).getResult();
  };
  Type f32 = Float32Type::get(context);
  QuantizedWeights result;
  result.codes = weight({rows, cols * quant.getBits() / 8}, IntegerType::get(context, 8), name);
  result.scales = weight({quant.getRowBlocks(rows), groups}, f32, name + ".scales");
  if (quant.getZeroPoint())
    result.zeros = weight({quant.getRowBlocks(rows), groups}, f32, name + ".zeros");
  if (quant.getActOrder())
    result.groupIndex = weight({cols}, IntegerType::get(context, 32), name + ".g_idx");
  return result;
}

PATTERN(LowerMoeExperts, MoeExpertsOp) {
  Value out = allocate(rewriter, op, op.getType());
  auto gateUp = op.getGateUp().getDefiningOp<ParamOp>();
  auto down = op.getDown().getDefiningOp<ParamOp>();
  if (gateUp && down && gateUp.getQuantAttr() && down.getQuantAttr()) {
    QuantizedWeights gateUpWeights = quantizedWeights(rewriter, op.getLoc(), gateUp);
    QuantizedWeights downWeights = quantizedWeights(rewriter, op.getLoc(), down);
    gcu::QuantFusedMoeOp::create(
        rewriter, op.getLoc(), adaptor.getInput(), adaptor.getWeights(), adaptor.getIds(),
        gateUpWeights.codes, gateUpWeights.scales, gateUpWeights.zeros, downWeights.codes,
        downWeights.scales, downWeights.zeros, adaptor.getSharedGateUp(),
        adaptor.getSharedDown(), adaptor.getSharedGate(), out, op.getNumExperts(),
        op.getExpertParallelAttr(), gateUp.getQuantAttr());
    rewriter.replaceOp(op, out);
    return success();
  }
  gcu::FusedMoeOp::create(rewriter, op.getLoc(), adaptor.getInput(), adaptor.getWeights(),
                          adaptor.getIds(), adaptor.getGateUp(), adaptor.getDown(),
                          adaptor.getSharedGateUp(), adaptor.getSharedDown(),
                          adaptor.getSharedGate(), out, op.getNumExperts(),
                          op.getExpertParallelAttr());
  rewriter.replaceOp(op, out);
  return success();
}

/// A linear over a quantized parameter: the GEMM over its stored parts.
static void lowerQuantizedLinear(ConversionPatternRewriter &rewriter, LinearOp op,
                                 LinearOp::Adaptor adaptor, ParamOp param, Value out) {
  QuantizedWeights weights = quantizedWeights(rewriter, op.getLoc(), param);
  gcu::QuantGemmOp::create(rewriter, op.getLoc(), adaptor.getInput(), weights.codes,
                           weights.scales, weights.zeros, weights.groupIndex, adaptor.getBias(),
                           adaptor.getResidual(), out, param.getQuantAttr(), op.getEpilogue(),
                           op.getFirstRankBias(), op.getSoftCapAttr());
}

PATTERN(LowerLinear, LinearOp) {
  Value out = allocate(rewriter, op, op.getType());
  if (auto param = op.getWeight().getDefiningOp<ParamOp>(); param && param.getQuantAttr()) {
    lowerQuantizedLinear(rewriter, op, adaptor, param, out);
    rewriter.replaceOp(op, out);
    return success();
  }
  gcu::GemmOp::create(rewriter, op.getLoc(), adaptor.getInput(), adaptor.getWeight(),
                      adaptor.getBias(), adaptor.getResidual(), out, op.getEpilogue(),
                      op.getFirstRankBias(), op.getSoftCapAttr());
  rewriter.replaceOp(op, out);
  return success();
}

PATTERN(LowerRmsNorm, RmsNormOp) {
  Value out = allocate(rewriter, op, op.getType());
  gcu::RmsNormOp::create(rewriter, op.getLoc(), adaptor.getInput(), adaptor.getWeight(), out,
                         op.getEpsilonAttr());
  rewriter.replaceOp(op, out);
  return success();
}

/// vgcu.norm_add_norm and its all-reduce form: the kernel updates input and residual in
/// place, in copies when they do not die here.
template <typename Op, typename Kernel>
struct LowerNormAddNorm : GcuPattern<Op> {
  using GcuPattern<Op>::GcuPattern;
  LogicalResult matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Value input = this->writable(rewriter, op, 0, adaptor.getInput());
    Value residual = this->writable(rewriter, op, 1, adaptor.getResidual());
    auto kernel = Kernel::create(rewriter, op.getLoc(), adaptor.getPostWeight(),
                                 adaptor.getWeight(), input, residual, op.getPostEpsilonAttr(),
                                 op.getEpsilonAttr());
    if constexpr (std::is_same_v<Op, AllReduceNormAddNormOp>)
      kernel.setGroup(op.getGroup());
    rewriter.replaceOp(op, {input, residual});
    return success();
  }
};

PATTERN(LowerSoftCap, SoftCapOp) {
  Value out = allocate(rewriter, op, op.getType());
  gcu::SoftCapOp::create(rewriter, op.getLoc(), adaptor.getInput(), out, op.getCapAttr());
  rewriter.replaceOp(op, out);
  return success();
}

PATTERN(LowerLayerNorm, LayerNormOp) {
  Value out = allocate(rewriter, op, op.getType());
  gcu::LayerNormOp::create(rewriter, op.getLoc(), adaptor.getInput(), adaptor.getWeight(),
                           adaptor.getBias(), out, op.getEpsilonAttr());
  rewriter.replaceOp(op, out);
  return success();
}

/// A fused residual add + norm updates two distinct buffers in place, which become the
/// normed value and the sum. When the operands share storage (x + x) the residual gets its
/// own copy.
template <typename Op, typename Kernel>
struct LowerAddNorm : GcuPattern<Op> {
  using GcuPattern<Op>::GcuPattern;
  LogicalResult matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = this->writable(rewriter, op, 0, adaptor.getInput());
    Value residual = this->writable(rewriter, op, 1, adaptor.getResidual());
    Kernel kernel;
    if constexpr (std::is_same_v<Kernel, gcu::FusedAddLayerNormOp> ||
                  std::is_same_v<Kernel, gcu::AllReduceFusedAddLayerNormOp>)
      kernel = Kernel::create(rewriter, loc, adaptor.getWeight(), adaptor.getBias(), input,
                              residual, op.getEpsilonAttr());
    else
      kernel =
          Kernel::create(rewriter, loc, adaptor.getWeight(), input, residual, op.getEpsilonAttr());
    if constexpr (std::is_same_v<Op, AllReduceAddRmsNormOp> ||
                  std::is_same_v<Op, AllReduceAddLayerNormOp>)
      kernel.setGroup(op.getGroup());
    rewriter.replaceOp(op, {input, residual});
    return success();
  }
};

PATTERN(LowerRotary, RotaryEmbeddingOp) {
  Value query = writable(rewriter, op, 0, adaptor.getQuery());
  Value key = op.getQuery() == op.getKey() ? query
                                           : writable(rewriter, op, 1, adaptor.getKey());
  gcu::RotaryEmbeddingOp::create(rewriter, op.getLoc(), adaptor.getPositions(), query, key,
                                 op.getStyle(), op.getHeadDimAttr(), op.getRotaryDimAttr(),
                                 op.getThetaAttr(), op.getRopeScalingAttr());
  rewriter.replaceOp(op, {query, key});
  return success();
}

/// The paged caches of one attention layer, and their scales when they are quantized.
struct LayerCaches {
  Value key, value;
  SmallVector<Value, 2> scales;
};

/// Caches of `heads` × `keyWidth` (`valueWidth`) values per token in the activations'
/// `element` type or the entry's quantized codes.
LayerCaches layerCaches(ConversionPatternRewriter &rewriter, Operation *op, Location loc,
                        Type element, int64_t heads, int64_t keyWidth, int64_t valueWidth,
                        const EntryLowering &lowering) {
  Type stored = lowering.cacheCodes ? lowering.cacheCodes : element;
  auto cacheType = [&](int64_t width) {
    return MemRefType::get({ShapedType::kDynamic, kBlockSize, heads, width}, stored);
  };
  int64_t layer = lowering.kvLayer.lookup(op);
  auto caches = gcu::KvCacheOp::create(rewriter, loc, cacheType(keyWidth),
                                       cacheType(valueWidth), layer);
  LayerCaches result{caches.getKeyCache(), caches.getValueCache(), {}};
  if (lowering.cacheCodes) {
    auto scaleType = MemRefType::get({ShapedType::kDynamic, kBlockSize, heads},
                                     rewriter.getF32Type());
    auto scales = gcu::KvCacheScalesOp::create(rewriter, loc, scaleType, layer);
    result.scales = {scales.getKeyScales(), scales.getValueScales()};
  }
  return result;
}

template <typename Op>
LayerCaches kvCaches(ConversionPatternRewriter &rewriter, Op op, Location loc,
                     const EntryLowering &lowering) {
  return layerCaches(rewriter, op, loc, cast<RankedTensorType>(op.getType()).getElementType(),
                     op.getNumKvHeads(), op.getHeadDim(), op.getHeadDim(), lowering);
}

PATTERN(LowerAttention, AttentionOp) {
  Location loc = op.getLoc();
  LayerCaches caches = kvCaches(rewriter, op, loc, lowering);
  Value keyCache = caches.key, valueCache = caches.value;
  Value out = allocate(rewriter, op, op.getType());
  if (lowering.fuseRopeCache) {
    gcu::FusedRopeCacheAttentionOp::create(
        rewriter, loc, adaptor.getQuery(), adaptor.getKey(), adaptor.getValue(),
        lowering.positions, lowering.slotMapping, lowering.queryStartLoc, lowering.seqLens,
        lowering.blockTables, Value(), Value(), keyCache, valueCache, caches.scales, out,
        lowering.phase,
        op.getNumHeadsAttr(), op.getNumKvHeadsAttr(), op.getHeadDimAttr(), op.getScaleAttr(),
        op.getSlidingWindowAttr(), op.getSoftcapAttr(), std::nullopt, nullptr, nullptr,
        nullptr, nullptr);
    rewriter.replaceOp(op, out);
    return success();
  }
  // Both phases attend through the cache: a chunk of a prompt needs the chunks before it.
  gcu::ReshapeAndCacheOp::create(rewriter, loc, adaptor.getKey(), adaptor.getValue(),
                                 lowering.slotMapping, keyCache, valueCache, caches.scales);
  gcu::PagedAttentionOp::create(rewriter, loc, adaptor.getQuery(), keyCache, valueCache,
                                lowering.positions, lowering.queryStartLoc, lowering.seqLens,
                                lowering.blockTables, caches.scales, out, op.getNumHeadsAttr(),
                                op.getNumKvHeadsAttr(), op.getHeadDimAttr(), op.getScaleAttr(),
                                op.getSlidingWindowAttr(), op.getSoftcapAttr());
  rewriter.replaceOp(op, out);
  return success();
}

PATTERN(LowerRotaryAttention, RotaryAttentionOp) {
  Location loc = op.getLoc();
  LayerCaches caches = kvCaches(rewriter, op, loc, lowering);
  Value out = allocate(rewriter, op, op.getType());
  gcu::FusedRopeCacheAttentionOp::create(
      rewriter, loc, adaptor.getQuery(), adaptor.getKey(), adaptor.getValue(),
      adaptor.getPositions(), lowering.slotMapping, lowering.queryStartLoc, lowering.seqLens,
      lowering.blockTables, adaptor.getQNormWeight(), adaptor.getKNormWeight(), caches.key,
      caches.value, caches.scales, out,
      lowering.phase, op.getNumHeadsAttr(), op.getNumKvHeadsAttr(), op.getHeadDimAttr(),
      op.getScaleAttr(), op.getSlidingWindowAttr(), op.getSoftcapAttr(), op.getStyle(),
      op.getRotaryDimAttr(), op.getThetaAttr(), op.getNormEpsilonAttr(),
      op.getRopeScalingAttr());
  rewriter.replaceOp(op, out);
  return success();
}

/// The latent cache holds the normalized latent, the rope cache the rotated rotary key:
/// one "KV head" each, of kv_lora_rank and qk_rope_head_dim values.
PATTERN(LowerMlaAttention, MlaAttentionOp) {
  Location loc = op.getLoc();
  LayerCaches caches =
      layerCaches(rewriter, op, loc, op.getType().getElementType(), 1,
                  op.getLatent().getType().getDimSize(1), op.getQkRopeHeadDim(), lowering);
  Value out = allocate(rewriter, op, op.getType());
  gcu::MlaAttentionOp::create(
      rewriter, loc, adaptor.getQuery(), adaptor.getLatent(), adaptor.getKeyRope(),
      adaptor.getKvB(), adaptor.getPositions(), lowering.slotMapping, lowering.queryStartLoc,
      lowering.seqLens, lowering.blockTables, caches.key, caches.value, caches.scales, out,
      lowering.phase, op.getNumHeadsAttr(),
      op.getQkNopeHeadDimAttr(), op.getQkRopeHeadDimAttr(), op.getVHeadDimAttr(),
      op.getScaleAttr(), op.getThetaAttr(), op.getRopeScalingAttr());
  rewriter.replaceOp(op, out);
  return success();
}

PATTERN(LowerSiluAndMul, SiluAndMulOp) {
  Value out = allocate(rewriter, op, op.getType());
  gcu::SiluAndMulOp::create(rewriter, op.getLoc(), adaptor.getInput(), out);
  rewriter.replaceOp(op, out);
  return success();
}

PATTERN(LowerGeluAndMul, GeluAndMulOp) {
  Value out = allocate(rewriter, op, op.getType());
  if (op.getApproximate() == GeluApproximation::tanh)
    gcu::GeluTanhAndMulOp::create(rewriter, op.getLoc(), adaptor.getInput(), out);
  else
    gcu::GeluAndMulOp::create(rewriter, op.getLoc(), adaptor.getInput(), out);
  rewriter.replaceOp(op, out);
  return success();
}

PATTERN(LowerAllReduce, AllReduceOp) {
  Value buffer = writable(rewriter, op, 0, adaptor.getInput());
  gcu::AllReduceOp::create(rewriter, op.getLoc(), buffer, op.getGroup());
  rewriter.replaceOp(op, buffer);
  return success();
}

PATTERN(LowerAllGather, AllGatherOp) {
  Value out = allocate(rewriter, op, op.getType());
  gcu::AllGatherOp::create(rewriter, op.getLoc(), adaptor.getInput(), out, op.getDim());
  rewriter.replaceOp(op, out);
  return success();
}

//===----------------------------------------------------------------------===//
// Primitives left over from a traced graph: generic kernels
//===----------------------------------------------------------------------===//

PATTERN(LowerMatmul, MatmulOp) {
  Value out = allocate(rewriter, op, op.getType());
  gcu::BatchMatmulOp::create(rewriter, op.getLoc(), adaptor.getLhs(), adaptor.getRhs(), out);
  rewriter.replaceOp(op, out);
  return success();
}

PATTERN(LowerSoftmax, SoftmaxOp) {
  Value out = allocate(rewriter, op, op.getType());
  gcu::SoftmaxOp::create(rewriter, op.getLoc(), adaptor.getInput(), out, op.getDim());
  rewriter.replaceOp(op, out);
  return success();
}

PATTERN(LowerConcat, ConcatOp) {
  Value out = allocate(rewriter, op, op.getType());
  gcu::ConcatOp::create(rewriter, op.getLoc(), adaptor.getInputs(), out, op.getDim());
  rewriter.replaceOp(op, out);
  return success();
}

PATTERN(LowerGather, GatherOp) {
  Value out = allocate(rewriter, op, op.getType());
  gcu::GatherOp::create(rewriter, op.getLoc(), adaptor.getInput(), adaptor.getIndices(), out,
                        op.getDim());
  rewriter.replaceOp(op, out);
  return success();
}

PATTERN(LowerTopK, TopKOp) {
  Value values = allocate(rewriter, op, op.getValues().getType());
  Value indices = allocate(rewriter, op, op.getIndices().getType());
  gcu::TopKOp::create(rewriter, op.getLoc(), adaptor.getInput(), values, indices, op.getK());
  rewriter.replaceOp(op, {values, indices});
  return success();
}

PATTERN(LowerScatter, ScatterOp) {
  Value out = allocate(rewriter, op, op.getType());
  gcu::ScatterOp::create(rewriter, op.getLoc(), adaptor.getInput(), adaptor.getIndex(),
                         adaptor.getSrc(), out, op.getDim());
  rewriter.replaceOp(op, out);
  return success();
}

PATTERN(LowerWhere, WhereOp) {
  Value out = allocate(rewriter, op, op.getType());
  gcu::WhereOp::create(rewriter, op.getLoc(), adaptor.getCondition(), adaptor.getOnTrue(),
                       adaptor.getOnFalse(), out);
  rewriter.replaceOp(op, out);
  return success();
}

template <typename Op, gcu::ReduceKind Kind>
struct LowerReduction : GcuPattern<Op> {
  using GcuPattern<Op>::GcuPattern;
  LogicalResult matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Value out = this->allocate(rewriter, op, op.getType());
    gcu::ReduceOp::create(rewriter, op.getLoc(), Kind, adaptor.getInput(), out,
                          op.getDimsAttr(), op.getKeepdim());
    rewriter.replaceOp(op, out);
    return success();
  }
};

template <typename Op, gcu::BinaryKind Kind>
struct LowerBinary : GcuPattern<Op> {
  using GcuPattern<Op>::GcuPattern;
  LogicalResult matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Value out = this->allocate(rewriter, op, op.getType());
    gcu::BinaryOp::create(rewriter, op.getLoc(), Kind, adaptor.getLhs(), adaptor.getRhs(),
                          out);
    rewriter.replaceOp(op, out);
    return success();
  }
};

PATTERN(LowerCompare, CompareOp) {
  static constexpr gcu::BinaryKind kinds[] = {gcu::BinaryKind::eq, gcu::BinaryKind::ne,
                                              gcu::BinaryKind::lt, gcu::BinaryKind::le,
                                              gcu::BinaryKind::gt, gcu::BinaryKind::ge};
  Value out = allocate(rewriter, op, op.getType());
  gcu::BinaryOp::create(rewriter, op.getLoc(), kinds[static_cast<int>(op.getPredicate())],
                        adaptor.getLhs(), adaptor.getRhs(), out);
  rewriter.replaceOp(op, out);
  return success();
}

template <typename Op, gcu::UnaryKind Kind>
struct LowerUnary : GcuPattern<Op> {
  using GcuPattern<Op>::GcuPattern;
  LogicalResult matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Value out = this->allocate(rewriter, op, op.getType());
    gcu::UnaryOp::create(rewriter, op.getLoc(), Kind, adaptor.getInput(), out);
    rewriter.replaceOp(op, out);
    return success();
  }
};

PATTERN(LowerGelu, GeluOp) {
  Value out = allocate(rewriter, op, op.getType());
  gcu::UnaryOp::create(rewriter, op.getLoc(),
                       op.getApproximate() == GeluApproximation::tanh ? gcu::UnaryKind::gelu_tanh
                                                                      : gcu::UnaryKind::gelu,
                       adaptor.getInput(), out);
  rewriter.replaceOp(op, out);
  return success();
}

#undef PATTERN

void populateLoweringPatterns(RewritePatternSet &patterns, const TypeConverter &converter,
                              const EntryLowering &lowering) {
  MLIRContext *context = patterns.getContext();
  patterns.add<LowerParam, LowerConstant, LowerSlice, LowerReshape, LowerTranspose,
               LowerBroadcast, LowerLastToken, LowerEmbedding, LowerLinear, LowerMoeRouter,
               LowerMoeExperts, LowerRmsNorm,
               LowerLayerNorm, LowerRotary, LowerAttention, LowerRotaryAttention, LowerMlaAttention,
               LowerSiluAndMul, LowerGeluAndMul, LowerAllReduce, LowerAllGather, LowerMatmul,
               LowerSoftmax, LowerConcat, LowerGather, LowerTopK, LowerScatter, LowerWhere,
               LowerCompare, LowerGelu,
               LowerAddNorm<AddRmsNormOp, gcu::FusedAddRmsNormOp>,
               LowerAddNorm<AllReduceAddRmsNormOp, gcu::AllReduceFusedAddRmsNormOp>,
               LowerAddNorm<AddLayerNormOp, gcu::FusedAddLayerNormOp>,
               LowerAddNorm<AllReduceAddLayerNormOp, gcu::AllReduceFusedAddLayerNormOp>,
               LowerNormAddNorm<NormAddNormOp, gcu::FusedNormAddNormOp>,
               LowerNormAddNorm<AllReduceNormAddNormOp, gcu::AllReduceFusedNormAddNormOp>,
               LowerSoftCap, LowerReduction<MeanOp, gcu::ReduceKind::mean>,
               LowerReduction<SumOp, gcu::ReduceKind::sum>,
               LowerBinary<AddOp, gcu::BinaryKind::add>, LowerBinary<SubOp, gcu::BinaryKind::sub>,
               LowerBinary<MulOp, gcu::BinaryKind::mul>, LowerBinary<DivOp, gcu::BinaryKind::div>,
               LowerBinary<PowOp, gcu::BinaryKind::pow>,
               LowerBinary<MaximumOp, gcu::BinaryKind::maximum>,
               LowerBinary<OrOp, gcu::BinaryKind::logical_or>,
               LowerUnary<NegOp, gcu::UnaryKind::neg>, LowerUnary<RsqrtOp, gcu::UnaryKind::rsqrt>,
               LowerUnary<SqrtOp, gcu::UnaryKind::sqrt>, LowerUnary<ExpOp, gcu::UnaryKind::exp>,
               LowerUnary<CosOp, gcu::UnaryKind::cos>, LowerUnary<SinOp, gcu::UnaryKind::sin>,
               LowerUnary<SigmoidOp, gcu::UnaryKind::sigmoid>,
               LowerUnary<TanhOp, gcu::UnaryKind::tanh>, LowerUnary<SiluOp, gcu::UnaryKind::silu>,
               LowerUnary<ReluOp, gcu::UnaryKind::relu>, LowerUnary<CastOp, gcu::UnaryKind::cast>>(
      converter, context, lowering);
}

//===----------------------------------------------------------------------===//
// Entries and buffer placement
//===----------------------------------------------------------------------===//

/// Which operands each in-place op may overwrite, and each attention's cache layer.
void placeBuffers(Block &body, EntryLowering &lowering) {
  BufferPlacement placement(body);
  for (Operation &op : body) {
    if (isa<AttentionOp, RotaryAttentionOp, MlaAttentionOp>(op))
      lowering.kvLayer[&op] = placement.kvLayer(&op);
    if (isa<AddRmsNormOp, AllReduceAddRmsNormOp, AddLayerNormOp, AllReduceAddLayerNormOp,
            NormAddNormOp, AllReduceNormAddNormOp>(op)) {
      Value input = op.getOperand(0), residual = op.getOperand(1);
      // Both buffers are written: a residual sharing the input's storage needs its own.
      lowering.writable[&op] = {placement.diesAt(input, &op),
                                !placement.mayOverlap(residual, input) &&
                                    placement.diesAt(residual, &op)};
    } else if (auto rotary = dyn_cast<RotaryEmbeddingOp>(op)) {
      lowering.writable[&op] = {placement.diesAt(rotary.getQuery(), &op),
                                placement.diesAt(rotary.getKey(), &op)};
    } else if (auto reduce = dyn_cast<AllReduceOp>(op)) {
      lowering.writable[&op] = {placement.diesAt(reduce.getInput(), &op)};
    }
  }
}

struct LowerToGcuPass : vgcu::impl::LowerToGcuBase<LowerToGcuPass> {
  using LowerToGcuBase::LowerToGcuBase;

  /// An entry in vgcu ops: the runtime's memref arguments, @forward's body on them, each
  /// sequence's newest token, @compute_logits' body on those rows.
  func::FuncOp buildEntry(OpBuilder &builder, ModelEntries entries, gcu::AttentionPhase phase,
                          EntryLowering &lowering) {
    func::FuncOp forward = entries.forward, logits = entries.computeLogits;
    auto indexType = MemRefType::get({ShapedType::kDynamic}, builder.getI64Type());
    auto tableType =
        MemRefType::get({ShapedType::kDynamic, ShapedType::kDynamic}, builder.getI64Type());
    auto logitsType = cast<RankedTensorType>(logits.getResultTypes()[0]);
    auto resultType = MemRefType::get(logitsType.getShape(), logitsType.getElementType());
    ModuleOp module = getOperation();
    builder.setInsertionPointToEnd(module.getBody());
    auto entry = func::FuncOp::create(
        builder, forward.getLoc(), phase == gcu::AttentionPhase::prefill ? "prefill" : "decode",
        builder.getFunctionType(
            {indexType, indexType, indexType, indexType, indexType, tableType}, {resultType}));
    const char *names[] = {"input_ids",       "positions", "slot_mapping",
                           "query_start_loc", "seq_lens",  "block_tables"};
    for (auto [i, name] : llvm::enumerate(names))
      entry.setArgAttr(i, "vgcu.name", builder.getStringAttr(name));
    Block *block = entry.addEntryBlock();
    builder.setInsertionPointToEnd(block);
    Location loc = forward.getLoc();
    lowering.phase = phase;
    lowering.positions = block->getArgument(1);
    lowering.slotMapping = block->getArgument(2);
    lowering.queryStartLoc = block->getArgument(3);
    lowering.seqLens = block->getArgument(4);
    lowering.blockTables = block->getArgument(5);
    lowering.tokenCount =
        gcu::DimOp::create(builder, loc, builder.getIndexType(), block->getArgument(0), 0);
    lowering.sequenceCount =
        gcu::DimOp::create(builder, loc, builder.getIndexType(), lowering.seqLens, 0);

    IRMapping mapping;
    for (unsigned i = 0; i < 2; ++i)
      mapping.map(forward.getArgument(i),
                  UnrealizedConversionCastOp::create(builder, loc,
                                                     forward.getArgument(i).getType(),
                                                     block->getArgument(i))
                      .getResult(0));
    for (Operation &op : forward.getBody().front().without_terminator())
      builder.clone(op, mapping);
    Value hidden = mapping.lookup(forward.getBody().front().getTerminator()->getOperand(0));
    auto startsType = RankedTensorType::get({ShapedType::kDynamic}, builder.getI64Type());
    Value starts = UnrealizedConversionCastOp::create(builder, loc, startsType,
                                                      lowering.queryStartLoc)
                       .getResult(0);
    Value last = LastTokenOp::create(builder, loc, hidden, starts);
    mapping.map(logits.getArgument(0), last);
    for (Operation &op : logits.getBody().front().without_terminator())
      lowering.perSequence.insert(builder.clone(op, mapping));
    Value result = mapping.lookup(logits.getBody().front().getTerminator()->getOperand(0));
    Value buffer =
        UnrealizedConversionCastOp::create(builder, logits.getLoc(), resultType, result)
            .getResult(0);
    func::ReturnOp::create(builder, logits.getLoc(), buffer);
    return entry;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Type cacheCodes;
    if (kvCacheDtype == "int8")
      cacheCodes = IntegerType::get(&getContext(), 8);
    else if (kvCacheDtype == "fp8_e4m3")
      cacheCodes = Float8E4M3FNType::get(&getContext());
    else if (kvCacheDtype != "auto") {
      module.emitError("kv-cache-dtype must be auto, int8 or fp8_e4m3, not '")
          << kvCacheDtype << "'";
      return signalPassFailure();
    }
    auto entries = getModelEntries(module);
    if (failed(entries))
      return signalPassFailure();
    OpBuilder builder(&getContext());
    BufferTypeConverter converter;
    ConversionTarget target(getContext());
    target.addLegalDialect<gcu::GcuDialect, func::FuncDialect>();
    target.addLegalOp<UnrealizedConversionCastOp>();
    target.addIllegalDialect<VgcuDialect>();
    ConversionConfig config;
    config.foldingMode = DialectConversionFoldingMode::Never;
    // The entry's memref arguments and result meet the tensors through casts that cancel out
    // once every op is converted (reconciled below).
    config.buildMaterializations = false;
    int64_t layers = 0;
    for (auto phase : {gcu::AttentionPhase::prefill, gcu::AttentionPhase::decode}) {
      EntryLowering lowering;
      lowering.fuseRopeCache = fuseRopeCache;
      lowering.cacheCodes = cacheCodes;
      func::FuncOp entry = buildEntry(builder, *entries, phase, lowering);
      placeBuffers(entry.getBody().front(), lowering);
      layers = static_cast<int64_t>(lowering.kvLayer.size());
      RewritePatternSet patterns(&getContext());
      populateLoweringPatterns(patterns, converter, lowering);
      if (failed(applyPartialConversion(entry, target, std::move(patterns), config))) {
        entry.emitError("cannot lower this model to gcu kernels");
        return signalPassFailure();
      }
      SmallVector<UnrealizedConversionCastOp> casts;
      entry.walk([&](UnrealizedConversionCastOp cast) { casts.push_back(cast); });
      SmallVector<UnrealizedConversionCastOp> remaining;
      reconcileUnrealizedCasts(casts, &remaining);
      if (!remaining.empty()) {
        remaining.front().emitError("a value has no buffer after lowering");
        return signalPassFailure();
      }
    }
    module->setAttr("vgcu.kv_layers", builder.getI64IntegerAttr(layers));
    module->setAttr("vgcu.kv_block_size", builder.getI64IntegerAttr(kBlockSize));
    // The graph functions (and any weight-folding functions) are not part of the program.
    for (auto function : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (function.getSymName() != "prefill" && function.getSymName() != "decode")
        function.erase();
  }
};

} // namespace
