//===- FuseMoe.cpp - A traced mixture of experts to vgcu.moe_router + moe_experts ---===//
//
// torch.jit.trace cannot keep Hugging Face's expert loop (it is data-dependent), so a traced
// mixture of experts is its dense spelling: the top-k routing weights scattered into a
// [tokens, experts] matrix, every expert run on every token and weighted by its column, the
// terms summed in ascending expert order. That equals the sparse block exactly (an unrouted
// expert adds 0 · y), so it becomes the router and the stacked experts a builder emits.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vgcu {
#define GEN_PASS_DEF_FUSEMOE
#include "passes/Passes.h.inc"
} // namespace vgcu

using namespace mlir;
using namespace vgcu;

namespace {

RankedTensorType tensorTypeOf(Value value) { return cast<RankedTensorType>(value.getType()); }

/// A parameter read by a plain projection of `input` (no bias, residual or epilogue).
ParamOp plainProjection(LinearOp linear, Value input) {
  if (!linear || linear.getInput() != input || linear.getBias() || linear.getResidual() ||
      linear.getEpilogue() != Epilogue::none || linear.getSoftCapAttr())
    return {};
  return linear.getWeight().getDefiningOp<ParamOp>();
}

/// The module name `<module>` of a parameter `<prefix>.<module>.weight`.
std::string moduleNameOf(ParamOp param) {
  return llvm::StringRef(param.getName()).rsplit('.').first.rsplit('.').second.str();
}

/// One gated expert, `down(silu_and_mul([gate(x), up(x)]))`: gate and up either packed into
/// one projection or two projections concatenated.
struct Expert {
  SmallVector<ParamOp> params; // every parameter, for the naming check
  RankedTensorType downType;
  std::string gateName, upName, downName;
};

std::optional<Expert> matchExpert(Value output, Value input) {
  auto down = output.getDefiningOp<LinearOp>();
  auto activation = down ? down.getInput().getDefiningOp<SiluAndMulOp>() : SiluAndMulOp();
  ParamOp downParam = down ? plainProjection(down, down.getInput()) : ParamOp();
  if (!activation || !activation->hasOneUse() || !downParam || downParam.getShardAttr())
    return std::nullopt;
  Expert expert;
  expert.downType = downParam.getResult().getType();
  expert.downName = moduleNameOf(downParam);
  expert.params.push_back(downParam);
  int64_t width = expert.downType.getDimSize(1);
  Value gateUp = activation.getInput();
  if (auto packed = gateUp.getDefiningOp<LinearOp>()) {
    ParamOp param = plainProjection(packed, input);
    auto modules = packed.getPackedModulesAttr();
    if (!param || !packed->hasOneUse() || !modules || modules.size() != 2 ||
        param.getShardAttr() || param.getResult().getType().getDimSize(0) != 2 * width)
      return std::nullopt;
    expert.gateName = cast<StringAttr>(modules[0]).str();
    expert.upName = cast<StringAttr>(modules[1]).str();
    expert.params.push_back(param);
    return expert;
  }
  auto concat = gateUp.getDefiningOp<ConcatOp>();
  if (!concat || !concat->hasOneUse() || concat.getInputs().size() != 2)
    return std::nullopt;
  for (Value part : concat.getInputs()) {
    auto linear = part.getDefiningOp<LinearOp>();
    ParamOp param = linear ? plainProjection(linear, input) : ParamOp();
    if (!param || !linear->hasOneUse() || param.getShardAttr() ||
        param.getResult().getType().getDimSize(0) != width)
      return std::nullopt;
    expert.params.push_back(param);
  }
  expert.gateName = moduleNameOf(expert.params[1]);
  expert.upName = moduleNameOf(expert.params[2]);
  return expert;
}

/// `<experts>.<index>.<module>.weight` → `<experts>`, when the middle is `index`.
std::optional<std::string> expertsModule(llvm::StringRef paramName, int64_t index) {
  auto [module, leaf] = paramName.rsplit('.');
  auto [expert, name] = module.rsplit('.');
  auto [experts, number] = expert.rsplit('.');
  if (leaf != "weight" || number != std::to_string(index) || experts.empty())
    return std::nullopt;
  return experts.str();
}

struct FuseTracedMoe : OpRewritePattern<ScatterOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ScatterOp scatter, PatternRewriter &rewriter) const override {
    // The [tokens, experts] routing matrix: top-k weights scattered into zeros.
    auto dense = tensorTypeOf(scatter.getResult());
    if (dense.getRank() != 2 || dense.isDynamicDim(1) || scatter.getDim() % 2 != 1)
      return rewriter.notifyMatchFailure(scatter, "not a [tokens, experts] scatter along dim 1");
    int64_t numExperts = dense.getDimSize(1);
    auto zeros = scatter.getInput().getDefiningOp<BroadcastOp>();
    std::optional<double> zero = zeros ? matchScalarFloat(zeros.getInput()) : std::nullopt;
    if (!zero || *zero != 0.0)
      return rewriter.notifyMatchFailure(scatter, "the scattered-into matrix is not zeros");
    auto topk = scatter.getIndex().getDefiningOp<TopKOp>();
    if (!topk)
      return rewriter.notifyMatchFailure(scatter, "the indices are not a top-k's");
    Type modelType = dense.getElementType();
    Value weights = scatter.getSrc();
    if (auto cast = weights.getDefiningOp<CastOp>())
      weights = cast.getInput();
    bool renormalize = false;
    if (auto divide = weights.getDefiningOp<DivOp>()) {
      auto sum = divide.getRhs().getDefiningOp<SumOp>();
      if (!sum || divide.getLhs() != topk.getValues() || sum.getInput() != topk.getValues() ||
          !sum.getKeepdim() || sum.getDims().size() != 1 ||
          (sum.getDims()[0] != -1 && sum.getDims()[0] != 1))
        return rewriter.notifyMatchFailure(scatter, "weights other than top-k / their sum");
      weights = divide.getLhs();
      renormalize = true;
    }
    if (weights != topk.getValues())
      return rewriter.notifyMatchFailure(scatter, "the weights are not the top-k values");
    // softmax in f32 of the gate's logits (moe_router's routing): a narrower model type
    // must widen the logits first.
    auto softmax = topk.getInput().getDefiningOp<SoftmaxOp>();
    if (!softmax || (softmax.getDim() != -1 && softmax.getDim() != 1) ||
        !tensorTypeOf(softmax.getResult()).getElementType().isF32())
      return rewriter.notifyMatchFailure(scatter, "the top-k is not of an f32 softmax");
    Value logits = softmax.getInput();
    if (auto widen = logits.getDefiningOp<CastOp>())
      logits = widen.getInput();
    auto gate = logits.getDefiningOp<LinearOp>();
    Value input = gate ? gate.getInput() : Value();
    ParamOp gateParam = plainProjection(gate, input);
    if (!gateParam || tensorTypeOf(logits).getElementType() != modelType ||
        tensorTypeOf(input).getElementType() != modelType)
      return rewriter.notifyMatchFailure(scatter, "the logits are not a gate projection");

