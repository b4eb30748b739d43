//===- WeightFolding.cpp - Computed parameters, evaluated when the artifact is written -===//
//
// A small host interpreter for the ops vgcu-fold-weights outlines: elementwise arithmetic
// with broadcasting, casts and data movement, on dense f32 buffers. It runs once per
// computed parameter at artifact time, so it is written for clarity, not speed.
//
//===----------------------------------------------------------------------===//

#include "vgcu/Compiler/WeightFolding.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/Shapes.h"

#include "dialects/vgcu/VgcuOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace vgcu;

namespace {

/// A dense row-major tensor on the host.
struct HostTensor {
  SmallVector<int64_t> shape;
  std::vector<float> data;

  int64_t size() const {
    int64_t count = 1;
    for (int64_t dim : shape)
      count *= dim;
    return count;
  }
};

SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// The offset of element `index` of a row-major `shape`: the sum over dimensions of
/// `contribution(dim, coordinate)`.
int64_t elementOffset(int64_t index, ArrayRef<int64_t> shape,
                      llvm::function_ref<int64_t(int64_t dim, int64_t coordinate)> contribution) {
  int64_t offset = 0;
  for (int64_t dim = static_cast<int64_t>(shape.size()) - 1; dim >= 0; --dim) {
    offset += contribution(dim, index % shape[dim]);
    index /= shape[dim];
  }
  return offset;
}

/// The offset in `source` (of `sourceShape`, right-aligned with `shape`, size-1 dimensions
/// broadcast) of element `index` of a tensor of `shape`.
int64_t broadcastOffset(int64_t index, ArrayRef<int64_t> shape, ArrayRef<int64_t> sourceShape) {
  SmallVector<int64_t> sourceStrides = stridesOf(sourceShape);
  int64_t lead = static_cast<int64_t>(shape.size() - sourceShape.size());
  return elementOffset(index, shape, [&](int64_t dim, int64_t coordinate) -> int64_t {
    int64_t sourceDim = dim - lead;
    return sourceDim >= 0 && sourceShape[sourceDim] != 1 ? coordinate * sourceStrides[sourceDim]
                                                         : 0;
  });
}

/// `value` rounded to `element` as storing it in that type would.
float roundTo(float value, Type element) {
  if (element.isBF16())
    return bfloat16ToFloat(floatToBfloat16(value));
  if (element.isF16())
    return halfToFloat(floatToHalf(value));
  if (element.isInteger(1))
    return value != 0.0f ? 1.0f : 0.0f;
  if (element.isInteger())
    return std::trunc(value);
  return value;
}

class Evaluator {
public:
  Evaluator(const LoadedWeights &loaded) : loaded(loaded) {}

  llvm::Expected<HostTensor> run(func::FuncOp function);

private:
  llvm::Expected<HostTensor> evaluate(Operation *op);
  llvm::Expected<HostTensor> leaf(ParamOp param);
  const HostTensor &valueOf(Value value) { return values.find(value)->second; }

