//===- Layers.cpp - The building blocks of model graph builders -------------------===//

#include "vgcu/Models/Layers.h"

#include "dialects/vgcu/VgcuOps.h"

#include <cmath>

using namespace mlir;
using namespace vgcu;

Module::Module(ModelContext &ctx, std::string prefix) : ctx(ctx), modulePrefix(std::move(prefix)) {}

std::string Module::child(llvm::StringRef name) const {
  return modulePrefix.empty() ? name.str() : modulePrefix + "." + name.str();
}

Value Module::param(llvm::StringRef name, llvm::ArrayRef<int64_t> shape) {
  return ctx.param(child(name), shape);
}

Location Module::loc() { return ctx.loc(modulePrefix); }

//===----------------------------------------------------------------------===//
// Linear layers
//===----------------------------------------------------------------------===//

Linear::Linear(ModelContext &ctx, std::string prefix, int64_t inFeatures, int64_t outFeatures,
               bool bias)
    : Module(ctx, std::move(prefix)), inputSize(inFeatures), outputSize(outFeatures),
      hasBias(bias) {}

Value Linear::forward(Value input) {
  Value weight = param("weight", {outputSize, inputSize});
  Value bias = hasBias ? param("bias", {outputSize}) : Value();
  return LinearOp::create(ctx.builder(), loc(), input, weight, bias);
}

PackedLinear::PackedLinear(ModelContext &ctx, std::string prefix, int64_t inFeatures,
                           std::vector<std::pair<std::string, int64_t>> parts, bool bias)
    : Module(ctx, std::move(prefix)), inputSize(inFeatures), parts(std::move(parts)),
      hasBias(bias) {}

Value PackedLinear::forward(Value input) {
  int64_t total = 0;
  SmallVector<StringRef> names;
  SmallVector<int64_t> sizes;
  for (const auto &[name, size] : parts) {
    names.push_back(name);
    sizes.push_back(size);
    total += size;
  }
  Value weight = param("weight", {total, inputSize});
  Value bias = hasBias ? param("bias", {total}) : Value();
  OpBuilder &b = ctx.builder();
  return LinearOp::create(b, loc(), input, weight, bias, /*residual=*/Value(),
                          b.getStrArrayAttr(names), b.getDenseI64ArrayAttr(sizes),
                          Epilogue::none, /*first_rank_bias=*/false, /*soft_cap=*/nullptr);
}

std::vector<Value> PackedLinear::split(Value packed) {
  std::vector<Value> pieces;
  int64_t start = 0;
  int64_t lastDim = cast<RankedTensorType>(packed.getType()).getRank() - 1;
  for (const auto &[name, size] : parts) {
    pieces.push_back(ctx.slice(packed, lastDim, start, start + size, loc()));
    start += size;
  }
  return pieces;
}

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

RMSNorm::RMSNorm(ModelContext &ctx, std::string prefix, int64_t size, double epsilon,
                 double weightOffset, bool scaleInF32)
    : Module(ctx, std::move(prefix)), size(size), epsilon(epsilon),
      weightOffset(weightOffset), scaleInF32(scaleInF32) {}

Value RMSNorm::weight() {
  Value weight = param("weight", {size});
  if (scaleInF32)
    weight = ctx.cast(weight, ctx.builder().getF32Type(), loc());
  if (weightOffset == 0.0)
    return weight;
  Type element = cast<RankedTensorType>(weight.getType()).getElementType();
  return ctx.add(weight, ctx.scalar(weightOffset, loc(), element), loc());
}

Value RMSNorm::forward(Value input) {
  return RmsNormOp::create(ctx.builder(), loc(), input, weight(), epsilon);
}

std::pair<Value, Value> RMSNorm::forward(Value input, Value residual) {
  if (!residual)
    return {forward(input), input};
  auto fused = AddRmsNormOp::create(ctx.builder(), loc(), input, residual, weight(), epsilon);
  return {fused.getNormed(), fused.getSum()};
}

LayerNorm::LayerNorm(ModelContext &ctx, std::string prefix, int64_t size, double epsilon)
    : Module(ctx, std::move(prefix)), size(size), epsilon(epsilon) {}

Value LayerNorm::forward(Value input) {
  Value weight = param("weight", {size});
  Value bias = param("bias", {size});
  return LayerNormOp::create(ctx.builder(), loc(), input, weight, bias,
                             ctx.builder().getF64FloatAttr(epsilon));
}

