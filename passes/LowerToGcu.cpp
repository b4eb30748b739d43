//===- LowerToGcu.cpp - vgcu graphs to gcu kernel launches on buffers --------------===//
//
// Bufferization and kernel selection happen in one walk over each function, in program
// order: every tensor gets a buffer (a new allocation, a view of another buffer, or the
// buffer of an in-place kernel's operand when that operand dies there), and every vgcu op
// becomes the launches that compute it. Two entries come out of @forward and
// @compute_logits: @prefill and @decode, identical but for the attention kernels, each
// returning the logits of the last token.
//
//===----------------------------------------------------------------------===//

#include "passes/ModelEntries.h"
#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "llvm/ADT/TypeSwitch.h"

namespace vgcu {
#define GEN_PASS_DEF_LOWERTOGCU
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

constexpr int64_t kBlockSize = 64;

/// Which slice of its root buffer a tensor occupies, for deciding whether an in-place
/// kernel may overwrite it.
struct AliasRegion {
  Value root;
  int64_t dim = -1; // -1: the whole root
  int64_t start = 0, end = 0;

  bool overlaps(const AliasRegion &other) const {
    if (root != other.root)
      return false;
    if (dim < 0 || other.dim < 0 || dim != other.dim)
      return true;
    return start < other.end && other.start < end;
  }
};

bool isViewOp(Operation *op) {
  return isa_and_nonnull<SliceOp, ReshapeOp, TransposeOp, BroadcastOp>(op);
}

/// An attention whose rotary (and per-head q/k norms) fold into the fused kernel.
struct FusedAttentionPlan {
  RotaryEmbeddingOp rotary;
  Value query, key;
  RmsNormOp queryNorm, keyNorm;
};

/// The lowering of one function body into one entry.
class BodyLowering {
public:
  BodyLowering(OpBuilder &builder, const LowerToGcuOptions &options, gcu::AttentionPhase phase,
               Value positions, Value slotMapping, Value blockTable)
      : builder(builder), options(options), phase(phase), positions(positions),
        slotMapping(slotMapping), blockTable(blockTable) {}

  /// Lowers `body` with its arguments bound to `arguments`; `tokens` is the run-time token
  /// count (or `staticTokens` when positive) that dynamic dimensions take.
  LogicalResult lower(Block &body, ValueRange arguments, Value tokens, int64_t staticTokens,
                      SmallVectorImpl<Value> &results);

private:
  // Types and buffers.
  MemRefType bufferType(Type tensorType) const;
  Value allocate(Type tensorType, Location loc);
  Value buffer(Value tensor) const { return mapping.lookup(tensor); }
  void bind(Value tensor, Value buf) { mapping[tensor] = buf; }
  /// The buffer of `tensor` if an in-place kernel at `op` may overwrite it, else a copy.
  Value writableBuffer(Value tensor, Operation *op);
  /// A fresh buffer holding a copy of `tensor`, made before `op`.
  Value copyOf(Value tensor, Operation *op);

  // Liveness.
  void analyze(Block &body);
  AliasRegion regionOf(Value tensor) const;
  bool diesAt(Value tensor, Operation *op) const;

  /// Decides which attentions use the fused kernel, before anything is lowered, so the ops
  /// folded into it are skipped where they stand.
  void planFusedAttention(Block &body);

  // Lowering of each op kind.
  LogicalResult lowerOp(Operation *op);
  void lowerLinear(LinearOp op);
  /// A fused residual add + norm: `createKernel(input, residual)` launches the in-place
  /// kernel on two distinct buffers, which become the normed value and the sum.
  template <typename AddNormOp>
  void lowerAddNorm(AddNormOp norm,
                    llvm::function_ref<void(Value input, Value residual)> createKernel);
  void lowerAttention(AttentionOp op);
  void lowerFusedAttention(AttentionOp op, FusedAttentionPlan plan);
  void lowerElementwise(Operation *op);

  OpBuilder &builder;
  const LowerToGcuOptions &options;
  gcu::AttentionPhase phase;
  Value positions, slotMapping, blockTable;
  Value tokenCount;
  int64_t staticTokens = 0;
  int64_t nextLayer = 0;
  DenseMap<Value, Value> mapping;
  DenseSet<Operation *> handled;
  DenseMap<Operation *, FusedAttentionPlan> fusedAttention;
  DenseMap<Operation *, int64_t> order;
  DenseMap<Value, int64_t> lastUse;