  const LoadedWeights &loaded;
  DenseMap<Value, HostTensor> values;
};

llvm::Expected<HostTensor> Evaluator::leaf(ParamOp param) {
  auto it = loaded.find(param.getName().str());
  if (it == loaded.end())
    return makeError("parameter '{0}', from which a computed weight is made, was not loaded",
                     param.getName());
  HostTensor tensor;
  ArrayRef<int64_t> shape = param.getResult().getType().getShape();
  tensor.shape.assign(shape.begin(), shape.end());
  for (auto [index, segment] : llvm::enumerate(it->second.segments)) {
    if (!segment.tensor)
      return makeError("parameter '{0}' is only partly loaded", param.getName());
    std::vector<float> data = materializeSegment(it->second, index);
    tensor.data.insert(tensor.data.end(), data.begin(), data.end());
  }
  if (static_cast<int64_t>(tensor.data.size()) != tensor.size())
    return makeError("parameter '{0}' has {1} elements loaded for shape {2}", param.getName(),
                     tensor.data.size(), shapeString(tensor.shape));
  return tensor;
}

llvm::Expected<HostTensor> Evaluator::evaluate(Operation *op) {
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  HostTensor result;
  result.shape.assign(resultType.getShape().begin(), resultType.getShape().end());
  result.data.resize(result.size());
  Type element = resultType.getElementType();

  auto elementwise = [&](llvm::function_ref<float(float, float)> function) {
    const HostTensor &lhs = valueOf(op->getOperand(0)), &rhs = valueOf(op->getOperand(1));
    for (int64_t i = 0; i < result.size(); ++i)
      result.data[i] = roundTo(function(lhs.data[broadcastOffset(i, result.shape, lhs.shape)],
                                        rhs.data[broadcastOffset(i, result.shape, rhs.shape)]),
                               element);
  };
  auto unary = [&](llvm::function_ref<float(float)> function) {
    const HostTensor &input = valueOf(op->getOperand(0));
    for (int64_t i = 0; i < result.size(); ++i)
      result.data[i] = roundTo(function(input.data[i]), element);
  };
  bool handled = true;
  llvm::TypeSwitch<Operation *>(op)
      .Case([&](ConstantOp constant) {
        auto dense = cast<DenseElementsAttr>(constant.getValue());
        int64_t i = 0;
        if (isa<FloatType>(dense.getElementType()))
          for (APFloat value : dense.getValues<APFloat>())
            result.data[i++] = static_cast<float>(value.convertToDouble());
        else
          for (APInt value : dense.getValues<APInt>())
            result.data[i++] = static_cast<float>(
                value.getBitWidth() == 1 ? value.getZExtValue() : value.getSExtValue());
      })
      .Case([&](AddOp) { elementwise([](float a, float b) { return a + b; }); })
      .Case([&](SubOp) { elementwise([](float a, float b) { return a - b; }); })
      .Case([&](MulOp) { elementwise([](float a, float b) { return a * b; }); })
      .Case([&](DivOp) { elementwise([](float a, float b) { return a / b; }); })
      .Case([&](PowOp) { elementwise([](float a, float b) { return std::pow(a, b); }); })
      .Case([&](MaximumOp) { elementwise([](float a, float b) { return std::max(a, b); }); })
      .Case([&](NegOp) { unary([](float a) { return -a; }); })
      .Case([&](SqrtOp) { unary([](float a) { return std::sqrt(a); }); })
      .Case([&](RsqrtOp) { unary([](float a) { return 1.0f / std::sqrt(a); }); })
      .Case([&](ExpOp) { unary([](float a) { return std::exp(a); }); })
      .Case([&](CastOp) { unary([](float a) { return a; }); })
      .Case<ReshapeOp, BroadcastOp>([&](auto) {
        const HostTensor &input = valueOf(op->getOperand(0));
        for (int64_t i = 0; i < result.size(); ++i)
          result.data[i] = isa<ReshapeOp>(op)
                               ? input.data[i]
                               : input.data[broadcastOffset(i, result.shape, input.shape)];
      })
      .Case([&](TransposeOp transpose) {
        const HostTensor &input = valueOf(transpose.getInput());
        SmallVector<int64_t> inputStrides = stridesOf(input.shape);
        ArrayRef<int64_t> permutation = transpose.getPermutation();
        for (int64_t i = 0; i < result.size(); ++i)
          result.data[i] = input.data[elementOffset(i, result.shape, [&](int64_t d, int64_t c) {
            return c * inputStrides[permutation[d]];
          })];
      })
      .Case([&](SliceOp slice) {
        const HostTensor &input = valueOf(slice.getInput());
        int64_t dim = *normalizeDim(slice.getDim(), static_cast<int64_t>(input.shape.size()));
        SmallVector<int64_t> inputStrides = stridesOf(input.shape);
        for (int64_t i = 0; i < result.size(); ++i)
          result.data[i] = input.data[elementOffset(i, result.shape, [&](int64_t d, int64_t c) {
            return (d == dim ? slice.getStart() + c * slice.getStep() : c) * inputStrides[d];
          })];
      })
      .Case([&](ConcatOp concat) {
        int64_t dim = *normalizeDim(concat.getDim(), static_cast<int64_t>(result.shape.size()));
        SmallVector<int64_t> resultStrides = stridesOf(result.shape);
        int64_t base = 0;
        for (Value input : concat.getInputs()) {
          const HostTensor &part = valueOf(input);
          for (int64_t i = 0; i < part.size(); ++i)
            result.data[elementOffset(i, part.shape, [&](int64_t d, int64_t c) {
              return (d == dim ? c + base : c) * resultStrides[d];
            })] = part.data[i];
          base += part.shape[dim];
        }
      })
      .Case([&](SumOp sum) {
        // Accumulated in double, rounded once (torch accumulates float sums in wider types).
        const HostTensor &input = valueOf(sum.getInput());
        int64_t rank = static_cast<int64_t>(input.shape.size());
        SmallVector<bool> reduced(rank, false);
        for (int64_t dim : sum.getDims())
          reduced[*normalizeDim(dim, rank)] = true;
        SmallVector<int64_t> keptShape, keptStrides;
        int64_t stride = 1;
        for (int64_t d = rank - 1; d >= 0; --d) {
          keptStrides.insert(keptStrides.begin(), reduced[d] ? 0 : stride);
          stride *= reduced[d] ? 1 : input.shape[d];
        }
        std::vector<double> sums(result.size(), 0.0);
        for (int64_t i = 0; i < input.size(); ++i)
          sums[elementOffset(i, input.shape, [&](int64_t d, int64_t c) {
            return c * keptStrides[d];
          })] += input.data[i];
        for (int64_t i = 0; i < result.size(); ++i)
          result.data[i] = roundTo(static_cast<float>(sums[i]), element);
      })
      .Default([&](Operation *) { handled = false; });
  if (!handled)
    return makeError("a weight function holds {0}, which cannot be evaluated at artifact time",
                     op->getName().getStringRef());
  return result;
}

llvm::Expected<HostTensor> Evaluator::run(func::FuncOp function) {
  values.clear();
  Block &body = function.getBody().front();
  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(op))
      return valueOf(ret.getOperand(0));
    llvm::Expected<HostTensor> value =
        isa<ParamOp>(op) ? leaf(cast<ParamOp>(op)) : evaluate(&op);
    if (!value)
      return value.takeError();
    values[op.getResult(0)] = std::move(*value);
  }
  return makeError("weight function @{0} does not return", function.getSymName());
}

} // namespace

