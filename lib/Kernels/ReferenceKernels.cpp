//===- ReferenceKernels.cpp - Every gcu kernel on ATen, the CPU reference library ---===//
//
// Numerics follow the Hugging Face reference implementations the tests compare against:
// RMSNorm normalizes in f32 and rounds once before the weight multiply, rotary tables are
// computed in f32 and cast, attention scores are scaled in the model dtype and softmax runs
// in f32. CPU ATen has no f16 matrix kernels, so f16 matrix products compute in f32.
//
//===----------------------------------------------------------------------===//

#include "vgcu/Runtime/Kernels.h"
#include "GemmKernels.h"
#include "RowKernels.h"

#include "dialects/gcu/GcuDialect.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Weights/Quantization.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <limits>

using namespace mlir;
using namespace vgcu::runtime;
using vgcu::makeError;

std::vector<std::string> KernelLibrary::opNames() const {
  std::vector<std::string> names;
  for (const auto &entry : binders)
    names.push_back(entry.getKey().str());
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

class SingleRank : public Collectives {
public:
  int64_t rank() const override { return 0; }
  int64_t worldSize() const override { return 1; }
  int64_t tensorParallelSize() const override { return 1; }
  void allReduce(at::Tensor &, vgcu::CollectiveGroup) override {}
  void allGather(const at::Tensor &input, at::Tensor &output, int64_t) override {
    output.copy_(input);
  }
};

/// The ranks an all-reduce (fused or not) spans; a kernel without one is tensor-parallel.
vgcu::CollectiveGroup collectiveGroupOf(Operation *op) {
  if (auto reduce = dyn_cast<gcu::AllReduceOp>(op))
    return reduce.getGroup();
  if (auto fused = dyn_cast<gcu::AllReduceFusedAddRmsNormOp>(op))
    return fused.getGroup();
  if (auto fused = dyn_cast<gcu::AllReduceFusedAddLayerNormOp>(op))
    return fused.getGroup();
  if (auto fused = dyn_cast<gcu::AllReduceFusedNormAddNormOp>(op))
    return fused.getGroup();
  return vgcu::CollectiveGroup::tensor;
}

/// Matrix products and transcendental functions need a dtype CPU ATen implements: f16
/// computes in f32 (results are rounded back when copied into their f16 buffers).
at::ScalarType computeType(at::ScalarType type) {
  return type == at::kHalf ? at::kFloat : type;
}

/// The dtype matrix products compute in: f16 in f32 (CPU ATen has no f16 GEMM), and bf16 in
/// f32 where ATen's own bf16 GEMM is scalar loops (no oneDNN: 2.6 GFLOP/s on a 2-core AVX2
/// EPYC, against some 80 widened). Both forms sum in f32 and round the result once.
at::ScalarType productType(at::ScalarType type) {
  if (type == at::kBFloat16 && !gemm::atenBf16GemmIsFast())
    return at::kFloat;
  return computeType(type);
}

at::Tensor widen(const at::Tensor &tensor) {
  return tensor.scalar_type() == at::kHalf ? tensor.to(at::kFloat) : tensor;
}

/// x·Wᵀ (+ b) of 2-D `x` as F.linear computes it (addmm with a bias, mm without). A single
/// token (a decode step) is a matrix-vector product: BLAS GEMM would repack the whole weight
/// for it.
at::Tensor linearRows(const at::Tensor &x, const at::Tensor &w, const at::Tensor &bias) {
  if (x.size(0) == 1 && x.scalar_type() == at::kFloat)
    return (bias.defined() ? at::addmv(bias, w, x[0]) : at::mv(w, x[0])).unsqueeze(0);
  return bias.defined() ? at::addmm(bias, x, w.t()) : at::mm(x, w.t());
}

/// linearRows with the output features split over ATen's threads. BLAS runs single-threaded
/// inside ATen's pool (vgcu-run makes it so: one pool, no oversubscription), so one product
/// would use one core; each thread computes whole output features, with the sums of one
/// product, so the result does not depend on the split.
at::Tensor linearSplit(const at::Tensor &x, const at::Tensor &w, const at::Tensor &bias) {
  constexpr int64_t kMinFeaturesPerThread = 128;
  int64_t features = w.size(0), threads = at::get_num_threads();
  if (threads < 2 || at::in_parallel_region() || features < 2 * kMinFeaturesPerThread)
    return linearRows(x, w, bias);
  at::Tensor y = at::empty({x.size(0), features}, x.options());
  int64_t grain = std::max(kMinFeaturesPerThread, (features + threads - 1) / threads);
  at::parallel_for(0, features, grain, [&](int64_t begin, int64_t end) {
    at::Tensor part = linearRows(x, w.narrow(0, begin, end - begin),
                                 bias.defined() ? bias.narrow(0, begin, end - begin) : bias);
    y.narrow(1, begin, end - begin).copy_(part);
  });
  return y;
}

/// x·Wᵀ (+ b) in the input's dtype, computed in productType.
at::Tensor linear(const at::Tensor &input, const at::Tensor &weight, const at::Tensor &bias) {
  at::ScalarType type = productType(input.scalar_type());
  at::Tensor x = input.to(type), w = weight.to(type);
  at::Tensor y = linearSplit(x.reshape({-1, x.size(-1)}), w,
                             bias.defined() ? bias.to(type) : bias);
  std::vector<int64_t> shape(input.sizes().begin(), input.sizes().end());
  shape.back() = weight.size(0);
  return y.view(shape).to(input.scalar_type());
}

/// linear(), or with `batchInvariant` (RuntimeState) the GEMM kernels whose sums for a token
/// do not depend on the other tokens, where they take the operands.
at::Tensor linearFor(bool batchInvariant, const at::Tensor &input, const at::Tensor &weight,
                     const at::Tensor &bias) {
  if (batchInvariant && gemm::oneTokenApplies(input, weight))
    return gemm::linearOneToken(input, weight, bias);
  if (batchInvariant && gemm::fewTokensApply(input, weight, /*anyCount=*/true))
    return gemm::linearFewTokens(input, weight, bias);
  return linear(input, weight, bias);
}

/// at::sigmoid of `x`, or with `batchInvariant` of each row on its own: ATen runs a contiguous
/// tensor as one loop and computes the elements past its last multiple of two vectors with
/// the scalar function, which rounds differently from the vector one, so which elements
/// those are would depend on how many rows the batch has.
at::Tensor sigmoidFor(bool batchInvariant, const at::Tensor &x) {
  if (!batchInvariant || x.dim() < 2 || x.size(0) < 2)
    return at::sigmoid(x);
  at::Tensor result = at::empty_like(x);
  for (int64_t row = 0; row < x.size(0); ++row)
    result[row].copy_(at::sigmoid(x[row]));
  return result;
}

/// The name of the f16 weight `value` is, or "" for anything else: CPU ATen has no f16 GEMM,
/// and widening a weight on every call would read and write all of it on every step, so the
/// GEMM kernels widen such weights once (RuntimeState::widenedWeights).
std::string widenedWeightName(Value value) {
  auto weight = value.getDefiningOp<gcu::WeightOp>();
  if (!weight || !weight.getResult().getType().getElementType().isF16())
    return "";
  return weight.getName().str();
}

/// `weight` as a GEMM reads it: widened once and kept when it has a name (see above).
const at::Tensor &gemmWeight(const at::Tensor &weight, const std::string &name,
                             RuntimeState &state) {
  if (name.empty())
    return weight;
  at::Tensor &widened = state.widenedWeights[name];
  if (!widened.defined())
    widened = weight.to(at::kFloat);
  return widened;
}

/// Hugging Face LlamaRMSNorm: normalize in f32, round, then scale in the model dtype.
at::Tensor rmsNorm(const at::Tensor &input, const at::Tensor &weight, double epsilon) {
  at::Tensor h = input.to(at::kFloat);
  at::Tensor variance = h.pow(2).mean(-1, /*keepdim=*/true);
  h = h * at::rsqrt(variance + epsilon);
  // An f32 weight over a narrower input (Gemma's 1 + w) scales before the one rounding, as
  // GemmaRMSNorm does; a weight of the input's type scales the rounded value, as Llama's.
  if (weight.scalar_type() == at::kFloat && input.scalar_type() != at::kFloat)
    return (h * weight).to(input.scalar_type());
  return weight * h.to(input.scalar_type());
}

/// cap · tanh(x / cap) in x's dtype, as Gemma 2 soft-caps its logits.
at::Tensor capSoftly(const at::Tensor &x, double cap) { return at::tanh(x / cap) * cap; }

/// LayerNorm over the last dimension, in the input's compute type (f32 for f16, which CPU
/// ATen cannot normalize).
at::Tensor layerNorm(const at::Tensor &input, const at::Tensor &weight, const at::Tensor &bias,
                     double epsilon) {
  at::ScalarType compute = computeType(input.scalar_type());
  return at::layer_norm(input.to(compute), {input.size(-1)}, weight.to(compute),
                        bias.to(compute), epsilon);
}

/// How a rotary kernel derives its frequencies: Hugging Face's modeling_rope_utils.py,
/// op for op in f32 ATen (python/vgcu_ref/rope.py is the reference it follows), so the
/// tables are the ones the PyTorch model computes.
struct RopeFrequencies {
  int64_t rotaryDim = 0;
  double theta = 10000.0;
  vgcu::RotaryStyle style = vgcu::RotaryStyle::neox;
  std::optional<vgcu::RopeType> type;
  /// The frequencies of every call (longrope: the short ones; dynamic: below the switch).
  at::Tensor invFreq;
  /// longrope: the frequencies of a call past the switch.
  at::Tensor longInvFreq;
  /// dynamic, longrope: a call whose largest position + 1 exceeds this switches.
  int64_t switchLength = 0;
  double factor = 1.0;
  /// What cos and sin are multiplied by (yarn, longrope).
  double attentionScaling = 1.0;
};

/// arange(0, dim, 2) / dim in f32, as HF writes it.
at::Tensor ropeExponent(int64_t dim) {
  return at::arange(0, dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) /
         static_cast<double>(dim);
}

/// `1.0 / (base ** exponent)`: Python's scalar / tensor is reciprocal(tensor) * scalar.
at::Tensor defaultInvFreq(const at::Tensor &base, int64_t dim) {
  return at::reciprocal(at::pow(base, ropeExponent(dim)));
}
at::Tensor defaultInvFreq(double base, int64_t dim) {
  return at::reciprocal(at::pow(base, ropeExponent(dim)));
}

at::Tensor llama3InvFreq(const at::Tensor &invFreq, vgcu::RopeScalingAttr scaling) {
  double factor = scaling.getFactor().convertToDouble();
  double low = scaling.getLowFreqFactor().convertToDouble();
  double high = scaling.getHighFreqFactor().convertToDouble();
  double context = static_cast<double>(scaling.getOriginalMaxPositions());
  double lowWavelen = context / low, highWavelen = context / high;
  at::Tensor wavelen = at::reciprocal(invFreq) * (2 * M_PI);
  at::Tensor llama = at::where(wavelen > lowWavelen, invFreq / factor, invFreq);
  at::Tensor smooth = (at::reciprocal(wavelen) * context - low) / (high - low);
  at::Tensor smoothed = (1 - smooth) * llama / factor + smooth * llama;
  at::Tensor medium = at::logical_not(wavelen < highWavelen) * at::logical_not(wavelen > lowWavelen);
  return at::where(medium, smoothed, llama);
}

/// YaRN's correction dimension (Python doubles).
double yarnCorrectionDim(double rotations, int64_t dim, double base, double maxPositions) {
  return (dim * std::log(maxPositions / (rotations * 2 * M_PI))) / (2 * std::log(base));
}

at::Tensor yarnInvFreq(double base, int64_t dim, vgcu::RopeScalingAttr scaling) {
  double factor = scaling.getFactor().convertToDouble();
  double original = static_cast<double>(scaling.getOriginalMaxPositions());
  double low = yarnCorrectionDim(scaling.getBetaFast().convertToDouble(), dim, base, original);
  double high = yarnCorrectionDim(scaling.getBetaSlow().convertToDouble(), dim, base, original);
  if (scaling.getTruncate()) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(dim - 1));
  if (low == high)
    high += 0.001; // HF: prevent a singularity
  at::Tensor posFreqs = at::pow(base, ropeExponent(dim));
  at::Tensor extrapolation = at::reciprocal(posFreqs);
  at::Tensor interpolation = at::reciprocal(posFreqs * factor);
  at::Tensor ramp =
      at::clamp((at::arange(dim / 2, at::TensorOptions().dtype(at::kFloat)) - low) / (high - low),
                0, 1);
  at::Tensor extrapolationFactor = 1 - ramp;
  return interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor;
}

