//===- QuantizationTest.cpp - FP8 codes, quantized tensors, slicing and GPTQ/AWQ/FP8 reading ===//

#include "TestUtil.h"

#include "vgcu/Support/Error.h"
#include "vgcu/Weights/DType.h"
#include "vgcu/Weights/Quantization.h"
#include "vgcu/Weights/SafeTensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

using namespace vgcu;
using namespace vgcu::test;

namespace {

using Ranges = std::vector<std::pair<int64_t, int64_t>>;

QuantScheme scheme(QuantCodeKind codes, int64_t blockRows, int64_t blockCols, bool zeroPoint,
                   bool actOrder) {
  QuantScheme result;
  result.codes = codes;
  result.blockRows = blockRows;
  result.blockCols = blockCols;
  result.zeroPoint = zeroPoint;
  result.actOrder = actOrder;
  return result;
}

QuantizedTensor tensor(QuantScheme scheme, int64_t rows, int64_t cols, std::vector<uint8_t> codes,
                       std::vector<float> scales, std::vector<float> zeros = {},
                       std::vector<int32_t> groupIndex = {}) {
  QuantizedTensor result;
  result.scheme = scheme;
  result.rows = rows;
  result.cols = cols;
  result.codes = std::move(codes);
  result.scales = std::move(scales);
  result.zeros = std::move(zeros);
  result.groupIndex = std::move(groupIndex);
  return result;
}

/// Whether `text` contains `part` (with the text in the failure message).
::testing::AssertionResult contains(const std::string &text, const std::string &part) {
  if (text.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

int fp8(float value) { return floatToFp8E4M3(value); }

} // namespace

//===----------------------------------------------------------------------===//
// FP8 E4M3
//===----------------------------------------------------------------------===//

TEST(Fp8E4M3, DecodesKnownCodes) {
  EXPECT_EQ(fp8E4M3ToFloat(0x38), 1.0f);
  EXPECT_EQ(fp8E4M3ToFloat(0x3c), 1.5f);
  EXPECT_EQ(fp8E4M3ToFloat(0x40), 2.0f);
  EXPECT_EQ(fp8E4M3ToFloat(0xb8), -1.0f);
  EXPECT_EQ(fp8E4M3ToFloat(0x78), 256.0f);
  EXPECT_EQ(fp8E4M3ToFloat(0x7e), 448.0f); // the largest finite value
  EXPECT_EQ(fp8E4M3ToFloat(0xfe), -448.0f);
  EXPECT_EQ(fp8E4M3ToFloat(0x08), std::ldexp(1.0f, -6)); // the smallest normal
  EXPECT_EQ(fp8E4M3ToFloat(0x07), std::ldexp(7.0f, -9)); // the largest subnormal
  EXPECT_EQ(fp8E4M3ToFloat(0x01), std::ldexp(1.0f, -9)); // the smallest subnormal
  EXPECT_EQ(fp8E4M3ToFloat(0x00), 0.0f);
  EXPECT_EQ(fp8E4M3ToFloat(0x80), 0.0f);
  EXPECT_TRUE(std::signbit(fp8E4M3ToFloat(0x80)));
  // e4m3fn has no infinities; S.1111.111 is NaN.
  EXPECT_TRUE(std::isnan(fp8E4M3ToFloat(0x7f)));
  EXPECT_TRUE(std::isnan(fp8E4M3ToFloat(0xff)));
  // Codes 0 .. 0x7e count up.
  for (int code = 1; code <= 0x7e; ++code)
    EXPECT_LT(fp8E4M3ToFloat(static_cast<uint8_t>(code - 1)),
              fp8E4M3ToFloat(static_cast<uint8_t>(code)))
        << code;
}

TEST(Fp8E4M3, EncodesRoundingTiesToEven) {
  EXPECT_EQ(fp8(1.0f), 0x38);
  EXPECT_EQ(fp8(-1.0f), 0xb8);
  EXPECT_EQ(fp8(448.0f), 0x7e);
  EXPECT_EQ(fp8(std::ldexp(1.0f, -9)), 0x01);
  EXPECT_EQ(fp8(0.0f), 0x00);
  EXPECT_EQ(fp8(-0.0f), 0x80);
  // 1 + 1/16 lies halfway between 1 (mantissa 0) and 1.125 (mantissa 1): the even one.
  EXPECT_EQ(fp8(1.0625f), 0x38);
  // 1 + 3/16 between 1.125 (mantissa 1) and 1.25 (mantissa 2): the even one again.
  EXPECT_EQ(fp8(1.1875f), 0x3a);
  // Rounding up out of a binade: 1.96875 lies halfway between 1.875 and 2.
  EXPECT_EQ(fp8(1.96875f), 0x40);
  // Subnormal ties: 0.5, 1.5 and 2.5 steps of 2^-9.
  EXPECT_EQ(fp8(std::ldexp(1.0f, -10)), 0x00);
  EXPECT_EQ(fp8(std::ldexp(3.0f, -10)), 0x02);
  EXPECT_EQ(fp8(std::ldexp(5.0f, -10)), 0x02);
  // Just below the smallest normal, rounding up to it.
  EXPECT_EQ(fp8(std::ldexp(7.75f, -9)), 0x08);
  // Near the top: 440 rounds to 448 (the binade's step is 32).
  EXPECT_EQ(fp8(440.0f), 0x7e);
  EXPECT_EQ(fp8(420.0f), 0x7d); // 416 and 448 are 32 apart; 420 is nearer 416
}

TEST(Fp8E4M3, SaturatesAndKeepsNaN) {
  EXPECT_EQ(fp8(464.0f), 0x7e); // halfway to the 480 that e4m3fn does not have
  EXPECT_EQ(fp8(1000.0f), 0x7e);
  EXPECT_EQ(fp8(-1e30f), 0xfe);
  EXPECT_EQ(fp8(std::numeric_limits<float>::infinity()), 0x7e);
  EXPECT_EQ(fp8(-std::numeric_limits<float>::infinity()), 0xfe);
  EXPECT_EQ(fp8(std::numeric_limits<float>::quiet_NaN()), 0x7f);
  EXPECT_EQ(fp8(-std::numeric_limits<float>::quiet_NaN()), 0xff);
}

TEST(Fp8E4M3, RoundTripsEveryCode) {
  for (int code = 0; code < 256; ++code) {
    float value = fp8E4M3ToFloat(static_cast<uint8_t>(code));
    if ((code & 0x7f) == 0x7f) {
      EXPECT_TRUE(std::isnan(value)) << code;
      continue;
    }
    EXPECT_EQ(fp8(value), code) << "code " << code << " = " << value;
  }
}

//===----------------------------------------------------------------------===//
// Schemes, modes and quantizing float weights
//===----------------------------------------------------------------------===//

TEST(QuantScheme, DescribeAndModes) {
  EXPECT_EQ(scheme(QuantCodeKind::UInt4, 1, 128, true, false).describe(),
            "uint4, 1x128 blocks, zero points");
  EXPECT_EQ(scheme(QuantCodeKind::UInt4, 1, 128, true, true).describe(),
            "uint4, 1x128 blocks, zero points, act order");
  EXPECT_EQ(scheme(QuantCodeKind::UInt8, 1, 0, false, false).describe(), "uint8, 1xall blocks");
  EXPECT_EQ(scheme(QuantCodeKind::Fp8E4M3, 0, 0, false, false).describe(),
            "fp8_e4m3, allxall blocks");
  EXPECT_EQ(scheme(QuantCodeKind::UInt4, 1, 0, false, false).bits(), 4);
  EXPECT_EQ(scheme(QuantCodeKind::Fp8E4M3, 1, 0, false, false).bits(), 8);
  EXPECT_EQ(scheme(QuantCodeKind::Fp8E4M3, 128, 128, false, false).rowBlocks(130), 2);
  EXPECT_EQ(scheme(QuantCodeKind::Fp8E4M3, 0, 0, false, false).rowBlocks(130), 1);
  EXPECT_EQ(scheme(QuantCodeKind::Fp8E4M3, 128, 128, false, false).columnGroups(256), 2);

  EXPECT_EQ(parseQuantizeMode("w8a16"), QuantizeMode::W8A16);
  EXPECT_EQ(parseQuantizeMode("fp8"), QuantizeMode::FP8);
  EXPECT_EQ(parseQuantizeMode("fp8-block"), QuantizeMode::FP8Block);
  EXPECT_FALSE(parseQuantizeMode("int3"));
  EXPECT_FALSE(parseQuantizeMode("W8A16"));
  EXPECT_EQ(schemeOf(QuantizeMode::W8A16), scheme(QuantCodeKind::UInt8, 1, 0, false, false));
  EXPECT_EQ(schemeOf(QuantizeMode::FP8), scheme(QuantCodeKind::Fp8E4M3, 1, 0, false, false));
  EXPECT_EQ(schemeOf(QuantizeMode::FP8Block),
            scheme(QuantCodeKind::Fp8E4M3, 128, 128, false, false));
}

TEST(QuantizeFloatWeight, W8A16PerRow) {
  // Row 0: amax 127, scale 1; row 1: all zero, scale 1; row 2: amax 254, scale 2.
  std::vector<float> weight = {127.0f, -63.5f,  0.0f,   1.0f, //
                               0.0f,   0.0f,    0.0f,   0.0f, //
                               254.0f, -254.0f, 127.0f, 3.0f};
  QuantizedTensor q = quantizeFloatWeight(weight.data(), 3, 4, QuantizeMode::W8A16);
  EXPECT_EQ(q.scheme, schemeOf(QuantizeMode::W8A16));
  EXPECT_EQ(q.rows, 3);
  EXPECT_EQ(q.cols, 4);
  EXPECT_EQ(q.scales, (std::vector<float>{1.0f, 1.0f, 2.0f}));
  EXPECT_TRUE(q.zeros.empty());
  EXPECT_TRUE(q.groupIndex.empty());
  // round(w / scale) + 128, ties to even: -63.5 -> -64, 63.5 -> 64, 1.5 -> 2.
  EXPECT_EQ(q.codes, (std::vector<uint8_t>{255, 64, 128, 129,  //
                                           128, 128, 128, 128, //
                                           255, 1, 192, 130}));
  EXPECT_EQ(q.groups(), 1);
  EXPECT_EQ(q.element(0, 1), -64.0f);
  EXPECT_EQ(q.element(2, 1), -254.0f);
  EXPECT_EQ(q.element(2, 3), 4.0f);
  EXPECT_EQ(q.element(1, 2), 0.0f);
}

TEST(QuantizeFloatWeight, Fp8BlockScales) {
  // 130 x 200 in 128 x 128 blocks: 2 x 2 scales, the last row and column blocks partial.
  const int64_t rows = 130, cols = 200;
  std::vector<float> weight(rows * cols, 0.0f);
  weight[0] = 448.0f;                 // block (0, 0): scale 1
  weight[128 * cols + 0] = 44.8f;     // block (1, 0): scale 0.1
  weight[129 * cols + 199] = -896.0f; // block (1, 1): scale 2
  QuantizedTensor q = quantizeFloatWeight(weight.data(), rows, cols, QuantizeMode::FP8Block);
  EXPECT_EQ(q.scheme, schemeOf(QuantizeMode::FP8Block));
  ASSERT_EQ(q.scales.size(), 4u);
  EXPECT_EQ(q.groups(), 2);
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_EQ(q.scales[1], 1.0f); // an all-zero block
  EXPECT_FLOAT_EQ(q.scales[2], 44.8f / 448.0f);
  EXPECT_EQ(q.scales[3], 2.0f);
  ASSERT_EQ(q.codes.size(), static_cast<size_t>(rows * cols));
  EXPECT_EQ(q.codes[0], 0x7e);
  EXPECT_EQ(q.codes[128 * cols], 0x7e);
  EXPECT_EQ(q.codes[129 * cols + 199], 0xfe);
  EXPECT_EQ(q.codes[1], 0x00);
  EXPECT_EQ(q.element(129, 199), -896.0f);
  EXPECT_EQ(q.element(0, 0), 448.0f);

  // Per output channel (--quantize fp8): one scale per row.
  QuantizedTensor channel = quantizeFloatWeight(weight.data(), rows, cols, QuantizeMode::FP8);
  EXPECT_EQ(channel.scales.size(), static_cast<size_t>(rows));
  EXPECT_EQ(channel.scales[129], 2.0f);
  EXPECT_EQ(channel.scales[1], 1.0f);
}

//===----------------------------------------------------------------------===//
// QuantizedTensor
//===----------------------------------------------------------------------===//

TEST(QuantizedTensor, ElementWithZerosGroupsAndActOrder) {
  // 2 x 4, groups of 2 columns: scales and zeros [row, group].
  QuantizedTensor q =
      tensor(scheme(QuantCodeKind::UInt4, 1, 2, true, false), 2, 4, {1, 2, 3, 4, 5, 6, 7, 8},
             {0.5f, 1.0f, 2.0f, 4.0f}, {1.0f, 2.0f, 3.0f, 4.0f});
  EXPECT_EQ(q.groups(), 2);
  EXPECT_EQ(q.element(0, 0), 0.0f);  // (1 - 1) * 0.5
  EXPECT_EQ(q.element(0, 3), 2.0f);  // (4 - 2) * 1
  EXPECT_EQ(q.element(1, 1), 6.0f);  // (6 - 3) * 2
  EXPECT_EQ(q.element(1, 2), 12.0f); // (7 - 4) * 4
  std::vector<float> row(4);
  q.dequantizeRows(1, 1, row.data());
  EXPECT_EQ(row, (std::vector<float>{4.0f, 6.0f, 12.0f, 16.0f}));

  // With act order the group of a column is its g_idx entry.
  q.scheme.actOrder = true;
  q.groupIndex = {1, 0, 1, 0};
  EXPECT_EQ(q.element(0, 0), -1.0f); // group 1: (1 - 2) * 1
  EXPECT_EQ(q.element(0, 3), 1.5f);  // group 0: (4 - 1) * 0.5
  EXPECT_EQ(q.element(1, 1), 6.0f);  // group 0: (6 - 3) * 2
  EXPECT_EQ(q.element(1, 2), 12.0f); // group 1: (7 - 4) * 4
}

TEST(QuantizedTensor, ElementWithoutZeroPointAndFp8) {
  // Without zero points an integer code's zero is 2^(bits - 1).
  QuantizedTensor uint4 =
      tensor(scheme(QuantCodeKind::UInt4, 1, 0, false, false), 2, 2, {1, 8, 15, 0}, {0.5f, 2.0f});
  EXPECT_EQ(uint4.element(0, 0), -3.5f);
  EXPECT_EQ(uint4.element(0, 1), 0.0f);
  EXPECT_EQ(uint4.element(1, 0), 14.0f);
  EXPECT_EQ(uint4.element(1, 1), -16.0f);
  QuantizedTensor uint8 =
      tensor(scheme(QuantCodeKind::UInt8, 1, 0, false, false), 1, 2, {0, 255}, {0.25f});
  EXPECT_EQ(uint8.element(0, 0), -32.0f);
  EXPECT_EQ(uint8.element(0, 1), 31.75f);

  // FP8 with one scale for the whole tensor.
  QuantizedTensor fp8Tensor = tensor(scheme(QuantCodeKind::Fp8E4M3, 0, 0, false, false), 2, 2,
                                     {0x38, 0xb8, 0x7e, 0x01}, {0.5f});
  EXPECT_EQ(fp8Tensor.groups(), 1);
  EXPECT_EQ(fp8Tensor.element(0, 0), 0.5f);
  EXPECT_EQ(fp8Tensor.element(0, 1), -0.5f);
  EXPECT_EQ(fp8Tensor.element(1, 0), 224.0f);
  std::vector<float> row(2);
  fp8Tensor.dequantizeRows(1, 1, row.data());
  EXPECT_EQ(row, (std::vector<float>{224.0f, std::ldexp(1.0f, -10)}));
}

//===----------------------------------------------------------------------===//
// concatenateRows
//===----------------------------------------------------------------------===//

TEST(ConcatenateRows, PerTensorScalesBecomePerRow) {
  QuantScheme perTensor = scheme(QuantCodeKind::Fp8E4M3, 0, 0, false, false);
  QuantizedTensor a = tensor(perTensor, 2, 2, {0x38, 0x38, 0x38, 0xb8}, {2.0f});
  QuantizedTensor b = tensor(perTensor, 1, 2, {0x40, 0x38}, {0.5f});
  auto joined = concatenateRows({a, b}, "qkv");
  ASSERT_TRUE(static_cast<bool>(joined)) << errorText(joined);
  EXPECT_EQ(joined->scheme, scheme(QuantCodeKind::Fp8E4M3, 1, 0, false, false));
  EXPECT_EQ(joined->rows, 3);
  EXPECT_EQ(joined->cols, 2);
  EXPECT_EQ(joined->scales, (std::vector<float>{2.0f, 2.0f, 0.5f}));
  EXPECT_EQ(joined->codes, (std::vector<uint8_t>{0x38, 0x38, 0x38, 0xb8, 0x40, 0x38}));
  EXPECT_EQ(joined->element(1, 1), -2.0f);
  EXPECT_EQ(joined->element(2, 0), 1.0f);

  // A single part is returned as it is.
  auto single = concatenateRows({a}, "qkv");
  ASSERT_TRUE(static_cast<bool>(single)) << errorText(single);
  EXPECT_EQ(single->scheme, perTensor);
  EXPECT_EQ(single->scales, (std::vector<float>{2.0f}));

  // Zero points follow their scales.
  QuantScheme grouped = scheme(QuantCodeKind::UInt4, 1, 2, true, false);
  QuantizedTensor c = tensor(grouped, 1, 4, {1, 2, 3, 4}, {1.0f, 2.0f}, {8.0f, 7.0f});
  QuantizedTensor d =
      tensor(grouped, 2, 4, {5, 6, 7, 8, 9, 10, 11, 12}, {3, 4, 5, 6}, {1, 2, 3, 4});
  auto stacked = concatenateRows({c, d}, "gate_up");
  ASSERT_TRUE(static_cast<bool>(stacked)) << errorText(stacked);
  EXPECT_EQ(stacked->rows, 3);
  EXPECT_EQ(stacked->scales, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(stacked->zeros, (std::vector<float>{8, 7, 1, 2, 3, 4}));
  EXPECT_EQ(stacked->element(2, 3), (12.0f - 4.0f) * 6.0f);
}

TEST(ConcatenateRows, Errors) {
  QuantizedTensor int8 =
      tensor(scheme(QuantCodeKind::UInt8, 1, 0, false, false), 1, 2, {1, 2}, {1.0f});
  QuantizedTensor fp8Rows =
      tensor(scheme(QuantCodeKind::Fp8E4M3, 1, 0, false, false), 1, 2, {0x38, 0x38}, {1.0f});
  std::string mixed = errorText(concatenateRows({int8, fp8Rows}, "qkv"));
  EXPECT_TRUE(contains(mixed, "qkv: its parts are quantized differently"));
  EXPECT_TRUE(contains(mixed, "uint8"));
  EXPECT_TRUE(contains(mixed, "fp8_e4m3"));

  QuantizedTensor narrow =
      tensor(scheme(QuantCodeKind::UInt8, 1, 0, false, false), 1, 1, {1}, {1.0f});
  EXPECT_TRUE(contains(errorText(concatenateRows({int8, narrow}, "qkv")), "quantized differently"));

  QuantScheme actOrder = scheme(QuantCodeKind::UInt4, 1, 1, true, true);
  QuantizedTensor q = tensor(actOrder, 1, 2, {1, 2}, {1, 1}, {8, 8}, {0, 1});
  QuantizedTensor k = tensor(actOrder, 1, 2, {3, 4}, {1, 1}, {8, 8}, {1, 0});
  EXPECT_TRUE(contains(errorText(concatenateRows({q, k}, "qkv")),
                       "qkv: its parts have different act-order groups (g_idx)"));
  QuantizedTensor v = tensor(actOrder, 1, 2, {5, 6}, {1, 1}, {8, 8}, {0, 1});
  auto shared = concatenateRows({q, v}, "qkv");
  ASSERT_TRUE(static_cast<bool>(shared)) << errorText(shared);
  EXPECT_EQ(shared->groupIndex, (std::vector<int32_t>{0, 1}));

  // 2-row blocks: a first part of 3 rows ends inside a block.
  QuantScheme blocks = scheme(QuantCodeKind::Fp8E4M3, 2, 0, false, false);
  QuantizedTensor three = tensor(blocks, 3, 1, {0x38, 0x38, 0x38}, {1.0f, 1.0f});
  QuantizedTensor two = tensor(blocks, 2, 1, {0x38, 0x38}, {1.0f});
  EXPECT_TRUE(contains(errorText(concatenateRows({three, two}, "qkv")),
                       "qkv: a part of 3 rows does not fill whole 2-row scale blocks"));
  // The last part may end inside one.
  auto partialLast = concatenateRows({two, three}, "qkv");
  ASSERT_TRUE(static_cast<bool>(partialLast)) << errorText(partialLast);
  EXPECT_EQ(partialLast->rows, 5);
  EXPECT_EQ(partialLast->scales.size(), 3u);
}

//===----------------------------------------------------------------------===//
// sliceQuantized
//===----------------------------------------------------------------------===//

TEST(SliceQuantized, Rows8Bit) {
  // 4 x 3, a scale per row; code (r, c) = 10 r + c.
  QuantizedTensor whole =
      tensor(scheme(QuantCodeKind::UInt8, 1, 0, false, false), 4, 3,
             {0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32}, {1.0f, 2.0f, 3.0f, 4.0f});
  auto middle = sliceQuantized(whole, 0, Ranges{{1, 2}}, "w");
  ASSERT_TRUE(static_cast<bool>(middle)) << errorText(middle);
  EXPECT_EQ(middle->rows, 2);
  EXPECT_EQ(middle->cols, 3);
  EXPECT_EQ(middle->codes, (std::vector<uint8_t>{10, 11, 12, 20, 21, 22}));
  EXPECT_EQ(middle->scales, (std::vector<float>{2.0f, 3.0f}));
  EXPECT_EQ(middle->scaleRows, 2);
  EXPECT_EQ(middle->scaleColumns, 1);
  EXPECT_TRUE(middle->zeros.empty());
  EXPECT_TRUE(middle->groupIndex.empty());

  // Several ranges (a packed projection's parts) are taken in order.
  auto ends = sliceQuantized(whole, 0, Ranges{{0, 1}, {3, 1}}, "w");
  ASSERT_TRUE(static_cast<bool>(ends)) << errorText(ends);
  EXPECT_EQ(ends->codes, (std::vector<uint8_t>{0, 1, 2, 30, 31, 32}));
  EXPECT_EQ(ends->scales, (std::vector<float>{1.0f, 4.0f}));

  // Columns of a per-row scale: every scale stays.
  auto columns = sliceQuantized(whole, 1, Ranges{{1, 2}}, "w");
  ASSERT_TRUE(static_cast<bool>(columns)) << errorText(columns);
  EXPECT_EQ(columns->rows, 4);
  EXPECT_EQ(columns->cols, 2);
  EXPECT_EQ(columns->codes, (std::vector<uint8_t>{1, 2, 11, 12, 21, 22, 31, 32}));
  EXPECT_EQ(columns->scales, (std::vector<float>{1.0f, 2.0f, 3.0f, 4.0f}));
  EXPECT_EQ(columns->scaleRows, 4);
  EXPECT_EQ(columns->scaleColumns, 1);
}

TEST(SliceQuantized, Columns4BitPacksLowNibbleFirst) {
  // 2 x 8 uint4 in groups of 4 columns; code (r, c) = 8 r + c; scales and zeros [row, group].
  std::vector<uint8_t> codes(16);
  for (int i = 0; i < 16; ++i)
    codes[i] = static_cast<uint8_t>(i);
  QuantizedTensor whole = tensor(scheme(QuantCodeKind::UInt4, 1, 4, true, false), 2, 8, codes,
                                 {1.0f, 2.0f, 3.0f, 4.0f}, {5.0f, 6.0f, 7.0f, 8.0f});
  // The whole tensor: column 2k in the low nibble of byte k, 2k + 1 in the high one.
  auto all = sliceQuantized(whole, -1, Ranges{}, "w");
  ASSERT_TRUE(static_cast<bool>(all)) << errorText(all);
  EXPECT_EQ(all->codes, (std::vector<uint8_t>{0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe}));
  EXPECT_EQ(all->scales, (std::vector<float>{1.0f, 2.0f, 3.0f, 4.0f}));
  EXPECT_EQ(all->zeros, (std::vector<float>{5.0f, 6.0f, 7.0f, 8.0f}));
  EXPECT_EQ(all->scaleRows, 2);
  EXPECT_EQ(all->scaleColumns, 2);

  // Columns [4, 8): the second group's scales and zeros.
  auto right = sliceQuantized(whole, 1, Ranges{{4, 4}}, "w");
  ASSERT_TRUE(static_cast<bool>(right)) << errorText(right);
  EXPECT_EQ(right->rows, 2);
  EXPECT_EQ(right->cols, 4);
  EXPECT_EQ(right->codes, (std::vector<uint8_t>{0x54, 0x76, 0xdc, 0xfe}));
  EXPECT_EQ(right->scales, (std::vector<float>{2.0f, 4.0f}));
  EXPECT_EQ(right->zeros, (std::vector<float>{6.0f, 8.0f}));
  EXPECT_EQ(right->scaleRows, 2);
  EXPECT_EQ(right->scaleColumns, 1);

  // Row 1: its scales and zeros.
  auto second = sliceQuantized(whole, 0, Ranges{{1, 1}}, "w");
  ASSERT_TRUE(static_cast<bool>(second)) << errorText(second);
  EXPECT_EQ(second->codes, (std::vector<uint8_t>{0x98, 0xba, 0xdc, 0xfe}));
  EXPECT_EQ(second->scales, (std::vector<float>{3.0f, 4.0f}));
  EXPECT_EQ(second->zeros, (std::vector<float>{7.0f, 8.0f}));
  EXPECT_EQ(second->scaleRows, 1);
  EXPECT_EQ(second->scaleColumns, 2);
}

TEST(SliceQuantized, ActOrderKeepsAllGroups) {
  std::vector<uint8_t> codes(16);
  for (int i = 0; i < 16; ++i)
    codes[i] = static_cast<uint8_t>(i);
  QuantizedTensor whole =
      tensor(scheme(QuantCodeKind::UInt4, 1, 4, true, true), 2, 8, codes, {1.0f, 2.0f, 3.0f, 4.0f},
             {5.0f, 6.0f, 7.0f, 8.0f}, {1, 0, 1, 0, 1, 0, 1, 0});
  // Columns need not start on a group: a rank keeps every group and its columns' g_idx.
  auto middle = sliceQuantized(whole, 1, Ranges{{2, 4}}, "w");
  ASSERT_TRUE(static_cast<bool>(middle)) << errorText(middle);
  EXPECT_EQ(middle->cols, 4);
  EXPECT_EQ(middle->codes, (std::vector<uint8_t>{0x32, 0x54, 0xba, 0xdc}));
  EXPECT_EQ(middle->scales, (std::vector<float>{1.0f, 2.0f, 3.0f, 4.0f}));
  EXPECT_EQ(middle->zeros, (std::vector<float>{5.0f, 6.0f, 7.0f, 8.0f}));
  EXPECT_EQ(middle->scaleRows, 2);
  EXPECT_EQ(middle->scaleColumns, 2);
  EXPECT_EQ(middle->groupIndex, (std::vector<int32_t>{1, 0, 1, 0}));

  // Along the rows the whole g_idx is kept.
  auto row = sliceQuantized(whole, 0, Ranges{{0, 1}}, "w");
  ASSERT_TRUE(static_cast<bool>(row)) << errorText(row);
  EXPECT_EQ(row->groupIndex, (std::vector<int32_t>{1, 0, 1, 0, 1, 0, 1, 0}));
  EXPECT_EQ(row->scales, (std::vector<float>{1.0f, 2.0f}));
}

TEST(SliceQuantized, Fp8Blocks) {
  // 5 x 4 in 2 x 2 blocks: 3 row blocks (the last partial) by 2 column groups.
  std::vector<uint8_t> codes(20, 0x38);
  QuantizedTensor whole = tensor(scheme(QuantCodeKind::Fp8E4M3, 2, 2, false, false), 5, 4, codes,
                                 {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f});
  auto middle = sliceQuantized(whole, 0, Ranges{{2, 2}}, "w");
  ASSERT_TRUE(static_cast<bool>(middle)) << errorText(middle);
  EXPECT_EQ(middle->scales, (std::vector<float>{3.0f, 4.0f}));
  EXPECT_EQ(middle->scaleRows, 1);
  EXPECT_EQ(middle->scaleColumns, 2);
  EXPECT_EQ(middle->codes.size(), 8u);

  // A range may end inside a block where the tensor ends.
  auto last = sliceQuantized(whole, 0, Ranges{{4, 1}}, "w");
  ASSERT_TRUE(static_cast<bool>(last)) << errorText(last);
  EXPECT_EQ(last->rows, 1);
  EXPECT_EQ(last->scales, (std::vector<float>{5.0f, 6.0f}));

  auto right = sliceQuantized(whole, 1, Ranges{{2, 2}}, "w");
  ASSERT_TRUE(static_cast<bool>(right)) << errorText(right);
  EXPECT_EQ(right->scales, (std::vector<float>{2.0f, 4.0f, 6.0f}));
  EXPECT_EQ(right->scaleRows, 3);
  EXPECT_EQ(right->scaleColumns, 1);
  EXPECT_EQ(right->codes.size(), 10u);
}

TEST(SliceQuantized, Errors) {
  std::vector<uint8_t> codes(16, 0);
  QuantizedTensor grouped = tensor(scheme(QuantCodeKind::UInt4, 1, 4, true, false), 2, 8, codes,
                                   {1.0f, 1.0f, 1.0f, 1.0f}, {8.0f, 8.0f, 8.0f, 8.0f});
  std::string misaligned = errorText(sliceQuantized(grouped, 1, Ranges{{2, 4}}, "w"));
  EXPECT_TRUE(contains(misaligned, "w: "));
  EXPECT_TRUE(contains(misaligned, "[2, 6) of 8 columns cuts 4-wide blocks"));
  EXPECT_TRUE(contains(errorText(sliceQuantized(grouped, 1, Ranges{{4, 2}}, "w")),
                       "[4, 6) of 8 columns cuts 4-wide blocks"));

  std::vector<uint8_t> fp8Codes(20, 0x38);
  QuantizedTensor blocks = tensor(scheme(QuantCodeKind::Fp8E4M3, 2, 2, false, false), 5, 4,
                                  fp8Codes, {1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f});
  EXPECT_TRUE(contains(errorText(sliceQuantized(blocks, 0, Ranges{{1, 2}}, "w")),
                       "[1, 3) of 5 rows cuts 2-wide blocks"));

  // 3 columns of 4-bit codes do not fill whole bytes.
  QuantizedTensor perRow =
      tensor(scheme(QuantCodeKind::UInt4, 1, 0, false, false), 1, 4, {1, 2, 3, 4}, {1.0f});
  EXPECT_TRUE(contains(errorText(sliceQuantized(perRow, 1, Ranges{{0, 3}}, "w")),
                       "w: a rank's slice has 3 columns; 4-bit codes are stored two per byte"));
}

//===----------------------------------------------------------------------===//
// QuantConfig::fromModelConfig
//===----------------------------------------------------------------------===//

namespace {

/// fromModelConfig of the config.json text `json` ("config.json" in messages).
llvm::Expected<std::optional<QuantConfig>> quantConfigOf(llvm::StringRef json) {
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(json);
  if (!value)
    return value.takeError();
  const llvm::json::Object *object = value->getAsObject();
  if (!object)
    return makeError("not a JSON object");
  return QuantConfig::fromModelConfig(*object, "config.json");
}

/// The quantization_config of `json`, which must be valid.
QuantConfig parsedConfig(llvm::StringRef json) {
  auto config = quantConfigOf(json);
  if (!config) {
    ADD_FAILURE() << errorText(config);
    return QuantConfig();
  }
  if (!*config) {
    ADD_FAILURE() << "no quantization_config in " << json.str();
    return QuantConfig();
  }
  return **config;
}

/// The error fromModelConfig gives for `json`.
std::string configError(llvm::StringRef json) {
  auto config = quantConfigOf(json);
  EXPECT_FALSE(static_cast<bool>(config)) << "no error for " << json.str();
  return errorText(config);
}

} // namespace

TEST(QuantConfig, Absent) {
  auto none = quantConfigOf(R"({"architectures": ["LlamaForCausalLM"]})");
  ASSERT_TRUE(static_cast<bool>(none)) << errorText(none);
  EXPECT_FALSE(none->has_value());
  auto null = quantConfigOf(R"({"quantization_config": null})");
  ASSERT_TRUE(static_cast<bool>(null)) << errorText(null);
  EXPECT_FALSE(null->has_value());
}

TEST(QuantConfig, GptqDefaults) {
  QuantConfig config = parsedConfig(R"({"quantization_config": {"quant_method": "gptq",
                                       "bits": 4}})");
  EXPECT_EQ(config.method, QuantMethod::GPTQ);
  EXPECT_EQ(config.bits, 4);
  EXPECT_EQ(config.groupSize, -1); // absent: one group per row
  EXPECT_FALSE(config.descAct);
  EXPECT_TRUE(config.zerosMinusOne); // checkpoint_format "gptq" (v1)
  EXPECT_FALSE(config.fp8Block);
  EXPECT_TRUE(config.modulesNotConverted.empty());

  // AutoGPTQ's full config.
  QuantConfig full = parsedConfig(R"({"quantization_config": {"quant_method": "gptq",
      "bits": 8, "group_size": 128, "desc_act": true, "sym": false, "checkpoint_format": "gptq",
      "damp_percent": 0.01, "true_sequential": true, "static_groups": false}})");
  EXPECT_EQ(full.bits, 8);
  EXPECT_EQ(full.groupSize, 128);
  EXPECT_TRUE(full.descAct);
  EXPECT_TRUE(full.zerosMinusOne);
  EXPECT_EQ(full.describe(), "gptq 8-bit, group 128, desc_act");
}

