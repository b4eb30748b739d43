//===- ModelContext.cpp - What the modules of one model share while emitting IR ---===//

#include "vgcu/Models/ModelContext.h"

#include "dialects/vgcu/VgcuOps.h"

using namespace mlir;
using namespace vgcu;

ModelContext::ModelContext(MLIRContext *context, const ModelConfig &config, Type dtype)
    : opBuilder(context), modelConfig(config), elementType(dtype) {}

void ModelContext::beginFunction(Block *block) {
  opBuilder.setInsertionPointToEnd(block);
  params.clear();
}

Location ModelContext::loc(llvm::StringRef prefix) {
  return NameLoc::get(opBuilder.getStringAttr(prefix.empty() ? "model" : prefix));
}

Value ModelContext::param(llvm::StringRef name, llvm::ArrayRef<int64_t> shape) {
  auto it = params.find(name);
  if (it != params.end())
    return it->second;
  auto type = RankedTensorType::get(shape, elementType);
  Value value = ParamOp::create(opBuilder, loc(name), type, opBuilder.getStringAttr(name),
                                /*shard=*/nullptr, /*computed_by=*/nullptr, /*quant=*/nullptr);
  params[name] = value;
  return value;
}

RankedTensorType ModelContext::tokenType(llvm::ArrayRef<int64_t> trailing, Type element) {
  SmallVector<int64_t> shape{ShapedType::kDynamic};
  shape.append(trailing.begin(), trailing.end());
  return RankedTensorType::get(shape, element ? element : elementType);
}

Value ModelContext::slice(Value input, int64_t dim, int64_t start, int64_t end, Location loc) {
  auto type = mlir::cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[dim] = end - start;
  return SliceOp::create(opBuilder, loc, input, dim, start, end, /*step=*/1);
}

Value ModelContext::reshapeTokens(Value input, llvm::ArrayRef<int64_t> trailing, Location loc) {
  auto type = mlir::cast<RankedTensorType>(input.getType());
  return ReshapeOp::create(opBuilder, loc, tokenType(trailing, type.getElementType()), input);
}

Value ModelContext::add(Value lhs, Value rhs, Location loc) {
  return AddOp::create(opBuilder, loc, lhs, rhs);
}

Value ModelContext::mul(Value lhs, Value rhs, Location loc) {
  return MulOp::create(opBuilder, loc, lhs, rhs);
}

Value ModelContext::scalar(double value, Location loc, Type element) {
  auto type = RankedTensorType::get({}, element ? element : elementType);
  Attribute attribute = isa<FloatType>(type.getElementType())
                            ? Attribute(opBuilder.getFloatAttr(type.getElementType(), value))
                            : Attribute(opBuilder.getIntegerAttr(type.getElementType(),
                                                                 static_cast<int64_t>(value)));
  return ConstantOp::create(opBuilder, loc, DenseElementsAttr::get(type, attribute));
}

Value ModelContext::scale(Value input, double factor, Location loc) {
  Type element = mlir::cast<RankedTensorType>(input.getType()).getElementType();
  return mul(input, scalar(factor, loc, element), loc);
}

Value ModelContext::cast(Value input, Type element, Location loc) {
  auto type = mlir::cast<RankedTensorType>(input.getType());
  if (type.getElementType() == element)
    return input;
  return CastOp::create(opBuilder, loc, RankedTensorType::get(type.getShape(), element), input);
}

Value ModelContext::addIndexOffset(Value input, int64_t offset, Location loc) {
  Type element = mlir::cast<RankedTensorType>(input.getType()).getElementType();
  return add(input, scalar(static_cast<double>(offset), loc, element), loc);
}
