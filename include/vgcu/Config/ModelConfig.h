//===- ModelConfig.h - A model's Hugging Face config.json, read and checked -------===//
#ifndef VGCU_CONFIG_MODELCONFIG_H
#define VGCU_CONFIG_MODELCONFIG_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>
#include <vector>

namespace vgcu {

/// Hugging Face's `rope_scaling` (or v5 `rope_parameters`), read and checked; the
/// semantics are those of `#vgcu.rope` (transformers' modeling_rope_utils.py).
struct RopeScaling {
  /// linear, dynamic, yarn, longrope or llama3.
  std::string type;
  double factor = 1.0;
  /// llama3, yarn: rope_scaling's original_max_position_embeddings; dynamic: the config's
  /// max_position_embeddings; longrope: the top-level original_max_position_embeddings (or
  /// max_position_embeddings).
  int64_t originalMaxPositions = 0;
  double lowFreqFactor = 1.0;
  double highFreqFactor = 4.0;
  double betaFast = 32.0;
  double betaSlow = 1.0;
  bool truncate = true;
  /// What cos and sin are multiplied by (yarn, longrope), as HF derives it.
  double attentionFactor = 1.0;
  std::vector<double> shortFactor, longFactor;
};

/// A mixture-of-experts model's routed experts (Mixtral, Qwen2-MoE, Qwen3-MoE).
struct MoeConfig {
  int64_t numExperts = 0;
  int64_t topK = 0;
  /// Each routed expert's intermediate size.
  int64_t intermediateSize = 0;
  /// Whether the top-k routing weights are divided by their sum.
  bool renormalize = false;
  /// Per layer: experts (true) or the dense MLP of intermediate_size (false).
  std::vector<bool> sparseLayers;
  /// The intermediate size of a shared expert every token goes through (Qwen2-MoE), or 0.
  int64_t sharedIntermediateSize = 0;
  /// The shared expert's module, and whether `shared_expert_gate` (a sigmoid) scales it
  /// (Qwen2-MoE's `shared_expert` has one; DeepSeek's `shared_experts` none).
  std::string sharedModule = "shared_expert";
  bool sharedGate = true;
  /// DeepSeek's MoEGate: logits and weights in f32, sigmoid scores (V3), the weights scaled
  /// by routed_scaling_factor, group-limited choice (by the best score of a group, or the
  /// sum of its two best with V3's e_score_correction_bias).
  bool routeInF32 = false;
  bool sigmoidScoring = false;
  std::optional<double> scalingFactor;
  int64_t numGroups = 0, topkGroups = 0;
  bool groupTopTwoSum = false;
  bool correctionBias = false;
};

/// Multi-head latent attention (DeepSeek-V2/V3).
struct MlaConfig {
  /// 0: queries come from q_proj; otherwise q_a_proj → q_a_layernorm → q_b_proj.
  int64_t qLoraRank = 0;
  int64_t kvLoraRank = 0;
  int64_t qkNopeHeadDim = 0, qkRopeHeadDim = 0, vHeadDim = 0;
  double softmaxScale = 1.0;
};

/// More decoder layers than this marks a config as corrupt: the graph holds every layer's
/// ops, and the deepest published models have a few hundred.
inline constexpr int64_t kMaxLayers = 4096;

/// The fields of a decoder-only model's config.json that graph builders use, after each
/// architecture's Hugging Face defaults were applied. `json` keeps the whole file so a
/// builder can read fields of its own.
struct ModelConfig {
  std::string sourcePath;
  std::string architecture;
  std::string modelType;
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numHiddenLayers = 0;
  int64_t numAttentionHeads = 0;
  int64_t numKeyValueHeads = 0;
  int64_t headDim = 0;
  int64_t maxPositionEmbeddings = 0;
  double rmsNormEps = 1e-6;
  double layerNormEps = 1e-5;
  double ropeTheta = 10000.0;
  int64_t rotaryDim = 0;
  std::optional<RopeScaling> ropeScaling;
  bool tieWordEmbeddings = false;
  bool attentionBias = false;
  bool mlpBias = false;
  /// `hidden_activation` where the config has it (Gemma), else `hidden_act`.
  std::string hiddenAct = "silu";
  std::string torchDtype = "float32";
  /// Sliding window of each layer (empty optional: full attention).
  std::vector<std::optional<int64_t>> slidingWindows;
  /// The routed experts, for a mixture-of-experts model.
  std::optional<MoeConfig> moe;
  std::optional<MlaConfig> mla;
  llvm::json::Object json;
};

/// Typed access to a config.json object; every error names the field and the file.
class ConfigReader {
public:
  /// `keyPrefix` names a nested object in messages ("rope_scaling." for its fields).
  ConfigReader(const llvm::json::Object &object, llvm::StringRef path,
               llvm::StringRef keyPrefix = "")
      : object(object), path(path.str()), keyPrefix(keyPrefix.str()) {}

  const llvm::json::Object &raw() const { return object; }
  llvm::StringRef filePath() const { return path; }
  bool has(llvm::StringRef key) const;

