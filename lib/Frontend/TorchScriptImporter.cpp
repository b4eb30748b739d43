//===- TorchScriptImporter.cpp - TorchScript (torch.jit.trace) modules to vgcu IR --===//
//
// The importer walks the graph of `forward` and the graphs of the submodule methods it
// calls, keeping for every TorchScript value what it is at import time: a `vgcu` tensor, a
// constant (an IValue, tensors included), a submodule path, a symbolic token count, or a
// list/tuple of those. Nodes whose inputs are all constants run on LibTorch right away, so
// shape arithmetic and buffer math (rotary frequencies, arange) fold into constants; every
// other node goes to its handler (a table from aten:: name to importer method), which
// emits `vgcu` primitive ops; the ops infer their own result types.
//
//===----------------------------------------------------------------------===//

#include "vgcu/Frontend/TorchScriptImporter.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Shapes.h"

#include "dialects/vgcu/VgcuOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/script.h>

#include <limits>
#include <map>
#include <unordered_map>
#include <set>

using namespace mlir;
using namespace vgcu;

namespace {

/// `scale * T + offset`, T being the number of tokens of a call.
struct TokenCount {
  int64_t scale = 1;
  int64_t offset = 0;
};

/// What a TorchScript value is while importing.
///
/// Positions and Uniform are how an HF-style trace's in-graph positions become the
/// program's `positions` argument: `arange(T)` (HF's cache_position with nothing cached)
/// is the positions of the call's tokens, and `attention_mask.cumsum(-1) - 1` of an
/// all-ones mask is too. Neither is a tensor until something other than position
/// arithmetic reads it.
struct Imported {
  enum class Kind { Tensor, Constant, Module, Symbolic, List, Tuple, None, Positions, Uniform };
  Kind kind = Kind::None;
  Value tensor;
  c10::IValue constant;
  std::string path;
  std::vector<Imported> items;
  /// Symbolic: the integer as a function of the token count, when it is one.
  std::optional<TokenCount> tokens;
  /// Positions: the value is `positions + positionOffset`.
  int64_t positionOffset = 0;
  /// Positions and Uniform: the element type (i64 unless converted).
  Type element;
  /// Uniform: a [T] tensor whose every element is `constant` (an all-ones mask, ones_like).
  static Imported positions(int64_t offset, Type element) {
    Imported result;
    result.kind = Kind::Positions;
    result.positionOffset = offset;
    result.element = element;
    return result;
  }
  static Imported uniform(c10::IValue fill, Type element) {
    Imported result;
    result.kind = Kind::Uniform;
    result.constant = std::move(fill);
    result.element = element;
    return result;
  }

  static Imported ofTensor(Value value) {
    Imported result;
    result.kind = Kind::Tensor;
    result.tensor = value;
    return result;
  }
  static Imported ofConstant(c10::IValue value) {
    Imported result;
    result.kind = value.isNone() ? Kind::None : Kind::Constant;
    result.constant = std::move(value);
    return result;
  }
  static Imported ofModule(std::string path) {
    Imported result;
    result.kind = Kind::Module;
    result.path = std::move(path);
    return result;
  }
  static Imported symbolic(std::optional<TokenCount> tokens = std::nullopt) {
    Imported result;
    result.kind = Kind::Symbolic;
    result.tokens = tokens;
    return result;
  }
  bool isConstant() const { return kind == Kind::Constant || kind == Kind::None; }
  bool isNone() const { return kind == Kind::None; }
};

class ImportError : public std::runtime_error {
public:
  explicit ImportError(const std::string &message, bool located = false)
      : std::runtime_error(message), located(located) {}
  /// Whether the message already says where in the Python source it happened.
  bool located;
};

RankedTensorType typeOf(Value value) { return cast<RankedTensorType>(value.getType()); }

class Importer {
public:
  Importer(MLIRContext &context, torch::jit::Module root)
      : context(context), builder(&context), root(std::move(root)) {}

  /// Imports `forward`; `architecture` and `dtype` are recorded on the module.
  OwningOpRef<ModuleOp> run(llvm::StringRef architecture);
  /// The parameters the graph reads, in the order they were met.
  const std::vector<std::pair<std::string, at::Tensor>> &parameters() const {
    return parameterTensors;
  }

private:
  using Graph = torch::jit::Graph;
  using Node = torch::jit::Node;
  using JitValue = torch::jit::Value;

  std::vector<Imported> importGraph(Graph &graph, const std::string &path,
                                    const std::vector<Imported> &arguments);
  void importNode(Node *node, const std::string &path);
  bool tryFold(Node *node);
  /// Position arithmetic of HF-style traces (see Imported); false: not such an op.
  bool importPositionOp(Node *node);
  /// Integer arithmetic on a token count, when it stays `scale * T + offset`.
  std::optional<TokenCount> tokenArithmetic(Node *node);
  /// Emits the vgcu ops of an aten:: node through its handler.
  void emit(Node *node, Location loc);
  using Handler = void (Importer::*)(Node *node, Location loc);
  static llvm::StringMap<Handler> handlers();
  void out(Node *node, Value value);
  Value self(Node *node, Location loc);
  static ArrayRef<int64_t> shapeOf(Value value);

  void importIdentity(Node *node, Location loc);
  void importEmbedding(Node *node, Location loc);
  void importLinear(Node *node, Location loc);
  void importMatmul(Node *node, Location loc);
  void importAddmm(Node *node, Location loc);
  void importSplit(Node *node, Location loc);
  void importNorm(Node *node, Location loc);
  void importClampMin(Node *node, Location loc);
  void importExpandAs(Node *node, Location loc);
  template <typename OpTy> void importBinary(Node *node, Location loc);
  void importRsub(Node *node, Location loc);
  template <ComparePredicate Predicate> void importComparison(Node *node, Location loc);
  template <typename OpTy> void importUnary(Node *node, Location loc);
  void importGelu(Node *node, Location loc);
  void importConversion(Node *node, Location loc);
  void importView(Node *node, Location loc);
  void importFlatten(Node *node, Location loc);
  void importUnsqueeze(Node *node, Location loc);
  void importSqueeze(Node *node, Location loc);
  void importTranspose(Node *node, Location loc);
  void importSlice(Node *node, Location loc);
  void importSelect(Node *node, Location loc);
  void importCat(Node *node, Location loc);
  void importChunk(Node *node, Location loc);
  void importRepeatInterleave(Node *node, Location loc);
  void importExpand(Node *node, Location loc);
  void importWhere(Node *node, Location loc);
  void importSoftmax(Node *node, Location loc);
  template <typename OpTy> void importReduction(Node *node, Location loc);
  void importLayerNorm(Node *node, Location loc);
  void importIndexSelect(Node *node, Location loc);
  void importIndex(Node *node, Location loc);
  void importTopK(Node *node, Location loc);
  void importZerosLike(Node *node, Location loc);
  void importScatter(Node *node, Location loc);
  bool boolInput(Node *node, const char *name, bool fallback);

  // Values.
  const Imported &get(const JitValue *value) const;
  void set(const JitValue *value, Imported imported) { values[value] = std::move(imported); }
  Imported &input(Node *node, const char *name);
  Value tensorInput(Node *node, const char *name, Location loc, Type like = {});
  Value asTensor(const Imported &value, Location loc, Type like = {});
  int64_t intInput(Node *node, const char *name);
  std::optional<int64_t> optionalInt(Node *node, const char *name);
  bool hasInput(Node *node, const char *name) const;
  /// An int list argument; symbolic entries become ShapedType::kDynamic.
  SmallVector<int64_t> intListInput(Node *node, const char *name);

  // Constants.
  Value materialize(const at::Tensor &tensor, Location loc);
  Value scalarConstant(const c10::IValue &scalar, Type element, Location loc);

  // Emission helpers.
  Value cast(Value value, Type element, Location loc);
  Value reshape(Value value, ArrayRef<int64_t> shape, Location loc);
  /// torch's type promotion for a binary op (dimensioned operands win over 0-d ones).
  std::pair<Value, Value> promote(Value lhs, Value rhs, Location loc);
  template <typename OpTy> Value binary(Value lhs, Value rhs, Location loc);
  int64_t normalizeDim(int64_t dim, int64_t rank) const;

  [[noreturn]] void fail(const llvm::Twine &message) { throw ImportError(message.str()); }