//===----------------------------------------------------------------------===//
// Embedding and LM head
//===----------------------------------------------------------------------===//

VocabEmbedding::VocabEmbedding(ModelContext &ctx, std::string prefix, int64_t vocabSize,
                               int64_t hiddenSize)
    : Module(ctx, std::move(prefix)), vocab(vocabSize), hidden(hiddenSize) {}

Value VocabEmbedding::forward(Value ids) {
  Value table = param("weight", {vocab, hidden});
  return EmbeddingOp::create(ctx.builder(), loc(), ids, table, /*vocab_parallel=*/false);
}

LMHead::LMHead(ModelContext &ctx, std::string prefix, int64_t vocabSize, int64_t hiddenSize)
    : LMHead(ctx, prefix, vocabSize, hiddenSize, prefix + ".weight") {}

LMHead::LMHead(ModelContext &ctx, std::string prefix, int64_t vocabSize, int64_t hiddenSize,
               std::string weightName)
    : Module(ctx, std::move(prefix)), vocab(vocabSize), hidden(hiddenSize),
      weight(std::move(weightName)) {}

LMHead LMHead::tiedTo(ModelContext &ctx, const VocabEmbedding &embedding) {
  return LMHead(ctx, "lm_head", embedding.vocabSize(), embedding.hiddenSize(),
                embedding.weightName());
}

Value LMHead::forward(Value hiddenStates) {
  Value table = ctx.param(weight, {vocab, hidden});
  return LinearOp::create(ctx.builder(), loc(), hiddenStates, table, Value());
}

//===----------------------------------------------------------------------===//
// Rotary embedding and attention
//===----------------------------------------------------------------------===//

RotaryEmbedding::RotaryEmbedding(ModelContext &ctx, std::string prefix, int64_t headDim,
                                 int64_t rotaryDim, double theta, bool neoxStyle,
                                 std::optional<RopeScaling> scaling)
    : Module(ctx, std::move(prefix)), headDim(headDim), rotaryDim(rotaryDim), theta(theta),
      neoxStyle(neoxStyle), scaling(std::move(scaling)) {}

std::pair<Value, Value> RotaryEmbedding::forward(Value positions, Value query, Value key) {
  OpBuilder &b = ctx.builder();
  auto rotary = RotaryEmbeddingOp::create(
      b, loc(), positions, query, key, neoxStyle ? RotaryStyle::neox : RotaryStyle::gptj,
      b.getI64IntegerAttr(headDim), b.getI64IntegerAttr(rotaryDim), b.getF64FloatAttr(theta),
      scaling ? ropeScalingAttr(b.getContext(), *scaling) : RopeScalingAttr());
  return {rotary.getQueryOut(), rotary.getKeyOut()};
}

RopeScalingAttr vgcu::ropeScalingAttr(MLIRContext *context, const RopeScaling &scaling) {
  auto type = symbolizeRopeType(scaling.type);
  assert(type && "the config reader accepts only known rope types");
  auto array = [&](const std::vector<double> &values) {
    return values.empty() ? DenseF64ArrayAttr() : DenseF64ArrayAttr::get(context, values);
  };
  return RopeScalingAttr::get(
      context, *type, llvm::APFloat(scaling.factor), scaling.originalMaxPositions,
      llvm::APFloat(scaling.lowFreqFactor), llvm::APFloat(scaling.highFreqFactor),
      llvm::APFloat(scaling.betaFast), llvm::APFloat(scaling.betaSlow), scaling.truncate,
      llvm::APFloat(scaling.attentionFactor), array(scaling.shortFactor),
      array(scaling.longFactor), /*frequencies=*/DenseF64ArrayAttr());
}

Attention::Attention(ModelContext &ctx, std::string prefix, int64_t numHeads,
                     int64_t numKvHeads, int64_t headDim, double scale,
                     std::optional<int64_t> slidingWindow, std::optional<double> softcap)
    : Module(ctx, std::move(prefix)), numHeads(numHeads), numKvHeads(numKvHeads),
      headDim(headDim), scale(scale), slidingWindow(slidingWindow), softcap(softcap) {}

