//===- WeightLoaderTest.cpp - load_weights: renaming, packing and its errors -------===//

#include "TestUtil.h"

#include "vgcu/Models/Llama.h"
#include "vgcu/Models/ModelRegistry.h"
#include "vgcu/Models/WeightLoader.h"

#include "mlir/IR/MLIRContext.h"

#include <cstring>
#include <map>

using namespace vgcu;
using namespace vgcu::test;

namespace {

constexpr int64_t kVocab = 32, kHidden = 16, kHeads = 4, kKvHeads = 2, kHeadDim = 4,
                  kIntermediate = 24;

/// The tensors a Hugging Face checkpoint of a one-layer Llama holds.
std::map<std::string, std::vector<int64_t>> llamaCheckpointShapes() {
  std::string layer = "model.layers.0.";
  return {
      {"model.embed_tokens.weight", {kVocab, kHidden}},
      {layer + "self_attn.q_proj.weight", {kHeads * kHeadDim, kHidden}},
      {layer + "self_attn.k_proj.weight", {kKvHeads * kHeadDim, kHidden}},
      {layer + "self_attn.v_proj.weight", {kKvHeads * kHeadDim, kHidden}},
      {layer + "self_attn.o_proj.weight", {kHidden, kHeads * kHeadDim}},
      {layer + "mlp.gate_proj.weight", {kIntermediate, kHidden}},
      {layer + "mlp.up_proj.weight", {kIntermediate, kHidden}},
      {layer + "mlp.down_proj.weight", {kHidden, kIntermediate}},
      {layer + "input_layernorm.weight", {kHidden}},
      {layer + "post_attention_layernorm.weight", {kHidden}},
      {"model.norm.weight", {kHidden}},
      {"lm_head.weight", {kVocab, kHidden}},
  };
}

class WeightLoaderTest : public ::testing::Test {
protected:
  void SetUp() override {
    ModelRegistry::registerBuiltinModels();
    useConfig(R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 32,
        "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 1,
        "num_attention_heads": 4, "num_key_value_heads": 2})");
  }

  /// Builds the model of config.json `json` (parameters and all) for the loads that follow.
  void useConfig(const char *json) {
    dir.write("config.json", json);
    auto resolved = resolveModel(dir.path("config.json"));
    ASSERT_TRUE(static_cast<bool>(resolved)) << errorText(resolved);
    model = std::move(*resolved);
    auto module = buildModelGraph(*model.model, model.config, &context, DType::F32);
    ASSERT_TRUE(static_cast<bool>(module)) << errorText(module);
    graph = std::move(*module);
    auto table = ParamTable::fromModule(*graph);
    ASSERT_TRUE(static_cast<bool>(table)) << errorText(table);
    params = std::move(*table);
  }

  /// Writes model.safetensors with `shapes` (F32 unless `dtypes` says otherwise; F32
  /// tensors hold 0, 1, 2, ... in row-major order) and loads it with `builder`'s
  /// loadWeights (the resolved Llama's by default).
  llvm::Expected<LoadedWeights> load(const std::map<std::string, std::vector<int64_t>> &shapes,
                                     const std::map<std::string, DType> &dtypes = {},
                                     const CausalLM *builder = nullptr) {
    std::vector<TensorToWrite> tensors;
    for (const auto &[name, shape] : shapes) {
      DType dtype = dtypes.count(name) ? dtypes.at(name) : DType::F32;
      tensors.push_back({name, dtype, llvm::SmallVector<int64_t, 4>(shape.begin(), shape.end()),
                         [dtype](llvm::MutableArrayRef<uint8_t> out) {
                           std::memset(out.data(), 0, out.size());
                           if (dtype != DType::F32)
                             return;
                           float *values = reinterpret_cast<float *>(out.data());
                           for (size_t i = 0; i < out.size() / sizeof(float); ++i)
                             values[i] = static_cast<float>(i);
                         }});
    }
    if (auto error = writeSafeTensors(dir.path("model.safetensors"), tensors, {}))
      return std::move(error);
    auto opened = Checkpoint::open(dir.str());
    if (!opened)
      return opened.takeError();
    checkpoint = std::move(*opened);
    WeightLoader loader(*checkpoint, params, model.config);
    auto names = (builder ? builder : model.model.get())->loadWeights(loader);
    if (!names)
      return names.takeError();
    loadedNames = *names;
    return loader.finish();
  }

  TempDir dir;
  mlir::MLIRContext context;
  ResolvedModel model;
  mlir::OwningOpRef<mlir::ModuleOp> graph;
  ParamTable params;
  std::unique_ptr<Checkpoint> checkpoint;
  std::set<std::string> loadedNames;
};

} // namespace