TEST(QuantConfig, GptqV2) {
  QuantConfig config = parsedConfig(R"({"quantization_config": {"quant_method": "GPTQ",
      "bits": 4, "group_size": 32, "checkpoint_format": "gptq_v2"}})");
  EXPECT_EQ(config.method, QuantMethod::GPTQ);
  EXPECT_FALSE(config.zerosMinusOne);
  EXPECT_EQ(config.describe(), "gptq 4-bit, group 32");
}

TEST(QuantConfig, AwqAliases) {
  // AutoAWQ's own quant_config spelling: w_bit and q_group_size.
  QuantConfig aliases = parsedConfig(R"({"quantization_config": {"quant_method": "awq",
      "w_bit": 4, "q_group_size": 64, "zero_point": true, "version": "GEMM"}})");
  EXPECT_EQ(aliases.method, QuantMethod::AWQ);
  EXPECT_EQ(aliases.bits, 4);
  EXPECT_EQ(aliases.groupSize, 64);
  EXPECT_EQ(aliases.describe(), "awq 4-bit, group 64");

  QuantConfig hf = parsedConfig(R"({"quantization_config": {"quant_method": "awq", "bits": 4,
      "group_size": 128, "version": "gemm", "modules_to_not_convert": ["visual"]}})");
  EXPECT_EQ(hf.groupSize, 128);
  EXPECT_EQ(hf.modulesNotConverted, (std::vector<std::string>{"visual"}));
  QuantConfig nullList = parsedConfig(R"({"quantization_config": {"quant_method": "awq",
      "bits": 4, "group_size": 128, "modules_to_not_convert": null}})");
  EXPECT_TRUE(nullList.modulesNotConverted.empty());
}