  /// A field that must be present and a positive integer.
  llvm::Expected<int64_t> requirePositiveInt(llvm::StringRef key) const;
  /// A positive integer, or `fallback` when the field is absent or null.
  llvm::Expected<int64_t> positiveInt(llvm::StringRef key, int64_t fallback) const;
  /// A positive integer, or nothing when absent or null.
  llvm::Expected<std::optional<int64_t>> optionalPositiveInt(llvm::StringRef key) const;
  /// A non-negative integer, or `fallback` when the field is absent or null.
  llvm::Expected<int64_t> nonNegativeInt(llvm::StringRef key, int64_t fallback) const;
  /// A positive number, or `fallback` when absent or null.
  llvm::Expected<double> positiveNumber(llvm::StringRef key, double fallback) const;
  /// A number in (0, 1], or `fallback` when absent or null.
  llvm::Expected<double> fraction(llvm::StringRef key, double fallback) const;
  llvm::Expected<bool> boolean(llvm::StringRef key, bool fallback) const;
  llvm::Expected<std::string> string(llvm::StringRef key, llvm::StringRef fallback) const;

  /// An error about `key` in this file.
  llvm::Error fieldError(llvm::StringRef key, const llvm::Twine &problem) const;

private:
  const llvm::json::Object &object;
  std::string path;
  std::string keyPrefix;
};

/// Reads and parses a config.json; a syntax error gives its line and column.
llvm::Expected<llvm::json::Object> readConfigJson(llvm::StringRef path);

/// The architecture named by `architectures[0]`.
llvm::Expected<std::string> readArchitecture(const ConfigReader &reader);

/// The defaults an architecture's Hugging Face config class gives to optional fields.
struct ConfigDefaults {
  double rmsNormEps = 1e-6;
  double ropeTheta = 10000.0;
  bool tieWordEmbeddings = false;
  bool attentionBias = false;
  /// head_dim when config.json has none; unset means hidden_size / num_attention_heads.
  std::optional<int64_t> headDim;
  /// sliding_window when config.json has none (Mistral: 4096).
  std::optional<int64_t> slidingWindow;
  /// Qwen2-style: the window applies only with use_sliding_window, and only to layers from
  /// max_window_layers on.
  bool slidingWindowNeedsFlag = false;
  /// rope_scaling type names the config class renames (Phi-3: "su" is longrope).
  std::vector<std::pair<std::string, std::string>> ropeTypeAliases;
  /// The rope_scaling types the architecture accepts (empty: all that vgcu knows).
  std::vector<std::string> ropeTypes;
};

/// Reads config fields in order into their destinations and keeps the first error: a
/// parser is a list of reads and checks, and reports what the first bad field is. Reads
/// after an error still run (the ConfigReader calls are cheap) but store nothing.
class FieldReads {
public:
  template <typename T, typename U>
  FieldReads &operator()(T &field, llvm::Expected<U> value) {
    if (!value) {
      keep(value.takeError());
      return *this;
    }
    if (!failed)
      field = std::move(*value);
    return *this;
  }
  /// A check of what was read so far; skipped once a read failed.
  FieldReads &check(llvm::function_ref<llvm::Error()> check) {
    if (!failed)
      keep(check());
    return *this;
  }
  llvm::Error take() {
    if (!failed)
      return llvm::Error::success();
    failed = false;
    return std::move(first);
  }

private:
  void keep(llvm::Error error) {
    if (!error)
      return;
    if (failed) {
      llvm::consumeError(std::move(error));
      return;
    }
    first = std::move(error);
    failed = true;
  }
  llvm::Error first = llvm::Error::success();
  bool failed = false;
};

/// An error naming `key` if `layers` exceeds kMaxLayers.
llvm::Error checkLayerCount(const ConfigReader &reader, llvm::StringRef key, int64_t layers);

/// The fields every decoder's config.json has, under the usual names: architectures,
/// model_type, vocab_size, hidden_size, the feed-forward width (`intermediateKey`),
/// num_hidden_layers, num_attention_heads, max_position_embeddings and torch_dtype.
llvm::Error parseCoreFields(const ConfigReader &reader, llvm::StringRef intermediateKey,
                            llvm::StringRef defaultModelType, ModelConfig &config);

/// Reads the fields every Llama-like decoder has, with `defaults` for optional ones, and
/// checks sizes and head counts.
llvm::Error parseDecoderConfig(const ConfigReader &reader, const ConfigDefaults &defaults,
                               ModelConfig &config);

/// The MLP activation: `hidden_activation` when the config sets it, else `hidden_act`
/// (default `fallback`), checked against the activations vgcu supports.
llvm::Error readActivation(const ConfigReader &reader, llvm::StringRef fallback,
                           std::string &activation);

/// `rope_scaling` (or `rope_parameters`) of a config whose rotary dimension is `rotaryDim`:
/// nothing when it is absent, null or of type "default"; an error naming the field for an
/// unknown type or a missing or invalid parameter.
llvm::Expected<std::optional<RopeScaling>>
readRopeScaling(const ConfigReader &reader, int64_t rotaryDim, int64_t maxPositionEmbeddings,
                const ConfigDefaults &defaults = {});

/// Checks the relations between sizes that every builder relies on.
llvm::Error validateHeads(const ConfigReader &reader, const ModelConfig &config);

/// The longest sequence the model serves, as vLLM derives it: max_position_embeddings,
/// times the rope factor for linear and dynamic scaling, and yarn's
/// original_max_position_embeddings times its factor (llama3 and longrope configs already
/// state the extended length).
int64_t maxSequenceLength(const ModelConfig &config);

/// Renders the config's main fields as JSON (for artifacts and summaries).
llvm::json::Object configSummary(const ModelConfig &config);

} // namespace vgcu

#endif // VGCU_CONFIG_MODELCONFIG_H