Value Attention::forward(Value query, Value key, Value value) {
  OpBuilder &b = ctx.builder();
  return AttentionOp::create(b, loc(), query, key, value,
                             b.getI64IntegerAttr(numHeads), b.getI64IntegerAttr(numKvHeads),
                             b.getI64IntegerAttr(headDim), b.getF64FloatAttr(scale),
                             b.getUnitAttr(),
                             slidingWindow ? b.getI64IntegerAttr(*slidingWindow) : nullptr,
                             softcap ? b.getF64FloatAttr(*softcap) : nullptr);
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

static bool isTanhGelu(llvm::StringRef act) {
  return act == "gelu_pytorch_tanh" || act == "gelu_new";
}

Value vgcu::gatedActivation(ModelContext &ctx, llvm::StringRef act, Value input, Location loc) {
  if (act == "silu")
    return SiluAndMulOp::create(ctx.builder(), loc, input);
  return GeluAndMulOp::create(ctx.builder(), loc, input,
                              isTanhGelu(act) ? GeluApproximation::tanh
                                              : GeluApproximation::none);
}

Value vgcu::activation(ModelContext &ctx, llvm::StringRef act, Value input, Location loc) {
  OpBuilder &b = ctx.builder();
  if (act == "relu")
    return ReluOp::create(b, loc, input);
  if (act == "silu")
    return SiluOp::create(b, loc, input);
  return GeluOp::create(b, loc, input,
                        isTanhGelu(act) ? GeluApproximation::tanh : GeluApproximation::none);
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

SparseMoeBlock::SparseMoeBlock(ModelContext &ctx, std::string prefix, const MoeConfig &moe,
                               int64_t hiddenSize, std::vector<std::string> expertParts)
    : FeedForward(ctx, std::move(prefix)), moe(moe), hiddenSize(hiddenSize),
      expertParts(std::move(expertParts)) {}

Value SparseMoeBlock::forward(Value hiddenStates) {
  OpBuilder &b = ctx.builder();
  int64_t experts = moe.numExperts, intermediate = moe.intermediateSize;
  Value gate = param("gate.weight", {experts, hiddenSize});
  // DeepSeek's MoEGate takes the general form; Mixtral's and Qwen's the softmax top-k.
  bool general = moe.routeInF32 || moe.sigmoidScoring || moe.scalingFactor || moe.numGroups ||
                 moe.correctionBias;
  MoeRouterOp router =
      general
          ? MoeRouterOp::create(
                b, ctx.loc(child("gate")), hiddenStates, gate,
                moe.correctionBias ? param("gate.e_score_correction_bias", {experts}) : Value(),
                b.getI64IntegerAttr(moe.topK), moe.renormalize ? b.getUnitAttr() : UnitAttr(),
                moe.sigmoidScoring ? MoeScoring::sigmoid : MoeScoring::softmax,
                moe.groupTopTwoSum ? MoeGroupScore::top2_sum : MoeGroupScore::max,
                moe.numGroups ? b.getI64IntegerAttr(moe.numGroups) : IntegerAttr(),
                moe.numGroups ? b.getI64IntegerAttr(moe.topkGroups) : IntegerAttr(),
                moe.scalingFactor ? b.getF64FloatAttr(*moe.scalingFactor) : FloatAttr(),
                moe.routeInF32 ? b.getUnitAttr() : UnitAttr())
          : MoeRouterOp::create(b, ctx.loc(child("gate")), hiddenStates, gate, moe.topK,
                                moe.renormalize);
  Value gateUp = param("experts.gate_up.weight", {experts * 2 * intermediate, hiddenSize});
  Value down = param("experts.down.weight", {experts * hiddenSize, intermediate});
  SmallVector<StringRef> names(expertParts.begin(), expertParts.end());
  Value sharedGateUp, sharedDown, sharedGate;
  if (int64_t shared = moe.sharedIntermediateSize) {
    // Qwen2-MoE's shared_expert (a dense gated MLP) and its shared_expert_gate; DeepSeek's
    // shared_experts.
    sharedGateUp = param(moe.sharedModule + ".gate_up_proj.weight", {2 * shared, hiddenSize});
    sharedDown = param(moe.sharedModule + ".down_proj.weight", {hiddenSize, shared});
    if (moe.sharedGate)
      sharedGate = param("shared_expert_gate.weight", {1, hiddenSize});
  }
  return MoeExpertsOp::create(b, ctx.loc(child("experts")), hiddenStates, router.getWeights(),
                              router.getIds(), gateUp, down, sharedGateUp, sharedDown,
                              sharedGate, b.getI64IntegerAttr(experts),
                              b.getStrArrayAttr(names), /*expert_parallel=*/nullptr);
}