  friend struct LowerToGcuPass;
};

MemRefType BodyLowering::bufferType(Type tensorType) const {
  auto type = cast<RankedTensorType>(tensorType);
  SmallVector<int64_t> shape(type.getShape());
  if (staticTokens > 0)
    for (int64_t &dim : shape)
      if (ShapedType::isDynamic(dim))
        dim = staticTokens;
  return MemRefType::get(shape, type.getElementType());
}

Value BodyLowering::allocate(Type tensorType, Location loc) {
  MemRefType type = bufferType(tensorType);
  SmallVector<Value> sizes(type.getNumDynamicDims(), tokenCount);
  return gcu::AllocOp::create(builder, loc, type, sizes, nullptr);
}

void BodyLowering::analyze(Block &body) {
  int64_t index = 0;
  for (Operation &op : body)
    order[&op] = index++;
  for (Operation &op : body)
    for (Value operand : op.getOperands())
      lastUse[operand] = std::max(lastUse.lookup(operand), order[&op]);
}

AliasRegion BodyLowering::regionOf(Value tensor) const {
  AliasRegion region;
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

bool BodyLowering::diesAt(Value tensor, Operation *op) const {
  AliasRegion region = regionOf(tensor);
  // Arguments, weights and constants are never scratch space.
  Operation *rootProducer = region.root.getDefiningOp();
  if (!rootProducer || isa<ParamOp, ConstantOp>(rootProducer))
    return false;
  int64_t at = order.lookup(op);
  for (const auto &[value, last] : lastUse) {
    if (last <= at || !regionOf(value).overlaps(region))
      continue;
    return false;
  }
  return true;
}

Value BodyLowering::writableBuffer(Value tensor, Operation *op) {
  return diesAt(tensor, op) ? buffer(tensor) : copyOf(tensor, op);
}

Value BodyLowering::copyOf(Value tensor, Operation *op) {
  Value copy = allocate(tensor.getType(), op->getLoc());
  gcu::UnaryOp::create(builder, op->getLoc(), gcu::UnaryKind::copy, buffer(tensor), copy);
  return copy;
}

LogicalResult BodyLowering::lower(Block &body, ValueRange arguments, Value tokens,
                                  int64_t tokensStatic, SmallVectorImpl<Value> &results) {
  tokenCount = tokens;
  staticTokens = tokensStatic;
  mapping.clear();
  handled.clear();
  fusedAttention.clear();
  order.clear();
  lastUse.clear();
  analyze(body);
  planFusedAttention(body);
  for (auto [argument, buf] : llvm::zip(body.getArguments(), arguments))
    bind(argument, buf);
  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (Value operand : ret.getOperands())
        results.push_back(buffer(operand));
      continue;
    }
    if (handled.contains(&op))
      continue;
    if (failed(lowerOp(&op)))
      return failure();
  }
  return success();
}

