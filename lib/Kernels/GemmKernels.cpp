//===- GemmKernels.cpp - Products of one token or a few with a weight as stored ----------===//
//
// A decode step multiplies one token (a batch of decode steps a few) by each weight: BLAS
// would repack the whole weight for such a product. These kernels read each weight row once
// as stored (f32, 16-bit or integer codes widened in registers) and sum in f32. The loops are
// in GemmKernelsSimd.inc, built for AVX-512 and for AVX2; this file picks one for the CPU and
// splits the rows over ATen's threads.
//
//===----------------------------------------------------------------------===//

#include "GemmKernels.h"
#include "GemmKernelTable.h"

#include "vgcu/Weights/Quantization.h"

#include <ATen/Parallel.h>

#include <array>
#include <atomic>

using namespace vgcu::runtime;

namespace {

/// This CPU's kernels, or null.
const gemm::KernelTable *kernels() {
  static const gemm::KernelTable *table = []() -> const gemm::KernelTable * {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma"))
      return &gemm::avx512::kernels;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") &&
        __builtin_cpu_supports("fma"))
      return &gemm::avx2::kernels;
    return nullptr;
  }();
  return table;
}

bool isFloatType(at::ScalarType type) {
  return type == at::kFloat || type == at::kHalf || type == at::kBFloat16;
}

const uint16_t *sixteenBits(const at::Tensor &w) {
  return reinterpret_cast<const uint16_t *>(w.data_ptr());
}

/// `y` (f32, one row per token) as the product of `input`: its shape with the last dim
/// `features`, in the input's dtype, the bias added in f32 first.
at::Tensor finish(at::Tensor y, const at::Tensor &input, int64_t features,
                  const at::Tensor &bias) {
  if (bias.defined())
    y = y + bias.to(at::kFloat);
  std::vector<int64_t> shape(input.sizes().begin(), input.sizes().end());
  shape.back() = features;
  return y.view(shape).to(input.scalar_type());
}

/// `body(begin, end)` over [0, rows) in chunks of `chunk` rows that ATen's threads take in
/// turn as they finish the previous one: a static split waits for the slowest thread, and on a
/// shared machine one core often runs slower than the other for a while.
template <typename Body> void forChunks(int64_t rows, int64_t chunk, const Body &body) {
  int64_t chunks = (rows + chunk - 1) / chunk;
  int64_t threads = std::min<int64_t>(at::get_num_threads(), chunks);
  if (threads <= 1) {
    body(0, rows);
    return;
  }
  std::atomic<int64_t> next{0};
  at::parallel_for(0, threads, 1, [&](int64_t, int64_t) {
    for (int64_t index = next++; index < chunks; index = next++)
      body(index * chunk, std::min(rows, (index + 1) * chunk));
  });
}

/// The most tokens the skinny kernels take: past them BLAS's packing pays for itself.
constexpr int64_t kFewTokens = 64;

} // namespace

const char *gemm::instructionSet() {
  if (!kernels())
    return "";
  return kernels() == &avx512::kernels ? "avx512" : "avx2";
}

bool gemm::atenBf16GemmIsFast() {
  static const bool fast = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq");
  }();
  return fast;
}

bool gemm::oneTokenApplies(const at::Tensor &x, const at::Tensor &w) {
  return x.numel() == x.size(-1) && w.dim() == 2 && x.size(-1) == w.size(1) &&
         isFloatType(w.scalar_type()) && kernels();
}

at::Tensor gemm::linearOneToken(const at::Tensor &input, const at::Tensor &weight,
                                const at::Tensor &bias) {
  at::Tensor x = input.reshape({-1}).to(at::kFloat).contiguous();
  at::Tensor w = weight.contiguous();
  int64_t rows = w.size(0), cols = w.size(1);
  at::Tensor y = at::empty({rows}, x.options());
  bool bf16 = w.scalar_type() == at::kBFloat16;
  const float *xs = x.data_ptr<float>();
  float *ys = y.data_ptr<float>();
  const KernelTable &table = *kernels();
  forChunks(rows, 64, [&](int64_t begin, int64_t end) {
    if (w.scalar_type() == at::kFloat)
      table.matVecF32(w.data_ptr<float>(), xs, ys, begin, end, cols);
    else
      table.matVec16(sixteenBits(w), xs, ys, begin, end, cols, bf16);
  });
  return finish(y, input, rows, bias);
}

bool gemm::fewTokensApply(const at::Tensor &x, const at::Tensor &w, bool anyCount) {
  int64_t tokens = x.numel() / std::max<int64_t>(1, x.size(-1));
  return kernels() && tokens >= 2 && (tokens <= kFewTokens || anyCount) && w.dim() == 2 &&
         w.is_contiguous() && w.size(1) % kernels()->lanes == 0 && x.size(-1) == w.size(1) &&
         isFloatType(w.scalar_type());
}

