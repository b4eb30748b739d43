//===- ModelConfig.cpp - A model's Hugging Face config.json, read and checked -----===//

#include "vgcu/Config/ModelConfig.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Json.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace vgcu;

/// Larger sizes are mistakes (or attacks), not models; refusing them early keeps every later
/// product of sizes far from overflow.
static constexpr int64_t kMaxSize = int64_t(1) << 30;

static std::string describe(const llvm::json::Value &value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  switch (value.kind()) {
  case llvm::json::Value::Null: return "null";
  case llvm::json::Value::Boolean: os << "boolean "; break;
  case llvm::json::Value::Number: os << "number "; break;
  case llvm::json::Value::String: os << "string "; break;
  case llvm::json::Value::Array: return "an array";
  case llvm::json::Value::Object: return "an object";
  }
  os << value;
  return text;
}

bool ConfigReader::has(llvm::StringRef key) const { return object.get(key) != nullptr; }

llvm::Error ConfigReader::fieldError(llvm::StringRef key, const llvm::Twine &problem) const {
  return makeError("{0}: field '{1}{2}' {3}", path, keyPrefix, key, problem.str());
}

llvm::Expected<int64_t> ConfigReader::requirePositiveInt(llvm::StringRef key) const {
  if (!has(key))
    return makeError("{0}: required field '{1}' is missing", path, key);
  auto value = optionalPositiveInt(key);
  if (!value)
    return value.takeError();
  if (!*value)
    return fieldError(key, "must be a positive integer, got null");
  return **value;
}

llvm::Expected<std::optional<int64_t>>
ConfigReader::optionalPositiveInt(llvm::StringRef key) const {
  const llvm::json::Value *value = object.get(key);
  if (!value || value->kind() == llvm::json::Value::Null)
    return std::optional<int64_t>();
  std::optional<int64_t> integer = value->getAsInteger();
  if (!integer || *integer <= 0)
    return fieldError(key, "must be a positive integer, got " + describe(*value));
  if (*integer > kMaxSize)
    return fieldError(key, "is " + std::to_string(*integer) + ", larger than the limit of " +
                               std::to_string(kMaxSize));
  return integer;
}

llvm::Expected<int64_t> ConfigReader::positiveInt(llvm::StringRef key, int64_t fallback) const {
  auto value = optionalPositiveInt(key);
  if (!value)
    return value.takeError();
  return value->value_or(fallback);
}

llvm::Expected<int64_t> ConfigReader::nonNegativeInt(llvm::StringRef key,
                                                     int64_t fallback) const {
  const llvm::json::Value *value = object.get(key);
  if (!value || value->kind() == llvm::json::Value::Null)
    return fallback;
  std::optional<int64_t> integer = value->getAsInteger();
  if (!integer || *integer < 0)
    return fieldError(key, "must be a non-negative integer, got " + describe(*value));
  if (*integer > kMaxSize)
    return fieldError(key, "is " + std::to_string(*integer) + ", larger than the limit of " +
                               std::to_string(kMaxSize));
  return *integer;
}

llvm::Expected<double> ConfigReader::positiveNumber(llvm::StringRef key, double fallback) const {
  const llvm::json::Value *value = object.get(key);
  if (!value || value->kind() == llvm::json::Value::Null)
    return fallback;
  std::optional<double> number = value->getAsNumber();
  if (!number || !(*number > 0.0) || *number > 1e30)
    return fieldError(key, "must be a positive number, got " + describe(*value));
  return *number;
}

llvm::Expected<double> ConfigReader::fraction(llvm::StringRef key, double fallback) const {
  auto number = positiveNumber(key, fallback);
  if (!number)
    return number.takeError();
  if (*number > 1.0)
    return fieldError(key, "must be within (0, 1], got " + std::to_string(*number));
  return *number;
}

llvm::Expected<bool> ConfigReader::boolean(llvm::StringRef key, bool fallback) const {
  const llvm::json::Value *value = object.get(key);
  if (!value || value->kind() == llvm::json::Value::Null)
    return fallback;
  std::optional<bool> flag = value->getAsBoolean();
  if (!flag)
    return fieldError(key, "must be true or false, got " + describe(*value));
  return *flag;
}

llvm::Expected<std::string> ConfigReader::string(llvm::StringRef key,
                                                 llvm::StringRef fallback) const {
  const llvm::json::Value *value = object.get(key);
  if (!value || value->kind() == llvm::json::Value::Null)
    return fallback.str();
  std::optional<llvm::StringRef> text = value->getAsString();
  if (!text)
    return fieldError(key, "must be a string, got " + describe(*value));
  return text->str();
}