TEST_F(WeightLoaderTest, PacksStackedParamsAndReturnsLoadedNames) {
  auto loaded = load(llamaCheckpointShapes());
  ASSERT_TRUE(static_cast<bool>(loaded)) << errorText(loaded);
  EXPECT_TRUE(loadedNames.count("model.layers.0.self_attn.qkv_proj.weight"));
  EXPECT_TRUE(loadedNames.count("model.layers.0.mlp.gate_up_proj.weight"));
  EXPECT_FALSE(loadedNames.count("model.layers.0.self_attn.q_proj.weight"));
  const LoadedParam &qkv = loaded->at("model.layers.0.self_attn.qkv_proj.weight");
  ASSERT_EQ(qkv.segments.size(), 3u);
  EXPECT_EQ(qkv.segments[1].tensor->name, "model.layers.0.self_attn.k_proj.weight");
  int64_t attention = 2 * kHeads * kHeadDim * kHidden + 2 * kKvHeads * kHeadDim * kHidden;
  EXPECT_EQ(params.numElements(),
            2 * kVocab * kHidden + attention + 3 * kHidden * kIntermediate + 3 * kHidden);
}

TEST_F(WeightLoaderTest, MissingTensorIsNamed) {
  auto shapes = llamaCheckpointShapes();
  shapes.erase("model.layers.0.self_attn.k_proj.weight");
  std::string message = errorText(load(shapes).takeError());
  EXPECT_NE(message.find("checkpoint has no tensor 'model.layers.0.self_attn.k_proj.weight'"),
            std::string::npos)
      << message;
}

TEST_F(WeightLoaderTest, UnusedTensorIsNamed) {
  auto shapes = llamaCheckpointShapes();
  shapes["model.layers.0.mlp.extra.weight"] = {2, 2};
  std::string message = errorText(load(shapes).takeError());
  EXPECT_NE(message.find("'model.layers.0.mlp.extra.weight' matches no parameter"),
            std::string::npos)
      << message;
}

TEST_F(WeightLoaderTest, WrongShapeIsNamed) {
  auto shapes = llamaCheckpointShapes();
  shapes["model.layers.0.mlp.up_proj.weight"] = {kIntermediate + 1, kHidden};
  std::string message = errorText(load(shapes).takeError());
  EXPECT_NE(message.find("checkpoint tensor 'model.layers.0.mlp.up_proj.weight' has shape "
                         "[25, 16] but parameter 'model.layers.0.mlp.gate_up_proj.weight' "
                         "(up_proj) expects [24, 16]"),
            std::string::npos)
      << message;
}

TEST_F(WeightLoaderTest, WrongDtypeIsNamed) {
  std::string message =
      errorText(load(llamaCheckpointShapes(), {{"model.norm.weight", DType::I64}}).takeError());
  EXPECT_NE(message.find("checkpoint tensor 'model.norm.weight' has dtype I64"),
            std::string::npos)
      << message;
}

TEST_F(WeightLoaderTest, RotaryBuffersAreIgnored) {
  auto shapes = llamaCheckpointShapes();
  shapes["model.layers.0.self_attn.rotary_emb.inv_freq"] = {kHeadDim / 2};
  auto loaded = load(shapes);
  EXPECT_TRUE(static_cast<bool>(loaded)) << errorText(loaded);
}

namespace {
/// A Llama whose checkpoint stores o_proj as [in, out] (as GPT-2's Conv1D does): the hook
/// transposes it as it is packed.
class TransposedOutputLlama : public LlamaForCausalLM {
public:
  std::shared_ptr<const TensorTransform>
  checkpointTransform(llvm::StringRef checkpointName, llvm::StringRef param,
                      const ModelConfig &config) const override {
    if (!checkpointName.ends_with("o_proj.weight"))
      return nullptr;
    auto transform = std::make_shared<TensorTransform>();
    transform->description = "transposed from [in, out]";
    transform->sourceShape = {kHeads * kHeadDim, kHidden};
    transform->shape = {kHidden, kHeads * kHeadDim};
    transform->apply = [](llvm::ArrayRef<float> source, llvm::ArrayRef<int64_t> shape,
                          llvm::MutableArrayRef<float> out) {
      for (int64_t row = 0; row < shape[0]; ++row)
        for (int64_t column = 0; column < shape[1]; ++column)
          out[column * shape[0] + row] = source[row * shape[1] + column];
    };
    return transform;
  }
};
} // namespace

