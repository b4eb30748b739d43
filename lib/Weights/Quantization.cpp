//===- Quantization.cpp - Reading GPTQ, AWQ and FP8 checkpoints into vgcu's quantized form ===//

#include "vgcu/Weights/Quantization.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/Shapes.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstring>
#include <map>
#include <set>

using namespace vgcu;

std::string QuantScheme::describe() const {
  std::string text = codes == QuantCodeKind::UInt4   ? "uint4"
                     : codes == QuantCodeKind::UInt8 ? "uint8"
                                                     : "fp8_e4m3";
  auto extent = [](int64_t size) { return size == 0 ? std::string("all") : std::to_string(size); };
  text += ", " + extent(blockRows) + "x" + extent(blockCols) + " blocks";
  if (zeroPoint)
    text += ", zero points";
  if (actOrder)
    text += ", act order";
  return text;
}

//===----------------------------------------------------------------------===//
// quantization_config
//===----------------------------------------------------------------------===//

static llvm::Expected<std::vector<std::string>> stringList(const llvm::json::Object &object,
                                                           llvm::StringRef key,
                                                           llvm::StringRef where) {
  std::vector<std::string> names;
  const llvm::json::Value *value = object.get(key);
  if (!value || value->kind() == llvm::json::Value::Null)
    return names;
  const llvm::json::Array *list = value->getAsArray();
  if (!list)
    return makeError("{0}: quantization_config.{1} must be a list of module names", where, key);
  for (const llvm::json::Value &entry : *list) {
    auto name = entry.getAsString();
    if (!name)
      return makeError("{0}: quantization_config.{1} must be a list of module names", where,
                       key);
    names.push_back(name->str());
  }
  return names;
}