TEST(QuantConfig, Fp8BlockSize) {
  QuantConfig blocks = parsedConfig(R"({"quantization_config": {"quant_method": "fp8",
      "fmt": "e4m3", "activation_scheme": "dynamic", "weight_block_size": [128, 64],
      "ignored_layers": ["a"], "modules_to_not_convert": ["lm_head"]}})");
  EXPECT_EQ(blocks.method, QuantMethod::FP8);
  ASSERT_TRUE(blocks.fp8Block.has_value());
  EXPECT_EQ(blocks.fp8Block->first, 128);
  EXPECT_EQ(blocks.fp8Block->second, 64);
  EXPECT_EQ(blocks.bits, 8);
  EXPECT_EQ(blocks.groupSize, -1);
  EXPECT_EQ(blocks.modulesNotConverted, (std::vector<std::string>{"a", "lm_head"}));
  EXPECT_EQ(blocks.describe(), "fp8 e4m3, 128x64 blocks");

  QuantConfig perTensor = parsedConfig(R"({"quantization_config": {"quant_method": "fp8",
      "activation_scheme": "dynamic"}})");
  EXPECT_FALSE(perTensor.fp8Block.has_value());
  EXPECT_EQ(perTensor.describe(), "fp8 e4m3");
}

TEST(QuantConfig, Errors) {
  EXPECT_TRUE(contains(configError(R"({"quantization_config": "gptq"})"),
                       "config.json: quantization_config must be an object"));
  EXPECT_TRUE(contains(configError(R"({"quantization_config": {"quant_method": "bitsandbytes"}})"),
                       "config.json: quantization_config.quant_method 'bitsandbytes' is not "
                       "supported (vgcu reads gptq, awq and fp8 checkpoints)"));
  EXPECT_TRUE(contains(configError(R"({"quantization_config": {"bits": 4}})"),
                       "quantization_config.quant_method '' is not supported"));
  // GPTQ
  EXPECT_TRUE(contains(configError(R"({"quantization_config": {"quant_method": "gptq"}})"),
                       "config.json: quantization_config.bits is missing"));
  EXPECT_TRUE(
      contains(configError(R"({"quantization_config": {"quant_method": "gptq", "bits": "4"}})"),
               "config.json: quantization_config.bits must be an integer"));
  EXPECT_TRUE(
      contains(configError(R"({"quantization_config": {"quant_method": "gptq", "bits": 3}})"),
               "config.json: quantization_config.bits is 3; vgcu reads 4- and 8-bit GPTQ"));
  EXPECT_TRUE(contains(configError(R"({"quantization_config": {"quant_method": "gptq",
      "bits": 4, "group_size": 0}})"),
                       "config.json: quantization_config.group_size must be positive or -1, "
                       "got 0"));
  EXPECT_TRUE(contains(configError(R"({"quantization_config": {"quant_method": "gptq",
      "bits": 4, "group_size": -2}})"),
                       "quantization_config.group_size must be positive or -1, got -2"));
  EXPECT_TRUE(contains(configError(R"({"quantization_config": {"quant_method": "gptq",
      "bits": 4, "desc_act": "yes"}})"),
                       "config.json: quantization_config.desc_act must be true or false"));
  EXPECT_TRUE(contains(configError(R"({"quantization_config": {"quant_method": "gptq",
      "bits": 4, "checkpoint_format": "marlin"}})"),
                       "quantization_config.checkpoint_format 'marlin' is not supported (gptq "
                       "or gptq_v2)"));
  // AWQ
  EXPECT_TRUE(
      contains(configError(R"({"quantization_config": {"quant_method": "awq", "bits": 8}})"),
               "quantization_config.bits is 8; vgcu reads 4-bit AWQ"));
  EXPECT_TRUE(contains(configError(R"({"quantization_config": {"quant_method": "awq",
      "bits": 4, "zero_point": false}})"),
                       "quantization_config.zero_point is false"));
  EXPECT_TRUE(contains(configError(R"({"quantization_config": {"quant_method": "awq",
      "bits": 4, "version": "gemv"}})"),
                       "quantization_config.version 'gemv' is not supported (vgcu reads "
                       "AutoAWQ's GEMM layout)"));
  EXPECT_TRUE(contains(configError(R"({"quantization_config": {"quant_method": "awq",
      "bits": 4, "modules_to_not_convert": "lm_head"}})"),
                       "quantization_config.modules_to_not_convert must be a list of module "
                       "names"));
  EXPECT_TRUE(contains(configError(R"({"quantization_config": {"quant_method": "awq",
      "bits": 4, "modules_to_not_convert": [1]}})"),
                       "quantization_config.modules_to_not_convert must be a list of module "
                       "names"));
  // FP8
  for (const char *block : {"[128]", "[128, 0]", "[128, \"x\"]", "128", "[128, 128, 128]"}) {
    std::string json = std::string(R"({"quantization_config": {"quant_method": "fp8", )") +
                       "\"weight_block_size\": " + block + "}}";
    EXPECT_TRUE(contains(configError(json), "config.json: quantization_config.weight_block_size "
                                            "must be two positive integers [rows, cols]"))
        << block;
  }
  EXPECT_TRUE(contains(configError(R"({"quantization_config": {"quant_method": "fp8",
      "fmt": "e5m2"}})"),
                       "quantization_config.fmt 'e5m2' is not supported (FP8 weights are read "
                       "as e4m3)"));
  EXPECT_TRUE(contains(configError(R"({"quantization_config": {"quant_method": "fp8",
      "ignored_layers": {"a": 1}}})"),
                       "quantization_config.ignored_layers must be a list of module names"));
}