LogicalResult BodyLowering::lowerOp(Operation *op) {
  Location loc = op->getLoc();
  auto out = [&](Value result) {
    Value buf = allocate(result.getType(), loc);
    bind(result, buf);
    return buf;
  };
  bool ok = true;
  TypeSwitch<Operation *>(op)
      .Case([&](ParamOp param) {
        bind(param, gcu::WeightOp::create(builder, loc, bufferType(param.getType()),
                                          param.getName()));
      })
      .Case([&](ConstantOp constant) {
        bind(constant, gcu::ConstantOp::create(builder, loc, bufferType(constant.getType()),
                                               constant.getValue()));
      })
      .Case([&](EmbeddingOp embedding) {
        Value result = out(embedding.getResult());
        gcu::EmbeddingOp::create(builder, loc, buffer(embedding.getIds()),
                                 buffer(embedding.getTable()), result,
                                 embedding.getVocabParallel());
      })
      .Case([&](LinearOp linear) { lowerLinear(linear); })
      .Case([&](RmsNormOp norm) {
        Value result = out(norm.getResult());
        gcu::RmsNormOp::create(builder, loc, buffer(norm.getInput()), buffer(norm.getWeight()),
                               result, norm.getEpsilonAttr());
      })
      .Case([&](LayerNormOp norm) {
        Value result = out(norm.getResult());
        gcu::LayerNormOp::create(builder, loc, buffer(norm.getInput()), buffer(norm.getWeight()),
                                 buffer(norm.getBias()), result, norm.getEpsilonAttr());
      })
      .Case([&](AddRmsNormOp norm) {
        lowerAddNorm(norm, [&](Value input, Value residual) {
          gcu::FusedAddRmsNormOp::create(builder, loc, buffer(norm.getWeight()), input, residual,
                                         norm.getEpsilonAttr());
        });
      })
      .Case([&](AllReduceAddRmsNormOp norm) {
        lowerAddNorm(norm, [&](Value input, Value residual) {
          gcu::AllReduceFusedAddRmsNormOp::create(builder, loc, buffer(norm.getWeight()), input,
                                                  residual, norm.getEpsilonAttr());
        });
      })
      .Case([&](AddLayerNormOp norm) {
        lowerAddNorm(norm, [&](Value input, Value residual) {
          gcu::FusedAddLayerNormOp::create(builder, loc, buffer(norm.getWeight()),
                                           buffer(norm.getBias()), input, residual,
                                           norm.getEpsilonAttr());
        });
      })
      .Case([&](AllReduceAddLayerNormOp norm) {
        lowerAddNorm(norm, [&](Value input, Value residual) {
          gcu::AllReduceFusedAddLayerNormOp::create(builder, loc, buffer(norm.getWeight()),
                                                    buffer(norm.getBias()), input, residual,
                                                    norm.getEpsilonAttr());
        });
      })
      .Case([&](RotaryEmbeddingOp rotary) {
        Value query = writableBuffer(rotary.getQuery(), rotary);
        Value key = rotary.getQuery() == rotary.getKey() ? query
                                                         : writableBuffer(rotary.getKey(), rotary);
        gcu::RotaryEmbeddingOp::create(
            builder, loc, buffer(rotary.getPositions()), query, key,
            rotary.getStyle() == RotaryStyle::neox ? gcu::RotaryStyle::neox
                                                   : gcu::RotaryStyle::gptj,
            rotary.getHeadDimAttr(), rotary.getRotaryDimAttr(), rotary.getThetaAttr());
        bind(rotary.getQueryOut(), query);
        bind(rotary.getKeyOut(), key);
      })
      .Case([&](AttentionOp attention) { lowerAttention(attention); })
      .Case([&](SiluAndMulOp act) {
        gcu::SiluAndMulOp::create(builder, loc, buffer(act.getInput()), out(act.getResult()));
      })
      .Case([&](GeluAndMulOp act) {
        Value result = out(act.getResult());
        if (act.getApproximate() == GeluApproximation::tanh)
          gcu::GeluTanhAndMulOp::create(builder, loc, buffer(act.getInput()), result);
        else
          gcu::GeluAndMulOp::create(builder, loc, buffer(act.getInput()), result);
      })
      .Case([&](AllReduceOp reduce) {
        Value buf = writableBuffer(reduce.getInput(), reduce);
        gcu::AllReduceOp::create(builder, loc, buf);
        bind(reduce.getResult(), buf);
      })
      .Case([&](AllGatherOp gather) {
        gcu::AllGatherOp::create(builder, loc, buffer(gather.getInput()), out(gather.getResult()),
                                 gather.getDim());
      })
      .Case([&](SliceOp slice) {
        bind(slice, gcu::SliceViewOp::create(builder, loc, bufferType(slice.getType()),
                                             buffer(slice.getInput()), slice.getDim(),
                                             slice.getStart(), slice.getEnd(), slice.getStep()));
      })
      .Case([&](ReshapeOp reshape) {
        bind(reshape, gcu::ReshapeViewOp::create(builder, loc, bufferType(reshape.getType()),
                                                 buffer(reshape.getInput())));
      })
      .Case([&](TransposeOp transpose) {
        bind(transpose, gcu::TransposeViewOp::create(builder, loc, bufferType(transpose.getType()),
                                                     buffer(transpose.getInput()),
                                                     transpose.getPermutationAttr()));
      })
      .Case([&](BroadcastOp broadcast) {
        bind(broadcast, gcu::BroadcastViewOp::create(builder, loc, bufferType(broadcast.getType()),
                                                     buffer(broadcast.getInput())));
      })
      .Case([&](MatmulOp matmul) {
        gcu::BatchMatmulOp::create(builder, loc, buffer(matmul.getLhs()), buffer(matmul.getRhs()),
                                   out(matmul.getResult()));
      })
      .Case([&](SoftmaxOp softmax) {
        gcu::SoftmaxOp::create(builder, loc, buffer(softmax.getInput()), out(softmax.getResult()),
                               softmax.getDim());
      })
      .Case([&](ConcatOp concat) {
        SmallVector<Value> inputs;
        for (Value input : concat.getInputs())
          inputs.push_back(buffer(input));
        gcu::ConcatOp::create(builder, loc, inputs, out(concat.getResult()), concat.getDim());
      })
      .Case([&](GatherOp gather) {
        gcu::GatherOp::create(builder, loc, buffer(gather.getInput()), buffer(gather.getIndices()),
                              out(gather.getResult()), gather.getDim());
      })
      .Case([&](WhereOp where) {
        gcu::WhereOp::create(builder, loc, buffer(where.getCondition()),
                             buffer(where.getOnTrue()), buffer(where.getOnFalse()),
                             out(where.getResult()));
      })
      .Case<MeanOp, SumOp>([&](auto reduce) {
        gcu::ReduceOp::create(builder, loc,
                              isa<MeanOp>(reduce.getOperation()) ? gcu::ReduceKind::mean
                                                                 : gcu::ReduceKind::sum,
                              buffer(reduce.getInput()), out(reduce.getResult()),
                              reduce.getDimsAttr(), reduce.getKeepdim());
      })
      .Default([&](Operation *other) {
        if (other->getNumResults() == 1 &&
            isa<AddOp, SubOp, MulOp, DivOp, PowOp, MaximumOp, OrOp, CompareOp, NegOp, RsqrtOp,
                SqrtOp, ExpOp, CosOp, SinOp, SigmoidOp, TanhOp, SiluOp, ReluOp, GeluOp, CastOp>(
                other))
          return lowerElementwise(other);
        other->emitError("cannot lower this op to gcu kernels");
        ok = false;
      });
  return success(ok);
}