llvm::Expected<std::optional<QuantConfig>>
QuantConfig::fromModelConfig(const llvm::json::Object &config, llvm::StringRef where) {
  const llvm::json::Value *value = config.get("quantization_config");
  if (!value || value->kind() == llvm::json::Value::Null)
    return std::nullopt;
  const llvm::json::Object *object = value->getAsObject();
  if (!object)
    return makeError("{0}: quantization_config must be an object", where);
  auto field = [&](llvm::StringRef key) { return "quantization_config." + key.str(); };
  auto integer = [&](llvm::StringRef key,
                     std::optional<int64_t> fallback) -> llvm::Expected<int64_t> {
    const llvm::json::Value *entry = object->get(key);
    if (!entry || entry->kind() == llvm::json::Value::Null) {
      if (fallback)
        return *fallback;
      return makeError("{0}: {1} is missing", where, field(key));
    }
    auto number = entry->getAsInteger();
    if (!number)
      return makeError("{0}: {1} must be an integer", where, field(key));
    return *number;
  };
  auto boolean = [&](llvm::StringRef key, bool fallback) -> llvm::Expected<bool> {
    const llvm::json::Value *entry = object->get(key);
    if (!entry || entry->kind() == llvm::json::Value::Null)
      return fallback;
    auto flag = entry->getAsBoolean();
    if (!flag)
      return makeError("{0}: {1} must be true or false", where, field(key));
    return *flag;
  };
  auto text = [&](llvm::StringRef key) -> std::string {
    auto entry = object->getString(key);
    return entry ? entry->lower() : std::string();
  };

  QuantConfig result;
  std::string method = text("quant_method");
  if (method == "gptq") {
    result.method = QuantMethod::GPTQ;
  } else if (method == "awq") {
    result.method = QuantMethod::AWQ;
  } else if (method == "fp8") {
    result.method = QuantMethod::FP8;
  } else {
    return makeError("{0}: quantization_config.quant_method '{1}' is not supported (vgcu reads "
                     "gptq, awq and fp8 checkpoints)",
                     where, method);
  }

  if (result.method == QuantMethod::FP8) {
    if (std::string format = text("fmt"); !format.empty() && format != "e4m3")
      return makeError("{0}: quantization_config.fmt '{1}' is not supported (FP8 weights are "
                       "read as e4m3)",
                       where, format);
    if (const llvm::json::Value *block = object->get("weight_block_size");
        block && block->kind() != llvm::json::Value::Null) {
      const llvm::json::Array *sizes = block->getAsArray();
      std::optional<int64_t> rows = sizes && sizes->size() == 2 ? (*sizes)[0].getAsInteger()
                                                                : std::nullopt;
      std::optional<int64_t> cols = sizes && sizes->size() == 2 ? (*sizes)[1].getAsInteger()
                                                                : std::nullopt;
      if (!rows || !cols || *rows <= 0 || *cols <= 0)
        return makeError("{0}: quantization_config.weight_block_size must be two positive "
                         "integers [rows, cols]",
                         where);
      result.fp8Block = {*rows, *cols};
    }
    for (llvm::StringRef key : {"ignored_layers", "modules_to_not_convert"}) {
      auto names = stringList(*object, key, where);
      if (!names)
        return names.takeError();
      llvm::append_range(result.modulesNotConverted, *names);
    }
    result.bits = 8;
    result.groupSize = -1;
    return result;
  }

  auto bits = integer(result.method == QuantMethod::AWQ && object->get("w_bit") ? "w_bit" : "bits",
                      std::nullopt);
  if (!bits)
    return bits.takeError();
  if (result.method == QuantMethod::GPTQ ? (*bits != 4 && *bits != 8) : *bits != 4)
    return makeError("{0}: quantization_config.bits is {1}; vgcu reads {2}", where, *bits,
                     result.method == QuantMethod::GPTQ ? "4- and 8-bit GPTQ"
                                                        : "4-bit AWQ");
  result.bits = *bits;
  auto group = integer(result.method == QuantMethod::AWQ && object->get("q_group_size")
                           ? "q_group_size"
                           : "group_size",
                       -1);
  if (!group)
    return group.takeError();
  if (*group == 0 || *group < -1)
    return makeError("{0}: quantization_config.group_size must be positive or -1, got {1}",
                     where, *group);
  result.groupSize = *group;

  if (result.method == QuantMethod::GPTQ) {
    auto descAct = boolean("desc_act", false);
    if (!descAct)
      return descAct.takeError();
    result.descAct = *descAct;
    if (auto sym = boolean("sym", true); !sym)
      return sym.takeError();
    std::string format = text("checkpoint_format");
    if (format.empty() || format == "gptq")
      result.zerosMinusOne = true;
    else if (format == "gptq_v2")
      result.zerosMinusOne = false;
    else
      return makeError("{0}: quantization_config.checkpoint_format '{1}' is not supported "
                       "(gptq or gptq_v2)",
                       where, format);
    return result;
  }
  auto zeroPoint = boolean("zero_point", true);
  if (!zeroPoint)
    return zeroPoint.takeError();
  if (!*zeroPoint)
    return makeError("{0}: quantization_config.zero_point is false; vgcu reads AWQ checkpoints "
                     "with zero points (AutoAWQ's default)",
                     where);
  if (std::string version = text("version"); !version.empty() && version != "gemm")
    return makeError("{0}: quantization_config.version '{1}' is not supported (vgcu reads "
                     "AutoAWQ's GEMM layout)",
                     where, version);
  auto skipped = stringList(*object, "modules_to_not_convert", where);
  if (!skipped)
    return skipped.takeError();
  result.modulesNotConverted = std::move(*skipped);
  return result;
}

std::string QuantConfig::describe() const {
  switch (method) {
  case QuantMethod::GPTQ:
    return llvm::formatv("gptq {0}-bit, group {1}{2}", bits, groupSize,
                         descAct ? ", desc_act" : "")
        .str();
  case QuantMethod::AWQ:
    return llvm::formatv("awq {0}-bit, group {1}", bits, groupSize).str();
  case QuantMethod::FP8:
    return fp8Block ? llvm::formatv("fp8 e4m3, {0}x{1} blocks", fp8Block->first,
                                    fp8Block->second)
                          .str()
                    : std::string("fp8 e4m3");
  }
  return "?";
}

std::optional<QuantizeMode> vgcu::parseQuantizeMode(llvm::StringRef text) {
  if (text == "w8a16")
    return QuantizeMode::W8A16;
  if (text == "fp8")
    return QuantizeMode::FP8;
  if (text == "fp8-block")
    return QuantizeMode::FP8Block;
  return std::nullopt;
}

QuantScheme vgcu::schemeOf(QuantizeMode mode) {
  switch (mode) {
  case QuantizeMode::W8A16:
    return {QuantCodeKind::UInt8, 1, 0, false, false};
  case QuantizeMode::FP8:
    return {QuantCodeKind::Fp8E4M3, 1, 0, false, false};
  case QuantizeMode::FP8Block:
    return {QuantCodeKind::Fp8E4M3, 128, 128, false, false};
  }
  return {};
}

//===----------------------------------------------------------------------===//
// FP8 E4M3
//===----------------------------------------------------------------------===//

