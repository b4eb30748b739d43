//===- GemmKernelsTest.cpp - One-token and few-token products against f64 ATen ---------===//

#include "lib/Kernels/GemmKernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace vgcu::runtime;

namespace {

/// Whether this CPU has an instruction set the kernels are built for.
bool haveKernels() { return *gemm::instructionSet() != '\0'; }

/// x·wᵀ + b in f64 from the operands' values (16-bit weights as they are stored).
at::Tensor exactLinear(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b) {
  at::Tensor y = at::matmul(x.to(at::kDouble), w.to(at::kDouble).t());
  return b.defined() ? y + b.to(at::kDouble) : y;
}

/// Largest difference relative to the largest exact value.
double relativeError(const at::Tensor &got, const at::Tensor &want) {
  at::Tensor a = got.to(at::kDouble), b = want.to(at::kDouble);
  return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item<double>();
}

/// f32 sums of exact products, then one rounding to the input's dtype.
double toleranceOf(at::ScalarType input) {
  return input == at::kFloat ? 2e-6 : input == at::kBFloat16 ? 8e-3 : 1e-3;
}

struct Case {
  at::ScalarType weight, input;
};

class FewTokens : public testing::TestWithParam<Case> {};

TEST_P(FewTokens, MatchesTheExactProduct) {
  if (!haveKernels())
    GTEST_SKIP() << "neither AVX-512 nor AVX2 on this CPU";
  auto [weightType, inputType] = GetParam();
  at::manual_seed(3);
  // 70 rows: whole blocks of four and a remainder; token counts with and without a remainder
  // of four, up to the largest taken.
  at::Tensor w = at::randn({70, 48}).to(weightType), b = at::randn({70}).to(inputType);
  for (int64_t tokens : {2, 3, 4, 7, 33, 64}) {
    at::Tensor x = at::randn({tokens, 48}).to(inputType);
    ASSERT_TRUE(gemm::fewTokensApply(x, w)) << tokens << " tokens";
    at::Tensor y = gemm::linearFewTokens(x, w, b);
    EXPECT_EQ(y.scalar_type(), inputType);
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{tokens, 70}));
    EXPECT_LT(relativeError(y, exactLinear(x, w, b)), toleranceOf(inputType)) << tokens;
    EXPECT_LT(relativeError(gemm::linearFewTokens(x, w, at::Tensor()),
                            exactLinear(x, w, at::Tensor())),
              toleranceOf(inputType))
        << tokens << " tokens, no bias";
  }
}

TEST_P(FewTokens, RowsDoNotDependOnTheBatch) {
  if (!haveKernels())
    GTEST_SKIP() << "neither AVX-512 nor AVX2 on this CPU";
  auto [weightType, inputType] = GetParam();
  at::manual_seed(4);
  at::Tensor w = at::randn({37, 32}).to(weightType);
  at::Tensor x = at::randn({9, 32}).to(inputType);
  at::Tensor all = gemm::linearFewTokens(x, w, at::Tensor());
  // A token's row is summed in the same order whichever tokens share its call.
  EXPECT_TRUE(at::equal(gemm::linearFewTokens(x.narrow(0, 2, 5), w, at::Tensor()),
                        all.narrow(0, 2, 5)));
}

INSTANTIATE_TEST_SUITE_P(Dtypes, FewTokens,
                         testing::Values(Case{at::kFloat, at::kFloat},
                                         Case{at::kBFloat16, at::kBFloat16},
                                         Case{at::kHalf, at::kHalf},
                                         Case{at::kHalf, at::kFloat}));

TEST(FewTokens, TakesOnlyWhatItCan) {
  at::Tensor w = at::randn({8, 32}), x = at::randn({4, 32});
  EXPECT_FALSE(gemm::fewTokensApply(at::randn({1, 32}), w)) << "one token";
  EXPECT_FALSE(gemm::fewTokensApply(at::randn({65, 32}), w)) << "65 tokens";
  EXPECT_EQ(gemm::fewTokensApply(at::randn({65, 32}), w, /*anyCount=*/true), haveKernels());
  EXPECT_FALSE(gemm::fewTokensApply(at::randn({4, 20}), at::randn({8, 20}))) << "20 columns";
  EXPECT_FALSE(gemm::fewTokensApply(x, w.t().contiguous().t())) << "a transposed weight";
  EXPECT_FALSE(gemm::fewTokensApply(x, w.to(at::kDouble))) << "f64";
  EXPECT_EQ(gemm::fewTokensApply(x, w), haveKernels());
}

TEST(OneToken, MatchesTheExactProduct) {
  if (!haveKernels())
    GTEST_SKIP() << "neither AVX-512 nor AVX2 on this CPU";
  at::manual_seed(5);
  for (at::ScalarType type : {at::kFloat, at::kBFloat16, at::kHalf}) {
    // 203 rows and 40 columns: blocks of four rows and a remainder, a column tail past 32.
    at::Tensor w = at::randn({203, 40}).to(type), x = at::randn({1, 40}).to(type);
    at::Tensor b = at::randn({203}).to(type);
    ASSERT_TRUE(gemm::oneTokenApplies(x, w));
    at::Tensor y = gemm::linearOneToken(x, w, b);
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{1, 203}));
    EXPECT_LT(relativeError(y, exactLinear(x, w, b)), toleranceOf(type)) << type;
  }
  EXPECT_FALSE(gemm::oneTokenApplies(at::randn({2, 32}), at::randn({8, 32})));
}