at::Tensor longropeInvFreq(double base, int64_t dim, mlir::DenseF64ArrayAttr factors) {
  std::vector<float> values(factors.asArrayRef().begin(), factors.asArrayRef().end());
  at::Tensor extension =
      at::tensor(at::ArrayRef<float>(values), at::TensorOptions().dtype(at::kFloat));
  return at::reciprocal(extension * at::pow(base, ropeExponent(dim)));
}

/// Everything computed once, when the kernel is bound.
RopeFrequencies ropeFrequencies(int64_t rotaryDim, double theta, vgcu::RotaryStyle style,
                                vgcu::RopeScalingAttr scaling) {
  RopeFrequencies rope;
  rope.rotaryDim = rotaryDim;
  rope.theta = theta;
  rope.style = style;
  rope.invFreq = defaultInvFreq(theta, rotaryDim);
  if (!scaling)
    return rope;
  rope.type = scaling.getType();
  rope.factor = scaling.getFactor().convertToDouble();
  rope.attentionScaling = scaling.getAttentionFactor().convertToDouble();
  switch (scaling.getType()) {
  case vgcu::RopeType::linear:
    rope.invFreq = rope.invFreq / rope.factor;
    break;
  case vgcu::RopeType::llama3:
    rope.invFreq = llama3InvFreq(rope.invFreq, scaling);
    break;
  case vgcu::RopeType::yarn:
    rope.invFreq = yarnInvFreq(theta, rotaryDim, scaling);
    break;
  case vgcu::RopeType::dynamic:
    rope.switchLength = scaling.getOriginalMaxPositions();
    break;
  case vgcu::RopeType::precomputed: {
    std::vector<float> values(scaling.getFrequencies().asArrayRef().begin(),
                              scaling.getFrequencies().asArrayRef().end());
    rope.invFreq = at::tensor(at::ArrayRef<float>(values), at::TensorOptions().dtype(at::kFloat));
    break;
  }
  case vgcu::RopeType::longrope:
    rope.invFreq = longropeInvFreq(theta, rotaryDim, scaling.getShortFactor());
    rope.longInvFreq = longropeInvFreq(theta, rotaryDim, scaling.getLongFactor());
    rope.switchLength = scaling.getOriginalMaxPositions();
    break;
  }
  return rope;
}

/// The frequencies of one call: dynamic and longrope look at its largest position.
at::Tensor callInvFreq(const RopeFrequencies &rope, const at::Tensor &positions) {
  if (!rope.type || (*rope.type != vgcu::RopeType::dynamic &&
                     *rope.type != vgcu::RopeType::longrope) ||
      positions.numel() == 0)
    return rope.invFreq;
  at::Tensor seqLen = positions.max() + 1;
  if (seqLen.item<int64_t>() <= rope.switchLength)
    return rope.invFreq;
  if (*rope.type == vgcu::RopeType::longrope)
    return rope.longInvFreq;
  // base = theta * ((factor * seq_len / max_pos) - (factor - 1)) ** (dim / (dim - 2)),
  // in f32 tensor arithmetic from the int64 seq_len, as HF computes it.
  double dim = static_cast<double>(rope.rotaryDim);
  at::Tensor grown = at::clamp_min(seqLen, rope.switchLength);
  at::Tensor ratio = at::mul(grown, rope.factor) / static_cast<double>(rope.switchLength);
  at::Tensor base = at::pow(ratio - (rope.factor - 1), dim / (dim - 2)) * rope.theta;
  return defaultInvFreq(base, rope.rotaryDim);
}

/// Rotary tables [tokens, rotary_dim] in `type`, from positions, as HF computes them.
std::pair<at::Tensor, at::Tensor> rotaryTables(const at::Tensor &positions,
                                               const RopeFrequencies &rope,
                                               at::ScalarType type) {
  at::Tensor invFreq = callInvFreq(rope, positions);
  at::Tensor freqs = positions.to(at::kFloat).unsqueeze(1) * invFreq.unsqueeze(0);
  at::Tensor angles = rope.style == vgcu::RotaryStyle::neox ? at::cat({freqs, freqs}, -1)
                                                           : freqs.repeat_interleave(2, -1);
  at::Tensor cos = angles.cos(), sin = angles.sin();
  if (rope.attentionScaling != 1.0) {
    cos = cos * rope.attentionScaling;
    sin = sin * rope.attentionScaling;
  }
  return {cos.to(type), sin.to(type)};
}

/// Rotates [tokens, heads, head_dim] `x` (first rotary_dim channels), returning a new tensor.
at::Tensor rotate(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin,
                  int64_t rotaryDim, vgcu::RotaryStyle style) {
  at::Tensor part = x.narrow(-1, 0, rotaryDim);
  at::Tensor rotated;
  if (style == vgcu::RotaryStyle::neox) {
    int64_t half = rotaryDim / 2;
    rotated = at::cat({-part.narrow(-1, half, half), part.narrow(-1, 0, half)}, -1);
  } else {
    at::Tensor even = part.slice(-1, 0, rotaryDim, 2), odd = part.slice(-1, 1, rotaryDim, 2);
    rotated = at::stack({-odd, even}, -1).flatten(-2);
  }
  at::Tensor result = part * cos.unsqueeze(1) + rotated * sin.unsqueeze(1);
  if (rotaryDim == x.size(-1))
    return result;
  return at::cat({result, x.narrow(-1, rotaryDim, x.size(-1) - rotaryDim)}, -1);
}

/// Softmax over keys of [heads, T, S] scores in the model dtype, with keys after the query's
/// position (or beyond the sliding window) masked: filled with the most negative finite
/// value of the dtype, as the reference fills them, normalized in f32 and rounded back.
at::Tensor causalSoftmax(const at::Tensor &scores, const at::Tensor &queryPositions,
                         const at::Tensor &keyPositions, std::optional<int64_t> window) {
  at::ScalarType type = scores.scalar_type();
  at::Tensor masked = keyPositions.unsqueeze(0) > queryPositions.unsqueeze(1);
  if (window)
    masked = masked.logical_or(queryPositions.unsqueeze(1) - keyPositions.unsqueeze(0) >= *window);
  double lowest = type == at::kHalf       ? -65504.0
                  : type == at::kBFloat16 ? -3.3895313892515355e38
                                          : std::numeric_limits<float>::lowest();
  return at::softmax(scores.masked_fill(masked, lowest).to(at::kFloat), -1).to(type);
}