void BodyLowering::lowerElementwise(Operation *op) {
  Location loc = op->getLoc();
  Value result = allocate(op->getResult(0).getType(), loc);
  bind(op->getResult(0), result);
  auto binary = [&](gcu::BinaryKind kind) {
    gcu::BinaryOp::create(builder, loc, kind, buffer(op->getOperand(0)),
                          buffer(op->getOperand(1)), result);
  };
  auto unary = [&](gcu::UnaryKind kind) {
    gcu::UnaryOp::create(builder, loc, kind, buffer(op->getOperand(0)), result);
  };
  TypeSwitch<Operation *>(op)
      .Case([&](AddOp) { binary(gcu::BinaryKind::add); })
      .Case([&](SubOp) { binary(gcu::BinaryKind::sub); })
      .Case([&](MulOp) { binary(gcu::BinaryKind::mul); })
      .Case([&](DivOp) { binary(gcu::BinaryKind::div); })
      .Case([&](PowOp) { binary(gcu::BinaryKind::pow); })
      .Case([&](MaximumOp) { binary(gcu::BinaryKind::maximum); })
      .Case([&](OrOp) { binary(gcu::BinaryKind::logical_or); })
      .Case([&](CompareOp compare) {
        switch (compare.getPredicate()) {
        case ComparePredicate::eq: return binary(gcu::BinaryKind::eq);
        case ComparePredicate::ne: return binary(gcu::BinaryKind::ne);
        case ComparePredicate::lt: return binary(gcu::BinaryKind::lt);
        case ComparePredicate::le: return binary(gcu::BinaryKind::le);
        case ComparePredicate::gt: return binary(gcu::BinaryKind::gt);
        case ComparePredicate::ge: return binary(gcu::BinaryKind::ge);
        }
      })
      .Case([&](NegOp) { unary(gcu::UnaryKind::neg); })
      .Case([&](RsqrtOp) { unary(gcu::UnaryKind::rsqrt); })
      .Case([&](SqrtOp) { unary(gcu::UnaryKind::sqrt); })
      .Case([&](ExpOp) { unary(gcu::UnaryKind::exp); })
      .Case([&](CosOp) { unary(gcu::UnaryKind::cos); })
      .Case([&](SinOp) { unary(gcu::UnaryKind::sin); })
      .Case([&](SigmoidOp) { unary(gcu::UnaryKind::sigmoid); })
      .Case([&](TanhOp) { unary(gcu::UnaryKind::tanh); })
      .Case([&](SiluOp) { unary(gcu::UnaryKind::silu); })
      .Case([&](ReluOp) { unary(gcu::UnaryKind::relu); })
      .Case([&](GeluOp gelu) {
        unary(gelu.getApproximate() == GeluApproximation::tanh ? gcu::UnaryKind::gelu_tanh
                                                               : gcu::UnaryKind::gelu);
      })
      .Case([&](CastOp) { unary(gcu::UnaryKind::cast); });
}