  MLIRContext &context;
  OpBuilder builder;
  torch::jit::Module root;
  std::map<std::string, torch::jit::Module> modules;
  std::set<std::string> parameterNames;
  // Node-based, so references to entries survive later insertions.
  std::unordered_map<const JitValue *, Imported> values;
  std::map<std::string, Value> params;
  std::vector<std::pair<std::string, at::Tensor>> parameterTensors;
  /// @forward's positions argument, for the Positions values that become tensors.
  Value positionsArgument;
  Node *current = nullptr;
  std::string currentPath;
};

/// The Python source a node was traced from (the debug info a saved module keeps), or the
/// serialized code's location when that is all there is.
torch::jit::SourceRange originalRange(torch::jit::Node *node) {
  torch::jit::SourceRange range = node->sourceRange();
  if (auto original = range.findSourceRangeThatGenerated())
    return *original;
  return range;
}

std::string sourceOf(torch::jit::Node *node) {
  auto location = originalRange(node).file_line_col();
  if (!location)
    return "unknown source line";
  return std::get<0>(*location) + ":" + std::to_string(std::get<1>(*location));
}

Location locationOf(MLIRContext &context, torch::jit::Node *node, const std::string &path) {
  Location source = UnknownLoc::get(&context);
  if (auto location = originalRange(node).file_line_col())
    source = FileLineColLoc::get(&context, std::get<0>(*location),
                                 static_cast<unsigned>(std::get<1>(*location)),
                                 static_cast<unsigned>(std::get<2>(*location)));
  return NameLoc::get(StringAttr::get(&context, path.empty() ? "model" : path), source);
}

Type elementTypeOf(MLIRContext &context, at::ScalarType type) {
  switch (type) {
  case at::kFloat: return Float32Type::get(&context);
  case at::kHalf: return Float16Type::get(&context);
  case at::kBFloat16: return BFloat16Type::get(&context);
  case at::kLong: return IntegerType::get(&context, 64);
  case at::kInt: return IntegerType::get(&context, 32);
  case at::kBool: return IntegerType::get(&context, 1);
  default: return {};
  }
}

const Imported &Importer::get(const JitValue *value) const {
  auto it = values.find(value);
  if (it == values.end())
    throw ImportError("internal: value %" + value->debugName() + " used before it was defined");
  return it->second;
}

bool Importer::hasInput(Node *node, const char *name) const {
  const c10::FunctionSchema *schema = node->maybeSchema();
  if (!schema)
    return false;
  return schema->argumentIndexWithName(name).has_value();
}

Imported &Importer::input(Node *node, const char *name) {
  const c10::FunctionSchema *schema = node->maybeSchema();
  if (!schema)
    fail("no schema for " + std::string(node->kind().toQualString()));
  auto index = schema->argumentIndexWithName(name);
  if (!index || *index >= node->inputs().size())
    fail(std::string(node->kind().toQualString()) + " has no argument '" + name + "'");
  return values[node->inputs()[*index]];
}

int64_t Importer::intInput(Node *node, const char *name) {
  std::optional<int64_t> value = optionalInt(node, name);
  if (!value)
    fail(std::string("argument '") + name + "' of " + node->kind().toQualString() +
         " must be a constant integer");
  return *value;
}

std::optional<int64_t> Importer::optionalInt(Node *node, const char *name) {
  const Imported &value = input(node, name);
  if (value.kind == Imported::Kind::Constant && value.constant.isInt())
    return value.constant.toInt();
  if (value.kind == Imported::Kind::Constant && value.constant.isTensor() &&
      value.constant.toTensor().numel() == 1)
    return value.constant.toTensor().item<int64_t>();
  return std::nullopt;
}

SmallVector<int64_t> Importer::intListInput(Node *node, const char *name) {
  const Imported &value = input(node, name);
  SmallVector<int64_t> result;
  if (value.kind == Imported::Kind::Constant && value.constant.isIntList()) {
    for (int64_t item : value.constant.toIntVector())
      result.push_back(item);
    return result;
  }
  if (value.kind == Imported::Kind::Constant && value.constant.isInt())
    return {value.constant.toInt()};
  if (value.kind == Imported::Kind::List) {
    for (const Imported &item : value.items) {
      if (item.kind == Imported::Kind::Symbolic)
        result.push_back(ShapedType::kDynamic);
      else if (item.kind == Imported::Kind::Constant && item.constant.isInt())
        result.push_back(item.constant.toInt());
      else
        fail(std::string("argument '") + name + "' of " + node->kind().toQualString() +
             " must be a list of integers");
    }
    return result;
  }
  fail(std::string("argument '") + name + "' of " + node->kind().toQualString() +
       " must be a list of integers");
}

int64_t Importer::normalizeDim(int64_t dim, int64_t rank) const {
  auto normalized = vgcu::normalizeDim(dim, rank);
  if (!normalized)
    throw ImportError("dimension " + std::to_string(dim) + " is out of range for rank " +
                      std::to_string(rank));
  return *normalized;
}

Value Importer::materialize(const at::Tensor &tensor, Location loc) {
  at::Tensor contiguous = tensor.contiguous().cpu();
  Type element = elementTypeOf(context, contiguous.scalar_type());
  if (!element)
    fail("a constant tensor of dtype " + std::string(c10::toString(contiguous.scalar_type())) +
         " has no vgcu equivalent");
  std::vector<int64_t> shape(contiguous.sizes().begin(), contiguous.sizes().end());
  auto type = RankedTensorType::get(shape, element);
  DenseElementsAttr attr;
  if (auto floatType = dyn_cast<FloatType>(element)) {
    at::Tensor asFloat = contiguous.to(at::kFloat);
    const float *data = asFloat.data_ptr<float>();
    SmallVector<APFloat> elements;
    for (int64_t i = 0; i < asFloat.numel(); ++i) {
      APFloat value(data[i]);
      bool lost;
      value.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      elements.push_back(value);
    }
    attr = DenseElementsAttr::get(type, elements);
  } else {
    at::Tensor asLong = contiguous.to(at::kLong);
    const int64_t *data = asLong.data_ptr<int64_t>();
    unsigned width = element.getIntOrFloatBitWidth();
    SmallVector<APInt> elements;
    for (int64_t i = 0; i < asLong.numel(); ++i)
      elements.push_back(APInt(width, static_cast<uint64_t>(data[i]), /*isSigned=*/width > 1));
    attr = DenseElementsAttr::get(type, elements);
  }
  return ConstantOp::create(builder, loc, type, attr);
}

Value Importer::scalarConstant(const c10::IValue &scalar, Type element, Location loc) {
  auto type = RankedTensorType::get({}, element);
  if (auto floatType = dyn_cast<FloatType>(element)) {
    double number = scalar.isDouble() ? scalar.toDouble()
                    : scalar.isInt()  ? static_cast<double>(scalar.toInt())
                    : scalar.isBool() ? static_cast<double>(scalar.toBool())
                                      : (fail("expected a number"), 0.0);
    APFloat value(number);
    bool lost;
    value.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    return ConstantOp::create(builder, loc, type, DenseElementsAttr::get(type, value));
  }
  int64_t number = scalar.isInt()    ? scalar.toInt()
                   : scalar.isBool() ? static_cast<int64_t>(scalar.toBool())
                                     : (fail("expected an integer"), int64_t(0));
  return ConstantOp::create(
      builder, loc, type,
      DenseElementsAttr::get(type, APInt(element.getIntOrFloatBitWidth(),
                                         static_cast<uint64_t>(number), /*isSigned=*/true)));
}

Value Importer::asTensor(const Imported &value, Location loc, Type like) {
  switch (value.kind) {
  case Imported::Kind::Tensor:
    return value.tensor;
  case Imported::Kind::Constant:
    if (value.constant.isTensor()) {
      const at::Tensor &tensor = value.constant.toTensor();
      // A 0-d double/long/bool tensor is a wrapped Python number: it takes the other
      // operand's type, as in torch's type promotion.
      if (tensor.dim() == 0 && (tensor.scalar_type() == at::kDouble ||
                                tensor.scalar_type() == at::kLong ||
                                tensor.scalar_type() == at::kBool)) {
        c10::IValue scalar = tensor.scalar_type() == at::kDouble ? c10::IValue(tensor.item<double>())
                             : tensor.scalar_type() == at::kLong ? c10::IValue(tensor.item<int64_t>())
                                                                 : c10::IValue(tensor.item<bool>());
        return asTensor(Imported::ofConstant(scalar), loc, like);
      }
      return materialize(tensor, loc);
    }
    if (value.constant.isDouble() || value.constant.isInt() || value.constant.isBool()) {
      Type element = like;
      if (!element)
        element = value.constant.isDouble() ? Type(Float32Type::get(&context))
                  : value.constant.isBool() ? Type(IntegerType::get(&context, 1))
                                            : Type(IntegerType::get(&context, 64));
      // A Python float next to an integer tensor promotes to f32, as torch does.
      if (value.constant.isDouble() && !isa<FloatType>(element))
        element = Float32Type::get(&context);
      return scalarConstant(value.constant, element, loc);
    }
    break;
  case Imported::Kind::Positions: {
    Value positions = positionsArgument;
    if (value.positionOffset != 0)
      positions = AddOp::create(builder, loc, positions,
                                scalarConstant(c10::IValue(value.positionOffset),
                                               typeOf(positions).getElementType(), loc));
    return cast(positions, value.element, loc);
  }
  case Imported::Kind::Uniform:
    fail("the attention mask (or a ones_like of the input ids) is used for more than deriving "
         "position ids; vgcu compiles traces whose mask is all ones (no padding), so the mask "
         "may only feed the position computation (mask.cumsum(-1) - 1, masked_fill)");
  default:
    break;
  }
  fail("expected a tensor");
}

Value Importer::tensorInput(Node *node, const char *name, Location loc, Type like) {
  return asTensor(input(node, name), loc, like);
}

Value Importer::cast(Value value, Type element, Location loc) {
  auto type = typeOf(value);
  if (type.getElementType() == element)
    return value;
  return CastOp::create(builder, loc, RankedTensorType::get(type.getShape(), element), value);
}

Value Importer::reshape(Value value, ArrayRef<int64_t> shape, Location loc) {
  auto type = typeOf(value);
  if (type.getShape() == shape)
    return value;
  return ReshapeOp::create(builder, loc, RankedTensorType::get(shape, type.getElementType()),
                           value);
}

/// torch's result type of combining two element types.
static Type promoteTypes(Type a, Type b, MLIRContext &context) {
  if (a == b)
    return a;
  bool aFloat = isa<FloatType>(a), bFloat = isa<FloatType>(b);
  if (aFloat != bFloat)
    return aFloat ? a : b;
  if (aFloat) // f16 with bf16, or a narrower float with f32
    return a.getIntOrFloatBitWidth() == 32 || b.getIntOrFloatBitWidth() == 32
               ? Type(Float32Type::get(&context))
               : Type(Float32Type::get(&context));
  return a.getIntOrFloatBitWidth() >= b.getIntOrFloatBitWidth() ? a : b;
}

std::pair<Value, Value> Importer::promote(Value lhs, Value rhs, Location loc) {
  Type a = typeOf(lhs).getElementType(), b = typeOf(rhs).getElementType();
  if (a == b)
    return {lhs, rhs};
  bool aScalar = typeOf(lhs).getRank() == 0, bScalar = typeOf(rhs).getRank() == 0;
  bool sameCategory = isa<FloatType>(a) == isa<FloatType>(b);
  Type result;
  if (sameCategory && aScalar != bScalar)
    result = aScalar ? b : a; // a 0-d tensor does not widen a dimensioned one
  else
    result = promoteTypes(a, b, context);
  return {cast(lhs, result, loc), cast(rhs, result, loc)};
}

template <typename OpTy>
Value Importer::binary(Value lhs, Value rhs, Location loc) {
  std::tie(lhs, rhs) = promote(lhs, rhs, loc);
  if (!broadcastShapes(typeOf(lhs).getShape(), typeOf(rhs).getShape()))
    fail("operand shapes " + shapeString(typeOf(lhs).getShape()) + " and " +
         shapeString(typeOf(rhs).getShape()) + " do not broadcast");
  return OpTy::create(builder, loc, lhs, rhs);
}

/// A graph input's Python name: "attention_mask" for "attention_mask.1".
static std::string pythonName(const torch::jit::Value *value) {
  std::string name = value->debugName();
  auto [base, suffix] = llvm::StringRef(name).rsplit('.');
  if (!suffix.empty() && llvm::all_of(suffix, [](char c) { return llvm::isDigit(c); }))
    return base.str();
  return name;
}

OwningOpRef<ModuleOp> Importer::run(llvm::StringRef architecture) {
  context.loadDialect<VgcuDialect, func::FuncDialect>();
  for (const auto &named : root.named_parameters(/*recurse=*/true))
    parameterNames.insert(named.name);
  modules[""] = root;

  auto method = root.get_method("forward");
  std::shared_ptr<Graph> graph = method.graph();
  size_t arguments = graph->inputs().size() - 1;
  std::string second = arguments == 2 ? pythonName(graph->inputs()[2]) : "";
  if (arguments != 1 && arguments != 2)
    throw ImportError("forward takes " + std::to_string(arguments) +
                      " inputs; vgcu imports forward(input_ids), forward(input_ids, "
                      "position_ids) and forward(input_ids, attention_mask), each input a "
                      "one-dimensional token tensor");
  // The second input is known by its name: anything else (token_type_ids, a padding mask
  // under another name) would silently be taken for something it is not.
  if (arguments == 2 && second != "position_ids" && second != "positions" &&
      second != "attention_mask")
    throw ImportError("forward's second input is '" + second +
                      "'; vgcu imports forward(input_ids, position_ids) (or positions) and "
                      "forward(input_ids, attention_mask)");
  Location loc = NameLoc::get(builder.getStringAttr("model"));
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  auto idsType = RankedTensorType::get({ShapedType::kDynamic}, builder.getI64Type());
  auto function = func::FuncOp::create(loc, "forward",
                                       builder.getFunctionType({idsType, idsType}, {}));
  module->push_back(function);
  Block *body = function.addEntryBlock();
  builder.setInsertionPointToEnd(body);
  positionsArgument = body->getArgument(1);
  std::vector<Imported> inputs{Imported::ofModule(""),
                               Imported::ofTensor(body->getArgument(0))};
  // The second input is the positions, or an attention mask they are derived from; with
  // only input_ids, the graph derives them from the token count.
  if (arguments == 2)
    inputs.push_back(second == "attention_mask"
                         ? Imported::uniform(c10::IValue(int64_t(1)), builder.getI64Type())
                         : Imported::ofTensor(positionsArgument));
  std::vector<Imported> results = importGraph(*graph, "", inputs);
  SmallVector<Value> returned;
  std::function<void(const Imported &)> flatten = [&](const Imported &result) {
    if (result.kind == Imported::Kind::Tuple || result.kind == Imported::Kind::List) {
      for (const Imported &item : result.items)
        flatten(item);
      return;
    }
    returned.push_back(asTensor(result, loc));
  };
  for (const Imported &result : results)
    flatten(result);
  func::ReturnOp::create(builder, loc, returned);
  if (arguments == 1 && positionsArgument.use_empty())
    throw ImportError("forward(input_ids) does not derive positions from the number of tokens "
                      "(they may have been traced as constants); trace forward(input_ids, "
                      "position_ids) instead");
  SmallVector<Type> resultTypes;
  for (Value value : returned)
    resultTypes.push_back(value.getType());
  function.setType(builder.getFunctionType({idsType, idsType}, resultTypes));
  function.setArgAttr(0, "vgcu.name", builder.getStringAttr("input_ids"));
  function.setArgAttr(1, "vgcu.name", builder.getStringAttr("positions"));
  (*module)->setAttr("vgcu.source", builder.getStringAttr("torchscript"));
  if (!architecture.empty())
    (*module)->setAttr("vgcu.architecture", builder.getStringAttr(architecture));
  // The compute dtype is the parameters' floating type (the first one met decides).
  for (const auto &[name, tensor] : parameterTensors)
    if (at::isFloatingType(tensor.scalar_type())) {
      llvm::StringRef dtype = tensor.scalar_type() == at::kFloat      ? "F32"
                              : tensor.scalar_type() == at::kHalf     ? "F16"
                              : tensor.scalar_type() == at::kBFloat16 ? "BF16"
                                                                      : "";
      if (!dtype.empty())
        (*module)->setAttr("vgcu.dtype", builder.getStringAttr(dtype));
      break;
    }
  return module;
}

std::vector<Imported> Importer::importGraph(Graph &graph, const std::string &path,
                                            const std::vector<Imported> &arguments) {
  if (arguments.size() != graph.inputs().size())
    fail("internal: method called with " + std::to_string(arguments.size()) +
         " arguments for " + std::to_string(graph.inputs().size()) + " inputs");
  for (auto [value, argument] : llvm::zip(graph.inputs(), arguments))
    set(value, argument);
  for (Node *node : graph.nodes()) {
    try {
      importNode(node, path);
    } catch (const ImportError &error) {
      if (error.located)
        throw;
      throw ImportError(std::string(error.what()) + " (at " + sourceOf(node) + ", in module '" +
                            (path.empty() ? std::string("<root>") : path) + "')",
                        /*located=*/true);
    }
  }
  std::vector<Imported> results;
  for (const JitValue *output : graph.outputs())
    results.push_back(get(output));
  return results;
}

bool Importer::tryFold(Node *node) {
  if (node->kind().is_prim() || node->outputs().empty())
    return false;
  for (const JitValue *value : node->inputs())
    if (!get(value).isConstant())
      return false;
  if (!node->maybeSchema())
    return false;
  try {
    torch::jit::Operation operation = node->getOperation();
    torch::jit::Stack stack;
    for (const JitValue *value : node->inputs())
      stack.push_back(get(value).constant);
    operation(stack);
    if (stack.size() != node->outputs().size())
      return false;
    for (size_t i = 0; i < node->outputs().size(); ++i)
      set(node->outputs()[i], Imported::ofConstant(stack[i]));
    return true;
  } catch (const c10::Error &) {
    return false;
  }
}

void Importer::importNode(Node *node, const std::string &path) {
  current = node;
  currentPath = path;
  const auto kind = node->kind();
  Location loc = locationOf(context, node, path);

  if (kind == c10::prim::Constant) {
    auto value = torch::jit::toIValue(node->output());
    set(node->output(), Imported::ofConstant(value ? *value : c10::IValue()));
    return;
  }
  if (kind == c10::prim::GetAttr) {
    const Imported &object = get(node->input());
    if (object.kind != Imported::Kind::Module)
      fail("attribute access on something that is not a module");
    std::string name = node->s(c10::attr::name);
    std::string childPath = object.path.empty() ? name : object.path + "." + name;
    torch::jit::Module &parent = modules.at(object.path);
    c10::IValue attribute = parent.attr(name);
    if (attribute.isModule()) {
      modules[childPath] = attribute.toModule();
      set(node->output(), Imported::ofModule(childPath));
    } else if (attribute.isTensor() && parameterNames.count(childPath)) {
      auto it = params.find(childPath);
      if (it == params.end()) {
        at::Tensor tensor = attribute.toTensor();
        Type element = elementTypeOf(context, tensor.scalar_type());
        if (!element)
          fail("parameter '" + childPath + "' has unsupported dtype " +
               c10::toString(tensor.scalar_type()));
        std::vector<int64_t> shape(tensor.sizes().begin(), tensor.sizes().end());
        OpBuilder::InsertionGuard guard(builder);
        builder.setInsertionPointToStart(builder.getInsertionBlock());
        Value param = ParamOp::create(builder, NameLoc::get(builder.getStringAttr(childPath)),
                                      RankedTensorType::get(shape, element),
                                      builder.getStringAttr(childPath), /*shard=*/nullptr,
                                      /*computed_by=*/nullptr, /*quant=*/nullptr);
        it = params.emplace(childPath, param).first;
        parameterTensors.emplace_back(childPath, tensor);
      }
      set(node->output(), Imported::ofTensor(it->second));
    } else {
      // Buffers and plain attributes are constants of the traced model.
      set(node->output(), Imported::ofConstant(attribute));
    }
    return;
  }
  if (kind == c10::prim::CallMethod) {
    const Imported &object = get(node->inputs()[0]);
    if (object.kind != Imported::Kind::Module)
      fail("method call on something that is not a module");
    std::string method = node->s(c10::attr::name);
    std::string modulePath = object.path;
    std::shared_ptr<Graph> graph = modules.at(modulePath).get_method(method).graph();
    std::vector<Imported> arguments;
    for (const JitValue *value : node->inputs())
      arguments.push_back(get(value));
    std::vector<Imported> results = importGraph(*graph, modulePath, arguments);
    current = node;
    currentPath = path;
    for (auto [output, result] : llvm::zip(node->outputs(), results))
      set(output, result);
    return;
  }
  if (kind == c10::prim::ListConstruct || kind == c10::prim::TupleConstruct) {
    Imported result;
    result.kind = kind == c10::prim::ListConstruct ? Imported::Kind::List : Imported::Kind::Tuple;
    bool allInts = kind == c10::prim::ListConstruct;
    for (const JitValue *value : node->inputs()) {
      result.items.push_back(get(value));
      const Imported &item = result.items.back();
      allInts = allInts && item.kind == Imported::Kind::Constant && item.constant.isInt();
    }
    if (allInts) {
      std::vector<int64_t> ints;
      for (const Imported &item : result.items)
        ints.push_back(item.constant.toInt());
      set(node->output(), Imported::ofConstant(c10::IValue(ints)));
    } else {
      set(node->output(), result);
    }
    return;
  }
  if (kind == c10::prim::TupleUnpack || kind == c10::prim::ListUnpack) {
    const Imported &tuple = get(node->input());
    std::vector<Imported> items = tuple.items;
    if (tuple.kind == Imported::Kind::Constant && tuple.constant.isTuple())
      for (const c10::IValue &element : tuple.constant.toTupleRef().elements())
        items.push_back(Imported::ofConstant(element));
    if (tuple.kind == Imported::Kind::Constant && tuple.constant.isList())
      for (const c10::IValue &element : tuple.constant.toListRef())
        items.push_back(Imported::ofConstant(element));
    if (items.size() != node->outputs().size())
      fail("cannot unpack this value into " + std::to_string(node->outputs().size()) + " values");
    for (auto [output, item] : llvm::zip(node->outputs(), items))
      set(output, item);
    return;
  }
  if (kind == c10::prim::NumToTensor || kind == c10::aten::Int ||
      kind == c10::aten::ScalarImplicit || kind == c10::aten::Float) {
    const Imported &value = get(node->input());
    if (value.kind == Imported::Kind::Symbolic)
      // A float made from the count is no longer one (arange over it would count in f32).
      set(node->output(), kind == c10::aten::Float ? Imported::symbolic() : value);
    else if (!tryFold(node))
      set(node->output(), value);
    return;
  }
  if (kind == c10::aten::size && node->inputs().size() == 2) {
    const Imported &value = get(node->inputs()[0]);
    if (value.kind == Imported::Kind::Tensor) {
      int64_t dim = normalizeDim(intInput(node, "dim"), typeOf(value.tensor).getRank());
      int64_t size = typeOf(value.tensor).getDimSize(dim);
      // The one dynamic dimension of every traced tensor is the token dimension.
      set(node->output(), ShapedType::isDynamic(size) ? Imported::symbolic(TokenCount{})
                                                      : Imported::ofConstant(c10::IValue(size)));
      return;
    }
    if (value.kind == Imported::Kind::Positions || value.kind == Imported::Kind::Uniform) {
      normalizeDim(intInput(node, "dim"), 1);
      set(node->output(), Imported::symbolic(TokenCount{}));
      return;
    }
  }
  // Shape arithmetic on a symbolic size stays symbolic, on ints or on the 0-d tensors a
  // trace wraps them in (prim::NumToTensor).
  bool scalarArithmetic = kind == c10::aten::add || kind == c10::aten::sub ||
                          kind == c10::aten::mul || kind == c10::aten::floor_divide ||
                          kind == c10::aten::div || kind == c10::aten::neg ||
                          kind == c10::aten::rsub;
  bool onlySizes = llvm::all_of(node->inputs(), [&](const JitValue *value) {
    return get(value).isConstant() || get(value).kind == Imported::Kind::Symbolic;
  });
  if (node->outputs().size() == 1 &&
      (node->output()->type()->kind() == c10::TypeKind::IntType ||
       (scalarArithmetic && onlySizes &&
        node->output()->type()->kind() == c10::TypeKind::TensorType))) {
    for (const JitValue *value : node->inputs())
      if (get(value).kind == Imported::Kind::Symbolic) {
        set(node->output(), Imported::symbolic(tokenArithmetic(node)));
        return;
      }
  }
  if (importPositionOp(node))
    return;
  if (tryFold(node))
    return;
  emit(node, loc);
}

/// masked_fill(x, mask, v) with a mask known to be all false is x.
static bool isAllFalse(const Imported &value) {
  return value.kind == Imported::Kind::Uniform && value.constant.isBool() &&
         !value.constant.toBool();
}

/// A constant integer (a Python int or a one-element integer tensor), if `value` is one.
static std::optional<int64_t> integerConstant(const Imported &value) {
  if (value.kind != Imported::Kind::Constant)
    return std::nullopt;
  if (value.constant.isInt())
    return value.constant.toInt();
  if (value.constant.isTensor() && value.constant.toTensor().numel() == 1 &&
      !at::isFloatingType(value.constant.toTensor().scalar_type()))
    return value.constant.toTensor().item<int64_t>();
  return std::nullopt;
}

std::optional<TokenCount> Importer::tokenArithmetic(Node *node) {
  const auto kind = node->kind();
  if (node->inputs().size() < 2 || node->inputs().size() > 3 ||
      (kind != c10::aten::add && kind != c10::aten::sub && kind != c10::aten::mul &&
       kind != c10::aten::rsub))
    return std::nullopt;
  const Imported &lhs = get(node->inputs()[0]), &rhs = get(node->inputs()[1]);
  // add/sub of tensors carry alpha: only alpha = 1 keeps the count's form simple.
  if (node->inputs().size() == 3 && integerConstant(get(node->inputs()[2])) != 1)
    return std::nullopt;
  std::optional<int64_t> lhsInt = integerConstant(lhs), rhsInt = integerConstant(rhs);
  if (lhs.tokens && rhsInt && kind == c10::aten::rsub) // other - self
    return TokenCount{-lhs.tokens->scale, *rhsInt - lhs.tokens->offset};
  if (lhs.tokens && rhsInt) {
    TokenCount count = *lhs.tokens;
    if (kind == c10::aten::mul)
      return TokenCount{count.scale * *rhsInt, count.offset * *rhsInt};
    return TokenCount{count.scale,
                      count.offset + (kind == c10::aten::add ? *rhsInt : -*rhsInt)};
  }
  if (rhs.tokens && lhsInt && kind == c10::aten::rsub) // self is the constant
    return TokenCount{rhs.tokens->scale, rhs.tokens->offset - *lhsInt};
  if (rhs.tokens && lhsInt) {
    TokenCount count = *rhs.tokens;
    if (kind == c10::aten::mul)
      return TokenCount{count.scale * *lhsInt, count.offset * *lhsInt};
    if (kind == c10::aten::add)
      return TokenCount{count.scale, count.offset + *lhsInt};
    return TokenCount{-count.scale, *lhsInt - count.offset};
  }
  return std::nullopt;
}

bool Importer::importPositionOp(Node *node) {
  const auto kind = node->kind();
  auto kindOf = [&](const JitValue *value) { return get(value).kind; };
  auto isPositionKind = [&](Imported::Kind k) {
    return k == Imported::Kind::Positions || k == Imported::Kind::Uniform;
  };
  auto requestedType = [&](Type otherwise) -> Type {
    if (!hasInput(node, "dtype") || input(node, "dtype").isNone())
      return otherwise;
    Type element = elementTypeOf(context, static_cast<at::ScalarType>(intInput(node, "dtype")));
    if (!element)
      fail(std::string(node->kind().toQualString()) + " to a dtype vgcu does not support");
    return element;
  };

  if (kind == c10::aten::arange) {
    const Imported &end = input(node, "end");
    if (end.kind != Imported::Kind::Symbolic)
      return false;
    std::optional<int64_t> start =
        hasInput(node, "start") ? integerConstant(input(node, "start")) : 0;
    std::optional<int64_t> step =
        hasInput(node, "step") ? integerConstant(input(node, "step")) : 1;
    // arange(p, p + T) counts the call's tokens from position p: HF's cache_position.
    if (!end.tokens || end.tokens->scale != 1 || !start || end.tokens->offset != *start ||
        step != 1)
      fail("aten::arange over the token count must be arange(T) or arange(p, p + T) with "
           "step 1 (the positions of the call's tokens)");
    set(node->output(), Imported::positions(*start, requestedType(builder.getI64Type())));
    return true;
  }
  if (kind == c10::aten::ones_like) {
    const Imported &self = input(node, "self");
    Type element = isPositionKind(self.kind) ? self.element
                   : self.kind == Imported::Kind::Tensor && typeOf(self.tensor).getRank() == 1 &&
                           typeOf(self.tensor).isDynamicDim(0)
                       ? typeOf(self.tensor).getElementType()
                       : Type();
    if (!element)
      return false;
    set(node->output(), Imported::uniform(c10::IValue(int64_t(1)), requestedType(element)));
    return true;
  }
  if ((kind == c10::aten::masked_fill || kind == c10::aten::masked_fill_) &&
      isAllFalse(input(node, "mask"))) {
    set(node->output(), get(node->inputs()[0]));
    return true;
  }
  if (node->inputs().empty() || !isPositionKind(kindOf(node->inputs()[0])))
    return false;
  const Imported self = get(node->inputs()[0]);

  if (kind == c10::aten::to || kind == c10::aten::type_as || kind == c10::aten::contiguous ||
      kind == c10::aten::clone || kind == c10::aten::detach) {
    Type element = self.element;
    if (kind == c10::aten::type_as) {
      element = typeOf(tensorInput(node, "other", locationOf(context, node, currentPath)))
                    .getElementType();
    } else if (kind == c10::aten::to && hasInput(node, "other")) {
      element = typeOf(tensorInput(node, "other", locationOf(context, node, currentPath)))
                    .getElementType();
    } else if (kind == c10::aten::to) {
      element = requestedType(self.element);
    }
    Imported result = self;
    result.element = element;
    set(node->output(), result);
    return true;
  }
  if (kind == c10::aten::cumsum && self.kind == Imported::Kind::Uniform) {
    std::optional<int64_t> fill = integerConstant(Imported::ofConstant(self.constant));
    int64_t dim = intInput(node, "dim");
    if (fill != 1 || (dim != 0 && dim != -1))
      return false;
    // The running count of an all-ones mask is 1, 2, ..., T: the positions plus one.
    Type element = isa<FloatType>(self.element) ? self.element : builder.getI64Type();
    set(node->output(), Imported::positions(1, requestedType(element)));
    return true;
  }
  if ((kind == c10::aten::add || kind == c10::aten::sub) &&
      self.kind == Imported::Kind::Positions && node->inputs().size() >= 2) {
    std::optional<int64_t> other = integerConstant(get(node->inputs()[1]));
    std::optional<int64_t> alpha = node->inputs().size() > 2
                                       ? integerConstant(input(node, "alpha"))
                                       : std::optional<int64_t>(1);
    if (!other || !alpha || !(self.element.isInteger(64) || self.element.isInteger(32)))
      return false;
    int64_t delta = *other * *alpha;
    Imported result = self;
    result.positionOffset += kind == c10::aten::add ? delta : -delta;
    set(node->output(), result);
    return true;
  }
  if ((kind == c10::aten::eq || kind == c10::aten::ne) && self.kind == Imported::Kind::Uniform) {
    std::optional<int64_t> fill = integerConstant(Imported::ofConstant(self.constant));
    std::optional<int64_t> other = integerConstant(input(node, "other"));
    if (!fill || !other)
      return false;
    bool equal = *fill == *other;
    set(node->output(), Imported::uniform(c10::IValue(kind == c10::aten::eq ? equal : !equal),
                                          builder.getI1Type()));
    return true;
  }
  return false;
}

//===----------------------------------------------------------------------===//
// aten:: handlers, one per op (or per family), found by name in a table
//===----------------------------------------------------------------------===//

void Importer::emit(Node *node, Location loc) {
  static const llvm::StringMap<Handler> table = handlers();
  std::string kind = node->kind().toQualString();
  auto it = table.find(kind);
  // Hugging Face's mixture-of-experts loop dispatches tokens with data-dependent ops; a trace
  // has unrolled that loop for the experts the example tokens were routed to.
  static const llvm::StringSet<> expertLoopOps{"aten::one_hot", "aten::nonzero",
                                               "aten::index_add_", "aten::index_add",
                                               "aten::argwhere", "aten::nonzero_numpy"};
  if (it == table.end() && expertLoopOps.contains(kind))
    fail("unsupported TorchScript op '" + kind +
         "': a data-dependent expert dispatch (Hugging Face's one_hot -> nonzero -> where -> "
         "index_add_ loop over the experts hit), which torch.jit.trace unrolls for the experts "
         "the example input was routed to, so the trace is wrong for other inputs; trace the "
         "dense spelling instead (every expert weighted by the top-k routing weights scattered "
         "into a [tokens, experts] matrix, as python/vgcu_ref/moe.py's set_moe_impl(\"dense\")), "
         "or compile the model from its config.json and checkpoint");
  if (it == table.end())
    fail("unsupported TorchScript op '" + kind + "'");
  (this->*(it->second))(node, loc);
}

void Importer::out(Node *node, Value value) { set(node->output(), Imported::ofTensor(value)); }

Value Importer::self(Node *node, Location loc) { return tensorInput(node, "self", loc); }

ArrayRef<int64_t> Importer::shapeOf(Value value) { return typeOf(value).getShape(); }

/// Ops that are the identity in inference.
void Importer::importIdentity(Node *node, Location) { set(node->output(), get(node->inputs()[0])); }

void Importer::importEmbedding(Node *node, Location loc) {
  Value weight = tensorInput(node, "weight", loc);
  if (typeOf(weight).getRank() != 2)
    fail("aten::embedding with a weight of rank " + std::to_string(typeOf(weight).getRank()));
  out(node, EmbeddingOp::create(builder, loc, tensorInput(node, "indices", loc), weight, false));
}

void Importer::importLinear(Node *node, Location loc) {
  Value x = tensorInput(node, "input", loc);
  Value weight = tensorInput(node, "weight", loc);
  Value bias = input(node, "bias").isNone() ? Value() : tensorInput(node, "bias", loc);
  if (typeOf(weight).getRank() != 2)
    fail("aten::linear with a weight of rank " + std::to_string(typeOf(weight).getRank()));
  if (typeOf(x).getRank() < 1)
    fail("aten::linear of a scalar");
  out(node, LinearOp::create(builder, loc, x, weight, bias));
}

void Importer::importMatmul(Node *node, Location loc) {
  std::string kind = node->kind().toQualString();
  Value lhs = self(node, loc);
  Value rhs = tensorInput(node, kind == "aten::matmul" ? "other" : "mat2", loc);
  std::tie(lhs, rhs) = promote(lhs, rhs, loc);
  if (typeOf(lhs).getRank() < 2 || typeOf(rhs).getRank() < 2)
    fail(kind + " of a vector is not supported");
  if (!broadcastShapes(shapeOf(lhs).drop_back(2), shapeOf(rhs).drop_back(2)))
    fail("matmul batch dimensions do not broadcast");
  out(node, MatmulOp::create(builder, loc, lhs, rhs));
}

/// torch.addmm(bias, x, w) = x @ w + bias, as GPT-2's Conv1D computes with w of [in, out]:
/// a linear over wᵀ (which vgcu-fold-weights computes once, when the artifact is written).
void Importer::importAddmm(Node *node, Location loc) {
  for (const char *factor : {"beta", "alpha"}) {
    std::optional<int64_t> value = optionalInt(node, factor);
    if (!value || *value != 1)
      fail(std::string("aten::addmm with ") + factor + " other than 1 is not supported");
  }
  Value bias = self(node, loc);
  Value x = tensorInput(node, "mat1", loc);
  Value weight = tensorInput(node, "mat2", loc);
  if (typeOf(x).getRank() != 2 || typeOf(weight).getRank() != 2 || typeOf(bias).getRank() != 1)
    fail("aten::addmm other than bias[out] + x[T, in] @ w[in, out] is not supported");
  Value transposed =
      TransposeOp::create(builder, loc, weight, builder.getDenseI64ArrayAttr({1, 0}));
  out(node, LinearOp::create(builder, loc, x, transposed, bias));
}

/// torch.split by one size (the last piece smaller) or by a list of sizes: slices.
void Importer::importSplit(Node *node, Location loc) {
  std::string kind = node->kind().toQualString();
  Value x = self(node, loc);
  int64_t dim = normalizeDim(intInput(node, "dim"), typeOf(x).getRank());
  int64_t size = shapeOf(x)[dim];
  if (ShapedType::isDynamic(size))
    fail(kind + " along the token dimension is not supported");
  SmallVector<int64_t> sizes;
  if (kind == "aten::split_with_sizes") {
    sizes = intListInput(node, "split_sizes");
  } else {
    int64_t step = intInput(node, "split_size");
    if (step < 1)
      fail(kind + " into pieces of " + std::to_string(step));
    for (int64_t start = 0; start < size; start += step)
      sizes.push_back(std::min(step, size - start));
  }
  int64_t total = 0;
  for (int64_t piece : sizes) {
    if (piece < 1)
      fail(kind + " with a piece of size " + std::to_string(piece));
    total += piece;
  }
  if (total != size)
    fail(kind + " into pieces summing to " + std::to_string(total) + ", not " +
         std::to_string(size));
  Imported result;
  result.kind = Imported::Kind::List;
  int64_t start = 0;
  for (int64_t piece : sizes) {
    result.items.push_back(Imported::ofTensor(
        piece == size ? x : Value(SliceOp::create(builder, loc, x, dim, start, start + piece, 1))));
    start += piece;
  }
  set(node->output(), result);
}

/// The L2 norm over dimensions (F.normalize, Baichuan 2's NormHead): sqrt(sum(x · x)).
void Importer::importNorm(Node *node, Location loc) {
  Value x = self(node, loc);
  const Imported &p = input(node, "p");
  bool two = p.isNone() || (p.kind == Imported::Kind::Constant &&
                            ((p.constant.isInt() && p.constant.toInt() == 2) ||
                             (p.constant.isDouble() && p.constant.toDouble() == 2.0)));
  if (!two)
    fail("aten::norm other than the 2-norm is not supported");
  if (!hasInput(node, "dim"))
    fail("aten::norm over all dimensions is not supported");
  SmallVector<int64_t> dims = intListInput(node, "dim");
  bool keepdim = input(node, "keepdim").isConstant() && input(node, "keepdim").constant.isBool() &&
                 input(node, "keepdim").constant.toBool();
  SmallVector<int64_t> shape;
  std::string error = reducedShape(shapeOf(x), dims, keepdim, shape);
  if (!error.empty())
    fail("aten::norm: " + error);
  Value squares = binary<MulOp>(x, x, loc);
  Value sum = SumOp::create(builder, loc, squares, builder.getDenseI64ArrayAttr(dims), keepdim);
  out(node, SqrtOp::create(builder, loc, sum));
}

void Importer::importClampMin(Node *node, Location loc) {
  Value x = self(node, loc);
  Value bound = asTensor(input(node, "min"), loc, typeOf(x).getElementType());
  out(node, binary<MaximumOp>(x, bound, loc));
}

void Importer::importExpandAs(Node *node, Location loc) {
  Value x = self(node, loc);
  Value other = tensorInput(node, "other", loc);
  if (shapeOf(x) == shapeOf(other))
    return out(node, x);
  if (!broadcastShapes(shapeOf(x), shapeOf(other)))
    fail("aten::expand_as to a shape the tensor does not broadcast to");
  out(node, BroadcastOp::create(
                builder, loc, RankedTensorType::get(shapeOf(other), typeOf(x).getElementType()),
                x));
}

/// Binary arithmetic; the second operand may be a Python scalar.
template <typename OpTy>
void Importer::importBinary(Node *node, Location loc) {
  std::string kind = node->kind().toQualString();
  if (hasInput(node, "alpha")) {
    std::optional<int64_t> alpha = optionalInt(node, "alpha");
    if (!alpha || *alpha != 1)
      fail(kind + " with alpha other than 1 is not supported");
  }
  if (hasInput(node, "rounding_mode") && !input(node, "rounding_mode").isNone())
    fail(kind + " with a rounding mode is not supported");
  Value lhs = asTensor(get(node->inputs()[0]), loc);
  Value rhs = asTensor(get(node->inputs()[1]), loc, typeOf(lhs).getElementType());
  out(node, binary<OpTy>(lhs, rhs, loc));
}

void Importer::importRsub(Node *node, Location loc) {
  Value lhs = self(node, loc);
  Value rhs = asTensor(input(node, "other"), loc, typeOf(lhs).getElementType());
  out(node, binary<SubOp>(rhs, lhs, loc));
}

template <ComparePredicate Predicate>
void Importer::importComparison(Node *node, Location loc) {
  Value lhs = self(node, loc);
  Value rhs = asTensor(input(node, "other"), loc, typeOf(lhs).getElementType());
  std::tie(lhs, rhs) = promote(lhs, rhs, loc);
  if (!broadcastShapes(shapeOf(lhs), shapeOf(rhs)))
    fail("comparison operands do not broadcast");
  out(node, CompareOp::create(builder, loc, Predicate, lhs, rhs));
}

template <typename OpTy>
void Importer::importUnary(Node *node, Location loc) {
  out(node, OpTy::create(builder, loc, self(node, loc)));
}

void Importer::importGelu(Node *node, Location loc) {
  bool tanh = hasInput(node, "approximate") && input(node, "approximate").isConstant() &&
              input(node, "approximate").constant.isString() &&
              input(node, "approximate").constant.toStringRef() == "tanh";
  out(node, GeluOp::create(builder, loc, self(node, loc),
                           tanh ? GeluApproximation::tanh : GeluApproximation::none));
}

void Importer::importConversion(Node *node, Location loc) {
  std::string kind = node->kind().toQualString();
  Value x = self(node, loc);
  Type element;
  if (kind == "aten::type_as") {
    element = typeOf(tensorInput(node, "other", loc)).getElementType();
  } else if (hasInput(node, "dtype") && !input(node, "dtype").isNone()) {
    element = elementTypeOf(context, static_cast<at::ScalarType>(intInput(node, "dtype")));
  } else if (hasInput(node, "other")) {
    element = typeOf(tensorInput(node, "other", loc)).getElementType();
  } else {
    return out(node, x); // a device move
  }
  if (!element)
    fail("conversion to a dtype vgcu does not support");
  out(node, cast(x, element, loc));
}

void Importer::importView(Node *node, Location loc) {
  std::string kind = node->kind().toQualString();
  Value x = self(node, loc);
  SmallVector<int64_t> sizes = intListInput(node, kind == "aten::view" ? "size" : "shape");
  int64_t known = 1;
  int inferred = -1;
  bool dynamicInput = llvm::any_of(shapeOf(x), ShapedType::isDynamic);
  for (auto [i, size] : llvm::enumerate(sizes)) {
    if (size == -1)
      inferred = static_cast<int>(i);
    else if (!ShapedType::isDynamic(size))
      known *= size;
  }
  if (inferred >= 0) {
    if (dynamicInput || llvm::any_of(sizes, ShapedType::isDynamic))
      sizes[inferred] = ShapedType::kDynamic;
    else
      sizes[inferred] = typeOf(x).getNumElements() / std::max<int64_t>(known, 1);
  }
  // Every dynamic dimension of an imported value is the token count (sizes taken of it
  // become positions): a reshape may move it, not merge it with or split it into others.
  if (dynamicInput || llvm::any_of(sizes, ShapedType::isDynamic)) {
    auto staticProduct = [](ArrayRef<int64_t> shape) {
      int64_t product = 1;
      for (int64_t size : shape)
        if (!ShapedType::isDynamic(size))
          product *= size;
      return product;
    };
    if (llvm::count_if(sizes, ShapedType::isDynamic) != 1 || !dynamicInput ||
        staticProduct(sizes) != staticProduct(shapeOf(x)))
      fail(kind + " from " + shapeString(shapeOf(x)) + " to " + shapeString(sizes) +
           " merges the token dimension with others or splits it; vgcu keeps the tokens in "
           "a dimension of their own");
  }
  out(node, reshape(x, sizes, loc));
}

void Importer::importFlatten(Node *node, Location loc) {
  Value x = self(node, loc);
  int64_t rank = typeOf(x).getRank();
  int64_t start = normalizeDim(intInput(node, "start_dim"), std::max<int64_t>(rank, 1));
  int64_t end = normalizeDim(intInput(node, "end_dim"), std::max<int64_t>(rank, 1));
  SmallVector<int64_t> shape;
  int64_t merged = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (i < start || i > end) {
      shape.push_back(shapeOf(x)[i]);
      continue;
    }
    merged = ShapedType::isDynamic(shapeOf(x)[i]) || ShapedType::isDynamic(merged)
                 ? ShapedType::kDynamic
                 : merged * shapeOf(x)[i];
    if (i == end)
      shape.push_back(merged);
  }
  int64_t others = 1;
  for (int64_t i = start; i <= end && i < rank; ++i)
    if (!ShapedType::isDynamic(shapeOf(x)[i]))
      others *= shapeOf(x)[i];
  if (ShapedType::isDynamic(merged) && others != 1)
    fail("aten::flatten of " + shapeString(shapeOf(x)) + " merges the token dimension with "
         "others; vgcu keeps the tokens in a dimension of their own");
  out(node, reshape(x, shape, loc));
}