llvm::Expected<llvm::json::Object> vgcu::readConfigJson(llvm::StringRef path) {
  auto buffer = readInputFile(path, "config", kMaxJsonFileBytes);
  if (!buffer)
    return buffer.takeError();
  auto parsed = parseJson((*buffer)->getBuffer());
  if (!parsed)
    return makeError("{0}: invalid JSON: {1}", path, llvm::toString(parsed.takeError()));
  llvm::json::Object *object = parsed->getAsObject();
  if (!object)
    return makeError("{0}: expected a JSON object at the top level", path);
  return std::move(*object);
}

llvm::Expected<std::string> vgcu::readArchitecture(const ConfigReader &reader) {
  const llvm::json::Value *value = reader.raw().get("architectures");
  if (!value)
    return makeError("{0}: required field 'architectures' is missing", reader.filePath());
  const llvm::json::Array *list = value->getAsArray();
  if (!list || list->empty() || !(*list)[0].getAsString() || (*list)[0].getAsString()->empty())
    return reader.fieldError("architectures", "must be a non-empty list of architecture names, "
                                              "got " + describe(*value));
  return (*list)[0].getAsString()->str();
}

llvm::Error vgcu::validateHeads(const ConfigReader &reader, const ModelConfig &config) {
  if (config.hiddenSize % config.numAttentionHeads != 0)
    return reader.fieldError("num_attention_heads",
                             "(" + std::to_string(config.numAttentionHeads) +
                                 ") does not divide hidden_size (" +
                                 std::to_string(config.hiddenSize) + ")");
  if (config.numKeyValueHeads > config.numAttentionHeads ||
      config.numAttentionHeads % config.numKeyValueHeads != 0)
    return reader.fieldError("num_key_value_heads",
                             "(" + std::to_string(config.numKeyValueHeads) +
                                 ") does not divide num_attention_heads (" +
                                 std::to_string(config.numAttentionHeads) + ")");
  if (config.rotaryDim % 2 != 0 || config.rotaryDim > config.headDim)
    return reader.fieldError("partial_rotary_factor",
                             "gives an odd or oversized rotary dimension " +
                                 std::to_string(config.rotaryDim) + " for head_dim " +
                                 std::to_string(config.headDim));
  return llvm::Error::success();
}

static llvm::Error checkActivation(const ConfigReader &reader, llvm::StringRef key,
                                   llvm::StringRef act) {
  if (act == "silu" || act == "gelu" || act == "gelu_pytorch_tanh" || act == "gelu_new" ||
      act == "relu")
    return llvm::Error::success();
  return reader.fieldError(key, "names activation '" + act +
                                    "', which vgcu does not support (silu, gelu, "
                                    "gelu_pytorch_tanh, gelu_new, relu)");
}

llvm::Error vgcu::checkLayerCount(const ConfigReader &reader, llvm::StringRef key,
                                  int64_t layers) {
  if (layers <= kMaxLayers)
    return llvm::Error::success();
  return reader.fieldError(key, "is " + std::to_string(layers) + ", more than the limit of " +
                                    std::to_string(kMaxLayers) + " layers");
}

llvm::Error vgcu::parseCoreFields(const ConfigReader &reader, llvm::StringRef intermediateKey,
                                  llvm::StringRef defaultModelType, ModelConfig &config) {
  config.sourcePath = reader.filePath().str();
  config.json = reader.raw();
  FieldReads read;
  read(config.architecture, readArchitecture(reader))
      (config.modelType, reader.string("model_type", defaultModelType))
      (config.vocabSize, reader.requirePositiveInt("vocab_size"))
      (config.hiddenSize, reader.requirePositiveInt("hidden_size"))
      (config.intermediateSize, reader.requirePositiveInt(intermediateKey))
      (config.numHiddenLayers, reader.requirePositiveInt("num_hidden_layers"))
      .check([&] { return checkLayerCount(reader, "num_hidden_layers", config.numHiddenLayers); })
      (config.numAttentionHeads, reader.requirePositiveInt("num_attention_heads"))
      (config.maxPositionEmbeddings, reader.positiveInt("max_position_embeddings", 2048))
      (config.torchDtype, reader.string("torch_dtype", "float32"));
  return read.take();
}