float vgcu::fp8E4M3ToFloat(uint8_t code) {
  int exponent = (code >> 3) & 15, mantissa = code & 7;
  float magnitude;
  if (exponent == 15 && mantissa == 7)
    magnitude = std::numeric_limits<float>::quiet_NaN();
  else if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -9);
  else
    magnitude = std::ldexp(1.0f + mantissa / 8.0f, exponent - 7);
  return code & 0x80 ? -magnitude : magnitude;
}

uint8_t vgcu::floatToFp8E4M3(float value) {
  if (std::isnan(value))
    return std::signbit(value) ? 0xff : 0x7f;
  uint8_t sign = std::signbit(value) ? 0x80 : 0;
  float magnitude = std::fabs(value);
  if (magnitude >= 448.0f)
    return sign | 0x7e;
  // Below the smallest normal (2^-6) the step is 2^-9; a result of 8 steps is 2^-6, whose
  // code is 8 as well.
  if (magnitude < 0.015625f)
    return sign | static_cast<uint8_t>(std::nearbyint(magnitude * 512.0f));
  int exponent;
  std::frexp(magnitude, &exponent); // magnitude = f · 2^exponent, f in [0.5, 1)
  exponent -= 1;
  int mantissa = static_cast<int>(std::nearbyint((std::ldexp(magnitude, -exponent) - 1.0f) * 8));
  if (mantissa == 8) {
    mantissa = 0;
    ++exponent;
  }
  int code = ((exponent + 7) << 3) | mantissa;
  return sign | static_cast<uint8_t>(std::min(code, 0x7e));
}

//===----------------------------------------------------------------------===//
// QuantizedTensor
//===----------------------------------------------------------------------===//

int64_t QuantizedTensor::groups() const {
  int64_t rowBlocks = scheme.rowBlocks(rows);
  return rowBlocks == 0 ? 0 : static_cast<int64_t>(scales.size()) / rowBlocks;
}

float QuantizedTensor::element(int64_t row, int64_t col) const {
  int64_t group = scheme.actOrder ? groupIndex[col]
                  : scheme.blockCols == 0 ? 0
                                          : col / scheme.blockCols;
  int64_t block = (scheme.blockRows == 0 ? 0 : row / scheme.blockRows) * groups() + group;
  uint8_t code = codes[row * cols + col];
  if (scheme.codes == QuantCodeKind::Fp8E4M3)
    return fp8E4M3ToFloat(code) * scales[block];
  float zero = scheme.zeroPoint ? zeros[block] : static_cast<float>(1 << (scheme.bits() - 1));
  return (static_cast<float>(code) - zero) * scales[block];
}

void QuantizedTensor::dequantizeRows(int64_t first, int64_t count, float *out) const {
  for (int64_t row = first; row < first + count; ++row)
    for (int64_t col = 0; col < cols; ++col)
      *out++ = element(row, col);
}

//===----------------------------------------------------------------------===//
// Reading checkpoints
//===----------------------------------------------------------------------===//

namespace {

/// Little-endian int32 `index` of a tensor's bytes.
int32_t wordAt(const Checkpoint::Entry &entry, int64_t index) {
  int32_t word;
  std::memcpy(&word, entry.bytes().data() + index * 4, 4);
  return word;
}

/// A float tensor's elements as f32.
std::vector<float> floatsOf(const Checkpoint::Entry &entry) {
  std::vector<float> values(entry.tensor->numElements());
  convertFloats(entry.bytes().data(), entry.tensor->dtype, values.data(), DType::F32,
                values.size());
  return values;
}

} // namespace