/// Causal grouped-query attention of q [T, Hq, D] over k, v [S, Hkv, D] at the given
/// positions, written to `out` [T, Hq·D]. Scores are scaled in the model dtype and
/// normalized in f32, as the reference does.
void attend(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
            const at::Tensor &queryPositions, const at::Tensor &keyPositions, double scale,
            std::optional<int64_t> window, std::optional<double> softcap, at::Tensor &out) {
  at::ScalarType type = q.scalar_type();
  at::ScalarType compute = productType(type);
  int64_t tokens = q.size(0), heads = q.size(1), headDim = q.size(2);
  int64_t keys = k.size(0), kvHeads = k.size(1), group = heads / kvHeads;
  // Query head h uses KV head h / group: group the query heads of each KV head together.
  at::Tensor qh = q.to(compute).view({tokens, kvHeads, group, headDim}).permute({1, 2, 0, 3})
                      .reshape({kvHeads, group * tokens, headDim});
  at::Tensor kh = k.to(compute).permute({1, 2, 0});
  at::Tensor scores = at::bmm(qh, kh).to(type).view({heads, tokens, keys});
  scores = scores * scale;
  // Gemma 2: cap · tanh(s / cap) in the model dtype, before the mask.
  if (softcap)
    scores = at::tanh(scores / *softcap) * *softcap;
  at::Tensor probs = causalSoftmax(scores, queryPositions, keyPositions, window);
  int64_t valueDim = v.size(2); // multi-head latent attention: not the query's head_dim
  at::Tensor context =
      at::bmm(probs.to(compute).view({kvHeads, group * tokens, keys}),
              v.to(compute).permute({1, 0, 2}))
          .view({kvHeads, group, tokens, valueDim})
          .permute({2, 0, 1, 3})
          .reshape({tokens, heads * valueDim});
  out.copy_(context);
}

/// The scales of a layer's quantized key and value caches ([blocks, block_size, heads] f32);
/// undefined for float caches.
struct CacheScales {
  at::Tensor key, value;
  bool quantized() const { return key.defined(); }
};

CacheScales cacheScales(Frame &f, const std::vector<int64_t> &registers) {
  if (registers.empty())
    return {};
  return {f.tensors[registers[0]], f.tensors[registers[1]]};
}

/// The f32 value of every FP8 E4M3 byte.
const at::Tensor &fp8CacheValues() {
  static const at::Tensor table = [] {
    at::Tensor values = at::empty({256}, at::kFloat);
    for (int code = 0; code < 256; ++code)
      values.data_ptr<float>()[code] = vgcu::fp8E4M3ToFloat(static_cast<uint8_t>(code));
    return values;
  }();
  return table;
}

/// Cached vectors read back: code × scale in f32, rounded to the activations' `type`.
at::Tensor dequantizeCache(const at::Tensor &codes, const at::Tensor &scales,
                           at::ScalarType type) {
  at::Tensor values = codes.scalar_type() == at::kChar
                          ? codes.to(at::kFloat)
                          : fp8CacheValues()
                                .index_select(0, codes.reshape({-1}).to(at::kLong))
                                .view(codes.sizes());
  return (values * scales.unsqueeze(-1)).to(type);
}

/// Vectors [tokens, heads, dim] as int8 (kChar) or FP8 (kByte) codes and one f32 scale each:
/// the vector's largest magnitude becomes the largest code, 127 or 448 (symmetric, no zero).
std::pair<at::Tensor, at::Tensor> quantizeCacheVectors(const at::Tensor &vectors,
                                                       at::ScalarType codes) {
  bool fp8 = codes == at::kByte;
  float largest = fp8 ? 448.0f : 127.0f;
  at::Tensor x = vectors.to(at::kFloat);
  at::Tensor scale = x.abs().amax(-1) / largest;
  // An all-zero vector keeps zero codes under any scale; 1 keeps it finite.
  scale = at::where(scale == 0, at::ones_like(scale), scale);
  // A non-finite input makes its scale non-finite, so it reads back as NaN whatever its codes;
  // those codes are zero rather than a float-to-integer conversion out of range.
  at::Tensor scaled =
      at::nan_to_num(x / scale.unsqueeze(-1), 0.0, 0.0, 0.0).clamp(-largest, largest);
  if (!fp8)
    return {scaled.round().to(at::kChar), scale};
  scaled = scaled.contiguous();
  at::Tensor bytes = at::empty(scaled.sizes(), at::kByte);
  const float *from = scaled.data_ptr<float>();
  uint8_t *to = bytes.data_ptr<uint8_t>();
  for (int64_t i = 0, n = scaled.numel(); i < n; ++i)
    to[i] = vgcu::floatToFp8E4M3(from[i]);
  return {bytes, scale};
}

/// Rows [0, length) of a sequence's blocks of `cache` ([blocks, block_size, ...]).
at::Tensor gatherRows(const at::Tensor &cache, const at::Tensor &blockTable, int64_t length) {
  int64_t blockSize = cache.size(1);
  int64_t blocks = (length + blockSize - 1) / blockSize;
  std::vector<int64_t> sizes(cache.sizes().begin() + 1, cache.sizes().end());
  sizes[0] = blocks * blockSize;
  return cache.index_select(0, blockTable.narrow(0, 0, blocks)).view(sizes).narrow(0, 0, length);
}

/// The keys (or values) of positions [0, length) of the sequence, gathered from its blocks
/// (and read back in `type` when the cache is quantized).
at::Tensor gatherCache(const at::Tensor &cache, const at::Tensor &scales,
                       const at::Tensor &blockTable, int64_t length, at::ScalarType type) {
  at::Tensor rows = gatherRows(cache, blockTable, length);
  return scales.defined() ? dequantizeCache(rows, gatherRows(scales, blockTable, length), type)
                          : rows;
}

void writeCache(const at::Tensor &key, const at::Tensor &value, const at::Tensor &slots,
                at::Tensor &keyCache, at::Tensor &valueCache, const CacheScales &scales = {}) {
  // Each cache by its own shape: the value cache may be narrower (MLA's rotary key).
  for (auto [source, cache, scale] : {std::tuple(&key, &keyCache, &scales.key),
                                      std::tuple(&value, &valueCache, &scales.value)}) {
    int64_t kvHeads = cache->size(2), headDim = cache->size(3);
    at::Tensor vectors = source->reshape({-1, kvHeads, headDim});
    if (!scale->defined()) {
      cache->view({-1, kvHeads, headDim}).index_copy_(0, slots, vectors.to(cache->scalar_type()));
      continue;
    }
    auto [codes, vectorScales] = quantizeCacheVectors(vectors, cache->scalar_type());
    cache->view({-1, kvHeads, headDim}).index_copy_(0, slots, codes);
    scale->view({-1, kvHeads}).index_copy_(0, slots, vectorScales);
  }
}

/// The flattened batch of one step, as vLLM lays it out: sequence s owns rows
/// query_start_loc[s] .. query_start_loc[s + 1] of the new tokens, has seq_lens[s] tokens in
/// the cache (the new ones included) and finds them through block_tables[s].
struct BatchLayout {
  const at::Tensor &positions, &queryStartLoc, &seqLens, &blockTables;
  int64_t sequences() const { return seqLens.size(0); }
  int64_t begin(int64_t s) const { return queryStartLoc.data_ptr<int64_t>()[s]; }
  int64_t queries(int64_t s) const { return begin(s + 1) - begin(s); }
  int64_t length(int64_t s) const { return seqLens.data_ptr<int64_t>()[s]; }
  /// Whether every sequence has exactly one new token (a decode batch).
  bool oneQueryEach() const { return positions.size(0) == sequences(); }
};

/// Attention of a batch of single queries (one per sequence) over contexts padded to the
/// longest: one batched product instead of one per sequence. Padded keys are masked like
/// future ones, so they weigh exactly zero.
void attendDecodeBatch(const at::Tensor &q, const at::Tensor &keyCache,
                       const at::Tensor &valueCache, const CacheScales &cacheScales,
                       const BatchLayout &batch, double scale, std::optional<int64_t> window,
                       std::optional<double> softcap, at::Tensor &out) {
  at::ScalarType type = q.scalar_type();
  at::ScalarType compute = productType(type);
  int64_t sequences = batch.sequences(), heads = q.size(1), headDim = q.size(2);
  int64_t longest = batch.seqLens.max().item<int64_t>();
  int64_t blockSize = keyCache.size(1), blocks = (longest + blockSize - 1) / blockSize;
  int64_t kvHeads = keyCache.size(2), group = heads / kvHeads, valueDim = valueCache.size(3);
  at::Tensor tables = batch.blockTables.narrow(1, 0, blocks).reshape({-1});
  auto gather = [&](const at::Tensor &cache, const at::Tensor &scales) {
    at::Tensor rows = cache.index_select(0, tables)
                          .view({sequences, blocks * blockSize, kvHeads, cache.size(3)})
                          .narrow(1, 0, longest);
    if (scales.defined())
      rows = dequantizeCache(rows, scales.index_select(0, tables)
                                       .view({sequences, blocks * blockSize, kvHeads})
                                       .narrow(1, 0, longest),
                             type);
    return rows.to(compute);
  };
  at::Tensor keys = gather(keyCache, cacheScales.key),
             values = gather(valueCache, cacheScales.value);
  at::Tensor qh = q.to(compute).view({sequences, kvHeads, group, headDim});
  at::Tensor scores = at::matmul(qh, keys.permute({0, 2, 3, 1})).to(type) * scale;
  if (softcap)
    scores = at::tanh(scores / *softcap) * *softcap;
  // Rows are (sequence, kv head, group): each row's query position is its sequence's.
  at::Tensor keyPositions = at::arange(longest, batch.positions.options());
  at::Tensor queryPositions = batch.positions.view({sequences, 1, 1, 1});
  at::Tensor masked = keyPositions.view({1, 1, 1, -1}) > queryPositions;
  if (window)
    masked = masked.logical_or(queryPositions - keyPositions.view({1, 1, 1, -1}) >= *window);
  double lowest = type == at::kHalf       ? -65504.0
                  : type == at::kBFloat16 ? -3.3895313892515355e38
                                          : std::numeric_limits<float>::lowest();
  at::Tensor probs = at::softmax(scores.masked_fill(masked, lowest).to(at::kFloat), -1).to(type);
  at::Tensor context = at::matmul(probs.to(compute), values.permute({0, 2, 1, 3}));
  out.copy_(context.reshape({sequences, heads * valueDim}));
}