llvm::Expected<std::unique_ptr<SafeTensorsFile>>
vgcu::evaluateComputedParams(ModuleOp module, const LoadedWeights &loaded) {
  // Each computed parameter once, with its unsharded shape (its function's result).
  std::map<std::string, func::FuncOp> functions;
  for (llvm::StringRef entry : {"forward", "compute_logits"}) {
    auto function = module.lookupSymbol<func::FuncOp>(entry);
    if (!function)
      continue;
    llvm::Error error = llvm::Error::success();
    function.walk([&](ParamOp param) {
      auto symbol = param.getComputedByAttr();
      if (!symbol || error)
        return;
      auto fold = module.lookupSymbol<func::FuncOp>(symbol.getValue());
      if (!fold || fold.isExternal())
        error = makeError("parameter '{0}' is computed by @{1}, which the module does not "
                          "define",
                          param.getName(), symbol.getValue());
      else
        functions.emplace(param.getName().str(), fold);
    });
    if (error)
      return std::move(error);
  }
  if (functions.empty())
    return nullptr;
  Evaluator evaluator(loaded);
  std::vector<TensorToWrite> tensors;
  for (auto &[name, fold] : functions) {
    auto value = evaluator.run(fold);
    if (!value)
      return addContext(value.takeError(), "computing weight '" + name + "'");
    auto type = cast<RankedTensorType>(fold.getResultTypes()[0]);
    auto dtype = mlirToDType(type.getElementType());
    if (!dtype || !isFloatDType(*dtype))
      return makeError("computed weight '{0}' is not a float tensor", name);
    auto data = std::make_shared<std::vector<float>>(std::move(value->data));
    tensors.push_back({name, *dtype, llvm::SmallVector<int64_t, 4>(type.getShape()),
                       [data, dtype = *dtype](llvm::MutableArrayRef<uint8_t> out) {
                         convertFloats(data->data(), DType::F32, out.data(), dtype,
                                       data->size());
                       }});
  }
  return SafeTensorsFile::fromTensors(std::move(tensors), "<computed weights>");
}
