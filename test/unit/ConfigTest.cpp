//===- ConfigTest.cpp - config.json parsing, HF defaults and errors ----------------===//

#include "TestUtil.h"

#include "vgcu/Models/CausalLM.h"
#include "vgcu/Models/ModelRegistry.h"

#include <cmath>

using namespace vgcu;
using namespace vgcu::test;

namespace {

class ConfigTest : public ::testing::Test {
protected:
  void SetUp() override { ModelRegistry::registerBuiltinModels(); }

  llvm::Expected<ResolvedModel> parse(llvm::StringRef json) {
    return resolveModel(dir.write("config.json", json));
  }

  std::string failure(llvm::StringRef json) {
    auto resolved = parse(json);
    EXPECT_FALSE(static_cast<bool>(resolved)) << "expected an error for " << json.str();
    return errorText(resolved);
  }

  TempDir dir;
};

constexpr const char *kLlama = R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 100,
  "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
  "num_attention_heads": 4)";

std::string llama(llvm::StringRef extra = "") {
  return std::string(kLlama) + (extra.empty() ? "" : ", " + extra.str()) + "}";
}

} // namespace

TEST_F(ConfigTest, LlamaDefaultsFollowHuggingFace) {
  auto resolved = parse(llama());
  ASSERT_TRUE(static_cast<bool>(resolved)) << errorText(resolved);
  const ModelConfig &config = resolved->config;
  EXPECT_EQ(config.architecture, "LlamaForCausalLM");
  EXPECT_EQ(config.numKeyValueHeads, 4); // defaults to num_attention_heads
  EXPECT_EQ(config.headDim, 16);         // hidden_size / num_attention_heads
  EXPECT_EQ(config.rotaryDim, 16);
  EXPECT_DOUBLE_EQ(config.ropeTheta, 10000.0);
  EXPECT_DOUBLE_EQ(config.rmsNormEps, 1e-6);
  EXPECT_FALSE(config.tieWordEmbeddings);
  EXPECT_FALSE(config.attentionBias);
  EXPECT_EQ(config.hiddenAct, "silu");
  ASSERT_EQ(config.slidingWindows.size(), 2u);
  EXPECT_FALSE(config.slidingWindows[0]);
}

TEST_F(ConfigTest, ExplicitFieldsWin) {
  auto resolved = parse(llama(R"("num_key_value_heads": 2, "rope_theta": 500000.0,
      "rms_norm_eps": 1e-5, "tie_word_embeddings": true, "head_dim": 32)"));
  ASSERT_TRUE(static_cast<bool>(resolved)) << errorText(resolved);
  EXPECT_EQ(resolved->config.numKeyValueHeads, 2);
  EXPECT_EQ(resolved->config.headDim, 32);
  EXPECT_DOUBLE_EQ(resolved->config.ropeTheta, 500000.0);
  EXPECT_TRUE(resolved->config.tieWordEmbeddings);
}

TEST_F(ConfigTest, MistralDefaultsToEightKvHeadsAndWindow4096) {
  auto resolved = parse(R"({"architectures": ["MistralForCausalLM"], "vocab_size": 100,
      "hidden_size": 128, "intermediate_size": 128, "num_hidden_layers": 1,
      "num_attention_heads": 16})");
  ASSERT_TRUE(static_cast<bool>(resolved)) << errorText(resolved);
  EXPECT_EQ(resolved->config.numKeyValueHeads, 8);
  EXPECT_EQ(resolved->config.slidingWindows[0], 4096);
  auto noWindow = parse(R"({"architectures": ["MistralForCausalLM"], "vocab_size": 100,
      "hidden_size": 128, "intermediate_size": 128, "num_hidden_layers": 1,
      "num_attention_heads": 16, "sliding_window": null})");
  ASSERT_TRUE(static_cast<bool>(noWindow)) << errorText(noWindow);
  EXPECT_FALSE(noWindow->config.slidingWindows[0]);
}

TEST_F(ConfigTest, Qwen2WindowNeedsFlagAndAppliesFromMaxWindowLayers) {
  std::string base = R"({"architectures": ["Qwen2ForCausalLM"], "vocab_size": 100,
      "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 3,
      "num_attention_heads": 4, "sliding_window": 32)";
  auto off = parse(base + "}");
  ASSERT_TRUE(static_cast<bool>(off)) << errorText(off);
  EXPECT_FALSE(off->config.slidingWindows[2]);
  auto on = parse(base + R"(, "use_sliding_window": true, "max_window_layers": 1})");
  ASSERT_TRUE(static_cast<bool>(on)) << errorText(on);
  EXPECT_FALSE(on->config.slidingWindows[0]);
  EXPECT_EQ(on->config.slidingWindows[1], 32);
  EXPECT_EQ(on->config.slidingWindows[2], 32);
}

TEST_F(ConfigTest, Qwen3HeadDimDefaultsTo128) {
  auto resolved = parse(R"({"architectures": ["Qwen3ForCausalLM"], "vocab_size": 100,
      "hidden_size": 1024, "intermediate_size": 128, "num_hidden_layers": 1,
      "num_attention_heads": 16, "num_key_value_heads": 8})");
  ASSERT_TRUE(static_cast<bool>(resolved)) << errorText(resolved);
  EXPECT_EQ(resolved->config.headDim, 128);
}