void Importer::importUnsqueeze(Node *node, Location loc) {
  Value x = self(node, loc);
  int64_t dim = normalizeDim(intInput(node, "dim"), typeOf(x).getRank() + 1);
  SmallVector<int64_t> shape(shapeOf(x));
  shape.insert(shape.begin() + dim, 1);
  out(node, reshape(x, shape, loc));
}

void Importer::importSqueeze(Node *node, Location loc) {
  Value x = self(node, loc);
  SmallVector<int64_t> shape;
  std::optional<int64_t> dim;
  if (hasInput(node, "dim"))
    dim = normalizeDim(intInput(node, "dim"), typeOf(x).getRank());
  for (auto [i, size] : llvm::enumerate(shapeOf(x)))
    if (size != 1 || (dim && *dim != static_cast<int64_t>(i)))
      shape.push_back(size);
  out(node, reshape(x, shape, loc));
}

void Importer::importTranspose(Node *node, Location loc) {
  std::string kind = node->kind().toQualString();
  Value x = self(node, loc);
  int64_t rank = typeOf(x).getRank();
  SmallVector<int64_t> permutation;
  for (int64_t i = 0; i < rank; ++i)
    permutation.push_back(i);
  if (kind == "aten::transpose") {
    std::swap(permutation[normalizeDim(intInput(node, "dim0"), rank)],
              permutation[normalizeDim(intInput(node, "dim1"), rank)]);
  } else if (kind == "aten::t") {
    if (rank == 2)
      std::swap(permutation[0], permutation[1]);
  } else {
    SmallVector<int64_t> dims = intListInput(node, "dims");
    if (static_cast<int64_t>(dims.size()) != rank)
      fail("aten::permute needs one entry per dimension");
    for (auto [i, dim] : llvm::enumerate(dims))
      permutation[i] = normalizeDim(dim, rank);
  }
  if (llvm::equal(permutation, llvm::seq<int64_t>(0, rank)))
    return out(node, x);
  SmallVector<int64_t> sorted(permutation);
  llvm::sort(sorted);
  if (!llvm::equal(sorted, llvm::seq<int64_t>(0, rank)))
    fail(kind + " does not permute the dimensions");
  out(node, TransposeOp::create(builder, loc, x, builder.getDenseI64ArrayAttr(permutation)));
}