//===----------------------------------------------------------------------===//
// Checkpoint::applyQuantization and QuantizedSource::decode
//===----------------------------------------------------------------------===//

namespace {

struct RawTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

template <typename T> std::vector<uint8_t> bytesOf(const std::vector<T> &values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!bytes.empty())
    std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

std::vector<uint8_t> halves(const std::vector<float> &values) {
  std::vector<uint16_t> bits;
  for (float value : values)
    bits.push_back(floatToHalf(value));
  return bytesOf(bits);
}

class QuantizedCheckpoint : public ::testing::Test {
protected:
  /// Writes `tensors` (and a float model.norm.weight) to <dir>/<name>/model.safetensors,
  /// opens that checkpoint and applies `config`; null (with a failure) on an error.
  std::unique_ptr<Checkpoint> open(llvm::StringRef name, std::vector<RawTensor> tensors,
                                   const QuantConfig &config) {
    std::string directory = dir.path(name);
    EXPECT_FALSE(llvm::sys::fs::create_directories(directory));
    tensors.push_back({"model.norm.weight", DType::F32, {2}, bytesOf(std::vector<float>{1, 2})});
    std::vector<TensorToWrite> toWrite;
    for (const RawTensor &raw : tensors) {
      std::vector<uint8_t> bytes = raw.bytes;
      toWrite.push_back(
          {raw.name, raw.dtype, llvm::SmallVector<int64_t, 4>(raw.shape.begin(), raw.shape.end()),
           [bytes](llvm::MutableArrayRef<uint8_t> out) {
             EXPECT_EQ(out.size(), bytes.size());
             std::memcpy(out.data(), bytes.data(), std::min(out.size(), bytes.size()));
           }});
    }
    std::string file = directory + "/model.safetensors";
    EXPECT_EQ(errorText(writeSafeTensors(file, std::move(toWrite), {{"format", "pt"}})), "");
    auto checkpoint = Checkpoint::open(directory);
    if (!checkpoint) {
      ADD_FAILURE() << errorText(checkpoint);
      return nullptr;
    }
    lastError = errorText((*checkpoint)->applyQuantization(config));
    if (!lastError.empty())
      return nullptr;
    return std::move(*checkpoint);
  }