llvm::Expected<QuantizedTensor> QuantizedSource::decode() const {
  QuantizedTensor result;
  result.rows = rows;
  result.cols = cols;
  result.codes.resize(static_cast<size_t>(rows) * cols);
  if (config.method == QuantMethod::FP8) {
    llvm::ArrayRef<uint8_t> bytes = codes.bytes();
    std::copy(bytes.begin(), bytes.end(), result.codes.begin());
    for (uint8_t code : result.codes)
      if ((code & 0x7f) == 0x7f)
        return makeError("'{0}.weight' holds a NaN (FP8 code 0x{1:x-2})", prefix, code);
    const std::vector<int64_t> scaleShape(scales.tensor->shape.begin(), scales.tensor->shape.end());
    result.scales = floatsOf(scales);
    result.scheme.codes = QuantCodeKind::Fp8E4M3;
    if (llvm::StringRef(scales.tensor->name).ends_with("_inv")) {
      result.scheme.blockRows = config.fp8Block ? config.fp8Block->first : 128;
      result.scheme.blockCols = config.fp8Block ? config.fp8Block->second : 128;
    } else if (result.scales.size() == 1) {
      result.scheme.blockRows = 0;
      result.scheme.blockCols = 0;
    } else {
      result.scheme.blockRows = 1;
      result.scheme.blockCols = 0;
    }
    for (float scale : result.scales)
      if (!std::isfinite(scale))
        return makeError("'{0}' holds a scale that is not finite", scales.tensor->name);
    return result;
  }

  int64_t bits = config.bits, mask = (1 << bits) - 1, perWord = 32 / bits;
  int64_t groups = config.groupSize < 0 ? 1 : (cols + config.groupSize - 1) / config.groupSize;
  result.scheme.codes = bits == 4 ? QuantCodeKind::UInt4 : QuantCodeKind::UInt8;
  result.scheme.blockRows = 1;
  result.scheme.blockCols = config.groupSize < 0 ? 0 : config.groupSize;
  result.scheme.zeroPoint = true;
  std::vector<float> scaleRows = floatsOf(scales); // [groups, out]
  for (float scale : scaleRows)
    if (!std::isfinite(scale))
      return makeError("'{0}' holds a scale that is not finite", scales.tensor->name);
  result.scales.resize(rows * groups);
  result.zeros.resize(rows * groups);
  for (int64_t group = 0; group < groups; ++group)
    for (int64_t row = 0; row < rows; ++row)
      result.scales[row * groups + group] = scaleRows[group * rows + row];

  if (config.method == QuantMethod::GPTQ) {
    // AutoGPTQ's QuantLinear.pack: qweight [in / perWord, out], input feature i of output o
    // in word (i / perWord, o) at bit bits · (i % perWord); qzeros [groups, out / perWord],
    // output o of group g in word (g, o / perWord) at bit bits · (o % perWord), stored minus
    // one in the v1 format.
    for (int64_t col = 0; col < cols; ++col)
      for (int64_t row = 0; row < rows; ++row)
        result.codes[row * cols + col] = static_cast<uint8_t>(
            (static_cast<uint32_t>(wordAt(codes, (col / perWord) * rows + row)) >>
             (bits * (col % perWord))) &
            mask);
    int64_t zeroWords = rows / perWord;
    for (int64_t group = 0; group < groups; ++group)
      for (int64_t row = 0; row < rows; ++row) {
        uint32_t word = static_cast<uint32_t>(wordAt(zeros, group * zeroWords + row / perWord));
        result.zeros[row * groups + group] =
            static_cast<float>(((word >> (bits * (row % perWord))) & mask) +
                               (config.zerosMinusOne ? 1 : 0));
      }
    if (groupIndex.tensor) {
      std::vector<int32_t> index(cols);
      for (int64_t col = 0; col < cols; ++col) {
        index[col] = wordAt(groupIndex, col);
        if (index[col] < 0 || index[col] >= groups)
          return makeError("'{0}.g_idx'[{1}] is {2}, but there are {3} groups", prefix, col,
                           index[col], groups);
      }
      bool sequential = true;
      for (int64_t col = 0; col < cols && sequential; ++col)
        sequential = index[col] == (config.groupSize < 0 ? 0 : col / config.groupSize);
      if (!sequential) {
        result.scheme.actOrder = true;
        result.groupIndex = std::move(index);
      }
    }
    return result;
  }

  // AutoAWQ's WQLinear_GEMM: qweight [in, out / 8], the eight outputs of a word interleaved
  // as order_map [0, 2, 4, 6, 1, 3, 5, 7] (nibble j holds output 8w + order_map[j]); qzeros
  // [groups, out / 8] packed the same way; zeros stored as they are.
  static constexpr int kNibbleOfOutput[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  int64_t words = rows / 8;
  for (int64_t col = 0; col < cols; ++col)
    for (int64_t row = 0; row < rows; ++row) {
      uint32_t word = static_cast<uint32_t>(wordAt(codes, col * words + row / 8));
      result.codes[row * cols + col] =
          static_cast<uint8_t>((word >> (4 * kNibbleOfOutput[row % 8])) & 15);
    }
  for (int64_t group = 0; group < groups; ++group)
    for (int64_t row = 0; row < rows; ++row) {
      uint32_t word = static_cast<uint32_t>(wordAt(zeros, group * words + row / 8));
      result.zeros[row * groups + group] =
          static_cast<float>((word >> (4 * kNibbleOfOutput[row % 8])) & 15);
    }
  return result;
}

QuantScheme QuantizedSource::scheme() const {
  QuantScheme result;
  if (config.method == QuantMethod::FP8) {
    result.codes = QuantCodeKind::Fp8E4M3;
    if (llvm::StringRef(scales.tensor->name).ends_with("_inv")) {
      result.blockRows = config.fp8Block ? config.fp8Block->first : 128;
      result.blockCols = config.fp8Block ? config.fp8Block->second : 128;
    } else {
      result.blockRows = scales.tensor->numElements() == 1 ? 0 : 1;
      result.blockCols = 0;
    }
    return result;
  }
  result.codes = config.bits == 4 ? QuantCodeKind::UInt4 : QuantCodeKind::UInt8;
  result.blockCols = config.groupSize < 0 ? 0 : config.groupSize;
  result.zeroPoint = true;
  if (groupIndex.tensor)
    for (int64_t col = 0; col < cols && !result.actOrder; ++col)
      result.actOrder = wordAt(groupIndex, col) != (config.groupSize < 0 ? 0 : col / config.groupSize);
  return result;
}

namespace {

bool isFloatOrHalf(DType dtype) { return isFloatDType(dtype); }

/// Checks one tensor of a quantized module: its dtype and shape.
llvm::Error expectTensor(const Checkpoint::Entry *entry, llvm::StringRef name, bool floating,
                         llvm::ArrayRef<int64_t> shape, llvm::StringRef why) {
  if (!entry)
    return makeError("checkpoint has no tensor '{0}' ({1})", name, why);
  if (floating ? !isFloatOrHalf(entry->tensor->dtype) : entry->tensor->dtype != DType::I32)
    return makeError("checkpoint tensor '{0}' has dtype {1}; {2} stores it as {3}", name,
                     dtypeName(entry->tensor->dtype), why, floating ? "F16, BF16 or F32" : "I32");
  if (llvm::ArrayRef<int64_t>(entry->tensor->shape) != shape)
    return makeError("checkpoint tensor '{0}' has shape {1}; {2} makes it {3}", name,
                     shapeString(entry->tensor->shape), why, shapeString(shape));
  return llvm::Error::success();
}

} // namespace

llvm::Expected<int64_t> Checkpoint::applyQuantization(const QuantConfig &config) {
  std::map<std::string, Entry> result;
  int64_t modules = 0;
  std::set<std::string> taken;
  auto take = [&](const std::string &name) -> const Entry * {
    auto it = entries.find(name);
    if (it == entries.end())
      return nullptr;
    taken.insert(name);
    return &it->second;
  };
  auto addWeight = [&](std::shared_ptr<QuantizedSource> source) {
    auto shape = std::make_unique<TensorInfo>();
    shape->name = source->prefix + ".weight";
    shape->dtype = DType::F32;
    shape->shape = {source->rows, source->cols};
    result[shape->name] = Entry{nullptr, shape.get(), std::move(source)};
    quantizedShapes.push_back(std::move(shape));
    ++modules;
  };

  for (const auto &[name, entry] : entries) {
    llvm::StringRef prefix = name;
    if (config.method == QuantMethod::FP8) {
      if (entry.tensor->dtype != DType::F8E4M3)
        continue;
      if (!prefix.consume_back(".weight"))
        return makeError("checkpoint tensor '{0}' is FP8; vgcu reads FP8 linear weights "
                         "(<module>.weight) only",
                         name);
      if (entry.tensor->shape.size() != 2)
        return makeError("checkpoint tensor '{0}' is FP8 of shape {1}; an FP8 linear weight is "
                         "[out, in]",
                         name, shapeString(entry.tensor->shape));
      auto source = std::make_shared<QuantizedSource>();
      source->config = config;
      source->prefix = prefix.str();
      source->rows = entry.tensor->shape[0];
      source->cols = entry.tensor->shape[1];
      source->codes = entry;
      taken.insert(name);
      std::string blockName = name + "_scale_inv", tensorName = name + "_scale";
      if (const Entry *scale = take(blockName)) {
        auto [blockRows, blockCols] = config.fp8Block.value_or(std::make_pair(128, 128));
        int64_t expected[2] = {(source->rows + blockRows - 1) / blockRows,
                               (source->cols + blockCols - 1) / blockCols};
        if (auto error = expectTensor(scale, blockName, true, expected,
                                      llvm::formatv("a {0} weight in {1}x{2} blocks",
                                                    shapeString(entry.tensor->shape), blockRows,
                                                    blockCols)
                                          .str()))
          return error;
        source->scales = *scale;
      } else if (const Entry *scale = take(tensorName)) {
        llvm::ArrayRef<int64_t> shape = scale->tensor->shape;
        bool perTensor = scale->tensor->numElements() == 1 && shape.size() <= 1;
        bool perChannel = (shape.size() == 1 || (shape.size() == 2 && shape[1] == 1)) &&
                          shape[0] == source->rows;
        if (!isFloatOrHalf(scale->tensor->dtype) || !(perTensor || perChannel))
          return makeError("checkpoint tensor '{0}' has dtype {1} and shape {2}; an FP8 weight's "
                           "scale is one float ([] or [1]) or one per output channel ([{3}] or "
                           "[{3}, 1])",
                           tensorName, dtypeName(scale->tensor->dtype), shapeString(shape),
                           source->rows);
        source->scales = *scale;
      } else {
        return makeError("checkpoint tensor '{0}' is FP8 but the checkpoint has neither '{1}' "
                         "nor '{2}' to scale it",
                         name, blockName, tensorName);
      }
      // A static activation scale is for FP8 GEMMs; vgcu's are weight-only (activations stay
      // in the model dtype), so it is read past.
      take(prefix.str() + ".input_scale");
      addWeight(std::move(source));
      continue;
    }

    if (!prefix.consume_back(".qweight"))
      continue;
    bool gptq = config.method == QuantMethod::GPTQ;
    llvm::StringRef format = gptq ? "GPTQ" : "AWQ";
    if (entry.tensor->dtype != DType::I32 || entry.tensor->shape.size() != 2)
      return makeError("checkpoint tensor '{0}' has dtype {1} and shape {2}; {3} packs a "
                       "weight into a 2-d I32 tensor",
                       name, dtypeName(entry.tensor->dtype), shapeString(entry.tensor->shape),
                       format);
    auto source = std::make_shared<QuantizedSource>();
    source->config = config;
    source->prefix = prefix.str();
    int64_t perWord = 32 / config.bits;
    // GPTQ packs along the input features, AWQ along the outputs.
    source->cols = gptq ? entry.tensor->shape[0] * perWord : entry.tensor->shape[0];
    source->rows = gptq ? entry.tensor->shape[1] : entry.tensor->shape[1] * perWord;
    source->codes = entry;
    taken.insert(name);
    if (config.groupSize > 0 && !gptq && source->cols % config.groupSize != 0)
      return makeError("checkpoint tensor '{0}' has {1} input features, not a multiple of "
                       "quantization_config.group_size {2}",
                       name, source->cols, config.groupSize);
    if (gptq && source->rows % perWord != 0)
      return makeError("checkpoint tensor '{0}' has {1} output features; GPTQ's qzeros pack "
                       "{2} per word, so it needs a multiple of {2}",
                       name, source->rows, perWord);
    int64_t groups =
        config.groupSize < 0 ? 1 : (source->cols + config.groupSize - 1) / config.groupSize;
    std::string why = llvm::formatv("{0} {1}-bit with group_size {2} over a [{3}, {4}] weight "
                                    "(from '{5}')",
                                    format, config.bits, config.groupSize, source->rows,
                                    source->cols, name)
                          .str();
    std::string scalesName = prefix.str() + ".scales", zerosName = prefix.str() + ".qzeros";
    const Entry *scales = take(scalesName);
    if (auto error = expectTensor(scales, scalesName, true, {groups, source->rows}, why))
      return error;
    source->scales = *scales;
    const Entry *zeros = take(zerosName);
    if (auto error = expectTensor(zeros, zerosName, false, {groups, source->rows / perWord}, why))
      return error;
    source->zeros = *zeros;
    if (gptq) {
      std::string indexName = prefix.str() + ".g_idx";
      if (const Entry *index = take(indexName)) {
        if (auto error = expectTensor(index, indexName, false, {source->cols}, why))
          return error;
        for (int64_t col = 0; col < source->cols; ++col)
          if (int32_t group = wordAt(*index, col); group < 0 || group >= groups)
            return makeError("'{0}'[{1}] is {2}, but there are {3} groups", indexName, col, group,
                             groups);
        source->groupIndex = *index;
      } else if (config.descAct) {
        return makeError("checkpoint has no tensor '{0}', which desc_act needs", indexName);
      }
    }
    addWeight(std::move(source));
  }
  for (const auto &[name, entry] : entries)
    if (!taken.count(name) && !result.count(name))
      result.emplace(name, entry);
  entries = std::move(result);
  return modules;
}

//===----------------------------------------------------------------------===//
// Quantizing float weights, packing and slicing
//===----------------------------------------------------------------------===//

QuantizedTensor vgcu::quantizeFloatWeight(const float *weight, int64_t rows, int64_t cols,
                                          QuantizeMode mode) {
  QuantizedTensor result;
  result.scheme = schemeOf(mode);
  result.rows = rows;
  result.cols = cols;
  result.codes.resize(static_cast<size_t>(rows) * cols);
  bool fp8 = result.scheme.codes == QuantCodeKind::Fp8E4M3;
  float limit = fp8 ? 448.0f : 127.0f;
  int64_t blockRows = result.scheme.blockRows, blockCols = result.scheme.blockCols;
  int64_t rowBlocks = result.scheme.rowBlocks(rows), groups = result.scheme.columnGroups(cols);
  result.scales.assign(rowBlocks * groups, 0.0f);
  auto blockOf = [&](int64_t row, int64_t col) {
    return (blockRows == 0 ? 0 : row / blockRows) * groups +
           (blockCols == 0 ? 0 : col / blockCols);
  };
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t col = 0; col < cols; ++col) {
      float &amax = result.scales[blockOf(row, col)];
      amax = std::max(amax, std::fabs(weight[row * cols + col]));
    }
  for (float &scale : result.scales)
    scale = scale == 0.0f ? 1.0f : scale / limit;
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t col = 0; col < cols; ++col) {
      float scaled = weight[row * cols + col] / result.scales[blockOf(row, col)];
      // The artifact writer refuses non-finite weights first; this keeps the cast defined.
      if (!std::isfinite(scaled))
        scaled = 0.0f;
      result.codes[row * cols + col] =
          fp8 ? floatToFp8E4M3(scaled)
              : static_cast<uint8_t>(std::clamp(std::nearbyint(scaled), -127.0f, 127.0f) + 128);
    }
  return result;
}

