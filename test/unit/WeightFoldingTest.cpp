//===- WeightFoldingTest.cpp - Evaluating weight functions at artifact time -----------===//

#include "TestUtil.h"

#include "vgcu/Compiler/WeightFolding.h"

#include "dialects/vgcu/VgcuDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <cstring>

using namespace vgcu;
using namespace vgcu::test;

namespace {

/// Every op the evaluator knows, on checkpoint tensors w = [[0, 1, 2], [3, 4, 5]] and
/// v = [1, 2, 3] (F32) and b = [0.5, 1.5] stored as BF16.
constexpr const char *kModule = R"mlir(
func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>)
    -> (tensor<3x2xf32>, tensor<2x2xf32>, tensor<2x5xf32>, tensor<2x3xf32>, tensor<3xbf16>,
        tensor<3xf32>, tensor<6xf32>, tensor<2xf32>) {
  %0 = vgcu.param "transposed" computed_by @fold.0 : tensor<3x2xf32>
  %1 = vgcu.param "sliced" computed_by @fold.1 : tensor<2x2xf32>
  %2 = vgcu.param "concatenated" computed_by @fold.2 : tensor<2x5xf32>
  %3 = vgcu.param "broadcast" computed_by @fold.3 : tensor<2x3xf32>
  %4 = vgcu.param "rounded" computed_by @fold.4 : tensor<3xbf16>
  %5 = vgcu.param "arithmetic" computed_by @fold.5 : tensor<3xf32>
  %6 = vgcu.param "reshaped" computed_by @fold.6 : tensor<6xf32>
  %7 = vgcu.param "from_bf16" computed_by @fold.7 : tensor<2xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<3x2xf32>, tensor<2x2xf32>, tensor<2x5xf32>,
      tensor<2x3xf32>, tensor<3xbf16>, tensor<3xf32>, tensor<6xf32>, tensor<2xf32>
}
func.func private @fold.0() -> tensor<3x2xf32> {
  %w = vgcu.param "w" : tensor<2x3xf32>
  %t = vgcu.transpose %w {permutation = array<i64: 1, 0>} : tensor<2x3xf32> -> tensor<3x2xf32>
  return %t : tensor<3x2xf32>
}
func.func private @fold.1() -> tensor<2x2xf32> {
  %w = vgcu.param "w" : tensor<2x3xf32>
  %s = vgcu.slice %w {dim = 1 : i64, start = 0 : i64, end = 3 : i64, step = 2 : i64} : tensor<2x3xf32> -> tensor<2x2xf32>
  return %s : tensor<2x2xf32>
}
func.func private @fold.2() -> tensor<2x5xf32> {
  %w = vgcu.param "w" : tensor<2x3xf32>
  %s = vgcu.slice %w {dim = 1 : i64, start = 1 : i64, end = 3 : i64} : tensor<2x3xf32> -> tensor<2x2xf32>
  %c = vgcu.concat %w, %s {dim = 1 : i64} : (tensor<2x3xf32>, tensor<2x2xf32>) -> tensor<2x5xf32>
  return %c : tensor<2x5xf32>
}
func.func private @fold.3() -> tensor<2x3xf32> {
  %v = vgcu.param "v" : tensor<3xf32>
  %r = vgcu.reshape %v : tensor<3xf32> -> tensor<1x3xf32>
  %b = vgcu.broadcast %r : tensor<1x3xf32> -> tensor<2x3xf32>
  return %b : tensor<2x3xf32>
}
func.func private @fold.4() -> tensor<3xbf16> {
  %v = vgcu.param "v" : tensor<3xf32>
  %third = vgcu.constant dense<0.333333343> : tensor<f32>
  %m = vgcu.mul %v, %third : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %c = vgcu.cast %m : tensor<3xf32> to tensor<3xbf16>
  return %c : tensor<3xbf16>
}
func.func private @fold.5() -> tensor<3xf32> {
  %v = vgcu.param "v" : tensor<3xf32>
  %one = vgcu.constant dense<1.0> : tensor<f32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %a = vgcu.add %v, %one : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %p = vgcu.pow %a, %two : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %s = vgcu.sqrt %p : tensor<3xf32>
  %n = vgcu.neg %s : tensor<3xf32>
  %d = vgcu.div %n, %two : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %m = vgcu.maximum %d, %n : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %e = vgcu.sub %m, %one : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  return %e : tensor<3xf32>
}
func.func private @fold.6() -> tensor<6xf32> {
  %w = vgcu.param "w" : tensor<2x3xf32>
  %r = vgcu.reshape %w : tensor<2x3xf32> -> tensor<6xf32>
  %e = vgcu.exp %r : tensor<6xf32>
  %q = vgcu.rsqrt %e : tensor<6xf32>
  return %q : tensor<6xf32>
}
func.func private @fold.7() -> tensor<2xf32> {
  %b = vgcu.param "b" : tensor<2xbf16>
  %c = vgcu.cast %b : tensor<2xbf16> to tensor<2xf32>
  return %c : tensor<2xf32>
}
)mlir";