void Importer::importSlice(Node *node, Location loc) {
  Value x = self(node, loc);
  int64_t rank = typeOf(x).getRank();
  int64_t dim = normalizeDim(intInput(node, "dim"), rank);
  int64_t size = shapeOf(x)[dim];
  std::optional<int64_t> start = input(node, "start").isNone() ? std::optional<int64_t>(0)
                                                                : optionalInt(node, "start");
  std::optional<int64_t> end = input(node, "end").isNone()
                                   ? std::optional<int64_t>(std::numeric_limits<int64_t>::max())
                                   : optionalInt(node, "end");
  int64_t step = intInput(node, "step");
  if (!start || !end)
    fail("aten::slice with bounds computed at run time is not supported");
  if (step < 1)
    fail("aten::slice with a step below 1 is not supported");
  if (ShapedType::isDynamic(size)) {
    if (*start == 0 && *end >= std::numeric_limits<int32_t>::max() && step == 1)
      return out(node, x);
    fail("slicing the token dimension is not supported");
  }
  int64_t first = *start < 0 ? std::max<int64_t>(*start + size, 0) : std::min(*start, size);
  int64_t last = *end < 0 ? std::max<int64_t>(*end + size, 0) : std::min(*end, size);
  if (first == 0 && last == size && step == 1)
    return out(node, x);
  if (last <= first)
    fail("an empty slice is not supported");
  out(node, SliceOp::create(builder, loc, x, dim, first, last, step));
}