TEST_F(ConfigTest, OptReadsItsOwnFields) {
  auto resolved = parse(R"({"architectures": ["OPTForCausalLM"], "vocab_size": 100,
      "hidden_size": 64, "ffn_dim": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
      "max_position_embeddings": 64})");
  ASSERT_TRUE(static_cast<bool>(resolved)) << errorText(resolved);
  EXPECT_EQ(resolved->config.intermediateSize, 256);
  EXPECT_TRUE(resolved->config.tieWordEmbeddings);
  EXPECT_EQ(resolved->config.hiddenAct, "relu");
  EXPECT_TRUE(resolved->config.attentionBias);
  EXPECT_NE(failure(R"({"architectures": ["OPTForCausalLM"], "vocab_size": 100,
      "hidden_size": 64, "ffn_dim": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
      "word_embed_proj_dim": 32})")
                .find("word_embed_proj_dim"),
            std::string::npos);
}

TEST_F(ConfigTest, MissingFieldNamesFieldAndFile) {
  std::string message = failure(R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 100,
      "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4})");
  EXPECT_NE(message.find("required field 'hidden_size' is missing"), std::string::npos) << message;
  EXPECT_NE(message.find(dir.path("config.json")), std::string::npos) << message;
}

TEST_F(ConfigTest, IllTypedZeroNegativeAndHugeSizesAreErrors) {
  std::string ill = failure(llama(R"("num_key_value_heads": "two")"));
  EXPECT_NE(ill.find("field 'num_key_value_heads' must be a positive integer, got string"),
            std::string::npos)
      << ill;
  std::string zero = failure(R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 0,
      "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
      "num_attention_heads": 4})");
  EXPECT_NE(zero.find("field 'vocab_size' must be a positive integer, got number 0"),
            std::string::npos)
      << zero;
  std::string negative = failure(llama(R"("max_position_embeddings": -5)"));
  EXPECT_NE(negative.find("'max_position_embeddings'"), std::string::npos) << negative;
  std::string huge = failure(llama(R"("num_key_value_heads": 99999999999)"));
  EXPECT_NE(huge.find("larger than the limit"), std::string::npos) << huge;
  std::string flag = failure(llama(R"("tie_word_embeddings": "yes")"));
  EXPECT_NE(flag.find("'tie_word_embeddings' must be true or false"), std::string::npos) << flag;
  std::string eps = failure(llama(R"("rms_norm_eps": 0)"));
  EXPECT_NE(eps.find("'rms_norm_eps' must be a positive number"), std::string::npos) << eps;
}

TEST_F(ConfigTest, HeadsMustDivide) {
  std::string hidden = failure(R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 100,
      "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
      "num_attention_heads": 5})");
  EXPECT_NE(hidden.find("num_attention_heads' (5) does not divide hidden_size (64)"),
            std::string::npos)
      << hidden;
  std::string kv = failure(llama(R"("num_key_value_heads": 3)"));
  EXPECT_NE(kv.find("num_key_value_heads' (3) does not divide num_attention_heads (4)"),
            std::string::npos)
      << kv;
}

TEST_F(ConfigTest, UnsupportedFeaturesAreNamed) {
  std::string act = failure(llama(R"("hidden_act": "swiglu_xl")"));
  EXPECT_NE(act.find("activation 'swiglu_xl'"), std::string::npos) << act;
  std::string rope = failure(llama(R"("rope_scaling": {"type": "ntk", "factor": 2.0})"));
  EXPECT_NE(rope.find("field 'rope_scaling.type' names rope type 'ntk'"), std::string::npos)
      << rope;
}

TEST_F(ConfigTest, MalformedJsonAndArchitectures) {
  std::string syntax = failure(R"({"architectures": ["LlamaForCausalLM"], "vocab_size": })");
  EXPECT_NE(syntax.find("invalid JSON"), std::string::npos) << syntax;
  std::string list = failure(R"({"architectures": "LlamaForCausalLM"})");
  EXPECT_NE(list.find("field 'architectures' must be a non-empty list"), std::string::npos)
      << list;
  std::string top = failure("[1, 2]");
  EXPECT_NE(top.find("expected a JSON object"), std::string::npos) << top;
}

TEST_F(ConfigTest, HiddenActivationWinsOverHiddenAct) {
  // Gemma's configs carry the legacy hidden_act next to the hidden_activation HF uses.
  auto both = parse(llama(R"("hidden_act": "gelu", "hidden_activation": "gelu_pytorch_tanh")"));
  ASSERT_TRUE(static_cast<bool>(both)) << errorText(both);
  EXPECT_EQ(both->config.hiddenAct, "gelu_pytorch_tanh");
  auto nullNewName = parse(llama(R"("hidden_act": "gelu", "hidden_activation": null)"));
  ASSERT_TRUE(static_cast<bool>(nullNewName)) << errorText(nullNewName);
  EXPECT_EQ(nullNewName->config.hiddenAct, "gelu");
  std::string message = failure(llama(R"("hidden_act": "silu", "hidden_activation": "swish_x")"));
  EXPECT_NE(message.find("hidden_activation"), std::string::npos) << message;
}