  /// The quantized source standing for `module`.weight, with its entry checked.
  const QuantizedSource *source(const Checkpoint &checkpoint, const std::string &module,
                                int64_t rows, int64_t cols) {
    const Checkpoint::Entry *entry = checkpoint.find(module + ".weight");
    if (!entry || !entry->quantized) {
      ADD_FAILURE() << "no quantized entry " << module << ".weight";
      return nullptr;
    }
    EXPECT_EQ(entry->tensor->dtype, DType::F32);
    EXPECT_EQ(std::vector<int64_t>(entry->tensor->shape.begin(), entry->tensor->shape.end()),
              (std::vector<int64_t>{rows, cols}));
    EXPECT_EQ(entry->quantized->rows, rows);
    EXPECT_EQ(entry->quantized->cols, cols);
    EXPECT_EQ(entry->quantized->prefix, module);
    // Float tensors are kept as they are.
    const Checkpoint::Entry *norm = checkpoint.find("model.norm.weight");
    EXPECT_TRUE(norm && !norm->quantized);
    return entry->quantized.get();
  }

  TempDir dir;
  std::string lastError;
};

const std::string kDown = "model.layers.0.mlp.down_proj";
const std::string kOut = "model.layers.0.self_attn.o_proj";

QuantConfig gptqConfig(int64_t bits, int64_t groupSize) {
  QuantConfig config;
  config.method = QuantMethod::GPTQ;
  config.bits = bits;
  config.groupSize = groupSize;
  return config;
}

/// A GPTQ 4-bit [8 out, 8 in] module in 2 groups of 4 input features: code (o, i) = o + i,
/// zeros 8 (group 0) and o + 1 (group 1), scales 0.5 (group 0) and 0.25 (o + 1) (group 1).
std::vector<RawTensor> gptq4Tensors(const std::string &module, std::vector<int32_t> groupIndex) {
  // AutoGPTQ's QuantLinear.pack: qweight [in / 8, out], input feature i of output o in word
  // (i / 8, o) at bits 4 (i % 8).
  std::vector<uint32_t> qweight = {0x76543210, 0x87654321, 0x98765432, 0xa9876543,
                                   0xba987654, 0xcba98765, 0xdcba9876, 0xedcba987};
  // qzeros [groups, out / 8]: output o of group g at bits 4 o, stored minus one (v1).
  std::vector<uint32_t> qzeros = {0x77777777, 0x76543210};
  std::vector<float> scales(16);
  for (int o = 0; o < 8; ++o) {
    scales[o] = 0.5f;
    scales[8 + o] = 0.25f * (o + 1);
  }
  std::vector<RawTensor> tensors = {
      {module + ".qweight", DType::I32, {1, 8}, bytesOf(qweight)},
      {module + ".qzeros", DType::I32, {2, 1}, bytesOf(qzeros)},
      {module + ".scales", DType::F16, {2, 8}, halves(scales)},
  };
  if (!groupIndex.empty())
    tensors.push_back({module + ".g_idx", DType::I32, {8}, bytesOf(groupIndex)});
  return tensors;
}

} // namespace