/// x[..., index, ...]: the slice [index, index + 1) with that dimension dropped.
void Importer::importSelect(Node *node, Location loc) {
  Value x = self(node, loc);
  int64_t rank = typeOf(x).getRank();
  int64_t dim = normalizeDim(intInput(node, "dim"), rank);
  int64_t size = shapeOf(x)[dim];
  if (ShapedType::isDynamic(size))
    fail("aten::select of one token is not supported");
  int64_t index = intInput(node, "index");
  if (index < -size || index >= size)
    fail("aten::select of index " + std::to_string(index) + " in a dimension of " +
         std::to_string(size));
  if (index < 0)
    index += size;
  SmallVector<int64_t> shape(shapeOf(x));
  shape.erase(shape.begin() + dim);
  Value selected = size == 1 ? x : SliceOp::create(builder, loc, x, dim, index, index + 1, 1);
  out(node, reshape(selected, shape, loc));
}

void Importer::importCat(Node *node, Location loc) {
  std::string kind = node->kind().toQualString();
  const Imported &list = input(node, "tensors");
  std::vector<Imported> items = list.items;
  if (list.kind == Imported::Kind::Constant && list.constant.isTensorList())
    for (const at::Tensor &tensor : list.constant.toTensorVector())
      items.push_back(Imported::ofConstant(tensor));
  if (items.empty())
    fail(kind + " of an empty list");
  SmallVector<Value> parts;
  for (const Imported &item : items)
    parts.push_back(asTensor(item, loc));
  int64_t rank = typeOf(parts[0]).getRank() + (kind == "aten::stack" ? 1 : 0);
  int64_t dim = normalizeDim(intInput(node, "dim"), rank);
  if (kind == "aten::stack")
    for (Value &part : parts) {
      SmallVector<int64_t> shape(shapeOf(part));
      shape.insert(shape.begin() + dim, 1);
      part = reshape(part, shape, loc);
    }
  for (Value part : parts)
    if (typeOf(part).getRank() != rank ||
        typeOf(part).getElementType() != typeOf(parts[0]).getElementType())
      fail(kind + " of tensors of different ranks or element types");
  if (kind == "aten::cat" && parts.size() > 1 &&
      llvm::any_of(parts, [&](Value part) { return typeOf(part).isDynamicDim(dim); }))
    fail("aten::cat along the token dimension is not supported");
  out(node, ConcatOp::create(builder, loc, parts, dim));
}