/// Attention of every sequence's new queries over its cached context; the new tokens' keys
/// and values are in the cache already, so a chunk of a prompt sees the chunks before it.
/// `batchInvariant`: every query with a decode step's arithmetic, whatever the batch.
void attendBatch(const at::Tensor &q, const at::Tensor &keyCache, const at::Tensor &valueCache,
                 const CacheScales &scales, const BatchLayout &batch, double scale,
                 std::optional<int64_t> window, std::optional<double> softcap,
                 bool batchInvariant, at::Tensor &out) {
  if ((batch.oneQueryEach() || batchInvariant) && !scales.quantized() &&
      rows::attendEachQuery(q, keyCache, valueCache, batch.positions, batch.seqLens,
                            batch.blockTables, scale, window, softcap, out,
                            batch.oneQueryEach() ? at::Tensor() : batch.queryStartLoc))
    return;
  if (batch.oneQueryEach() && batch.sequences() > 1)
    return attendDecodeBatch(q, keyCache, valueCache, scales, batch, scale, window, softcap,
                             out);
  at::ScalarType type = q.scalar_type();
  for (int64_t s = 0; s < batch.sequences(); ++s) {
    int64_t begin = batch.begin(s), queries = batch.queries(s), length = batch.length(s);
    if (queries == 0)
      continue;
    at::Tensor table = batch.blockTables.select(0, s);
    at::Tensor rows = out.narrow(0, begin, queries);
    attend(q.narrow(0, begin, queries), gatherCache(keyCache, scales.key, table, length, type),
           gatherCache(valueCache, scales.value, table, length, type),
           batch.positions.narrow(0, begin, queries),
           at::arange(length, batch.positions.options()), scale, window, softcap, rows);
  }
}

std::vector<int64_t> registersOfValues(ValueRange values, const RegisterMap &regs) {
  std::vector<int64_t> result;
  for (Value value : values)
    result.push_back(regs[value]);
  return result;
}

template <typename OpTy>
std::vector<int64_t> registersOf(OpTy op, const RegisterMap &regs) {
  std::vector<int64_t> result;
  for (Value operand : op->getOperands())
    result.push_back(regs[operand]);
  return result;
}

std::optional<int64_t> optionalInt(IntegerAttr attr) {
  return attr ? std::optional<int64_t>(attr.getInt()) : std::nullopt;
}

std::optional<double> optionalDouble(FloatAttr attr) {
  if (!attr)
    return std::nullopt;
  return attr.getValueAsDouble();
}

at::Tensor activate(vgcu::Epilogue epilogue, const at::Tensor &input) {
  at::Tensor x = widen(input);
  switch (epilogue) {
  case vgcu::Epilogue::none:
    return x;
  case vgcu::Epilogue::relu:
    return at::relu(x);
  case vgcu::Epilogue::gelu:
    return at::gelu(x);
  case vgcu::Epilogue::gelu_tanh:
    return at::gelu(x, "tanh");
  case vgcu::Epilogue::silu_and_mul:
  case vgcu::Epilogue::gelu_and_mul:
  case vgcu::Epilogue::gelu_tanh_and_mul: {
    int64_t half = x.size(-1) / 2;
    at::Tensor gate = x.narrow(-1, 0, half), up = x.narrow(-1, half, half);
    at::Tensor activated = epilogue == vgcu::Epilogue::silu_and_mul ? at::silu(gate)
                           : epilogue == vgcu::Epilogue::gelu_and_mul ? at::gelu(gate)
                                                                     : at::gelu(gate, "tanh");
    return activated * up;
  }
  }
  return x;
}

using gemm::QuantizedWeight;

/// x · dequantize(W)ᵀ (+ b) in the input's dtype. One token: each row dequantized into a
/// small buffer and dotted with x (the weight is read once, as stored); more: the weight
/// dequantized once for the call, then an ordinary GEMM.
at::Tensor quantizedLinear(const at::Tensor &input, const QuantizedWeight &weight,
                           const at::Tensor &bias) {
  int64_t tokens = input.numel() / weight.cols;
  std::vector<int64_t> shape(input.sizes().begin(), input.sizes().end());
  shape.back() = weight.rows;
  if (tokens == 1) {
    at::Tensor x = input.reshape({-1}).to(at::kFloat).contiguous();
    at::Tensor y = at::empty({weight.rows}, x.options());
    const float *xs = x.data_ptr<float>();
    float *ys = y.data_ptr<float>();
    if (gemm::codesApply(weight))
      gemm::matVecCodes(weight, xs, ys);
    else
      at::parallel_for(0, weight.rows, 16, [&](int64_t begin, int64_t end) {
        std::vector<float> row(weight.cols);
        for (int64_t r = begin; r < end; ++r) {
          weight.dequantizeRow(r, row.data());
          float sum = 0.0f;
          for (int64_t col = 0; col < weight.cols; ++col)
            sum += row[col] * xs[col];
          ys[r] = sum;
        }
      });
    if (bias.defined())
      y = y + bias.to(at::kFloat);
    return y.view(shape).to(input.scalar_type());
  }
  at::Tensor w = at::empty({weight.rows, weight.cols}, at::kFloat);
  float *ws = w.data_ptr<float>();
  bool vectorized = gemm::codesApply(weight);
  at::parallel_for(0, weight.rows, 16, [&](int64_t begin, int64_t end) {
    if (vectorized) {
      gemm::dequantizeCodes(weight, ws, begin, end);
      return;
    }
    for (int64_t r = begin; r < end; ++r)
      weight.dequantizeRow(r, ws + r * weight.cols);
  });
  // bf16 activations meet the weight rounded to bf16, whatever dtype the product computes in.
  if (input.scalar_type() == at::kBFloat16)
    w = w.to(at::kBFloat16);
  return linear(input, w, bias);
}

/// What a GEMM kernel does after the product: the epilogue, the residual, the soft cap.
void finishGemm(at::Tensor y, vgcu::Epilogue epilogue, const at::Tensor *residual,
                std::optional<double> softCap, at::Tensor &out) {
  y = activate(epilogue, y);
  if (residual)
    y = *residual + y;
  if (softCap)
    y = capSoftly(y, *softCap);
  out.copy_(y);
}

/// The routed experts' weighted sum, as Hugging Face's loop computes it: tokens grouped per
/// expert, experts in ascending order, `expert(e, tokens' rows of x)` scaled by each token's
/// routing weight and added in the routing weights' dtype (the model dtype, or f32 for
/// DeepSeek), rounded once to the model dtype at the end. Experts are numbered from
/// `firstExpert` in `ids`; `expert` gets the local index.
at::Tensor sumOfExperts(const at::Tensor &x, const at::Tensor &routeWeights,
                        const at::Tensor &routeIds, int64_t firstExpert, int64_t experts,
                        llvm::function_ref<at::Tensor(int64_t, const at::Tensor &)> expert) {
  at::Tensor sum = at::zeros(x.sizes(), x.options().dtype(routeWeights.scalar_type()));
  for (int64_t index = 0; index < experts; ++index) {
    at::Tensor hit = routeIds.eq(firstExpert + index);
    at::Tensor tokens = hit.any(1).nonzero().squeeze(1);
    if (tokens.numel() == 0)
      continue;
    at::Tensor slot = hit.index_select(0, tokens).to(at::kInt).argmax(1, true);
    at::Tensor y = expert(index, x.index_select(0, tokens));
    at::Tensor scale = routeWeights.index_select(0, tokens).gather(1, slot);
    sum.index_add_(0, tokens, y * scale);
  }
  return sum.to(x.scalar_type());
}

/// A shared expert's output in the model dtype: Qwen2-MoE's sigmoid(x · gateᵀ) ·
/// shared_expert(x), DeepSeek's shared_experts(x) (no gate).
at::Tensor sharedExpert(const at::Tensor &x, const at::Tensor &gateUp, const at::Tensor &down,
                        const at::Tensor *gate, bool batchInvariant) {
  auto product = [&](const at::Tensor &input, const at::Tensor &weight) {
    return linearFor(batchInvariant, input, weight, at::Tensor());
  };
  at::Tensor activated =
      activate(vgcu::Epilogue::silu_and_mul, product(x, gateUp)).to(x.scalar_type());
  at::Tensor shared = product(activated, down);
  if (gate)
    shared = sigmoidFor(batchInvariant, product(x, *gate)) * shared;
  return shared;
}

/// What gcu.gemm and gcu.quant_gemm do around their product: the bias (on the first
/// tensor-parallel rank only, for a row-parallel projection), then the epilogue, the residual
/// and the soft cap.
struct GemmEpilogue {
  int64_t bias = -1, residual = -1, out = -1;
  vgcu::Epilogue epilogue = vgcu::Epilogue::none;
  bool firstRankBias = false;
  std::optional<double> softCap;

  template <typename GemmLikeOp> static GemmEpilogue of(GemmLikeOp op, const RegisterMap &regs) {
    GemmEpilogue result;
    result.bias = op.getBias() ? regs[op.getBias()] : -1;
    result.residual = op.getResidual() ? regs[op.getResidual()] : -1;
    result.out = regs[op.getOut()];
    result.epilogue = op.getEpilogue();
    result.firstRankBias = op.getFirstRankBias();
    result.softCap = optionalDouble(op.getSoftCapAttr());
    return result;
  }
  /// The bias this rank adds (undefined: none).
  at::Tensor biasOf(Frame &f, RuntimeState &state) const {
    bool add = bias >= 0 && (!firstRankBias || state.collectives->tensorRank() == 0);
    return add ? f.tensors[bias] : at::Tensor();
  }
  void finish(Frame &f, at::Tensor y) const {
    finishGemm(y, epilogue, residual >= 0 ? &f.tensors[residual] : nullptr, softCap,
               f.tensors[out]);
  }
};