TEST_F(WeightLoaderTest, CheckpointTransformRewritesTheTensorAsItIsLoaded) {
  auto shapes = llamaCheckpointShapes();
  std::string oProj = "model.layers.0.self_attn.o_proj.weight";
  shapes[oProj] = {kHeads * kHeadDim, kHidden}; // [in, out]
  TransposedOutputLlama builder;
  auto loaded = load(shapes, {}, &builder);
  ASSERT_TRUE(static_cast<bool>(loaded)) << errorText(loaded);
  std::vector<float> data = materializeSegment(loaded->at(oProj), 0);
  ASSERT_EQ(data.size(), static_cast<size_t>(kHidden * kHeads * kHeadDim));
  // out[r][c] = checkpoint[c][r] = c * kHidden + r.
  for (int64_t r = 0; r < kHidden; ++r)
    for (int64_t c = 0; c < kHeads * kHeadDim; ++c)
      ASSERT_EQ(data[r * kHeads * kHeadDim + c], static_cast<float>(c * kHidden + r));
  // Untransformed tensors come through as stored.
  std::vector<float> norm = materializeSegment(loaded->at("model.norm.weight"), 0);
  EXPECT_EQ(norm[3], 3.0f);
}

TEST_F(WeightLoaderTest, TransformedShapeMismatchNamesTheTransform) {
  TransposedOutputLlama builder;
  // A checkpoint tensor of another shape never reaches the transform.
  auto shapes = llamaCheckpointShapes();
  shapes["model.layers.0.self_attn.o_proj.weight"] = {kHeads * kHeadDim + 4, kHidden};
  auto loaded = load(shapes, {}, &builder);
  ASSERT_FALSE(static_cast<bool>(loaded));
  std::string message = errorText(loaded.takeError());
  EXPECT_NE(message.find("checkpoint tensor 'model.layers.0.self_attn.o_proj.weight' has shape "
                         "[20, 16], but parameter 'model.layers.0.self_attn.o_proj.weight' "
                         "reads it transposed from [in, out], which takes [16, 16]"),
            std::string::npos)
      << message;
}

TEST_F(WeightLoaderTest, InternLM2WqkvIsRegroupedPerKvHead) {
  useConfig(R"({"architectures": ["InternLM2ForCausalLM"], "vocab_size": 32,
      "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 1,
      "num_attention_heads": 4, "num_key_value_heads": 2, "bias": false})");
  std::string layer = "model.layers.0.";
  int64_t rows = (kHeads + 2 * kKvHeads) * kHeadDim;
  std::map<std::string, std::vector<int64_t>> shapes = {
      {"model.tok_embeddings.weight", {kVocab, kHidden}},
      {layer + "attention.wqkv.weight", {rows, kHidden}},
      {layer + "attention.wo.weight", {kHidden, kHeads * kHeadDim}},
      {layer + "feed_forward.w1.weight", {kIntermediate, kHidden}},
      {layer + "feed_forward.w3.weight", {kIntermediate, kHidden}},
      {layer + "feed_forward.w2.weight", {kHidden, kIntermediate}},
      {layer + "attention_norm.weight", {kHidden}},
      {layer + "ffn_norm.weight", {kHidden}},
      {"model.norm.weight", {kHidden}},
      {"output.weight", {kVocab, kHidden}},
  };
  auto loaded = load(shapes);
  ASSERT_TRUE(static_cast<bool>(loaded)) << errorText(loaded);
  const LoadedParam &wqkv = loaded->at(layer + "attention.wqkv.weight");
  ASSERT_EQ(wqkv.segments.size(), 3u);
  // Checkpoint row r holds r * kHidden, r * kHidden + 1, ...; per KV head, rows
  // [2 query heads, key, value] of kHeadDim each.
  auto firstColumn = [&](size_t segment) {
    std::vector<float> data = materializeSegment(wqkv, segment);
    std::vector<int64_t> sourceRows;
    for (size_t i = 0; i < data.size(); i += kHidden)
      sourceRows.push_back(static_cast<int64_t>(data[i]) / kHidden);
    return sourceRows;
  };
  std::vector<int64_t> query, key, value;
  for (int64_t head = 0; head < kKvHeads; ++head) {
    int64_t block = head * 4 * kHeadDim;
    for (int64_t row = 0; row < 2 * kHeadDim; ++row)
      query.push_back(block + row);
    for (int64_t row = 0; row < kHeadDim; ++row) {
      key.push_back(block + 2 * kHeadDim + row);
      value.push_back(block + 3 * kHeadDim + row);
    }
  }
  EXPECT_EQ(firstColumn(0), query);
  EXPECT_EQ(firstColumn(1), key);
  EXPECT_EQ(firstColumn(2), value);
  // w1 and w3 are packed as the gate and up halves.
  EXPECT_EQ(loaded->at(layer + "feed_forward.gate_up_proj.weight").segments.size(), 2u);

  // A wqkv of the wrong size names what it was read as.
  shapes[layer + "attention.wqkv.weight"] = {rows - kHeadDim, kHidden};
  auto malformed = load(shapes);
  ASSERT_FALSE(static_cast<bool>(malformed));
  std::string message = errorText(malformed.takeError());
  EXPECT_NE(message.find("checkpoint tensor 'model.layers.0.attention.wqkv.weight' has shape "
                         "[28, 16], but parameter 'model.layers.0.attention.wqkv.weight' reads "
                         "it the query rows of each KV head's block (2 query heads, key, value), "
                         "which takes [32, 16]"),
            std::string::npos)
      << message;
}