/// A per-tensor scale as one scale per row, so that parts with different scales stack.
static void scalePerRow(QuantizedTensor &part) {
  if (part.scheme.blockRows != 0)
    return;
  int64_t groups = part.groups();
  std::vector<float> scales, zeros;
  for (int64_t row = 0; row < part.rows; ++row) {
    scales.insert(scales.end(), part.scales.begin(), part.scales.begin() + groups);
    if (part.scheme.zeroPoint)
      zeros.insert(zeros.end(), part.zeros.begin(), part.zeros.begin() + groups);
  }
  part.scales = std::move(scales);
  part.zeros = std::move(zeros);
  part.scheme.blockRows = 1;
}

llvm::Expected<QuantizedTensor> vgcu::concatenateRows(std::vector<QuantizedTensor> parts,
                                                      llvm::StringRef what) {
  if (parts.size() == 1)
    return std::move(parts.front());
  for (QuantizedTensor &part : parts)
    scalePerRow(part);
  QuantizedTensor result;
  result.scheme = parts.front().scheme;
  result.cols = parts.front().cols;
  result.groupIndex = parts.front().groupIndex;
  for (auto [index, part] : llvm::enumerate(parts)) {
    if (!(part.scheme == result.scheme) || part.cols != result.cols)
      return makeError("{0}: its parts are quantized differently ({1} over {2} columns and {3} "
                       "over {4}); vgcu stacks parts of one scheme",
                       what, result.scheme.describe(), result.cols, part.scheme.describe(),
                       part.cols);
    if (part.groupIndex != result.groupIndex)
      return makeError("{0}: its parts have different act-order groups (g_idx); they read one "
                       "input and must share them",
                       what);
    if (index + 1 < parts.size() && part.rows % result.scheme.blockRows != 0)
      return makeError("{0}: a part of {1} rows does not fill whole {2}-row scale blocks", what,
                       part.rows, result.scheme.blockRows);
    result.rows += part.rows;
    llvm::append_range(result.codes, part.codes);
    llvm::append_range(result.scales, part.scales);
    llvm::append_range(result.zeros, part.zeros);
  }
  return result;
}