KernelLibrary buildReferenceLibrary() {
  KernelLibrary library("cpu-reference (ATen)");
  using Binder = KernelBinder;
  auto add = [&](llvm::StringRef name, Binder binder) { library.add(name, std::move(binder)); };

  add("gcu.embedding", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto embedding = cast<gcu::EmbeddingOp>(op);
    int64_t ids = regs[embedding.getIds()], table = regs[embedding.getTable()],
            out = regs[embedding.getOut()];
    bool parallel = embedding.getVocabParallel();
    return Instruction([=](Frame &f, RuntimeState &state) {
      const at::Tensor &tableT = f.tensors[table];
      at::Tensor idsT = f.tensors[ids];
      if (!parallel) {
        at::index_select_out(f.tensors[out], tableT, 0, idsT);
        return;
      }
      int64_t rows = tableT.size(0);
      at::Tensor local = idsT - state.collectives->tensorRank() * rows;
      at::Tensor inside = (local >= 0).logical_and(local < rows);
      at::index_select_out(f.tensors[out], tableT, 0, local.clamp(0, rows - 1));
      f.tensors[out].masked_fill_(inside.logical_not().unsqueeze(1), 0);
    });
  });

  add("gcu.gemm", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto gemm = cast<gcu::GemmOp>(op);
    int64_t input = regs[gemm.getInput()], weight = regs[gemm.getWeight()];
    GemmEpilogue tail = GemmEpilogue::of(gemm, regs);
    std::string widened = widenedWeightName(gemm.getWeight());
    return Instruction([=](Frame &f, RuntimeState &state) {
      const at::Tensor &x = f.tensors[input], &w = f.tensors[weight];
      at::Tensor b = tail.biasOf(f, state);
      // One token takes the kernel whose sums run in the order of a batch's (at f32 too,
      // where BLAS's matrix-vector product measured as fast: 40-42 against 41-44 tokens/s
      // on a 153M Llama), so a sequence decodes alike alone and in a batch.
      if (gemm::oneTokenApplies(x, w))
        tail.finish(f, gemm::linearOneToken(x, w, b));
      else if (gemm::fewTokensApply(x, w, state.batchInvariant))
        tail.finish(f, gemm::linearFewTokens(x, w, b));
      else
        tail.finish(f, linear(x, gemmWeight(w, widened, state), b));
    });
  });

  add("gcu.quant_gemm", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto gemm = cast<gcu::QuantGemmOp>(op);
    int64_t input = regs[gemm.getInput()], codes = regs[gemm.getCodes()],
            scales = regs[gemm.getScales()];
    int64_t zeros = gemm.getZeros() ? regs[gemm.getZeros()] : -1;
    int64_t groupIndex = gemm.getGIdx() ? regs[gemm.getGIdx()] : -1;
    GemmEpilogue tail = GemmEpilogue::of(gemm, regs);
    vgcu::QuantAttr quant = gemm.getQuant();
    QuantizedWeight shape;
    shape.rows = gemm.getOutFeatures();
    shape.cols = gemm.getInFeatures();
    shape.groups = cast<MemRefType>(gemm.getScales().getType()).getDimSize(1);
    shape.bits = quant.getBits();
    shape.blockRows = quant.getBlockRows();
    shape.blockCols = quant.getBlockCols();
    shape.fp8 = quant.getCodes() == vgcu::QuantCodes::fp8_e4m3;
    return Instruction([=](Frame &f, RuntimeState &state) {
      QuantizedWeight weight = shape;
      weight.codes = reinterpret_cast<const uint8_t *>(f.tensors[codes].data_ptr());
      weight.scales = f.tensors[scales].data_ptr<float>();
      weight.zeros = zeros >= 0 ? f.tensors[zeros].data_ptr<float>() : nullptr;
      weight.groupIndex = groupIndex >= 0 ? f.tensors[groupIndex].data_ptr<int32_t>() : nullptr;
      tail.finish(f, quantizedLinear(f.tensors[input], weight, tail.biasOf(f, state)));
    });
  });

  add("gcu.moe_router", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto router = cast<gcu::MoeRouterOp>(op);
    int64_t input = regs[router.getInput()], gate = regs[router.getGate()],
            weights = regs[router.getWeights()], ids = regs[router.getIds()];
    int64_t bias = router.getCorrectionBias() ? regs[router.getCorrectionBias()] : -1;
    int64_t topK = router.getTopK();
    bool renormalize = router.getRenormalize(), inF32 = router.getRouteInF32();
    bool sigmoid = router.getScoring() == vgcu::MoeScoring::sigmoid;
    bool topTwoSum = router.getGroupScore() == vgcu::MoeGroupScore::top2_sum;
    std::optional<int64_t> groups = optionalInt(router.getNumGroupsAttr()),
                           topGroups = optionalInt(router.getTopkGroupsAttr());
    std::optional<double> factor = optionalDouble(router.getScalingFactorAttr());
    return Instruction([=](Frame &f, RuntimeState &state) {
      // Hugging Face's routing: logits in the model dtype (DeepSeek's MoEGate: in f32), scores
      // in f32, top-k, then (optionally) the renormalisation and scaling in f32, and one
      // rounding.
      at::Tensor logits =
          inF32 ? linearFor(state.batchInvariant, f.tensors[input].to(at::kFloat),
                            f.tensors[gate].to(at::kFloat), at::Tensor())
                : linearFor(state.batchInvariant, f.tensors[input], f.tensors[gate],
                            at::Tensor());
      at::Tensor scores = sigmoid ? sigmoidFor(state.batchInvariant, logits.to(at::kFloat))
                                  : at::softmax(logits.to(at::kFloat), -1);
      at::Tensor choice = bias >= 0 ? scores + f.tensors[bias].to(at::kFloat).unsqueeze(0) : scores;
      if (groups) {
        // Experts outside the best topk_groups groups score 0 (DeepSeek's group limit).
        int64_t experts = choice.size(1);
        at::Tensor grouped = choice.view({-1, *groups, experts / *groups});
        at::Tensor groupScores = topTwoSum ? std::get<0>(at::topk(grouped, 2, -1)).sum(-1)
                                           : std::get<0>(grouped.max(-1));
        at::Tensor chosen = std::get<1>(at::topk(groupScores, *topGroups, -1, true, false));
        at::Tensor keep = at::zeros_like(groupScores).scatter(1, chosen, 1.0);
        keep = keep.unsqueeze(-1).expand({-1, *groups, experts / *groups}).reshape({-1, experts});
        choice = choice.masked_fill(keep.logical_not(), 0.0);
      }
      auto [values, indices] = at::topk(choice, topK, -1);
      if (bias >= 0)
        values = scores.gather(1, indices); // the weights are the unbiased scores
      if (renormalize)
        values = values / values.sum(-1, /*keepdim=*/true);
      if (factor)
        values = values * *factor;
      f.tensors[weights].copy_(values);
      f.tensors[ids].copy_(indices);
    });
  });

  add("gcu.fused_moe", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto moe = cast<gcu::FusedMoeOp>(op);
    int64_t input = regs[moe.getInput()], weights = regs[moe.getWeights()],
            ids = regs[moe.getIds()], gateUp = regs[moe.getGateUp()], down = regs[moe.getDown()],
            out = regs[moe.getOut()];
    int64_t sharedGateUp = moe.getSharedGateUp() ? regs[moe.getSharedGateUp()] : -1,
            sharedDown = moe.getSharedDown() ? regs[moe.getSharedDown()] : -1,
            sharedGate = moe.getSharedGate() ? regs[moe.getSharedGate()] : -1;
    int64_t expertParallel = moe.getExpertParallel().value_or(1);
    int64_t localExperts = moe.getNumExperts() / expertParallel;
    std::string gateUpName = widenedWeightName(moe.getGateUp()),
                downName = widenedWeightName(moe.getDown());
    return Instruction([=](Frame &f, RuntimeState &state) {
      // This rank's experts: those of its expert-parallel index.
      int64_t expertRank = expertParallel > 1 ? state.collectives->expertRank() : 0;
      int64_t firstExpert = expertRank * localExperts;
      const at::Tensor &x = f.tensors[input];
      const at::Tensor &routeWeights = f.tensors[weights], &routeIds = f.tensors[ids];
      const at::Tensor &gateUpT = gemmWeight(f.tensors[gateUp], gateUpName, state);
      const at::Tensor &downT = gemmWeight(f.tensors[down], downName, state);
      int64_t hidden = x.size(1), intermediate = downT.size(1);
      at::Tensor sum = sumOfExperts(
          x, routeWeights, routeIds, firstExpert, localExperts,
          [&](int64_t expert, const at::Tensor &tokens) {
            at::Tensor gateUpRows = gateUpT.narrow(0, expert * 2 * intermediate, 2 * intermediate);
            at::Tensor activated =
                activate(vgcu::Epilogue::silu_and_mul,
                         linearFor(state.batchInvariant, tokens, gateUpRows, at::Tensor()))
                    .to(x.scalar_type());
            return linearFor(state.batchInvariant, activated,
                             downT.narrow(0, expert * hidden, hidden), at::Tensor());
          });
      if (sharedGateUp >= 0 && expertRank == 0)
        sum = sum + sharedExpert(x, f.tensors[sharedGateUp], f.tensors[sharedDown],
                                 sharedGate >= 0 ? &f.tensors[sharedGate] : nullptr,
                                 state.batchInvariant);
      f.tensors[out].copy_(sum);
    });
  });

  add("gcu.quant_fused_moe",
      [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto moe = cast<gcu::QuantFusedMoeOp>(op);
    int64_t input = regs[moe.getInput()], weights = regs[moe.getWeights()],
            ids = regs[moe.getIds()], out = regs[moe.getOut()];
    int64_t gateUpCodes = regs[moe.getGateUpCodes()], gateUpScales = regs[moe.getGateUpScales()],
            downCodes = regs[moe.getDownCodes()], downScales = regs[moe.getDownScales()];
    int64_t gateUpZeros = moe.getGateUpZeros() ? regs[moe.getGateUpZeros()] : -1,
            downZeros = moe.getDownZeros() ? regs[moe.getDownZeros()] : -1;
    int64_t sharedGateUp = moe.getSharedGateUp() ? regs[moe.getSharedGateUp()] : -1,
            sharedDown = moe.getSharedDown() ? regs[moe.getSharedDown()] : -1,
            sharedGate = moe.getSharedGate() ? regs[moe.getSharedGate()] : -1;
    int64_t expertParallel = moe.getExpertParallel().value_or(1);
    int64_t experts = moe.getNumExperts() / expertParallel,
            intermediate = moe.getIntermediateSize();
    vgcu::QuantAttr quant = moe.getQuant();
    QuantizedWeight scheme;
    scheme.bits = quant.getBits();
    scheme.blockRows = quant.getBlockRows();
    scheme.blockCols = quant.getBlockCols();
    scheme.fp8 = quant.getCodes() == vgcu::QuantCodes::fp8_e4m3;
    return Instruction([=](Frame &f, RuntimeState &state) {
      // This rank's experts: those of its expert-parallel index.
      int64_t expertRank = expertParallel > 1 ? state.collectives->expertRank() : 0;
      const at::Tensor &x = f.tensors[input];
      const at::Tensor &routeWeights = f.tensors[weights], &routeIds = f.tensors[ids];
      int64_t hidden = x.size(1);
      // Expert `expert`'s rows of a stack of `rowsPerExpert` rows each.
      auto expertRows = [&](int64_t codes, int64_t scales, int64_t zeros, int64_t expert,
                            int64_t rowsPerExpert, int64_t cols) {
        QuantizedWeight weight = scheme;
        weight.rows = rowsPerExpert;
        weight.cols = cols;
        weight.groups = f.tensors[scales].size(1);
        int64_t firstRow = expert * rowsPerExpert, firstBlock = firstRow / scheme.blockRows;
        weight.codes = reinterpret_cast<const uint8_t *>(f.tensors[codes].data_ptr()) +
                       firstRow * (cols * scheme.bits / 8);
        weight.scales = f.tensors[scales].data_ptr<float>() + firstBlock * weight.groups;
        weight.zeros =
            zeros >= 0 ? f.tensors[zeros].data_ptr<float>() + firstBlock * weight.groups : nullptr;
        return weight;
      };
      at::Tensor sum = sumOfExperts(
          x, routeWeights, routeIds, expertRank * experts, experts,
          [&](int64_t expert, const at::Tensor &tokens) {
            at::Tensor activated =
                activate(vgcu::Epilogue::silu_and_mul,
                         quantizedLinear(tokens,
                                         expertRows(gateUpCodes, gateUpScales, gateUpZeros,
                                                    expert, 2 * intermediate, hidden),
                                         at::Tensor()))
                    .to(x.scalar_type());
            return quantizedLinear(
                activated,
                expertRows(downCodes, downScales, downZeros, expert, hidden, intermediate),
                at::Tensor());
          });
      if (sharedGateUp >= 0 && expertRank == 0)
        sum = sum + sharedExpert(x, f.tensors[sharedGateUp], f.tensors[sharedDown],
                                 sharedGate >= 0 ? &f.tensors[sharedGate] : nullptr,
                                 state.batchInvariant);
      f.tensors[out].copy_(sum);
    });
  });

  add("gcu.batch_matmul", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto matmul = cast<gcu::BatchMatmulOp>(op);
    int64_t lhs = regs[matmul.getLhs()], rhs = regs[matmul.getRhs()], out = regs[matmul.getOut()];
    return Instruction([=](Frame &f, RuntimeState &) {
      at::ScalarType type = f.tensors[lhs].scalar_type(), compute = productType(type);
      f.tensors[out].copy_(at::matmul(f.tensors[lhs].to(compute), f.tensors[rhs].to(compute)));
    });
  });

  add("gcu.rms_norm", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto norm = cast<gcu::RmsNormOp>(op);
    int64_t input = regs[norm.getInput()], weight = regs[norm.getWeight()],
            out = regs[norm.getOut()];
    double epsilon = norm.getEpsilon().convertToDouble();
    return Instruction([=](Frame &f, RuntimeState &) {
      if (!rows::rmsNorm(f.tensors[input], f.tensors[weight], epsilon, f.tensors[out]))
        f.tensors[out].copy_(rmsNorm(f.tensors[input], f.tensors[weight], epsilon));
    });
  });

  // Operands: weight, [bias,] input, residual; input and residual are updated in place.
  auto fusedAddNorm = [](bool reduce, bool layer) {
    return [=](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
      unsigned count = op->getNumOperands();
      int64_t weight = regs[op->getOperand(0)], bias = layer ? regs[op->getOperand(1)] : -1,
              input = regs[op->getOperand(count - 2)], residual = regs[op->getOperand(count - 1)];
      double epsilon = cast<FloatAttr>(op->getAttr("epsilon")).getValueAsDouble();
      vgcu::CollectiveGroup group = collectiveGroupOf(op);
      return Instruction([=](Frame &f, RuntimeState &state) {
        at::Tensor &x = f.tensors[input];
        if (reduce)
          state.collectives->allReduce(x, group);
        at::Tensor &sum = f.tensors[residual];
        if (!layer && rows::addRmsNorm(x, sum, f.tensors[weight], epsilon))
          return;
        sum.add_(x);
        x.copy_(layer ? layerNorm(sum, f.tensors[weight], f.tensors[bias], epsilon)
                      : rmsNorm(sum, f.tensors[weight], epsilon));
      });
    };
  };
  // Operands: post_weight, weight, input, residual; input and residual updated in place.
  auto fusedNormAddNorm = [](bool reduce) {
    return [=](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
      int64_t postWeight = regs[op->getOperand(0)], weight = regs[op->getOperand(1)],
              input = regs[op->getOperand(2)], residual = regs[op->getOperand(3)];
      double postEpsilon = cast<FloatAttr>(op->getAttr("post_epsilon")).getValueAsDouble();
      double epsilon = cast<FloatAttr>(op->getAttr("epsilon")).getValueAsDouble();
      vgcu::CollectiveGroup group = collectiveGroupOf(op);
      return Instruction([=](Frame &f, RuntimeState &state) {
        at::Tensor &x = f.tensors[input];
        if (reduce)
          state.collectives->allReduce(x, group);
        at::Tensor &sum = f.tensors[residual];
        sum.add_(rmsNorm(x, f.tensors[postWeight], postEpsilon).to(sum.scalar_type()));
        x.copy_(rmsNorm(sum, f.tensors[weight], epsilon));
      });
    };
  };
  add("gcu.fused_norm_add_norm", fusedNormAddNorm(false));
  add("gcu.all_reduce_fused_norm_add_norm", fusedNormAddNorm(true));

  add("gcu.soft_cap", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto cap = cast<gcu::SoftCapOp>(op);
    int64_t input = regs[cap.getInput()], out = regs[cap.getOut()];
    double bound = cap.getCap().convertToDouble();
    return Instruction([=](Frame &f, RuntimeState &) {
      f.tensors[out].copy_(capSoftly(f.tensors[input], bound));
    });
  });

  add("gcu.fused_add_rms_norm", fusedAddNorm(false, false));
  add("gcu.all_reduce_fused_add_rms_norm", fusedAddNorm(true, false));
  add("gcu.fused_add_layer_norm", fusedAddNorm(false, true));
  add("gcu.all_reduce_fused_add_layer_norm", fusedAddNorm(true, true));

  add("gcu.layer_norm", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto norm = cast<gcu::LayerNormOp>(op);
    int64_t input = regs[norm.getInput()], weight = regs[norm.getWeight()],
            bias = regs[norm.getBias()], out = regs[norm.getOut()];
    double epsilon = norm.getEpsilon().convertToDouble();
    return Instruction([=](Frame &f, RuntimeState &) {
      f.tensors[out].copy_(layerNorm(f.tensors[input], f.tensors[weight], f.tensors[bias], epsilon));
    });
  });

  add("gcu.rotary_embedding",
      [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
        auto rotary = cast<gcu::RotaryEmbeddingOp>(op);
        int64_t positions = regs[rotary.getPositions()], query = regs[rotary.getQuery()],
                key = regs[rotary.getKey()];
        int64_t headDim = rotary.getHeadDim(), rotaryDim = rotary.getRotaryDim();
        vgcu::RotaryStyle style = rotary.getStyle();
        RopeFrequencies rope = ropeFrequencies(rotaryDim, rotary.getTheta().convertToDouble(),
                                               style, rotary.getRopeScalingAttr());
        bool same = rotary.getQuery() == rotary.getKey();
        return Instruction([=](Frame &f, RuntimeState &) {
          at::Tensor &q = f.tensors[query];
          auto [cos, sin] = rotaryTables(f.tensors[positions], rope, q.scalar_type());
          auto apply = [&](at::Tensor &x) {
            at::Tensor heads = x.view({x.size(0), -1, headDim});
            heads.copy_(rotate(heads, cos, sin, rotaryDim, style));
          };
          apply(q);
          if (!same)
            apply(f.tensors[key]);
        });
      });

  add("gcu.reshape_and_cache",
      [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
        auto write = cast<gcu::ReshapeAndCacheOp>(op);
        int64_t key = regs[write.getKey()], value = regs[write.getValue()],
                slots = regs[write.getSlotMapping()], keyCache = regs[write.getKeyCache()],
                valueCache = regs[write.getValueCache()];
        std::vector<int64_t> scales = registersOfValues(write.getCacheScales(), regs);
        return Instruction([=](Frame &f, RuntimeState &) {
          writeCache(f.tensors[key], f.tensors[value], f.tensors[slots], f.tensors[keyCache],
                     f.tensors[valueCache], cacheScales(f, scales));
        });
      });

  add("gcu.paged_attention",
      [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
        auto attention = cast<gcu::PagedAttentionOp>(op);
        int64_t query = regs[attention.getQuery()], keyCache = regs[attention.getKeyCache()],
                valueCache = regs[attention.getValueCache()],
                positions = regs[attention.getPositions()],
                starts = regs[attention.getQueryStartLoc()],
                lengths = regs[attention.getSeqLens()],
                tables = regs[attention.getBlockTables()], out = regs[attention.getOut()];
        std::vector<int64_t> scales = registersOfValues(attention.getCacheScales(), regs);
        int64_t heads = attention.getNumHeads(), headDim = attention.getHeadDim();
        double scale = attention.getScale().convertToDouble();
        std::optional<int64_t> window = optionalInt(attention.getSlidingWindowAttr());
        std::optional<double> softcap = optionalDouble(attention.getSoftcapAttr());
        return Instruction([=](Frame &f, RuntimeState &state) {
          BatchLayout batch{f.tensors[positions], f.tensors[starts], f.tensors[lengths],
                            f.tensors[tables]};
          attendBatch(f.tensors[query].view({-1, heads, headDim}), f.tensors[keyCache],
                      f.tensors[valueCache], cacheScales(f, scales), batch, scale, window,
                      softcap, state.batchInvariant, f.tensors[out]);
        });
      });

  add("gcu.fused_rope_cache_attention",
      [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
        auto fused = cast<gcu::FusedRopeCacheAttentionOp>(op);
        int64_t query = regs[fused.getQuery()], key = regs[fused.getKey()],
                value = regs[fused.getValue()], positions = regs[fused.getPositions()],
                slots = regs[fused.getSlotMapping()], starts = regs[fused.getQueryStartLoc()],
                lengths = regs[fused.getSeqLens()], tables = regs[fused.getBlockTables()],
                keyCache = regs[fused.getKeyCache()], valueCache = regs[fused.getValueCache()],
                out = regs[fused.getOut()];
        std::vector<int64_t> scales = registersOfValues(fused.getCacheScales(), regs);
        int64_t queryNorm = fused.getQNormWeight() ? regs[fused.getQNormWeight()] : -1;
        int64_t keyNorm = fused.getKNormWeight() ? regs[fused.getKNormWeight()] : -1;
        double normEpsilon = fused.getNormEpsilon() ? fused.getNormEpsilon()->convertToDouble()
                                                    : 0.0;
        int64_t heads = fused.getNumHeads(), kvHeads = fused.getNumKvHeads(),
                headDim = fused.getHeadDim();
        double scale = fused.getScale().convertToDouble();
        std::optional<int64_t> window = optionalInt(fused.getSlidingWindowAttr());
        std::optional<double> softcap = optionalDouble(fused.getSoftcapAttr());
        std::optional<int64_t> rotaryDim = optionalInt(fused.getRotaryDimAttr());
        vgcu::RotaryStyle style = fused.getRotaryStyle().value_or(vgcu::RotaryStyle::neox);
        RopeFrequencies rope;
        if (rotaryDim)
          rope = ropeFrequencies(*rotaryDim, fused.getTheta()->convertToDouble(), style,
                                 fused.getRopeScalingAttr());
        return Instruction([=](Frame &f, RuntimeState &state) {
          at::Tensor q = f.tensors[query].view({-1, heads, headDim});
          at::Tensor k = f.tensors[key].view({-1, kvHeads, headDim});
          at::Tensor v = f.tensors[value].view({-1, kvHeads, headDim});
          BatchLayout batch{f.tensors[positions], f.tensors[starts], f.tensors[lengths],
                            f.tensors[tables]};
          CacheScales quantized = cacheScales(f, scales);
          bool normed = false;
          if (queryNorm >= 0 && state.batchInvariant) {
            q = rmsNorm(q, f.tensors[queryNorm], normEpsilon);
            k = rmsNorm(k, f.tensors[keyNorm], normEpsilon);
            normed = true;
          }
          // A decode batch (or any batch, batch-invariant): rotation, cache writes and
          // attention as loops over its rows.
          if ((batch.oneQueryEach() || state.batchInvariant) && (queryNorm < 0 || normed) &&
              !quantized.quantized()) {
            std::optional<rows::RotaryCall> call;
            at::Tensor invFreq, rotatedQuery;
            if (rotaryDim) {
              invFreq = callInvFreq(rope, f.tensors[positions]);
              call = rows::RotaryCall{invFreq, rope.attentionScaling, *rotaryDim,
                                      style == vgcu::RotaryStyle::neox};
            }
            if (rows::rotateAndCache(q, k, v, f.tensors[positions], f.tensors[slots], call,
                                     f.tensors[keyCache], f.tensors[valueCache],
                                     rotatedQuery) &&
                rows::attendEachQuery(rotatedQuery, f.tensors[keyCache], f.tensors[valueCache],
                                      f.tensors[positions], f.tensors[lengths],
                                      f.tensors[tables], scale, window, softcap,
                                      f.tensors[out],
                                      batch.oneQueryEach() ? at::Tensor() : f.tensors[starts]))
              return;
          }
          if (queryNorm >= 0 && !normed) {
            q = rmsNorm(q, f.tensors[queryNorm], normEpsilon);
            k = rmsNorm(k, f.tensors[keyNorm], normEpsilon);
          }
          if (rotaryDim) {
            auto [cos, sin] = rotaryTables(f.tensors[positions], rope, q.scalar_type());
            q = rotate(q, cos, sin, *rotaryDim, style);
            k = rotate(k, cos, sin, *rotaryDim, style);
          }
          writeCache(k, v, f.tensors[slots], f.tensors[keyCache], f.tensors[valueCache],
                     quantized);
          attendBatch(q, f.tensors[keyCache], f.tensors[valueCache], quantized, batch, scale,
                      window, softcap, state.batchInvariant, f.tensors[out]);
        });
      });

  // Prefill expands each sequence's cached latents with kv_b, as the reference model expands
  // its keys and values; decode attends in the latent space.
  add("gcu.mla_attention",
      [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
        auto mla = cast<gcu::MlaAttentionOp>(op);
        int64_t query = regs[mla.getQuery()], latent = regs[mla.getLatent()],
                keyRope = regs[mla.getKeyRope()], kvB = regs[mla.getKvB()],
                positions = regs[mla.getPositions()], slots = regs[mla.getSlotMapping()],
                starts = regs[mla.getQueryStartLoc()], lengths = regs[mla.getSeqLens()],
                tables = regs[mla.getBlockTables()], latentCache = regs[mla.getLatentCache()],
                ropeCache = regs[mla.getRopeCache()], out = regs[mla.getOut()];
        std::vector<int64_t> scales = registersOfValues(mla.getCacheScales(), regs);
        int64_t heads = mla.getNumHeads(), nope = mla.getQkNopeHeadDim(),
                rope = mla.getQkRopeHeadDim(), valueDim = mla.getVHeadDim();
        double scale = mla.getScale().convertToDouble();
        RopeFrequencies frequencies =
            ropeFrequencies(rope, mla.getTheta().convertToDouble(), vgcu::RotaryStyle::gptj,
                            mla.getRopeScalingAttr());
        gcu::AttentionPhase phase = mla.getPhase();
        return Instruction([=](Frame &f, RuntimeState &state) {
          at::Tensor q = f.tensors[query].view({-1, heads, nope + rope});
          at::Tensor c = f.tensors[latent];
          int64_t lora = c.size(1);
          at::ScalarType type = q.scalar_type();
          auto [cos, sin] = rotaryTables(f.tensors[positions], frequencies, type);
          at::Tensor qNope = q.narrow(-1, 0, nope);
          at::Tensor qRope = rotate(q.narrow(-1, nope, rope), cos, sin, rope,
                                    vgcu::RotaryStyle::gptj);
          at::Tensor kRope = rotate(f.tensors[keyRope].view({-1, 1, rope}), cos, sin, rope,
                                    vgcu::RotaryStyle::gptj);
          CacheScales quantized = cacheScales(f, scales);
          writeCache(c, kRope, f.tensors[slots], f.tensors[latentCache], f.tensors[ropeCache],
                     quantized);
          const at::Tensor &weight = f.tensors[kvB];
          BatchLayout batch{f.tensors[positions], f.tensors[starts], f.tensors[lengths],
                            f.tensors[tables]};
          // The absorbed products in f32: their rounding cannot follow the expanded form's
          // anyway, so they are as exact as they can be, and scores round to the model dtype.
          at::ScalarType wide = at::kFloat;
          at::Tensor w;
          if (phase == gcu::AttentionPhase::decode)
            w = weight.to(wide).view({heads, nope + valueDim, lora});
          for (int64_t s = 0; s < batch.sequences(); ++s) {
            int64_t begin = batch.begin(s), queries = batch.queries(s),
                    context = batch.length(s);
            if (queries == 0)
              continue;
            at::Tensor table = batch.blockTables.select(0, s);
            at::Tensor latents =
                gatherCache(f.tensors[latentCache], quantized.key, table, context, type)
                    .view({context, lora});
            at::Tensor ropes =
                gatherCache(f.tensors[ropeCache], quantized.value, table, context, type)
                    .view({context, 1, rope});
            at::Tensor queryPositions = batch.positions.narrow(0, begin, queries);
            at::Tensor keyPositions = at::arange(context, queryPositions.options());
            at::Tensor qn = qNope.narrow(0, begin, queries);
            at::Tensor qr = qRope.narrow(0, begin, queries);
            at::Tensor rows = f.tensors[out].narrow(0, begin, queries);
            if (phase == gcu::AttentionPhase::prefill) {
              at::Tensor kv = linearFor(state.batchInvariant, latents, weight, at::Tensor())
                                  .view({-1, heads, nope + valueDim});
              at::Tensor k =
                  at::cat({kv.narrow(-1, 0, nope), ropes.expand({-1, heads, rope})}, -1);
              at::Tensor v = kv.narrow(-1, nope, valueDim);
              at::Tensor qs = at::cat({qn, qr}, -1);
              // Batch-invariant: the expanded keys and values as a one-block cache, each
              // query with a decode step's arithmetic over the keys it sees.
              if (state.batchInvariant &&
                  rows::attendEachQuery(
                      qs, k.unsqueeze(0), v.contiguous().unsqueeze(0), queryPositions,
                      at::tensor({context}, at::kLong), at::zeros({1, 1}, at::kLong), scale,
                      std::nullopt, std::nullopt, rows,
                      at::tensor({int64_t{0}, queries}, at::kLong)))
                continue;
              attend(qs, k, v, queryPositions, keyPositions, scale, std::nullopt, std::nullopt,
                     rows);
              continue;
            }
            // q_nope · (W_uk · c) = (q_nope · W_uk) · c: the key rows absorbed into the query.
            at::Tensor qLatent = at::bmm(qn.to(wide).permute({1, 0, 2}), w.narrow(1, 0, nope));
            at::Tensor scores = at::matmul(qLatent, latents.to(wide).t()) +
                                at::matmul(qr.to(wide).permute({1, 0, 2}),
                                           ropes.view({context, rope}).to(wide).t());
            scores = scores.to(type) * scale;
            at::Tensor probs = causalSoftmax(scores, queryPositions, keyPositions, std::nullopt);
            // (p · c) · W_uvᵀ: the value rows applied to the weighted latents.
            at::Tensor weighted = at::matmul(probs.to(wide), latents.to(wide));
            at::Tensor values = at::bmm(weighted, w.narrow(1, nope, valueDim).transpose(1, 2));
            rows.copy_(values.permute({1, 0, 2}).reshape({-1, heads * valueDim}));
          }
        });
      });

  auto gated = [](vgcu::Epilogue epilogue) {
    return [epilogue](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
      int64_t input = regs[op->getOperand(0)], out = regs[op->getOperand(1)];
      return Instruction([=](Frame &f, RuntimeState &) {
        f.tensors[out].copy_(activate(epilogue, f.tensors[input]));
      });
    };
  };
  add("gcu.silu_and_mul", gated(vgcu::Epilogue::silu_and_mul));
  add("gcu.gelu_and_mul", gated(vgcu::Epilogue::gelu_and_mul));
  add("gcu.gelu_tanh_and_mul", gated(vgcu::Epilogue::gelu_tanh_and_mul));

  add("gcu.all_reduce", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    int64_t buffer = regs[op->getOperand(0)];
    vgcu::CollectiveGroup group = cast<gcu::AllReduceOp>(op).getGroup();
    return Instruction([=](Frame &f, RuntimeState &state) {
      state.collectives->allReduce(f.tensors[buffer], group);
    });
  });

  add("gcu.all_gather", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto gather = cast<gcu::AllGatherOp>(op);
    int64_t input = regs[gather.getInput()], out = regs[gather.getOut()];
    int64_t dim = gather.getDim();
    return Instruction([=](Frame &f, RuntimeState &state) {
      state.collectives->allGather(f.tensors[input], f.tensors[out], dim);
    });
  });

  add("gcu.binary", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto binary = cast<gcu::BinaryOp>(op);
    int64_t lhs = regs[binary.getLhs()], rhs = regs[binary.getRhs()], out = regs[binary.getOut()];
    gcu::BinaryKind kind = binary.getKind();
    return Instruction([=](Frame &f, RuntimeState &) {
      const at::Tensor &a = f.tensors[lhs], &b = f.tensors[rhs];
      at::Tensor result;
      switch (kind) {
      case gcu::BinaryKind::add: result = a + b; break;
      case gcu::BinaryKind::sub: result = a - b; break;
      case gcu::BinaryKind::mul: result = a * b; break;
      case gcu::BinaryKind::div: result = a / b; break;
      case gcu::BinaryKind::pow: result = at::pow(a, b); break;
      case gcu::BinaryKind::maximum: result = at::maximum(a, b); break;
      case gcu::BinaryKind::eq: result = a == b; break;
      case gcu::BinaryKind::ne: result = a != b; break;
      case gcu::BinaryKind::lt: result = a < b; break;
      case gcu::BinaryKind::le: result = a <= b; break;
      case gcu::BinaryKind::gt: result = a > b; break;
      case gcu::BinaryKind::ge: result = a >= b; break;
      case gcu::BinaryKind::logical_or: result = a.logical_or(b); break;
      }
      f.tensors[out].copy_(result);
    });
  });

  add("gcu.unary", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto unary = cast<gcu::UnaryOp>(op);
    int64_t input = regs[unary.getInput()], out = regs[unary.getOut()];
    gcu::UnaryKind kind = unary.getKind();
    return Instruction([=](Frame &f, RuntimeState &) {
      at::Tensor x = kind == gcu::UnaryKind::cast || kind == gcu::UnaryKind::copy
                         ? f.tensors[input]
                         : widen(f.tensors[input]);
      at::Tensor result;
      switch (kind) {
      case gcu::UnaryKind::neg: result = -x; break;
      case gcu::UnaryKind::rsqrt: result = at::rsqrt(x); break;
      case gcu::UnaryKind::sqrt: result = at::sqrt(x); break;
      case gcu::UnaryKind::exp: result = at::exp(x); break;
      case gcu::UnaryKind::cos: result = at::cos(x); break;
      case gcu::UnaryKind::sin: result = at::sin(x); break;
      case gcu::UnaryKind::sigmoid: result = at::sigmoid(x); break;
      case gcu::UnaryKind::tanh: result = at::tanh(x); break;
      case gcu::UnaryKind::silu: result = at::silu(x); break;
      case gcu::UnaryKind::relu: result = at::relu(x); break;
      case gcu::UnaryKind::gelu: result = at::gelu(x); break;
      case gcu::UnaryKind::gelu_tanh: result = at::gelu(x, "tanh"); break;
      case gcu::UnaryKind::cast:
      case gcu::UnaryKind::copy: result = x; break;
      }
      f.tensors[out].copy_(result);
    });
  });

  add("gcu.where", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto where = cast<gcu::WhereOp>(op);
    int64_t condition = regs[where.getCondition()], onTrue = regs[where.getOnTrue()],
            onFalse = regs[where.getOnFalse()], out = regs[where.getOut()];
    return Instruction([=](Frame &f, RuntimeState &) {
      f.tensors[out].copy_(
          at::where(f.tensors[condition], f.tensors[onTrue], f.tensors[onFalse]));
    });
  });

  add("gcu.reduce", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto reduce = cast<gcu::ReduceOp>(op);
    int64_t input = regs[reduce.getInput()], out = regs[reduce.getOut()];
    std::vector<int64_t> dims(reduce.getDims().begin(), reduce.getDims().end());
    bool keepdim = reduce.getKeepdim(), mean = reduce.getKind() == gcu::ReduceKind::mean;
    return Instruction([=](Frame &f, RuntimeState &) {
      const at::Tensor &x = f.tensors[input];
      f.tensors[out].copy_(mean ? x.mean(dims, keepdim) : x.sum(dims, keepdim));
    });
  });

  add("gcu.softmax", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto softmax = cast<gcu::SoftmaxOp>(op);
    int64_t input = regs[softmax.getInput()], out = regs[softmax.getOut()];
    int64_t dim = softmax.getDim();
    return Instruction([=](Frame &f, RuntimeState &) {
      f.tensors[out].copy_(at::softmax(widen(f.tensors[input]), dim));
    });
  });

  add("gcu.concat", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto concat = cast<gcu::ConcatOp>(op);
    std::vector<int64_t> inputs;
    for (Value input : concat.getInputs())
      inputs.push_back(regs[input]);
    int64_t out = regs[concat.getOut()], dim = concat.getDim();
    return Instruction([=](Frame &f, RuntimeState &) {
      std::vector<at::Tensor> parts;
      for (int64_t input : inputs)
        parts.push_back(f.tensors[input]);
      f.tensors[out].copy_(at::cat(parts, dim));
    });
  });

  add("gcu.topk", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto topk = cast<gcu::TopKOp>(op);
    int64_t input = regs[topk.getInput()], values = regs[topk.getValues()],
            indices = regs[topk.getIndices()], k = topk.getK();
    return Instruction([=](Frame &f, RuntimeState &) {
      auto [top, where] = at::topk(widen(f.tensors[input]), k, -1);
      f.tensors[values].copy_(top);
      f.tensors[indices].copy_(where);
    });
  });

  add("gcu.scatter", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto scatter = cast<gcu::ScatterOp>(op);
    int64_t input = regs[scatter.getInput()], index = regs[scatter.getIndex()],
            src = regs[scatter.getSrc()], out = regs[scatter.getOut()], dim = scatter.getDim();
    return Instruction([=](Frame &f, RuntimeState &) {
      f.tensors[out].copy_(at::scatter(f.tensors[input], dim, f.tensors[index], f.tensors[src]));
    });
  });

  add("gcu.gather", [](Operation *op, const RegisterMap &regs) -> llvm::Expected<Instruction> {
    auto gather = cast<gcu::GatherOp>(op);
    int64_t input = regs[gather.getInput()], indices = regs[gather.getIndices()],
            out = regs[gather.getOut()], dim = gather.getDim();
    return Instruction([=](Frame &f, RuntimeState &) {
      f.tensors[out].copy_(at::index_select(f.tensors[input], dim, f.tensors[indices]));
    });
  });
  return library;
}

} // namespace

std::unique_ptr<Collectives> vgcu::runtime::makeSingleRankCollectives() {
  return std::make_unique<SingleRank>();
}

const KernelLibrary &vgcu::runtime::referenceKernelLibrary() {
  static const KernelLibrary library = buildReferenceLibrary();
  return library;
}

void vgcu::runtime::setReferenceKernelThreads(int threads) {
  at::set_num_threads(threads);
  // Looked up rather than linked: LibTorch reaches BLAS through Debian's alternatives.
  using SetThreads = void (*)(int);
  if (auto setBlasThreads =
          reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    setBlasThreads(1);
}

std::string vgcu::runtime::preferredBlasCoreType() {
  if (std::getenv("OPENBLAS_CORETYPE"))
    return "";
  using CoreName = char *(*)();
  auto coreName = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (!coreName || !coreName())
    return "";
  llvm::StringRef chosen(coreName());
  // The generic x86-64 choices OpenBLAS falls back to for a CPU it does not recognize.
  if (chosen != "Prescott" && chosen != "Core2" && chosen != "Nehalem" && chosen != "Penryn" &&
      chosen != "Dunnington" && chosen != "Sandybridge")
    return "";
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return chosen == "Sandybridge" ? "" : "Haswell";
  return "";
}