template <typename AddNormOp>
void BodyLowering::lowerAddNorm(
    AddNormOp norm, llvm::function_ref<void(Value input, Value residual)> createKernel) {
  Value input = writableBuffer(norm.getInput(), norm);
  // Both buffers are written: when the operands share storage (x + x) the residual needs its
  // own.
  Value residual = regionOf(norm.getResidual()).overlaps(regionOf(norm.getInput()))
                       ? copyOf(norm.getResidual(), norm)
                       : writableBuffer(norm.getResidual(), norm);
  createKernel(input, residual);
  bind(norm.getNormed(), input);
  bind(norm.getSum(), residual);
}

/// A GEMM with what directly follows it folded into its epilogue: a gated activation (or a
/// plain one) on its output, and a residual add of a value computed before it.

void BodyLowering::lowerLinear(LinearOp linear) {
  Location loc = linear.getLoc();
  Value result = linear.getResult();
  Value finalValue = result;
  gcu::Epilogue epilogue = gcu::Epilogue::none;
  if (options.gemmEpilogues && result.hasOneUse()) {
    Operation *user = *result.getUsers().begin();
    std::optional<gcu::Epilogue> fused =
        TypeSwitch<Operation *, std::optional<gcu::Epilogue>>(user)
            .Case([](SiluAndMulOp) { return gcu::Epilogue::silu_and_mul; })
            .Case([](GeluAndMulOp op) {
              return op.getApproximate() == GeluApproximation::tanh
                         ? gcu::Epilogue::gelu_tanh_and_mul
                         : gcu::Epilogue::gelu_and_mul;
            })
            .Case([](ReluOp) { return gcu::Epilogue::relu; })
            .Case([](GeluOp op) {
              return op.getApproximate() == GeluApproximation::tanh ? gcu::Epilogue::gelu_tanh
                                                                    : gcu::Epilogue::gelu;
            })
            .Default([](Operation *) { return std::nullopt; });
    if (fused) {
      epilogue = *fused;
      finalValue = user->getResult(0);
      handled.insert(user);
    }
  }
  // out = epilogue(x·Wᵀ + b) + residual, when the only use of the GEMM is that add and the
  // residual is ready before the GEMM runs.
  Value residual;
  if (options.gemmEpilogues && finalValue.hasOneUse()) {
    if (auto add = dyn_cast<AddOp>(*finalValue.getUsers().begin())) {
      Value other = add.getLhs() == finalValue ? add.getRhs() : add.getLhs();
      Operation *producer = other.getDefiningOp();
      if (other != finalValue && other.getType() == add.getType() &&
          finalValue.getType() == add.getType() &&
          (!producer || order.lookup(producer) < order.lookup(linear))) {
        residual = buffer(other);
        finalValue = add.getResult();
        handled.insert(add);
      }
    }
  }
  Value out = allocate(finalValue.getType(), loc);
  gcu::GemmOp::create(builder, loc, buffer(linear.getInput()), buffer(linear.getWeight()),
                      linear.getBias() ? buffer(linear.getBias()) : Value(), residual, out,
                      epilogue, linear.getFirstRankBias());
  bind(finalValue, out);
}

