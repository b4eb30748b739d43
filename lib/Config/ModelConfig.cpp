//===- ModelConfig.cpp - A model's Hugging Face config.json, read and checked -----===//

#include "vgcu/Config/ModelConfig.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Json.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace vgcu;

/// Larger sizes are mistakes (or attacks), not models; refusing them early keeps every later
/// product of sizes far from overflow.
static constexpr int64_t kMaxSize = int64_t(1) << 30;

/// The graph holds every layer's ops; the deepest published models have a few hundred.
static constexpr int64_t kMaxLayers = 4096;

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
  return makeError("{0}: field '{1}' {2}", path, key, problem.str());
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
      .check([&]() -> llvm::Error {
        if (config.numHiddenLayers <= kMaxLayers)
          return llvm::Error::success();
        return reader.fieldError("num_hidden_layers",
                                 "is " + std::to_string(config.numHiddenLayers) +
                                     ", more than the limit of " + std::to_string(kMaxLayers) +
                                     " layers");
      })
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
        const llvm::json::Value *scaling = reader.raw().get("rope_scaling");
        if (!scaling || scaling->kind() == llvm::json::Value::Null)
          return llvm::Error::success();
        return reader.fieldError("rope_scaling", "is set (" + describe(*scaling) +
                                                     "); vgcu supports only unscaled rotary "
                                                     "embeddings so far");
      })
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
