//===- Quantization.h - Quantized checkpoint formats and vgcu's one quantized form --===//
//
// GPTQ, AWQ and FP8 checkpoints each lay a quantized linear out their own way; vgcu reads
// each into one form (QuantizedTensor: a code per element, scales and zeros per block, an
// optional group index per column) that slicing for tensor parallelism and the artifact's
// layout work on, whatever the source. A float checkpoint is quantized into the same form
// (`vgcu-compile --quantize`).
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_WEIGHTS_QUANTIZATION_H
#define VGCU_WEIGHTS_QUANTIZATION_H

#include "vgcu/Weights/SafeTensors.h"

#include "llvm/Support/JSON.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vgcu {

/// How elements are coded (mirrors vgcu::QuantCodes of the dialect).
enum class QuantCodeKind { UInt4, UInt8, Fp8E4M3 };

/// How a [rows, cols] weight is stored: see #vgcu.quant.
struct QuantScheme {
  QuantCodeKind codes = QuantCodeKind::UInt4;
  /// Rows and columns sharing one scale (0: the whole dimension).
  int64_t blockRows = 1;
  int64_t blockCols = 0;
  /// Per-block zeros; without them the zero is 2^(bits-1) (integers) or 0 (FP8).
  bool zeroPoint = false;
  /// A group index per column (GPTQ's desc_act).
  bool actOrder = false;

  int64_t bits() const { return codes == QuantCodeKind::UInt4 ? 4 : 8; }
  int64_t rowBlocks(int64_t rows) const {
    return blockRows == 0 ? 1 : (rows + blockRows - 1) / blockRows;
  }
  int64_t columnGroups(int64_t cols) const {
    return blockCols == 0 ? 1 : (cols + blockCols - 1) / blockCols;
  }
  bool operator==(const QuantScheme &other) const {
    return codes == other.codes && blockRows == other.blockRows &&
           blockCols == other.blockCols && zeroPoint == other.zeroPoint &&
           actOrder == other.actOrder;
  }
  /// "uint4, 1x128 blocks, zero points", for messages.
  std::string describe() const;
};

/// The checkpoint formats vgcu reads, selected by config.json's `quantization_config`.
enum class QuantMethod { GPTQ, AWQ, FP8 };

struct QuantConfig {
  QuantMethod method = QuantMethod::GPTQ;
  int64_t bits = 4;
  /// -1: one group per row.
  int64_t groupSize = 128;
  bool descAct = false;
  /// GPTQ's checkpoint_format "gptq" (v1) stores zero points minus one.
  bool zerosMinusOne = true;
  /// FP8 weight_block_size; unset: a scale per tensor (or per output channel).
  std::optional<std::pair<int64_t, int64_t>> fp8Block;
  /// Modules the config says are left in float (modules_to_not_convert, ignored_layers).
  /// Checked for form only: vgcu goes by which modules the checkpoint stores quantized.
  std::vector<std::string> modulesNotConverted;

  /// The config.json's quantization_config, if it has one; `where` names the file.
  static llvm::Expected<std::optional<QuantConfig>>
  fromModelConfig(const llvm::json::Object &config, llvm::StringRef where);
  /// "gptq 4-bit, group 128, desc_act", for messages and logs.
  std::string describe() const;
};

/// `vgcu-compile --quantize`: how a float checkpoint's linears are quantized.
enum class QuantizeMode { W8A16, FP8, FP8Block };
std::optional<QuantizeMode> parseQuantizeMode(llvm::StringRef text);
/// The scheme a mode stores.
QuantScheme schemeOf(QuantizeMode mode);

/// vgcu's quantized form of a whole [rows, cols] weight.
struct QuantizedTensor {
  QuantScheme scheme;
  int64_t rows = 0, cols = 0;
  /// [rows, cols], one code per byte (4-bit codes in the low nibble).
  std::vector<uint8_t> codes;
  /// [rowBlocks, groups].
  std::vector<float> scales;
  /// Like scales, with zeroPoint.
  std::vector<float> zeros;
  /// [cols], with actOrder.
  std::vector<int32_t> groupIndex;

  int64_t groups() const;
  /// Element (row, col) as float: (code - zero) · scale.
  float element(int64_t row, int64_t col) const;
  /// Rows [first, first + count) dequantized, as f32.
  void dequantizeRows(int64_t first, int64_t count, float *out) const;
};

/// The float value of an FP8 E4M3 (e4m3fn) byte, and the nearest code to a float (ties to
/// even, saturating at ±448).
float fp8E4M3ToFloat(uint8_t code);
uint8_t floatToFp8E4M3(float value);

/// One linear module's quantized tensors in a checkpoint (GPTQ's qweight, qzeros, scales,
/// g_idx; AWQ's qweight, qzeros, scales; FP8's weight and its scale), standing for the
/// module's [out, in] `weight`.
struct QuantizedSource {
  QuantConfig config;
  /// The module prefix ("model.layers.0.self_attn.q_proj").
  std::string prefix;
  int64_t rows = 0, cols = 0;
  Checkpoint::Entry codes{nullptr, nullptr}, scales{nullptr, nullptr},
      zeros{nullptr, nullptr}, groupIndex{nullptr, nullptr};

  /// The weight in vgcu's form; errors name tensors whose values are out of range.
  llvm::Expected<QuantizedTensor> decode() const;
  /// The scheme decode() gives, read from the scales and g_idx only.
  QuantScheme scheme() const;
};

/// A float [rows, cols] weight quantized as `mode` says (symmetric, per output channel, or
/// per 128 x 128 block).
QuantizedTensor quantizeFloatWeight(const float *weight, int64_t rows, int64_t cols,
                                    QuantizeMode mode);

/// Concatenates quantized tensors of one scheme along rows (a packed projection's parts);
/// each part's rows must fill whole row blocks, and act-order parts share their g_idx.
llvm::Expected<QuantizedTensor> concatenateRows(std::vector<QuantizedTensor> parts,
                                                llvm::StringRef what);

/// The artifact's tensors of one rank's slice of a quantized weight.
struct QuantizedSlice {
  /// [rows, cols · bits / 8] bytes.
  std::vector<uint8_t> codes;
  std::vector<float> scales, zeros;
  std::vector<int32_t> groupIndex;
  int64_t rows = 0, cols = 0, scaleRows = 0, scaleColumns = 0;
};

/// The slice made of `ranges` of the whole tensor along `dim` (0: rows, 1: columns; -1: the
/// whole tensor), in order; a column slice keeps `rows` (first, count) only when given (an
/// expert-parallel rank's block of experts). Errors when a range does not start and end on
/// block boundaries.
llvm::Expected<QuantizedSlice>
sliceQuantized(const QuantizedTensor &whole, int dim,
               llvm::ArrayRef<std::pair<int64_t, int64_t>> ranges, llvm::StringRef what,
               std::optional<std::pair<int64_t, int64_t>> rows = std::nullopt);

} // namespace vgcu

#endif // VGCU_WEIGHTS_QUANTIZATION_H