void BodyLowering::planFusedAttention(Block &body) {
  if (!options.fuseRopeCache)
    return;
  for (AttentionOp attention : body.getOps<AttentionOp>()) {
    FusedAttentionPlan plan;
    plan.query = attention.getQuery();
    plan.key = attention.getKey();
    auto rotary = attention.getQuery().getDefiningOp<RotaryEmbeddingOp>();
    if (!rotary) {
      if (!attention.getKey().getDefiningOp<RotaryEmbeddingOp>())
        fusedAttention[attention] = plan;
      continue;
    }
    if (attention.getQuery() != rotary.getQueryOut() || attention.getKey() != rotary.getKeyOut() ||
        !rotary.getQueryOut().hasOneUse() || !rotary.getKeyOut().hasOneUse() ||
        rotary.getRotaryDim() != rotary.getHeadDim() ||
        rotary.getHeadDim() != attention.getHeadDim())
      continue;
    plan.rotary = rotary;
    plan.query = rotary.getQuery();
    plan.key = rotary.getKey();
    handled.insert(rotary);
    // Per-head q/k RMSNorm right before the rotary (Qwen3): reshape → rms_norm → reshape.
    auto perHeadNorm = [&](Value value) -> std::pair<Value, RmsNormOp> {
      auto flatten = value.getDefiningOp<ReshapeOp>();
      auto norm = flatten ? flatten.getInput().getDefiningOp<RmsNormOp>() : RmsNormOp();
      auto split = norm ? norm.getInput().getDefiningOp<ReshapeOp>() : ReshapeOp();
      if (!split || !flatten->hasOneUse() || !norm->hasOneUse() || !split->hasOneUse() ||
          split.getInput().getType() != value.getType() ||
          cast<RankedTensorType>(norm.getType()).getShape().back() != attention.getHeadDim())
        return {value, RmsNormOp()};
      return {split.getInput(), norm};
    };
    auto [query, queryNorm] = perHeadNorm(plan.query);
    auto [key, keyNorm] = perHeadNorm(plan.key);
    if (queryNorm && keyNorm && queryNorm.getEpsilon() == keyNorm.getEpsilon()) {
      plan.query = query;
      plan.key = key;
      plan.queryNorm = queryNorm;
      plan.keyNorm = keyNorm;
      for (RmsNormOp norm : {queryNorm, keyNorm}) {
        handled.insert(norm);
        handled.insert(norm.getInput().getDefiningOp());
        handled.insert(*norm->getUsers().begin());
      }
    }
    fusedAttention[attention] = plan;
  }
}

void BodyLowering::lowerAttention(AttentionOp attention) {
  auto fused = fusedAttention.find(attention);
  if (fused != fusedAttention.end())
    return lowerFusedAttention(attention, fused->second);

  Location loc = attention.getLoc();
  Type element = cast<RankedTensorType>(attention.getType()).getElementType();
  auto cacheType = MemRefType::get({ShapedType::kDynamic, kBlockSize, attention.getNumKvHeads(),
                                    attention.getHeadDim()},
                                   element);
  auto caches = gcu::KvCacheOp::create(builder, loc, cacheType, cacheType, nextLayer++);
  gcu::ReshapeAndCacheOp::create(builder, loc, buffer(attention.getKey()),
                                 buffer(attention.getValue()), slotMapping, caches.getKeyCache(),
                                 caches.getValueCache());
  Value out = allocate(attention.getType(), loc);
  bind(attention, out);
  auto window = attention.getSlidingWindowAttr();
  if (phase == gcu::AttentionPhase::prefill)
    gcu::ContextAttentionOp::create(builder, loc, buffer(attention.getQuery()),
                                    buffer(attention.getKey()), buffer(attention.getValue()),
                                    positions, out, attention.getNumHeadsAttr(),
                                    attention.getNumKvHeadsAttr(), attention.getHeadDimAttr(),
                                    attention.getScaleAttr(), window);
  else
    gcu::PagedAttentionOp::create(builder, loc, buffer(attention.getQuery()),
                                  caches.getKeyCache(), caches.getValueCache(), blockTable,
                                  positions, out, attention.getNumHeadsAttr(),
                                  attention.getNumKvHeadsAttr(), attention.getHeadDimAttr(),
                                  attention.getScaleAttr(), window);
}