llvm::Error vgcu::readActivation(const ConfigReader &reader, llvm::StringRef fallback,
                                 std::string &activation) {
  // Hugging Face's newer configs (Gemma) name the MLP's activation hidden_activation and
  // keep hidden_act for compatibility; the newer name wins.
  llvm::StringRef key = reader.has("hidden_activation") &&
                                reader.raw().get("hidden_activation")->kind() !=
                                    llvm::json::Value::Null
                            ? "hidden_activation"
                            : "hidden_act";
  auto name = reader.string(key, fallback);
  if (!name)
    return name.takeError();
  activation = *name;
  return checkActivation(reader, key, activation);
}

llvm::Error vgcu::parseDecoderConfig(const ConfigReader &reader, const ConfigDefaults &defaults,
                                     ModelConfig &config) {
  if (auto error = parseCoreFields(reader, "intermediate_size", "", config))
    return error;
  FieldReads read;
  double rotaryFraction = 1.0;
  read(config.numKeyValueHeads,
       reader.positiveInt("num_key_value_heads", config.numAttentionHeads))
      (config.headDim, reader.positiveInt("head_dim", defaults.headDim.value_or(
                                                          config.hiddenSize /
                                                          config.numAttentionHeads)))
      .check([&]() -> llvm::Error {
        if (config.headDim != 0)
          return llvm::Error::success();
        return reader.fieldError("num_attention_heads",
                                 "(" + std::to_string(config.numAttentionHeads) +
                                     ") exceeds hidden_size (" +
                                     std::to_string(config.hiddenSize) + ")");
      })
      (config.rmsNormEps, reader.positiveNumber("rms_norm_eps", defaults.rmsNormEps))
      (config.ropeTheta, reader.positiveNumber("rope_theta", defaults.ropeTheta))
      (rotaryFraction, reader.fraction("partial_rotary_factor", 1.0))
      .check([&]() -> llvm::Error {
        config.rotaryDim = static_cast<int64_t>(config.headDim * rotaryFraction);
        return llvm::Error::success();
      })
      (config.ropeScaling,
       readRopeScaling(reader, config.rotaryDim, config.maxPositionEmbeddings, defaults))
      (config.tieWordEmbeddings,
       reader.boolean("tie_word_embeddings", defaults.tieWordEmbeddings))
      (config.attentionBias, reader.boolean("attention_bias", defaults.attentionBias))
      (config.mlpBias, reader.boolean("mlp_bias", false))
      .check([&] { return readActivation(reader, "silu", config.hiddenAct); });
  if (auto error = read.take())
    return error;

  // Sliding windows, per layer.
  std::optional<int64_t> window = defaults.slidingWindow;
  int64_t firstWindowLayer = 0;
  bool useWindow = true;
  if (reader.has("sliding_window"))
    read(window, reader.optionalPositiveInt("sliding_window"));
  if (defaults.slidingWindowNeedsFlag)
    read(useWindow, reader.boolean("use_sliding_window", false))
        (firstWindowLayer,
         reader.nonNegativeInt("max_window_layers", config.numHiddenLayers));
  if (auto error = read.take())
    return error;
  if (!useWindow)
    window.reset();
  config.slidingWindows.assign(config.numHiddenLayers, std::nullopt);
  for (int64_t layer = firstWindowLayer; layer < config.numHiddenLayers; ++layer)
    config.slidingWindows[layer] = window;
  return validateHeads(reader, config);
}

llvm::json::Object vgcu::configSummary(const ModelConfig &config) {
  return llvm::json::Object{
      {"architecture", config.architecture},
      {"model_type", config.modelType},
      {"vocab_size", config.vocabSize},
      {"hidden_size", config.hiddenSize},
      {"intermediate_size", config.intermediateSize},
      {"num_hidden_layers", config.numHiddenLayers},
      {"num_attention_heads", config.numAttentionHeads},
      {"num_key_value_heads", config.numKeyValueHeads},
      {"head_dim", config.headDim},
      {"max_position_embeddings", config.maxPositionEmbeddings},
      {"tie_word_embeddings", config.tieWordEmbeddings},
  };
}

//===----------------------------------------------------------------------===//
// rope_scaling
//===----------------------------------------------------------------------===//