    // Every column e weighs expert e's output; the terms are added in ascending order.
    SmallVector<Value> terms(numExperts);
    for (Operation *user : scatter->getUsers()) {
      auto column = dyn_cast<SliceOp>(user);
      if (!column || column.getDim() % 2 != 1 || column.getStep() != 1 ||
          column.getEnd() != column.getStart() + 1 || column.getStart() < 0 ||
          column.getStart() >= numExperts || terms[column.getStart()] || !column->hasOneUse())
        return rewriter.notifyMatchFailure(scatter, "the matrix has a use other than columns");
      auto term = dyn_cast<MulOp>(*column->getUsers().begin());
      if (!term || !term->hasOneUse())
        return rewriter.notifyMatchFailure(scatter, "a column does not scale an output");
      terms[column.getStart()] = term.getResult();
    }
    SmallVector<Expert> experts;
    for (auto [index, term] : llvm::enumerate(terms)) {
      if (!term)
        return rewriter.notifyMatchFailure(scatter, "an expert's column is unused");
      auto multiply = term.getDefiningOp<MulOp>();
      Value output = multiply.getLhs().getDefiningOp<SliceOp>() ? multiply.getRhs()
                                                                 : multiply.getLhs();
      auto expert = matchExpert(output, input);
      if (!expert)
        return rewriter.notifyMatchFailure(scatter, "a weighted term is not a gated expert");
      experts.push_back(*expert);
    }
    Value total = terms[0];
    for (Value term : ArrayRef<Value>(terms).drop_front()) {
      if (!total.hasOneUse())
        return rewriter.notifyMatchFailure(scatter, "a partial sum has other users");
      auto add = dyn_cast<AddOp>(*total.getUsers().begin());
      if (!add || (add.getLhs() == total ? add.getRhs() : add.getLhs()) != term)
        return rewriter.notifyMatchFailure(scatter, "the terms are not summed in expert order");
      total = add.getResult();
    }
    if (total.getType() != input.getType())
      return rewriter.notifyMatchFailure(scatter, "the sum is not of the input's type");