TEST_F(QuantizedCheckpoint, Gptq4BitLayout) {
  auto checkpoint = open("gptq", gptq4Tensors(kDown, {0, 0, 0, 0, 1, 1, 1, 1}), gptqConfig(4, 4));
  ASSERT_TRUE(checkpoint != nullptr) << lastError;
  for (const char *leaf : {".qweight", ".qzeros", ".scales", ".g_idx"})
    EXPECT_FALSE(checkpoint->find(kDown + leaf)) << leaf;
  const QuantizedSource *gptq = source(*checkpoint, kDown, 8, 8);
  ASSERT_TRUE(gptq);
  auto decoded = gptq->decode();
  ASSERT_TRUE(static_cast<bool>(decoded)) << errorText(decoded);
  // A sequential g_idx is no act order.
  EXPECT_EQ(decoded->scheme, scheme(QuantCodeKind::UInt4, 1, 4, true, false));
  EXPECT_EQ(gptq->scheme(), decoded->scheme);
  EXPECT_TRUE(decoded->groupIndex.empty());
  ASSERT_EQ(decoded->codes.size(), 64u);
  for (int o = 0; o < 8; ++o)
    for (int i = 0; i < 8; ++i)
      EXPECT_EQ(decoded->codes[o * 8 + i], o + i) << o << ", " << i;
  ASSERT_EQ(decoded->zeros.size(), 16u);
  ASSERT_EQ(decoded->scales.size(), 16u);
  for (int o = 0; o < 8; ++o) {
    EXPECT_EQ(decoded->zeros[o * 2], 8.0f) << o;         // stored 7, plus one
    EXPECT_EQ(decoded->zeros[o * 2 + 1], o + 1.0f) << o; // stored o, plus one
    EXPECT_EQ(decoded->scales[o * 2], 0.5f) << o;
    EXPECT_EQ(decoded->scales[o * 2 + 1], 0.25f * (o + 1)) << o;
  }
  EXPECT_EQ(decoded->element(0, 0), -4.0f); // (0 - 8) * 0.5
  EXPECT_EQ(decoded->element(2, 5), 3.0f);  // (7 - 3) * 0.75
  EXPECT_EQ(decoded->element(7, 7), 12.0f); // group 1: (14 - 8) * 2
}