/// torch.chunk: `chunks` slices of ceil(size / chunks) along a dimension (the last smaller).
void Importer::importChunk(Node *node, Location loc) {
  Value x = self(node, loc);
  int64_t rank = typeOf(x).getRank();
  int64_t dim = normalizeDim(intInput(node, "dim"), rank);
  int64_t chunks = intInput(node, "chunks");
  int64_t size = shapeOf(x)[dim];
  if (ShapedType::isDynamic(size))
    fail("aten::chunk along the token dimension is not supported");
  if (chunks < 1)
    fail("aten::chunk into " + std::to_string(chunks) + " chunks");
  int64_t step = (size + chunks - 1) / chunks;
  Imported result;
  result.kind = Imported::Kind::List;
  for (int64_t start = 0; start < size; start += step)
    result.items.push_back(Imported::ofTensor(
        SliceOp::create(builder, loc, x, dim, start, std::min(start + step, size), 1)));
  set(node->output(), result);
}

void Importer::importRepeatInterleave(Node *node, Location loc) {
  Value x = self(node, loc);
  std::optional<int64_t> repeats = optionalInt(node, "repeats");
  if (!repeats || input(node, "dim").isNone())
    fail("aten::repeat_interleave needs constant repeats and a dimension");
  int64_t rank = typeOf(x).getRank();
  int64_t dim = normalizeDim(intInput(node, "dim"), rank);
  if (typeOf(x).isDynamicDim(dim) && *repeats != 1)
    fail("aten::repeat_interleave along the token dimension is not supported");
  SmallVector<int64_t> unit(shapeOf(x)), grouped(shapeOf(x)), result(shapeOf(x));
  unit.insert(unit.begin() + dim + 1, 1);
  grouped.insert(grouped.begin() + dim + 1, *repeats);
  result[dim] = ShapedType::isDynamic(result[dim]) ? result[dim] : result[dim] * *repeats;
  // A broadcast's result shape is what it broadcasts to: a choice, not inferred.
  Value expanded = BroadcastOp::create(
      builder, loc, RankedTensorType::get(grouped, typeOf(x).getElementType()),
      reshape(x, unit, loc));
  out(node, reshape(expanded, result, loc));
}