/// Output features split over ATen's threads, each written in full by one thread (so the
/// split does not change a sum).
at::Tensor gemm::linearFewTokens(const at::Tensor &input, const at::Tensor &weight,
                                 const at::Tensor &bias) {
  int64_t cols = weight.size(1), features = weight.size(0);
  at::Tensor x = input.reshape({-1, cols}).to(at::kFloat).contiguous();
  int64_t tokens = x.size(0);
  at::Tensor y = at::empty({tokens, features}, x.options());
  const float *xs = x.data_ptr<float>();
  float *ys = y.data_ptr<float>();
  const KernelTable &table = *kernels();
  bool bf16 = weight.scalar_type() == at::kBFloat16;
  // Past kFewTokens the tokens' rows no longer stay in cache beside the weight's.
  for (int64_t first = 0; first < tokens; first += kFewTokens) {
    int64_t count = std::min(kFewTokens, tokens - first);
    const float *sliceX = xs + first * cols;
    float *sliceY = ys + first * features;
    at::parallel_for(0, features, 64, [&](int64_t begin, int64_t end) {
      if (weight.scalar_type() == at::kFloat)
        table.skinnyF32(weight.data_ptr<float>(), sliceX, sliceY, count, begin, end, cols,
                        features);
      else {
        std::vector<float> scratch(4 * cols);
        table.skinny16(sixteenBits(weight), sliceX, sliceY, count, begin, end, cols, features,
                       bf16, scratch.data());
      }
    });
  }
  return finish(y, input, features, bias);
}

bool gemm::codesApply(const QuantizedWeight &weight) {
  int64_t width = weight.blockCols == 0 ? weight.cols : weight.blockCols;
  return !weight.fp8 && !weight.groupIndex && weight.cols % 32 == 0 && width % 32 == 0 &&
         kernels();
}

void gemm::matVecCodes(const QuantizedWeight &weight, const float *x, float *y) {
  const KernelTable &table = *kernels();
  // The kernels take 2 · lanes columns per step; 4-bit codes meet that block's even columns
  // (low nibbles) and then its odd ones (high nibbles), 8-bit codes x as it is.
  std::vector<float> ordered;
  const float *xs = x;
  if (weight.bits == 4) {
    ordered.resize(weight.cols);
    int64_t lanes = table.lanes;
    for (int64_t block = 0; block < weight.cols; block += 2 * lanes)
      for (int64_t i = 0; i < lanes; ++i) {
        ordered[block + i] = x[block + 2 * i];
        ordered[block + lanes + i] = x[block + 2 * i + 1];
      }
    xs = ordered.data();
  }
  int64_t width = weight.blockCols == 0 ? weight.cols : weight.blockCols;
  std::vector<float> groupSums;
  for (int64_t first = 0; first < weight.cols; first += width) {
    float sum = 0.0f;
    for (int64_t k = first; k < std::min(weight.cols, first + width); ++k)
      sum += x[k];
    groupSums.push_back(sum);
  }
  auto rows = weight.bits == 4 ? table.matVecCodes4 : table.matVecCodes8;
  at::parallel_for(0, weight.rows, 16, [&](int64_t begin, int64_t end) {
    rows(weight, xs, groupSums.data(), y, begin, end);
  });
}

void gemm::dequantizeCodes(const QuantizedWeight &weight, float *out, int64_t begin,
                           int64_t end) {
  kernels()->dequantizeCodes(weight, out, begin, end);
}

void gemm::QuantizedWeight::dequantizeRow(int64_t row, float *out) const {
  static const std::array<float, 256> fp8Values = [] {
    std::array<float, 256> table;
    for (int code = 0; code < 256; ++code)
      table[code] = vgcu::fp8E4M3ToFloat(static_cast<uint8_t>(code));
    return table;
  }();
  const uint8_t *rowCodes = codes + row * (cols * bits / 8);
  int64_t base = (blockRows == 0 ? 0 : row / blockRows) * groups;
  float implicitZero = fp8 ? 0.0f : static_cast<float>(1 << (bits - 1));
  auto code = [&](int64_t col) -> uint8_t {
    return bits == 4 ? (rowCodes[col / 2] >> (4 * (col & 1))) & 15 : rowCodes[col];
  };
  if (groupIndex) {
    for (int64_t col = 0; col < cols; ++col) {
      int64_t block = base + groupIndex[col];
      out[col] = (static_cast<float>(code(col)) - (zeros ? zeros[block] : implicitZero)) *
                 scales[block];
    }
    return;
  }
  int64_t width = blockCols == 0 ? cols : blockCols;
  for (int64_t first = 0, group = 0; first < cols; first += width, ++group) {
    int64_t last = std::min(cols, first + width);
    float scale = scales[base + group];
    float zero = zeros ? zeros[base + group] : implicitZero;
    if (fp8) {
      for (int64_t col = first; col < last; ++col)
        out[col] = fp8Values[rowCodes[col]] * scale;
    } else if (bits == 8) {
      for (int64_t col = first; col < last; ++col)
        out[col] = (static_cast<float>(rowCodes[col]) - zero) * scale;
    } else {
      for (int64_t col = first; col < last; ++col)
        out[col] = (static_cast<float>((rowCodes[col / 2] >> (4 * (col & 1))) & 15) - zero) *
                   scale;
    }
  }
}