TEST_F(QuantizedCheckpoint, Gptq4BitActOrder) {
  QuantConfig config = gptqConfig(4, 4);
  config.descAct = true;
  auto checkpoint = open("act-order", gptq4Tensors(kDown, {0, 1, 0, 1, 0, 1, 0, 1}), config);
  ASSERT_TRUE(checkpoint != nullptr) << lastError;
  const QuantizedSource *gptq = source(*checkpoint, kDown, 8, 8);
  ASSERT_TRUE(gptq);
  auto decoded = gptq->decode();
  ASSERT_TRUE(static_cast<bool>(decoded)) << errorText(decoded);
  EXPECT_EQ(decoded->scheme, scheme(QuantCodeKind::UInt4, 1, 4, true, true));
  EXPECT_EQ(gptq->scheme(), decoded->scheme);
  EXPECT_EQ(decoded->groupIndex, (std::vector<int32_t>{0, 1, 0, 1, 0, 1, 0, 1}));
  EXPECT_EQ(decoded->element(2, 5), 3.0f);  // group 1: (7 - 3) * 0.75
  EXPECT_EQ(decoded->element(2, 4), -1.0f); // group 0: (6 - 8) * 0.5
}

TEST_F(QuantizedCheckpoint, Gptq8BitAndV2Zeros) {
  // [4 out, 4 in], 8 bits, one group: code (o, i) = 16 o + i, zeros 128 stored as 127.
  std::vector<uint32_t> qweight = {0x03020100, 0x13121110, 0x23222120, 0x33323130};
  std::vector<RawTensor> tensors = {
      {kOut + ".qweight", DType::I32, {1, 4}, bytesOf(qweight)},
      {kOut + ".qzeros", DType::I32, {1, 1}, bytesOf(std::vector<uint32_t>{0x7f7f7f7f})},
      {kOut + ".scales", DType::F32, {1, 4}, bytesOf(std::vector<float>{1, 2, 3, 4})},
  };
  auto v1 = open("v1", tensors, gptqConfig(8, -1));
  ASSERT_TRUE(v1 != nullptr) << lastError;
  const QuantizedSource *gptq = source(*v1, kOut, 4, 4);
  ASSERT_TRUE(gptq);
  auto decoded = gptq->decode();
  ASSERT_TRUE(static_cast<bool>(decoded)) << errorText(decoded);
  EXPECT_EQ(decoded->scheme, scheme(QuantCodeKind::UInt8, 1, 0, true, false));
  EXPECT_EQ(decoded->codes, (std::vector<uint8_t>{0x00, 0x01, 0x02, 0x03, 0x10, 0x11, 0x12, 0x13,
                                                  0x20, 0x21, 0x22, 0x23, 0x30, 0x31, 0x32, 0x33}));
  EXPECT_EQ(decoded->zeros, (std::vector<float>{128, 128, 128, 128}));
  EXPECT_EQ(decoded->scales, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(decoded->element(3, 3), (51.0f - 128.0f) * 4.0f);

  // checkpoint_format gptq_v2 stores the zeros themselves.
  QuantConfig config = gptqConfig(8, -1);
  config.zerosMinusOne = false;
  auto v2 = open("v2", tensors, config);
  ASSERT_TRUE(v2 != nullptr) << lastError;
  const QuantizedSource *gptq2 = source(*v2, kOut, 4, 4);
  ASSERT_TRUE(gptq2);
  auto decoded2 = gptq2->decode();
  ASSERT_TRUE(static_cast<bool>(decoded2)) << errorText(decoded2);
  EXPECT_EQ(decoded2->zeros, (std::vector<float>{127, 127, 127, 127}));
}

TEST_F(QuantizedCheckpoint, GptqErrors) {
  // A g_idx naming group 2 of 2 is found when the checkpoint is opened.
  EXPECT_FALSE(open("range", gptq4Tensors(kDown, {0, 0, 0, 0, 1, 1, 1, 2}), gptqConfig(4, 4)));
  EXPECT_TRUE(contains(lastError, "'" + kDown + ".g_idx'[7] is 2, but there are 2 groups"));

  QuantConfig descAct = gptqConfig(4, 4);
  descAct.descAct = true;
  EXPECT_FALSE(open("no-g-idx", gptq4Tensors(kDown, {}), descAct));
  EXPECT_TRUE(
      contains(lastError, "checkpoint has no tensor '" + kDown + ".g_idx', which desc_act needs"));

  std::vector<RawTensor> noScales = gptq4Tensors(kDown, {});
  noScales.erase(noScales.begin() + 2);
  EXPECT_FALSE(open("no-scales", noScales, gptqConfig(4, 4)));
  EXPECT_TRUE(contains(lastError, "checkpoint has no tensor '" + kDown + ".scales'"));
  EXPECT_TRUE(contains(lastError, "(GPTQ 4-bit with group_size 4 over a [8, 8] weight"));

  // Scales for groups of 4 ([2, 8]) read with group_size 2, which needs [4, 8].
  EXPECT_FALSE(open("wrong-groups", gptq4Tensors(kDown, {}), gptqConfig(4, 2)));
  EXPECT_TRUE(contains(lastError, "checkpoint tensor '" + kDown + ".scales' has shape [2, 8]"));
  EXPECT_TRUE(contains(lastError, "makes it [4, 8]"));

  std::vector<RawTensor> floatWords = gptq4Tensors(kDown, {});
  floatWords[0].dtype = DType::F32;
  EXPECT_FALSE(open("f32-qweight", floatWords, gptqConfig(4, 4)));
  EXPECT_TRUE(contains(lastError, "checkpoint tensor '" + kDown + ".qweight' has dtype F32"));
  EXPECT_TRUE(contains(lastError, "shape [1, 8]; GPTQ packs a weight into a 2-d I32 tensor"));
}

TEST_F(QuantizedCheckpoint, AwqInterleave) {
  // AutoAWQ's WQLinear_GEMM: qweight [in, out / 8]; nibble k of a word holds output
  // order_map[k] = [0, 2, 4, 6, 1, 3, 5, 7][k]. [8 out, 4 in], code (o, i) = o + i: word i holds
  // outputs 0, 2, 4, 6, 1, 3, 5, 7 plus i from the lowest nibble up.
  std::vector<uint32_t> qweight = {0x75316420, 0x86427531, 0x97538642, 0xa8649753};
  // qzeros [groups, out / 8], interleaved alike and stored as they are: o (group 0), 3 (group 1).
  std::vector<uint32_t> qzeros = {0x75316420, 0x33333333};
  std::vector<float> scales(16);
  for (int o = 0; o < 8; ++o) {
    scales[o] = 1.0f;
    scales[8 + o] = 0.5f;
  }
  QuantConfig config;
  config.method = QuantMethod::AWQ;
  config.bits = 4;
  config.groupSize = 2;
  auto checkpoint = open("awq",
                         {{kOut + ".qweight", DType::I32, {4, 1}, bytesOf(qweight)},
                          {kOut + ".qzeros", DType::I32, {2, 1}, bytesOf(qzeros)},
                          {kOut + ".scales", DType::F16, {2, 8}, halves(scales)}},
                         config);
  ASSERT_TRUE(checkpoint != nullptr) << lastError;
  EXPECT_FALSE(checkpoint->find(kOut + ".qweight"));
  const QuantizedSource *awq = source(*checkpoint, kOut, 8, 4);
  ASSERT_TRUE(awq);
  auto decoded = awq->decode();
  ASSERT_TRUE(static_cast<bool>(decoded)) << errorText(decoded);
  EXPECT_EQ(decoded->scheme, scheme(QuantCodeKind::UInt4, 1, 2, true, false));
  EXPECT_EQ(awq->scheme(), decoded->scheme);
  ASSERT_EQ(decoded->codes.size(), 32u);
  for (int o = 0; o < 8; ++o)
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(decoded->codes[o * 4 + i], o + i) << o << ", " << i;
  ASSERT_EQ(decoded->zeros.size(), 16u);
  for (int o = 0; o < 8; ++o) {
    EXPECT_EQ(decoded->zeros[o * 2], static_cast<float>(o)) << o;
    EXPECT_EQ(decoded->zeros[o * 2 + 1], 3.0f) << o;
  }
  EXPECT_EQ(decoded->element(5, 3), 2.5f); // group 1: (8 - 3) * 0.5
  EXPECT_EQ(decoded->element(6, 0), 0.0f); // group 0: (6 - 6) * 1
  EXPECT_EQ(decoded->element(1, 1), 1.0f); // group 0: (2 - 1) * 1

  // A group size that does not divide the input features.
  config.groupSize = 3;
  EXPECT_FALSE(open("awq-groups",
                    {{kOut + ".qweight", DType::I32, {4, 1}, bytesOf(qweight)},
                     {kOut + ".qzeros", DType::I32, {2, 1}, bytesOf(qzeros)},
                     {kOut + ".scales", DType::F16, {2, 8}, halves(scales)}},
                    config));
  EXPECT_TRUE(contains(lastError, "checkpoint tensor '" + kOut + ".qweight' has 4 input features"));
  EXPECT_TRUE(contains(lastError, "not a multiple of quantization_config.group_size 3"));
}

TEST_F(QuantizedCheckpoint, Fp8BlockAndTensorScales) {
  QuantConfig config;
  config.method = QuantMethod::FP8;
  config.bits = 8;
  config.groupSize = -1;
  std::vector<uint8_t> codes = {0x38, 0xb8, 0x7e, 0x01};

  // DeepSeek-V3: weight_scale_inv [ceil(out / 128), ceil(in / 128)].
  auto blocks =
      open("fp8-blocks",
           {{kDown + ".weight", DType::F8E4M3, {2, 2}, codes},
            {kDown + ".weight_scale_inv", DType::F32, {1, 1}, bytesOf(std::vector<float>{0.5f})}},
           config);
  ASSERT_TRUE(blocks != nullptr) << lastError;
  EXPECT_FALSE(blocks->find(kDown + ".weight_scale_inv"));
  const QuantizedSource *block = source(*blocks, kDown, 2, 2);
  ASSERT_TRUE(block);
  auto decoded = block->decode();
  ASSERT_TRUE(static_cast<bool>(decoded)) << errorText(decoded);
  EXPECT_EQ(decoded->scheme, scheme(QuantCodeKind::Fp8E4M3, 128, 128, false, false));
  EXPECT_EQ(block->scheme(), decoded->scheme);
  EXPECT_EQ(decoded->codes, codes);
  EXPECT_EQ(decoded->element(0, 1), -0.5f);
  EXPECT_EQ(decoded->element(1, 0), 224.0f);

  // vLLM: one weight_scale per tensor (its input_scale is read past).
  auto perTensor =
      open("fp8-tensor",
           {{kDown + ".weight", DType::F8E4M3, {2, 2}, codes},
            {kDown + ".weight_scale", DType::F32, {1}, bytesOf(std::vector<float>{2.0f})},
            {kDown + ".input_scale", DType::F32, {1}, bytesOf(std::vector<float>{1.0f})}},
           config);
  ASSERT_TRUE(perTensor != nullptr) << lastError;
  EXPECT_FALSE(perTensor->find(kDown + ".input_scale"));
  const QuantizedSource *tensorScale = source(*perTensor, kDown, 2, 2);
  ASSERT_TRUE(tensorScale);
  auto decodedTensor = tensorScale->decode();
  ASSERT_TRUE(static_cast<bool>(decodedTensor)) << errorText(decodedTensor);
  EXPECT_EQ(decodedTensor->scheme, scheme(QuantCodeKind::Fp8E4M3, 0, 0, false, false));
  EXPECT_EQ(decodedTensor->element(0, 1), -2.0f);

  // A NaN code is refused when the weight is decoded.
  auto withNaN = open(
      "fp8-nan",
      {{kDown + ".weight", DType::F8E4M3, {2, 2}, std::vector<uint8_t>{0x38, 0xff, 0x38, 0x38}},
       {kDown + ".weight_scale_inv", DType::F32, {1, 1}, bytesOf(std::vector<float>{1.0f})}},
      config);
  ASSERT_TRUE(withNaN != nullptr) << lastError;
  const QuantizedSource *nanSource = source(*withNaN, kDown, 2, 2);
  ASSERT_TRUE(nanSource);
  EXPECT_TRUE(contains(errorText(nanSource->decode()),
                       "'" + kDown + ".weight' holds a NaN (FP8 code 0xff)"));

  EXPECT_FALSE(open("fp8-unscaled", {{kDown + ".weight", DType::F8E4M3, {2, 2}, codes}}, config));
  EXPECT_TRUE(contains(lastError,
                       "checkpoint tensor '" + kDown + ".weight' is FP8 but the checkpoint has"));
}