    // Experts 0..E-1 of one module, all of one shape and naming.
    std::optional<std::string> module = expertsModule(experts[0].params[0].getName(), 0);
    RankedTensorType downType = experts[0].downType;
    for (auto [index, expert] : llvm::enumerate(experts)) {
      bool named = module && expert.gateName == experts[0].gateName &&
                   expert.upName == experts[0].upName && expert.downName == experts[0].downName;
      for (ParamOp param : expert.params)
        named = named && expertsModule(param.getName(), index) == module;
      if (!named || expert.downType != downType)
        return rewriter.notifyMatchFailure(scatter, "the experts are not <experts>.0 ... .E-1");
    }
    // Qwen2-MoE's shared expert: sigmoid(x · shared_gateᵀ) · shared_expert(x), added last.
    Value shared;
    std::optional<Expert> sharedExpert;
    ParamOp sharedGate;
    if (total.hasOneUse())
      if (auto add = dyn_cast<AddOp>(*total.getUsers().begin())) {
        Value other = add.getLhs() == total ? add.getRhs() : add.getLhs();
        auto scaled = other.getDefiningOp<MulOp>();
        auto ordered = scaled ? orderOperands(scaled, [](Value v) {
          return v.getDefiningOp<SigmoidOp>();
        })
                              : std::nullopt;
        auto gateLinear = ordered ? ordered->first.getDefiningOp<SigmoidOp>()
                                        .getInput()
                                        .getDefiningOp<LinearOp>()
                                  : LinearOp();
        sharedGate = gateLinear ? plainProjection(gateLinear, input) : ParamOp();
        if (sharedGate && sharedGate.getResult().getType().getDimSize(0) == 1 &&
            scaled->hasOneUse() && gateLinear->hasOneUse())
          sharedExpert = matchExpert(ordered->second, input);
        if (sharedExpert) {
          shared = add.getResult();
        } else {
          sharedExpert.reset();
          sharedGate = ParamOp();
        }
      }

    Location loc = rewriter.getFusedLoc(
        {NameLoc::get(rewriter.getStringAttr(*module)), total.getLoc()});
    rewriter.setInsertionPointAfter((shared ? shared : total).getDefiningOp());
    auto router = MoeRouterOp::create(rewriter, gate.getLoc(), input, gateParam.getResult(),
                                      topk.getK(), renormalize);
    int64_t width = downType.getDimSize(1), hidden = downType.getDimSize(0);
    if (tensorTypeOf(input).getShape().back() != hidden)
      return rewriter.notifyMatchFailure(scatter, "the experts' width is not the input's");
    auto stacked = [&](llvm::StringRef name, ArrayRef<int64_t> shape) {
      std::string prefix = *module + "." + name.str();
      return ParamOp::create(rewriter, NameLoc::get(rewriter.getStringAttr(prefix)),
                             RankedTensorType::get(shape, modelType),
                             rewriter.getStringAttr(prefix + ".weight"), /*shard=*/nullptr,
                             /*computed_by=*/nullptr, /*quant=*/nullptr)
          .getResult();
    };
    Value gateUp = stacked("gate_up", {numExperts * 2 * width, hidden});
    Value down = stacked("down", {numExperts * hidden, width});
    auto names = rewriter.getStrArrayAttr(
        {experts[0].gateName, experts[0].upName, experts[0].downName});
    Value sharedGateUp, sharedDown, sharedGateWeight;
    if (sharedExpert) {
      // Its gate and up rows, packed as a builder packs them (the segments are named by the
      // experts' gate and up names, so they must match).
      ParamOp gateParam = sharedExpert->params[1];
      std::string sharedModule =
          llvm::StringRef(gateParam.getName()).rsplit('.').first.rsplit('.').first.str();
      if (sharedExpert->gateName != experts[0].gateName ||
          sharedExpert->upName != experts[0].upName)
        return rewriter.notifyMatchFailure(scatter, "the shared expert is named unlike the rest");
      int64_t sharedWidth = sharedExpert->downType.getDimSize(1);
      if (sharedExpert->params.size() == 2) // already packed
        sharedGateUp = gateParam.getResult();
      else
        sharedGateUp = ParamOp::create(
            rewriter, NameLoc::get(rewriter.getStringAttr(sharedModule)),
            RankedTensorType::get({2 * sharedWidth, hidden}, modelType),
            rewriter.getStringAttr(sharedModule + ".gate_up_proj.weight"), /*shard=*/nullptr,
            /*computed_by=*/nullptr, /*quant=*/nullptr);
      sharedDown = sharedExpert->params[0].getResult();
      sharedGateWeight = sharedGate.getResult();
    }
    Value fused = MoeExpertsOp::create(rewriter, loc, input, router.getWeights(), router.getIds(),
                                       gateUp, down, sharedGateUp, sharedDown, sharedGateWeight,
                                       rewriter.getI64IntegerAttr(numExperts), names,
                                       /*expert_parallel=*/nullptr);
    if (shared)
      total = shared;
    rewriter.replaceAllUsesWith(total, fused);
    return success();
  }
};

struct FuseMoePass : vgcu::impl::FuseMoeBase<FuseMoePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseTracedMoe>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