TEST_F(WeightLoaderTest, GPT2Conv1DWeightsAreTransposed) {
  useConfig(R"({"architectures": ["GPT2LMHeadModel"], "vocab_size": 32, "n_embd": 16,
      "n_layer": 1, "n_head": 4, "n_inner": 24, "n_positions": 8})");
  // The original gpt2 files: no `transformer.` prefix, causal-mask buffers.
  std::map<std::string, std::vector<int64_t>> shapes = {
      {"wte.weight", {kVocab, kHidden}},
      {"wpe.weight", {8, kHidden}},
      {"h.0.ln_1.weight", {kHidden}},
      {"h.0.ln_1.bias", {kHidden}},
      {"h.0.attn.bias", {1, 1, 8, 8}},
      {"h.0.attn.c_attn.weight", {kHidden, 3 * kHidden}},
      {"h.0.attn.c_attn.bias", {3 * kHidden}},
      {"h.0.attn.c_proj.weight", {kHidden, kHidden}},
      {"h.0.attn.c_proj.bias", {kHidden}},
      {"h.0.ln_2.weight", {kHidden}},
      {"h.0.ln_2.bias", {kHidden}},
      {"h.0.mlp.c_fc.weight", {kHidden, kIntermediate}},
      {"h.0.mlp.c_fc.bias", {kIntermediate}},
      {"h.0.mlp.c_proj.weight", {kIntermediate, kHidden}},
      {"h.0.mlp.c_proj.bias", {kHidden}},
      {"ln_f.weight", {kHidden}},
      {"ln_f.bias", {kHidden}},
  };
  auto loaded = load(shapes);
  ASSERT_TRUE(static_cast<bool>(loaded)) << errorText(loaded);
  // Segment k of c_attn is columns [16k, 16k + 16) of the [in, out] checkpoint, transposed:
  // out[r][c] = checkpoint[c][16k + r] = c * 48 + 16k + r.
  const LoadedParam &cAttn = loaded->at("transformer.h.0.attn.c_attn.weight");
  for (size_t segment = 0; segment < 3; ++segment) {
    std::vector<float> data = materializeSegment(cAttn, segment);
    ASSERT_EQ(data.size(), static_cast<size_t>(kHidden * kHidden));
    for (int64_t r = 0; r < kHidden; ++r)
      for (int64_t c = 0; c < kHidden; ++c)
        ASSERT_EQ(data[r * kHidden + c],
                  static_cast<float>(c * 3 * kHidden + 16 * static_cast<int64_t>(segment) + r));
  }
  // The bias is split in order, untransposed.
  std::vector<float> keyBias =
      materializeSegment(loaded->at("transformer.h.0.attn.c_attn.bias"), 1);
  EXPECT_EQ(keyBias[0], static_cast<float>(kHidden));
  // c_fc [16, 24] becomes [24, 16].
  std::vector<float> fc = materializeSegment(loaded->at("transformer.h.0.mlp.c_fc.weight"), 0);
  EXPECT_EQ(fc[1], static_cast<float>(kIntermediate)); // out[0][1] = checkpoint[1][0]
}