void Importer::importExpand(Node *node, Location loc) {
  Value x = self(node, loc);
  SmallVector<int64_t> sizes = intListInput(node, "size");
  int64_t offset = static_cast<int64_t>(sizes.size()) - typeOf(x).getRank();
  if (offset < 0)
    fail("aten::expand to fewer dimensions");
  for (auto [i, size] : llvm::enumerate(sizes))
    if (size == -1)
      size = shapeOf(x)[i - offset];
  if (ArrayRef<int64_t>(sizes) == shapeOf(x))
    return out(node, x);
  out(node, BroadcastOp::create(builder, loc,
                                RankedTensorType::get(sizes, typeOf(x).getElementType()), x));
}

void Importer::importWhere(Node *node, Location loc) {
  std::string kind = node->kind().toQualString();
  Value condition, onTrue, onFalse;
  if (kind == "aten::masked_fill") {
    onFalse = self(node, loc);
    condition = tensorInput(node, "mask", loc);
    onTrue = tensorInput(node, "value", loc, typeOf(onFalse).getElementType());
    onTrue = cast(onTrue, typeOf(onFalse).getElementType(), loc);
  } else {
    condition = tensorInput(node, "condition", loc);
    onTrue = tensorInput(node, "self", loc);
    onFalse = tensorInput(node, "other", loc, typeOf(onTrue).getElementType());
    std::tie(onTrue, onFalse) = promote(onTrue, onFalse, loc);
  }
  if (!typeOf(condition).getElementType().isInteger(1))
    fail(kind + " with a condition that is not boolean");
  auto shape = broadcastShapes(shapeOf(condition), shapeOf(onTrue));
  if (!shape || !broadcastShapes(*shape, shapeOf(onFalse)))
    fail(kind + " operands do not broadcast");
  out(node, WhereOp::create(builder, loc, condition, onTrue, onFalse));
}

void Importer::importSoftmax(Node *node, Location loc) {
  Value x = self(node, loc);
  if (hasInput(node, "dtype") && !input(node, "dtype").isNone()) {
    Type element = elementTypeOf(context, static_cast<at::ScalarType>(intInput(node, "dtype")));
    if (!element)
      fail("softmax to a dtype vgcu does not support");
    x = cast(x, element, loc);
  }
  out(node, SoftmaxOp::create(builder, loc, x, normalizeDim(intInput(node, "dim"),
                                                             typeOf(x).getRank())));
}

template <typename OpTy>
void Importer::importReduction(Node *node, Location loc) {
  std::string kind = node->kind().toQualString();
  Value x = self(node, loc);
  if (hasInput(node, "dtype") && !input(node, "dtype").isNone())
    fail(kind + " with a dtype argument is not supported");
  SmallVector<int64_t> dims = intListInput(node, "dim");
  bool keepdim = hasInput(node, "keepdim") && input(node, "keepdim").isConstant() &&
                 input(node, "keepdim").constant.isBool() &&
                 input(node, "keepdim").constant.toBool();
  SmallVector<int64_t> shape;
  std::string error = reducedShape(shapeOf(x), dims, keepdim, shape);
  if (!error.empty())
    fail(kind + ": " + error);
  out(node, OpTy::create(builder, loc, x, builder.getDenseI64ArrayAttr(dims), keepdim));
}

void Importer::importLayerNorm(Node *node, Location loc) {
  Value x = tensorInput(node, "input", loc);
  SmallVector<int64_t> normalized = intListInput(node, "normalized_shape");
  if (normalized.size() != 1 || normalized[0] != shapeOf(x).back())
    fail("aten::layer_norm over more than the last dimension is not supported");
  if (input(node, "weight").isNone() || input(node, "bias").isNone())
    fail("aten::layer_norm without weight and bias is not supported");
  const Imported &eps = input(node, "eps");
  double epsilon = eps.constant.isDouble() ? eps.constant.toDouble() : 1e-5;
  out(node, LayerNormOp::create(builder, loc, x, tensorInput(node, "weight", loc),
                                tensorInput(node, "bias", loc),
                                builder.getF64FloatAttr(epsilon)));
}

void Importer::importIndexSelect(Node *node, Location loc) {
  Value x = self(node, loc);
  Value indices = tensorInput(node, "index", loc);
  if (typeOf(indices).getRank() != 1)
    fail("aten::index_select with a multi-dimensional index is not supported");
  out(node, GatherOp::create(builder, loc, x, indices,
                             normalizeDim(intInput(node, "dim"), typeOf(x).getRank())));
}

bool Importer::boolInput(Node *node, const char *name, bool fallback) {
  if (!hasInput(node, name))
    return fallback;
  const Imported &value = input(node, name);
  if (!value.isConstant() || !value.constant.isBool())
    fail(std::string(node->kind().toQualString()) + "'s " + name + " must be a constant bool");
  return value.constant.toBool();
}

/// torch.topk over the last dimension, largest first, sorted (a MoE router's).
void Importer::importTopK(Node *node, Location loc) {
  Value x = self(node, loc);
  int64_t rank = typeOf(x).getRank();
  if (rank < 1 || normalizeDim(intInput(node, "dim"), rank) != rank - 1)
    fail("aten::topk along a dimension other than the last is not supported");
  if (!boolInput(node, "largest", true) || !boolInput(node, "sorted", true))
    fail("aten::topk other than the sorted largest entries is not supported");
  int64_t k = intInput(node, "k");
  if (k < 1 || (!ShapedType::isDynamic(shapeOf(x).back()) && k > shapeOf(x).back()))
    fail("aten::topk of " + std::to_string(k) + " entries of " + shapeString(shapeOf(x)));
  auto topk = TopKOp::create(builder, loc, x, builder.getI64IntegerAttr(k));
  set(node->outputs()[0], Imported::ofTensor(topk.getValues()));
  set(node->outputs()[1], Imported::ofTensor(topk.getIndices()));
}

/// zeros_like(x): a zero broadcast to x's shape (token count included).
void Importer::importZerosLike(Node *node, Location loc) {
  Value x = self(node, loc);
  Type element = typeOf(x).getElementType();
  if (hasInput(node, "dtype") && !input(node, "dtype").isNone())
    element = elementTypeOf(context, static_cast<at::ScalarType>(intInput(node, "dtype")));
  if (!element)
    fail("aten::zeros_like to a dtype vgcu does not support");
  Value zero = scalarConstant(c10::IValue(int64_t(0)), element, loc);
  out(node, BroadcastOp::create(builder, loc, RankedTensorType::get(shapeOf(x), element), zero));
}