/// HF's yarn_get_mscale.
static double yarnMscale(double scale, double mscale) {
  if (scale <= 1)
    return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

llvm::Expected<std::optional<RopeScaling>>
vgcu::readRopeScaling(const ConfigReader &reader, int64_t rotaryDim,
                      int64_t maxPositionEmbeddings, const ConfigDefaults &defaults) {
  // v4 configs say rope_scaling; v5 configs rope_parameters (which may also hold rope_theta).
  llvm::StringRef key = "rope_scaling";
  const llvm::json::Value *value = reader.raw().get(key);
  if (!value || value->kind() == llvm::json::Value::Null) {
    key = "rope_parameters";
    value = reader.raw().get(key);
  }
  if (!value || value->kind() == llvm::json::Value::Null)
    return std::nullopt;
  const llvm::json::Object *object = value->getAsObject();
  if (!object)
    return reader.fieldError(key, "must be an object, got " + describe(*value));
  ConfigReader scaling(*object, reader.filePath(), (key + ".").str());
  // HF's config classes copy a legacy "type" over "rope_type".
  llvm::StringRef typeKey = scaling.has("type") ? "type" : "rope_type";
  if (!scaling.has(typeKey)) {
    if (key == "rope_parameters")
      return std::nullopt; // only rope_theta and the like
    return reader.fieldError(key, "has neither 'rope_type' nor 'type'");
  }
  auto type = scaling.string(typeKey, "default");
  if (!type)
    return type.takeError();
  if (*type == "default")
    return std::nullopt;
  for (const auto &[alias, name] : defaults.ropeTypeAliases)
    if (*type == alias)
      *type = name;
  static const char *const kTypes[] = {"linear", "dynamic", "yarn", "longrope", "llama3"};
  if (!llvm::is_contained(kTypes, llvm::StringRef(*type)))
    return scaling.fieldError(typeKey, "names rope type '" + *type +
                                           "', which vgcu does not support (default, linear, "
                                           "dynamic, yarn, longrope, llama3)");
  if (!defaults.ropeTypes.empty() && !llvm::is_contained(defaults.ropeTypes, *type))
  {
    std::string architecture = "this architecture";
    if (auto name = readArchitecture(reader))
      architecture = *name;
    else
      llvm::consumeError(name.takeError());
    return scaling.fieldError(typeKey, "names rope type '" + *type + "', which " +
                                           architecture + " does not have (it has " +
                                           llvm::join(defaults.ropeTypes, ", ") + ")");
  }
  RopeScaling rope;
  rope.type = *type;
  auto requireNumber = [&](llvm::StringRef name, double &out) -> llvm::Error {
    if (!scaling.has(name) || scaling.raw().get(name)->kind() == llvm::json::Value::Null)
      return scaling.fieldError(name, "is required by rope type '" + rope.type + "'");
    auto number = scaling.positiveNumber(name, 1.0);
    if (!number)
      return number.takeError();
    out = *number;
    return llvm::Error::success();
  };
  auto optionalNumber = [&](llvm::StringRef name, double fallback, double &out) -> llvm::Error {
    auto number = scaling.positiveNumber(name, fallback);
    if (!number)
      return number.takeError();
    out = *number;
    return llvm::Error::success();
  };
  // A number left unset when absent or null (its default depends on other fields).
  auto numberIfSet = [&](llvm::StringRef name, std::optional<double> &out) -> llvm::Error {
    if (!scaling.has(name) || scaling.raw().get(name)->kind() == llvm::json::Value::Null)
      return llvm::Error::success();
    double number = 1.0;
    if (auto error = optionalNumber(name, 1.0, number))
      return error;
    out = number;
    return llvm::Error::success();
  };
  FieldReads read;
  if (rope.type == "linear") {
    read.check([&] { return requireNumber("factor", rope.factor); });
  } else if (rope.type == "dynamic") {
    read.check([&] { return requireNumber("factor", rope.factor); });
    // HF compares with the config's max_position_embeddings, not the rope's original.
    rope.originalMaxPositions = maxPositionEmbeddings;
  } else if (rope.type == "llama3") {
    read.check([&] { return requireNumber("factor", rope.factor); })
        .check([&] { return requireNumber("low_freq_factor", rope.lowFreqFactor); })
        .check([&] { return requireNumber("high_freq_factor", rope.highFreqFactor); })
        (rope.originalMaxPositions, scaling.requirePositiveInt("original_max_position_embeddings"))
        .check([&]() -> llvm::Error {
          if (rope.highFreqFactor > rope.lowFreqFactor)
            return llvm::Error::success();
          return scaling.fieldError("high_freq_factor",
                                    "must exceed low_freq_factor for rope type 'llama3'");
        });
  } else if (rope.type == "yarn") {
    double mscale = 0, mscaleAllDim = 0;
    std::optional<double> attentionFactor;
    read.check([&] { return requireNumber("factor", rope.factor); })
        (rope.originalMaxPositions,
         scaling.positiveInt("original_max_position_embeddings", maxPositionEmbeddings))
        .check([&] { return optionalNumber("beta_fast", 32.0, rope.betaFast); })
        .check([&] { return optionalNumber("beta_slow", 1.0, rope.betaSlow); })
        (rope.truncate, scaling.boolean("truncate", true))
        .check([&] { return optionalNumber("mscale", 0.0, mscale); })
        .check([&] { return optionalNumber("mscale_all_dim", 0.0, mscaleAllDim); })
        .check([&] { return numberIfSet("attention_factor", attentionFactor); })
        .check([&]() -> llvm::Error {
          // HF's _compute_yarn_parameters.
          if (attentionFactor)
            rope.attentionFactor = *attentionFactor;
          else if (mscale > 0 && mscaleAllDim > 0)
            rope.attentionFactor =
                yarnMscale(rope.factor, mscale) / yarnMscale(rope.factor, mscaleAllDim);
          else
            rope.attentionFactor = yarnMscale(rope.factor, 1.0);
          return llvm::Error::success();
        });
  } else { // longrope
    auto factors = [&](llvm::StringRef name, std::vector<double> &out) -> llvm::Error {
      const llvm::json::Value *list = scaling.raw().get(name);
      const llvm::json::Array *array = list ? list->getAsArray() : nullptr;
      if (!array)
        return scaling.fieldError(name, "must be a list of numbers for rope type 'longrope'");
      for (const llvm::json::Value &item : *array) {
        std::optional<double> number = item.getAsNumber();
        if (!number || !(*number > 0))
          return scaling.fieldError(name, "must hold positive numbers, got " + describe(item));
        out.push_back(*number);
      }
      if (static_cast<int64_t>(out.size()) != rotaryDim / 2)
        return scaling.fieldError(name, "has " + std::to_string(out.size()) +
                                            " entries; the rotary dimension " +
                                            std::to_string(rotaryDim) + " needs " +
                                            std::to_string(rotaryDim / 2));
      return llvm::Error::success();
    };
    // HF v4 takes original_max_position_embeddings from the top level of the config (Phi-3
    // has it there), and then factor = max_position_embeddings / original.
    std::optional<int64_t> original;
    std::optional<double> factor, attentionFactor;
    read.check([&] { return factors("short_factor", rope.shortFactor); })
        .check([&] { return factors("long_factor", rope.longFactor); })
        (original, reader.optionalPositiveInt("original_max_position_embeddings"))
        .check([&] { return numberIfSet("factor", factor); })
        .check([&] { return numberIfSet("attention_factor", attentionFactor); })
        .check([&]() -> llvm::Error {
          if (original) {
            rope.originalMaxPositions = *original;
            factor = static_cast<double>(maxPositionEmbeddings) / *original;
          } else {
            rope.originalMaxPositions = maxPositionEmbeddings;
          }
          if (attentionFactor) {
            rope.attentionFactor = *attentionFactor;
          } else if (!factor) {
            return scaling.fieldError("factor",
                                      "is required by rope type 'longrope' when the config has "
                                      "no original_max_position_embeddings or attention_factor");
          } else {
            rope.attentionFactor =
                *factor <= 1.0 ? 1.0
                               : std::sqrt(1 + std::log(*factor) /
                                                   std::log(static_cast<double>(
                                                       rope.originalMaxPositions)));
          }
          rope.factor = factor.value_or(1.0);
          return llvm::Error::success();
        });
  }
  if (auto error = read.take())
    return std::move(error);
  if (rope.type == "dynamic" && rotaryDim <= 2)
    return reader.fieldError(key, "of type 'dynamic' needs a rotary dimension above 2");
  return rope;
}

int64_t vgcu::maxSequenceLength(const ModelConfig &config) {
  if (!config.ropeScaling)
    return config.maxPositionEmbeddings;
  const RopeScaling &rope = *config.ropeScaling;
  double length = static_cast<double>(config.maxPositionEmbeddings);
  if (rope.type == "linear" || rope.type == "dynamic")
    length *= rope.factor;
  else if (rope.type == "yarn")
    length = static_cast<double>(rope.originalMaxPositions) * rope.factor;
  // Within the sizes the config reader accepts, this fits comfortably.
  return std::max<int64_t>(config.maxPositionEmbeddings, static_cast<int64_t>(length));
}