llvm::Expected<QuantizedSlice>
vgcu::sliceQuantized(const QuantizedTensor &whole, int dim,
                     llvm::ArrayRef<std::pair<int64_t, int64_t>> ranges, llvm::StringRef what,
                     std::optional<std::pair<int64_t, int64_t>> rows) {
  const QuantScheme &scheme = whole.scheme;
  int64_t groups = whole.groups();
  int64_t extent = dim == 0 ? whole.rows : whole.cols;
  int64_t block = dim == 0 ? scheme.blockRows : scheme.blockCols;
  std::vector<std::pair<int64_t, int64_t>> pieces(ranges.begin(), ranges.end());
  if (dim < 0)
    pieces = {{0, extent = whole.rows}};
  // Scales follow their elements unless one block spans the dimension, or act order keeps
  // every group.
  bool slicesScales = dim >= 0 && block > 0 && !(dim == 1 && scheme.actOrder);
  if (slicesScales)
    for (auto [offset, size] : pieces)
      if (offset % block != 0 || (size % block != 0 && offset + size != extent))
        return makeError("{0}: the {4} of a tensor-parallel rank's slice must start and end on "
                         "quantization block boundaries; [{1}, {2}) of {3} {4} cuts {5}-wide "
                         "blocks",
                         what, offset, offset + size, extent, dim == 0 ? "rows" : "columns",
                         block);

  auto [firstRow, rowCount] = rows.value_or(std::make_pair(int64_t(0), whole.rows));
  if (dim == 1 && scheme.blockRows > 0 &&
      (firstRow % scheme.blockRows != 0 ||
       (rowCount % scheme.blockRows != 0 && firstRow + rowCount != whole.rows)))
    return makeError("{0}: rows [{1}, {2}) of {3} cut {4}-row quantization blocks", what,
                     firstRow, firstRow + rowCount, whole.rows, scheme.blockRows);

  QuantizedSlice slice;
  std::vector<int64_t> rowList, colList;
  if (dim == 1) {
    for (int64_t row = firstRow; row < firstRow + rowCount; ++row)
      rowList.push_back(row);
    for (auto [offset, size] : pieces)
      for (int64_t col = offset; col < offset + size; ++col)
        colList.push_back(col);
  } else {
    for (auto [offset, size] : pieces)
      for (int64_t row = offset; row < offset + size; ++row)
        rowList.push_back(row);
    for (int64_t col = 0; col < whole.cols; ++col)
      colList.push_back(col);
  }
  slice.rows = static_cast<int64_t>(rowList.size());
  slice.cols = static_cast<int64_t>(colList.size());
  int64_t bits = scheme.bits();
  if (bits == 4 && slice.cols % 2 != 0)
    return makeError("{0}: a rank's slice has {1} columns; 4-bit codes are stored two per byte",
                     what, slice.cols);
  int64_t bytesPerRow = slice.cols * bits / 8;
  slice.codes.assign(slice.rows * bytesPerRow, 0);
  for (auto [r, row] : llvm::enumerate(rowList))
    for (auto [c, col] : llvm::enumerate(colList)) {
      uint8_t code = whole.codes[row * whole.cols + col];
      if (bits == 4)
        slice.codes[r * bytesPerRow + c / 2] |= static_cast<uint8_t>(code << (4 * (c % 2)));
      else
        slice.codes[r * bytesPerRow + c] = code;
    }

  // Scale rows and columns kept.
  std::vector<int64_t> scaleRowList, scaleColList;
  auto blocksOf = [](const std::vector<std::pair<int64_t, int64_t>> &list, int64_t size) {
    std::vector<int64_t> blocks;
    for (auto [offset, count] : list)
      for (int64_t b = offset / size; b < (offset + count + size - 1) / size; ++b)
        blocks.push_back(b);
    return blocks;
  };
  int64_t rowBlocks = scheme.rowBlocks(whole.rows);
  if (dim == 0 && slicesScales) {
    scaleRowList = blocksOf(pieces, block);
  } else if (dim == 1 && scheme.blockRows > 0 && rowCount != whole.rows) {
    scaleRowList = blocksOf({{firstRow, rowCount}}, scheme.blockRows);
  } else {
    for (int64_t b = 0; b < rowBlocks; ++b)
      scaleRowList.push_back(b);
  }
  if (dim == 1 && slicesScales) {
    scaleColList = blocksOf(pieces, block);
  } else {
    for (int64_t g = 0; g < groups; ++g)
      scaleColList.push_back(g);
  }
  slice.scaleRows = static_cast<int64_t>(scaleRowList.size());
  slice.scaleColumns = static_cast<int64_t>(scaleColList.size());
  for (int64_t rowBlock : scaleRowList)
    for (int64_t group : scaleColList) {
      slice.scales.push_back(whole.scales[rowBlock * groups + group]);
      if (scheme.zeroPoint)
        slice.zeros.push_back(whole.zeros[rowBlock * groups + group]);
    }
  if (scheme.actOrder)
    for (int64_t col : colList)
      slice.groupIndex.push_back(whole.groupIndex[col]);
  return slice;
}