TEST_F(ConfigTest, RopeScalingFollowsHuggingFace) {
  // Llama 3.1: every field read; "type" wins over "rope_type" as in HF's config classes.
  auto llama3 = parse(llama(R"("rope_scaling": {"rope_type": "llama3", "factor": 8.0,
      "low_freq_factor": 1.0, "high_freq_factor": 4.0,
      "original_max_position_embeddings": 8192}, "max_position_embeddings": 131072)"));
  ASSERT_TRUE(static_cast<bool>(llama3)) << errorText(llama3);
  ASSERT_TRUE(llama3->config.ropeScaling);
  EXPECT_EQ(llama3->config.ropeScaling->type, "llama3");
  EXPECT_EQ(llama3->config.ropeScaling->originalMaxPositions, 8192);
  EXPECT_EQ(maxSequenceLength(llama3->config), 131072);
  auto legacy = parse(llama(R"("rope_scaling": {"type": "linear", "rope_type": "dynamic",
      "factor": 2.0})"));
  ASSERT_TRUE(static_cast<bool>(legacy)) << errorText(legacy);
  EXPECT_EQ(legacy->config.ropeScaling->type, "linear");
  EXPECT_EQ(maxSequenceLength(legacy->config), 2 * 2048);

  // YaRN: attention factor mscale(f, m) / mscale(f, m_all), or 0.1 ln f + 1.
  auto yarn = parse(llama(R"("rope_scaling": {"rope_type": "yarn", "factor": 40.0,
      "mscale": 1.0, "mscale_all_dim": 0.707, "original_max_position_embeddings": 4096})"));
  ASSERT_TRUE(static_cast<bool>(yarn)) << errorText(yarn);
  double expected = (0.1 * std::log(40.0) + 1) / (0.1 * 0.707 * std::log(40.0) + 1);
  EXPECT_DOUBLE_EQ(yarn->config.ropeScaling->attentionFactor, expected);
  EXPECT_EQ(maxSequenceLength(yarn->config), 4096 * 40);
  auto plainYarn = parse(llama(R"("rope_scaling": {"rope_type": "yarn", "factor": 4.0})"));
  ASSERT_TRUE(static_cast<bool>(plainYarn)) << errorText(plainYarn);
  EXPECT_DOUBLE_EQ(plainYarn->config.ropeScaling->attentionFactor, 0.1 * std::log(4.0) + 1);
  EXPECT_EQ(plainYarn->config.ropeScaling->originalMaxPositions, 2048);

  // LongRoPE (Phi-3): the top-level original_max_position_embeddings sets the switch and the
  // factor behind the attention factor. head_dim 16: 8 factors.
  std::string factors = "[1, 1, 1, 1, 2, 2, 2, 2]";
  auto longrope = parse(llama(R"("max_position_embeddings": 131072,
      "original_max_position_embeddings": 4096, "rope_scaling": {"type": "longrope",
      "short_factor": )" + factors + R"(, "long_factor": )" + factors + "}"));
  ASSERT_TRUE(static_cast<bool>(longrope)) << errorText(longrope);
  EXPECT_EQ(longrope->config.ropeScaling->originalMaxPositions, 4096);
  EXPECT_DOUBLE_EQ(longrope->config.ropeScaling->attentionFactor,
                   std::sqrt(1 + std::log(32.0) / std::log(4096.0)));

  // v5 spelling; "default" means none; null means none.
  auto v5 = parse(llama(R"("rope_parameters": {"rope_type": "linear", "factor": 3.0})"));
  ASSERT_TRUE(static_cast<bool>(v5)) << errorText(v5);
  EXPECT_EQ(v5->config.ropeScaling->factor, 3.0);
  auto plain = parse(llama(R"("rope_scaling": {"rope_type": "default"})"));
  ASSERT_TRUE(static_cast<bool>(plain)) << errorText(plain);
  EXPECT_FALSE(plain->config.ropeScaling);

  // Errors name the nested field.
  std::string missing = failure(llama(R"("rope_scaling": {"rope_type": "dynamic"})"));
  EXPECT_NE(missing.find("field 'rope_scaling.factor' is required by rope type 'dynamic'"),
            std::string::npos)
      << missing;
  std::string order = failure(llama(R"("rope_scaling": {"rope_type": "llama3", "factor": 8,
      "low_freq_factor": 4.0, "high_freq_factor": 1.0, "original_max_position_embeddings": 8192})"));
  EXPECT_NE(order.find("'rope_scaling.high_freq_factor' must exceed low_freq_factor"),
            std::string::npos)
      << order;
  std::string notObject = failure(llama(R"("rope_scaling": 2.0)"));
  EXPECT_NE(notObject.find("field 'rope_scaling' must be an object"), std::string::npos)
      << notObject;
}