class WeightFoldingTest : public ::testing::Test {
protected:
  void SetUp() override {
    context.loadDialect<VgcuDialect, mlir::func::FuncDialect>();
    module = mlir::parseSourceString<mlir::ModuleOp>(kModule, &context);
    ASSERT_TRUE(module) << "the test module does not parse";
    std::vector<TensorToWrite> tensors;
    auto floats = [](std::vector<float> values) {
      return [values](llvm::MutableArrayRef<uint8_t> out) {
        std::memcpy(out.data(), values.data(), out.size());
      };
    };
    tensors.push_back({"w", DType::F32, {2, 3}, floats({0, 1, 2, 3, 4, 5})});
    tensors.push_back({"v", DType::F32, {3}, floats({1, 2, 3})});
    tensors.push_back({"b", DType::BF16, {2}, [](llvm::MutableArrayRef<uint8_t> out) {
                         uint16_t bits[2] = {floatToBfloat16(0.5f), floatToBfloat16(1.5f)};
                         std::memcpy(out.data(), bits, sizeof(bits));
                       }});
    auto file = SafeTensorsFile::fromTensors(std::move(tensors), "<checkpoint>");
    ASSERT_TRUE(static_cast<bool>(file)) << errorText(file);
    checkpoint = std::move(*file);
    for (const TensorInfo &tensor : checkpoint->tensors())
      loaded[tensor.name] = LoadedParam{{Checkpoint::Entry{checkpoint.get(), &tensor}}, {}};
  }

  /// A computed weight as floats.
  std::vector<float> computed(const SafeTensorsFile &file, llvm::StringRef name) {
    const TensorInfo *tensor = file.find(name);
    EXPECT_TRUE(tensor) << name.str() << " was not computed";
    if (!tensor)
      return {};
    std::vector<float> values(tensor->numElements());
    convertFloats(file.data(*tensor).data(), tensor->dtype, values.data(), DType::F32,
                  values.size());
    return values;
  }

  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::unique_ptr<SafeTensorsFile> checkpoint;
  LoadedWeights loaded;
};

} // namespace

TEST_F(WeightFoldingTest, EvaluatesEveryFoldableOp) {
  auto result = evaluateComputedParams(*module, loaded);
  ASSERT_TRUE(static_cast<bool>(result)) << errorText(result);
  ASSERT_TRUE(*result);
  const SafeTensorsFile &file = **result;
  EXPECT_EQ(computed(file, "transposed"), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(computed(file, "sliced"), (std::vector<float>{0, 2, 3, 5}));
  EXPECT_EQ(computed(file, "concatenated"), (std::vector<float>{0, 1, 2, 1, 2, 3, 4, 5, 4, 5}));
  EXPECT_EQ(computed(file, "broadcast"), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  // v / 3 rounded once to bf16 (as torch computes a bf16 result): 1/3 -> 0.333984375.
  EXPECT_EQ(file.find("rounded")->dtype, DType::BF16);
  EXPECT_EQ(computed(file, "rounded"),
            (std::vector<float>{bfloat16ToFloat(floatToBfloat16(1 * 0.333333343f)),
                                bfloat16ToFloat(floatToBfloat16(2 * 0.333333343f)),
                                bfloat16ToFloat(floatToBfloat16(3 * 0.333333343f))}));
  // max(-(v + 1) / 2, -(v + 1)) - 1 = -(v + 1) / 2 - 1.
  EXPECT_EQ(computed(file, "arithmetic"), (std::vector<float>{-2, -2.5, -3}));
  std::vector<float> reshaped = computed(file, "reshaped");
  ASSERT_EQ(reshaped.size(), 6u);
  for (int i = 0; i < 6; ++i)
    EXPECT_FLOAT_EQ(reshaped[i], 1.0f / std::sqrt(std::exp(static_cast<float>(i))));
  EXPECT_EQ(computed(file, "from_bf16"), (std::vector<float>{0.5f, 1.5f}));
}

TEST_F(WeightFoldingTest, MissingLeafAndUnknownFunctionAreNamed) {
  loaded.erase("v");
  std::string message = errorText(evaluateComputedParams(*module, loaded).takeError());
  EXPECT_NE(message.find("'v'"), std::string::npos) << message;

  auto broken = mlir::parseSourceString<mlir::ModuleOp>(R"mlir(
func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<2xf32> {
  %0 = vgcu.param "x" computed_by @nowhere : tensor<2xf32>
  return %0 : tensor<2xf32>
}
)mlir",
                                                        &context);
  if (!broken) // the verifier may already refuse the dangling reference
    return;
  message = errorText(evaluateComputedParams(*broken, loaded).takeError());
  EXPECT_NE(message.find("@nowhere"), std::string::npos) << message;
}