void BodyLowering::lowerFusedAttention(AttentionOp attention, FusedAttentionPlan plan) {
  RotaryEmbeddingOp rotary = plan.rotary;
  Location loc = attention.getLoc();
  if (rotary)
    loc = builder.getFusedLoc({loc, rotary.getLoc()});
  Type element = cast<RankedTensorType>(attention.getType()).getElementType();
  auto cacheType = MemRefType::get({ShapedType::kDynamic, kBlockSize, attention.getNumKvHeads(),
                                    attention.getHeadDim()},
                                   element);
  auto caches = gcu::KvCacheOp::create(builder, loc, cacheType, cacheType, nextLayer++);
  Value out = allocate(attention.getType(), loc);
  bind(attention, out);
  Value rotaryPositions = rotary ? buffer(rotary.getPositions()) : positions;
  auto fused = gcu::FusedRopeCacheAttentionOp::create(
      builder, loc, buffer(plan.query), buffer(plan.key), buffer(attention.getValue()),
      rotaryPositions, slotMapping, blockTable,
      plan.queryNorm ? buffer(plan.queryNorm.getWeight()) : Value(),
      plan.keyNorm ? buffer(plan.keyNorm.getWeight()) : Value(), caches.getKeyCache(),
      caches.getValueCache(), out, phase, attention.getNumHeadsAttr(),
      attention.getNumKvHeadsAttr(), attention.getHeadDimAttr(), attention.getScaleAttr(),
      attention.getSlidingWindowAttr(), std::nullopt, nullptr, nullptr,
      plan.queryNorm ? plan.queryNorm.getEpsilonAttr() : nullptr);
  if (rotary) {
    fused.setRotaryStyle(rotary.getStyle() == RotaryStyle::neox ? gcu::RotaryStyle::neox
                                                                : gcu::RotaryStyle::gptj);
    fused.setRotaryDimAttr(rotary.getRotaryDimAttr());
    fused.setThetaAttr(rotary.getThetaAttr());
  }
}

struct LowerToGcuPass : vgcu::impl::LowerToGcuBase<LowerToGcuPass> {
  using LowerToGcuBase::LowerToGcuBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto entries = getModelEntries(module);
    if (failed(entries))
      return signalPassFailure();
    func::FuncOp forward = entries->forward, logits = entries->computeLogits;
    LowerToGcuOptions options{fuseRopeCache, gemmEpilogues};
    OpBuilder builder(&getContext());
    int64_t layers = 0;
    for (auto phase : {gcu::AttentionPhase::prefill, gcu::AttentionPhase::decode}) {
      auto idsType = MemRefType::get({ShapedType::kDynamic}, builder.getI64Type());
      auto logitsType = cast<RankedTensorType>(logits.getResultTypes()[0]);
      SmallVector<int64_t> lastShape(logitsType.getShape());
      lastShape[0] = 1;
      auto resultType = MemRefType::get(lastShape, logitsType.getElementType());
      builder.setInsertionPointToEnd(module.getBody());
      auto entry = func::FuncOp::create(
          builder, forward.getLoc(),
          phase == gcu::AttentionPhase::prefill ? "prefill" : "decode",
          builder.getFunctionType({idsType, idsType, idsType, idsType}, {resultType}));
      const char *names[] = {"input_ids", "positions", "slot_mapping", "block_table"};
      for (auto [i, name] : llvm::enumerate(names))
        entry.setArgAttr(i, "vgcu.name", builder.getStringAttr(name));
      Block *block = entry.addEntryBlock();
      builder.setInsertionPointToEnd(block);
      Value ids = block->getArgument(0), positions = block->getArgument(1);
      BodyLowering lowering(builder, options, phase, positions, block->getArgument(2),
                            block->getArgument(3));
      Value tokens =
          gcu::DimOp::create(builder, forward.getLoc(), builder.getIndexType(), ids, 0);
      SmallVector<Value> hidden;
      if (failed(lowering.lower(forward.getBody().front(), {ids, positions}, tokens, 0, hidden)))
        return signalPassFailure();
      layers = lowering.nextLayer;
      // Only the newest token's logits are needed to pick the next token.
      auto hiddenType = cast<MemRefType>(hidden.front().getType());
      SmallVector<int64_t> lastHidden(hiddenType.getShape());
      lastHidden[0] = 1;
      Value last = gcu::LastTokenViewOp::create(
          builder, forward.getLoc(), MemRefType::get(lastHidden, hiddenType.getElementType()),
          hidden.front());
      SmallVector<Value> results;
      if (failed(lowering.lower(logits.getBody().front(), {last}, Value(), 1, results)))
        return signalPassFailure();
      func::ReturnOp::create(builder, logits.getLoc(), results);
    }
    module->setAttr("vgcu.kv_layers", builder.getI64IntegerAttr(layers));
    module->setAttr("vgcu.kv_block_size", builder.getI64IntegerAttr(kBlockSize));
    forward.erase();
    logits.erase();
  }
};

} // namespace
