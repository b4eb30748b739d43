//===- DTypeTest.cpp - Float conversions between F32, F16 and BF16 -----------------===//

#include "vgcu/Weights/DType.h"

#include <cmath>
#include <gtest/gtest.h>
#include <limits>
#include <vector>

using namespace vgcu;

TEST(DType, NamesRoundTrip) {
  for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::I64, DType::Bool})
    EXPECT_EQ(parseDTypeName(dtypeName(dtype)), dtype);
  EXPECT_FALSE(parseDTypeName("F8"));
  EXPECT_EQ(parseComputeDType("bfloat16"), DType::BF16);
  EXPECT_EQ(parseComputeDType("f16"), DType::F16);
  EXPECT_FALSE(parseComputeDType("int8"));
}

TEST(DType, Bfloat16RoundsToNearestEven) {
  EXPECT_EQ(floatToBfloat16(1.0f), 0x3f80);
  EXPECT_EQ(bfloat16ToFloat(0x3f80), 1.0f);
  // 1 + 2^-8 lies exactly between two bf16 values; ties go to the even one (1.0).
  EXPECT_EQ(floatToBfloat16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(floatToBfloat16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_TRUE(std::isnan(bfloat16ToFloat(floatToBfloat16(std::nanf("")))));
}

TEST(DType, HalfCoversNormalsSubnormalsAndOverflow) {
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(70000.0f), 0x7c00);
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -24)), 0x0001); // smallest subnormal
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -26)), 0x0000);
  for (uint16_t bits : {0x0001, 0x03ff, 0x0400, 0x3555, 0x7bff, 0x8001, 0xc123})
    EXPECT_EQ(floatToHalf(halfToFloat(bits)), bits) << bits;
}

TEST(DType, ConvertFloatsBetweenTypes) {
  std::vector<float> source = {0.5f, -1.25f, 3.0f, 1e-3f};
  std::vector<uint16_t> half(4), bf16(4);
  std::vector<float> back(4);
  convertFloats(source.data(), DType::F32, half.data(), DType::F16, 4);
  convertFloats(half.data(), DType::F16, back.data(), DType::F32, 4);
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(back[i], source[i], 1e-3 * std::abs(source[i]));
  convertFloats(source.data(), DType::F32, bf16.data(), DType::BF16, 4);
  convertFloats(bf16.data(), DType::BF16, back.data(), DType::F32, 4);
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(back[i], source[i], 1e-2 * std::abs(source[i]));
}