TEST_P(FewTokens, OneTokenAloneGivesItsRowOfABatch) {
  if (!haveKernels())
    GTEST_SKIP() << "neither AVX-512 nor AVX2 on this CPU";
  auto [weightType, inputType] = GetParam();
  at::manual_seed(6);
  // Widths of an even and of an odd number of vectors (the sums' two chains; 40 columns are
  // five AVX2 vectors, 48 three AVX-512 ones), and more tokens than a register tile holds.
  for (int64_t cols : {64, 48, 40}) {
    at::Tensor w = at::randn({45, cols}).to(weightType), b = at::randn({45}).to(inputType);
    at::Tensor x = at::randn({9, cols}).to(inputType);
    if (!gemm::fewTokensApply(x, w))
      continue;
    at::Tensor batch = gemm::linearFewTokens(x, w, b);
    for (int64_t token = 0; token < 9; ++token)
      EXPECT_TRUE(at::equal(gemm::linearOneToken(x.narrow(0, token, 1), w, b),
                            batch.narrow(0, token, 1)))
          << "token " << token << ", " << cols << " columns";
  }
}

TEST_P(FewTokens, ManyTokensGiveEachTheRowItGetsAlone) {
  if (!haveKernels())
    GTEST_SKIP() << "neither AVX-512 nor AVX2 on this CPU";
  auto [weightType, inputType] = GetParam();
  at::manual_seed(7);
  // 150 tokens: two whole slices of 64 and a third of 22.
  at::Tensor w = at::randn({21, 32}).to(weightType), x = at::randn({150, 32}).to(inputType);
  ASSERT_TRUE(gemm::fewTokensApply(x, w, /*anyCount=*/true));
  at::Tensor batch = gemm::linearFewTokens(x, w, at::Tensor());
  EXPECT_LT(relativeError(batch, exactLinear(x, w, at::Tensor())), toleranceOf(inputType));
  for (int64_t token : {0, 63, 64, 100, 149})
    EXPECT_TRUE(at::equal(gemm::linearOneToken(x.narrow(0, token, 1), w, at::Tensor()),
                          batch.narrow(0, token, 1)))
        << "token " << token;
}

} // namespace

/// A random integer-coded weight: `bits`-bit codes, groups of `groupWidth` columns, zero
/// points when `withZeros` (else the implicit 2^(bits-1)).
struct CodedWeight {
  std::vector<uint8_t> codes;
  std::vector<float> scales, zeros;
  gemm::QuantizedWeight view;

  CodedWeight(int64_t rows, int64_t cols, int bits, int64_t groupWidth, bool withZeros) {
    std::mt19937 random(static_cast<unsigned>(rows * 131 + cols * 7 + bits));
    codes.resize(rows * cols * bits / 8);
    for (uint8_t &code : codes)
      code = static_cast<uint8_t>(random());
    int64_t groups = cols / groupWidth;
    std::uniform_real_distribution<float> scale(0.01f, 0.1f), zero(0.0f, (1 << bits) - 1.0f);
    for (int64_t i = 0; i < rows * groups; ++i) {
      scales.push_back(scale(random));
      zeros.push_back(std::round(zero(random)));
    }
    view.codes = codes.data();
    view.scales = scales.data();
    view.zeros = withZeros ? zeros.data() : nullptr;
    view.rows = rows;
    view.cols = cols;
    view.groups = groups;
    view.bits = bits;
    view.blockRows = 1;
    view.blockCols = groupWidth;
  }

  at::Tensor dequantized() const {
    at::Tensor w = at::empty({view.rows, view.cols}, at::kFloat);
    for (int64_t r = 0; r < view.rows; ++r)
      view.dequantizeRow(r, w.data_ptr<float>() + r * view.cols);
    return w;
  }
};

TEST(IntegerCodes, MatchTheDequantizedWeight) {
  if (!haveKernels())
    GTEST_SKIP() << "neither AVX-512 nor AVX2 on this CPU";
  at::manual_seed(7);
  // 7 rows: a block of four and a remainder.
  for (int bits : {4, 8})
    for (int64_t groupWidth : {32, 64, 128})
      for (bool withZeros : {false, true}) {
        CodedWeight weight(7, 128, bits, groupWidth, withZeros);
        ASSERT_TRUE(gemm::codesApply(weight.view));
        at::Tensor w = weight.dequantized();
        at::Tensor wide = at::empty({7, 128}, at::kFloat);
        gemm::dequantizeCodes(weight.view, wide.data_ptr<float>(), 0, 7);
        EXPECT_TRUE(at::equal(wide, w)) << bits << " bits, group " << groupWidth;
        at::Tensor x = at::randn({128});
        at::Tensor y = at::empty({7});
        gemm::matVecCodes(weight.view, x.data_ptr<float>(), y.data_ptr<float>());
        at::Tensor want = at::mv(w.to(at::kDouble), x.to(at::kDouble));
        EXPECT_LT(relativeError(y, want), 1e-5)
            << bits << " bits, group " << groupWidth << (withZeros ? ", zeros" : "");
      }
}

TEST(IntegerCodes, TakesOnlyWhatItCan) {
  CodedWeight weight(4, 64, 4, 32, true);
  EXPECT_EQ(gemm::codesApply(weight.view), haveKernels());
  gemm::QuantizedWeight fp8 = weight.view;
  fp8.fp8 = true;
  EXPECT_FALSE(gemm::codesApply(fp8)) << "fp8 codes";
  gemm::QuantizedWeight actOrder = weight.view;
  std::vector<int32_t> groupIndex(64, 0);
  actOrder.groupIndex = groupIndex.data();
  EXPECT_FALSE(gemm::codesApply(actOrder)) << "act order";
  gemm::QuantizedWeight narrowGroups = weight.view;
  narrowGroups.blockCols = 16;
  EXPECT_FALSE(gemm::codesApply(narrowGroups)) << "groups of 16 columns";
}
