//===- FuseGelu.cpp - GELU(tanh) spelled in primitives to vgcu.gelu ---------------------===//

#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace vgcu {
#define GEN_PASS_DEF_FUSEGELU
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

/// The factors of a product, looking through nested multiplies that nothing else uses
/// (`0.5 * x * (...)` groups either way).
void collectFactors(Value value, SmallVectorImpl<Value> &factors, bool root = true) {
  auto mul = value.getDefiningOp<MulOp>();
  if (!mul || (!root && !mul->hasOneUse())) {
    factors.push_back(value);
    return;
  }
  collectFactors(mul.getLhs(), factors, false);
  collectFactors(mul.getRhs(), factors, false);
}

/// Splits `factors` into one scalar constant (the product of all constants) and the other
/// values.
std::pair<double, SmallVector<Value>> splitConstants(ArrayRef<Value> factors) {
  double constant = 1.0;
  SmallVector<Value> values;
  for (Value factor : factors) {
    if (std::optional<double> scalar = matchScaleConstant(factor))
      constant *= *scalar;
    else
      values.push_back(factor);
  }
  return {constant, values};
}

/// Equal up to the rounding of a bf16 constant (a bf16 trace holds 0.0446777 for 0.044715).
bool near(double value, double expected) {
  return std::abs(value - expected) <= 4e-3 * std::abs(expected);
}

/// `x³` as `pow(x, 3)` or `x · x · x`; returns x.
Value matchCube(ArrayRef<Value> factors) {
  if (factors.size() == 1) {
    auto pow = factors[0].getDefiningOp<PowOp>();
    std::optional<double> exponent = pow ? matchScaleConstant(pow.getRhs()) : std::nullopt;
    return exponent && *exponent == 3.0 ? pow.getLhs() : Value();
  }
  if (factors.size() == 3 && factors[0] == factors[1] && factors[1] == factors[2])
    return factors[0];
  return Value();
}

/// 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))), GPT-2's gelu_new written out
/// (transformers' NewGELUActivation) → vgcu.gelu x tanh.
struct FuseTanhGeluPattern : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp op, PatternRewriter &rewriter) const override {
    SmallVector<Value> factors;
    collectFactors(op.getResult(), factors);
    auto [half, outer] = splitConstants(factors);
    if (!near(half, 0.5) || outer.size() != 2)
      return rewriter.notifyMatchFailure(op, "not 0.5 · x · (...)");
    for (auto [x, shifted] : {std::pair(outer[0], outer[1]), std::pair(outer[1], outer[0])}) {
      // 1 + tanh(...)
      auto onePlus = shifted.getDefiningOp<AddOp>();
      auto ordered = onePlus ? orderOperands(onePlus, [](Value v) {
        return static_cast<bool>(v.getDefiningOp<TanhOp>());
      })
                             : std::nullopt;
      std::optional<double> one = ordered ? matchScaleConstant(ordered->second) : std::nullopt;
      if (!one || *one != 1.0)
        continue;
      // √(2/π) · (x + 0.044715 · x³)
      SmallVector<Value> inner;
      collectFactors(ordered->first.getDefiningOp<TanhOp>().getInput(), inner);
      auto [coefficient, rest] = splitConstants(inner);
      auto sum = rest.size() == 1 ? rest[0].getDefiningOp<AddOp>() : AddOp();
      if (!sum || !near(coefficient, std::sqrt(2.0 / M_PI)))
        continue;
      for (auto [linear, cubic] : {std::pair(sum.getLhs(), sum.getRhs()),
                                   std::pair(sum.getRhs(), sum.getLhs())}) {
        SmallVector<Value> cubeFactors;
        collectFactors(cubic, cubeFactors);
        auto [weight, powers] = splitConstants(cubeFactors);
        if (linear != x || !near(weight, 0.044715) || matchCube(powers) != x ||
            x.getType() != op.getType())
          continue;
        rewriter.replaceOpWithNewOp<GeluOp>(op, x, GeluApproximation::tanh);
        return success();
      }
    }
    return rewriter.notifyMatchFailure(op, "not the tanh approximation of GELU");
  }
};

struct FuseGeluPass : vgcu::impl::FuseGeluBase<FuseGeluPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseTanhGeluPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