TEST_F(WeightLoaderTest, BaichuanNormHeadRowsAreNormalised) {
  useConfig(R"({"architectures": ["BaichuanForCausalLM"], "vocab_size": 32,
      "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 1,
      "num_attention_heads": 4})");
  std::string layer = "model.layers.0.";
  std::map<std::string, std::vector<int64_t>> shapes = {
      {"model.embed_tokens.weight", {kVocab, kHidden}},
      {layer + "self_attn.W_pack.weight", {3 * kHidden, kHidden}},
      {layer + "self_attn.o_proj.weight", {kHidden, kHidden}},
      {layer + "mlp.gate_proj.weight", {kIntermediate, kHidden}},
      {layer + "mlp.up_proj.weight", {kIntermediate, kHidden}},
      {layer + "mlp.down_proj.weight", {kHidden, kIntermediate}},
      {layer + "input_layernorm.weight", {kHidden}},
      {layer + "post_attention_layernorm.weight", {kHidden}},
      {"model.norm.weight", {kHidden}},
      {"lm_head.weight", {kVocab, kHidden}},
  };
  auto loaded = load(shapes);
  ASSERT_TRUE(static_cast<bool>(loaded)) << errorText(loaded);
  std::vector<float> head = materializeSegment(loaded->at("lm_head.weight"), 0);
  for (int64_t row = 0; row < kVocab; ++row) {
    double sumOfSquares = 0.0;
    for (int64_t i = 0; i < kHidden; ++i)
      sumOfSquares += head[row * kHidden + i] * head[row * kHidden + i];
    // Row 0 of the checkpoint is 0..15, so every row is nonzero.
    EXPECT_NEAR(sumOfSquares, 1.0, 1e-5) << "row " << row;
  }
  // W_pack is q, k and v in order.
  EXPECT_EQ(materializeSegment(loaded->at(layer + "self_attn.W_pack.weight"), 2)[0],
            static_cast<float>(2 * kHidden * kHidden));
}

TEST_F(WeightLoaderTest, MixtralExpertsAreStacked) {
  useConfig(R"({"architectures": ["MixtralForCausalLM"], "vocab_size": 32,
      "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 1,
      "num_attention_heads": 4, "num_key_value_heads": 2, "num_local_experts": 3,
      "num_experts_per_tok": 2})");
  std::string layer = "model.layers.0.";
  std::map<std::string, std::vector<int64_t>> shapes = {
      {"model.embed_tokens.weight", {kVocab, kHidden}},
      {layer + "self_attn.q_proj.weight", {kHeads * kHeadDim, kHidden}},
      {layer + "self_attn.k_proj.weight", {kKvHeads * kHeadDim, kHidden}},
      {layer + "self_attn.v_proj.weight", {kKvHeads * kHeadDim, kHidden}},
      {layer + "self_attn.o_proj.weight", {kHidden, kHeads * kHeadDim}},
      {layer + "block_sparse_moe.gate.weight", {3, kHidden}},
      {layer + "input_layernorm.weight", {kHidden}},
      {layer + "post_attention_layernorm.weight", {kHidden}},
      {"model.norm.weight", {kHidden}},
      {"lm_head.weight", {kVocab, kHidden}},
  };
  for (int expert = 0; expert < 3; ++expert) {
    std::string prefix = layer + "block_sparse_moe.experts." + std::to_string(expert) + ".";
    shapes[prefix + "w1.weight"] = {kIntermediate, kHidden};
    shapes[prefix + "w3.weight"] = {kIntermediate, kHidden};
    shapes[prefix + "w2.weight"] = {kHidden, kIntermediate};
  }
  auto loaded = load(shapes);
  ASSERT_TRUE(static_cast<bool>(loaded)) << errorText(loaded);
  const LoadedParam &gateUp = loaded->at(layer + "block_sparse_moe.experts.gate_up.weight");
  const LoadedParam &down = loaded->at(layer + "block_sparse_moe.experts.down.weight");
  ASSERT_EQ(gateUp.segments.size(), 6u);
  ASSERT_EQ(down.segments.size(), 3u);
  // Expert e's gate rows, then its up rows, expert by expert.
  EXPECT_EQ(gateUp.segments[2].tensor->name, layer + "block_sparse_moe.experts.1.w1.weight");
  EXPECT_EQ(gateUp.segments[3].tensor->name, layer + "block_sparse_moe.experts.1.w3.weight");
  EXPECT_EQ(down.segments[2].tensor->name, layer + "block_sparse_moe.experts.2.w2.weight");

  // An expert of the wrong width is named with the stack it was to fill.
  shapes[layer + "block_sparse_moe.experts.2.w3.weight"] = {kIntermediate - 1, kHidden};
  auto malformed = load(shapes);
  ASSERT_FALSE(static_cast<bool>(malformed));
  std::string message = errorText(malformed.takeError());
  EXPECT_NE(message.find("checkpoint tensor 'model.layers.0.block_sparse_moe.experts.2.w3.weight' "
                         "has shape [23, 16] but parameter "
                         "'model.layers.0.block_sparse_moe.experts.gate_up.weight' (2.w3) "
                         "expects [24, 16]"),
            std::string::npos)
      << message;
}