/// torch.scatter(input, dim, index, src): src's values written at the indices.
void Importer::importScatter(Node *node, Location loc) {
  Value x = self(node, loc);
  if (!hasInput(node, "src") || hasInput(node, "reduce"))
    fail("aten::scatter other than scatter(input, dim, index, src) is not supported");
  Value index = tensorInput(node, "index", loc);
  Value src = cast(tensorInput(node, "src", loc), typeOf(x).getElementType(), loc);
  if (typeOf(index).getRank() != typeOf(x).getRank() || shapeOf(index) != shapeOf(src))
    fail("aten::scatter needs an index and src of one shape, of the input's rank");
  out(node, ScatterOp::create(builder, loc, x, index, src,
                              normalizeDim(intInput(node, "dim"), typeOf(x).getRank())));
}

/// x[indices] on the first dimension: a gather.
void Importer::importIndex(Node *node, Location loc) {
  Value x = self(node, loc);
  const Imported &list = input(node, "indices");
  if (list.kind != Imported::Kind::List || list.items.empty() ||
      llvm::any_of(ArrayRef<Imported>(list.items).drop_front(),
                   [](const Imported &item) { return !item.isNone(); }))
    fail("aten::index with more than one index tensor is not supported");
  Value indices = asTensor(list.items[0], loc);
  if (typeOf(indices).getRank() != 1)
    fail("aten::index with a multi-dimensional index is not supported");
  out(node, GatherOp::create(builder, loc, x, indices, 0));
}

llvm::StringMap<Importer::Handler> Importer::handlers() {
  return llvm::StringMap<Handler>{
      {"aten::contiguous", &Importer::importIdentity},
      {"aten::detach", &Importer::importIdentity},
      {"aten::clone", &Importer::importIdentity},
      {"aten::dropout", &Importer::importIdentity},
      {"aten::alias", &Importer::importIdentity},
      {"aten::embedding", &Importer::importEmbedding},
      {"aten::linear", &Importer::importLinear},
      {"aten::matmul", &Importer::importMatmul},
      {"aten::bmm", &Importer::importMatmul},
      {"aten::addmm", &Importer::importAddmm},
      {"aten::split", &Importer::importSplit},
      {"aten::split_with_sizes", &Importer::importSplit},
      {"aten::norm", &Importer::importNorm},
      {"aten::clamp_min", &Importer::importClampMin},
      {"aten::expand_as", &Importer::importExpandAs},
      {"aten::mm", &Importer::importMatmul},
      {"aten::add", &Importer::importBinary<AddOp>},
      {"aten::sub", &Importer::importBinary<SubOp>},
      {"aten::mul", &Importer::importBinary<MulOp>},
      {"aten::div", &Importer::importBinary<DivOp>},
      {"aten::pow", &Importer::importBinary<PowOp>},
      {"aten::maximum", &Importer::importBinary<MaximumOp>},
      {"aten::__or__", &Importer::importBinary<OrOp>},
      {"aten::bitwise_or", &Importer::importBinary<OrOp>},
      {"aten::logical_or", &Importer::importBinary<OrOp>},
      {"aten::rsub", &Importer::importRsub},
      {"aten::gt", &Importer::importComparison<ComparePredicate::gt>},
      {"aten::lt", &Importer::importComparison<ComparePredicate::lt>},
      {"aten::ge", &Importer::importComparison<ComparePredicate::ge>},
      {"aten::le", &Importer::importComparison<ComparePredicate::le>},
      {"aten::eq", &Importer::importComparison<ComparePredicate::eq>},
      {"aten::ne", &Importer::importComparison<ComparePredicate::ne>},
      {"aten::neg", &Importer::importUnary<NegOp>},
      {"aten::rsqrt", &Importer::importUnary<RsqrtOp>},
      {"aten::sqrt", &Importer::importUnary<SqrtOp>},
      {"aten::exp", &Importer::importUnary<ExpOp>},
      {"aten::cos", &Importer::importUnary<CosOp>},
      {"aten::sin", &Importer::importUnary<SinOp>},
      {"aten::sigmoid", &Importer::importUnary<SigmoidOp>},
      {"aten::tanh", &Importer::importUnary<TanhOp>},
      {"aten::silu", &Importer::importUnary<SiluOp>},
      {"aten::relu", &Importer::importUnary<ReluOp>},
      {"aten::gelu", &Importer::importGelu},
      {"aten::to", &Importer::importConversion},
      {"aten::type_as", &Importer::importConversion},
      {"aten::view", &Importer::importView},
      {"aten::reshape", &Importer::importView},
      {"aten::flatten", &Importer::importFlatten},
      {"aten::unsqueeze", &Importer::importUnsqueeze},
      {"aten::squeeze", &Importer::importSqueeze},
      {"aten::transpose", &Importer::importTranspose},
      {"aten::permute", &Importer::importTranspose},
      {"aten::t", &Importer::importTranspose},
      {"aten::slice", &Importer::importSlice},
      {"aten::select", &Importer::importSelect},
      {"aten::cat", &Importer::importCat},
      {"aten::stack", &Importer::importCat},
      {"aten::chunk", &Importer::importChunk},
      {"aten::repeat_interleave", &Importer::importRepeatInterleave},
      {"aten::expand", &Importer::importExpand},
      {"aten::masked_fill", &Importer::importWhere},
      {"aten::where", &Importer::importWhere},
      {"aten::softmax", &Importer::importSoftmax},
      {"aten::mean", &Importer::importReduction<MeanOp>},
      {"aten::sum", &Importer::importReduction<SumOp>},
      {"aten::layer_norm", &Importer::importLayerNorm},
      {"aten::index_select", &Importer::importIndexSelect},
      {"aten::index", &Importer::importIndex},
      {"aten::topk", &Importer::importTopK},
      {"aten::zeros_like", &Importer::importZerosLike},
      {"aten::scatter", &Importer::importScatter},
  };
}

} // namespace

/// The safetensors spelling of a parameter dtype, or empty when vgcu has none.
static std::string safetensorsDtype(at::ScalarType type) {
  switch (type) {
  case at::kFloat: return "F32";
  case at::kHalf: return "F16";
  case at::kBFloat16: return "BF16";
  case at::kDouble: return "F64";
  case at::kLong: return "I64";
  case at::kInt: return "I32";
  case at::kBool: return "BOOL";
  default: return "";
  }
}

/// The architecture a traced module is: config.json's `architectures[0]` when the archive
/// carries one, else the Python class of the root module.
static std::string architectureOf(const torch::jit::Module &module, llvm::StringRef configJson) {
  if (!configJson.empty()) {
    auto config = llvm::json::parse(configJson);
    if (!config)
      llvm::consumeError(config.takeError()); // the artifact writer reports it
    else if (const llvm::json::Object *object = config->getAsObject())
      if (const llvm::json::Array *names = object->getArray("architectures"))
        if (!names->empty())
          if (auto name = names->front().getAsString())
            return name->str();
  }
  std::string qualified = module.type()->name() ? module.type()->name()->name() : "";
  return qualified;
}

llvm::Expected<TracedModel> vgcu::importTorchScript(llvm::StringRef path,
                                                    MLIRContext &context) {
  if (!llvm::sys::fs::exists(path))
    return makeError("TorchScript file '{0}' does not exist", path);
  if (auto error = checkRegularFile(path, "TorchScript file"))
    return std::move(error);
  auto module = std::make_shared<torch::jit::Module>();
  torch::jit::ExtraFilesMap extraFiles{{"config.json", ""}};
  try {
    *module = torch::jit::load(path.str(), c10::nullopt, extraFiles);
    module->eval();
  } catch (const c10::Error &error) {
    return makeError("cannot load TorchScript file '{0}': {1}", path,
                     error.what_without_backtrace());
  } catch (const std::exception &error) {
    return makeError("cannot load TorchScript file '{0}': {1}", path, error.what());
  }
  TracedModel traced;
  traced.configJson = extraFiles["config.json"];
  Importer importer(context, *module);
  try {
    traced.module = importer.run(architectureOf(*module, traced.configJson));
  } catch (const ImportError &error) {
    return makeError("{0}: {1}", path, error.what());
  } catch (const c10::Error &error) {
    return makeError("{0}: {1}", path, error.what_without_backtrace());
  }
  std::string diagnostics;
  {
    llvm::raw_string_ostream os(diagnostics);
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      os << diag.getLocation() << ": " << diag << "\n";
      return success();
    });
    if (failed(verify(*traced.module)))
      return makeError("{0}: the imported graph is invalid:\n{1}", path, diagnostics);
  }
  // The parameters' bytes, contiguous, owned with the module.
  struct Storage {
    std::shared_ptr<torch::jit::Module> module;
    std::vector<at::Tensor> tensors;
  };
  auto storage = std::make_shared<Storage>();
  storage->module = module;
  for (const auto &[name, tensor] : importer.parameters()) {
    std::string dtype = safetensorsDtype(tensor.scalar_type());
    if (dtype.empty())
      return makeError("{0}: parameter '{1}' has dtype {2}, which vgcu cannot store", path,
                       name, c10::toString(tensor.scalar_type()));
    at::Tensor contiguous = tensor.detach().contiguous().cpu();
    storage->tensors.push_back(contiguous);
    traced.parameters.push_back(
        {name, dtype, std::vector<int64_t>(contiguous.sizes().begin(), contiguous.sizes().end()),
         llvm::ArrayRef<uint8_t>(static_cast<const uint8_t *>(contiguous.data_ptr()),
                                 contiguous.nbytes())});
  }
  traced.storage = storage;
  return std::move(traced);
}

extern "C" bool vgcuImportTorchScript(const char *path, MLIRContext *context,
                                      vgcu::TracedModel *model, std::string *error) {
  auto imported = importTorchScript(path, *context);
  if (!imported) {
    *error = llvm::toString(imported.takeError());
    return false;
  }
  *model = std::move(*imported);
  return true;
}
