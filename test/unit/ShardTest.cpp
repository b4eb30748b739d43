//===- ShardTest.cpp - Per-rank weight slices put back together are the whole ------===//

#include "TestUtil.h"

#include "vgcu/Compiler/Artifact.h"
#include "vgcu/Models/ModelRegistry.h"

#include "mlir/IR/MLIRContext.h"

#include <cstring>
#include <random>

using namespace vgcu;
using namespace vgcu::test;

namespace {

/// A tiny Llama with vocabulary 250 (padded for every tp) and 2 KV heads (replicated at tp 4).
constexpr const char *kLlamaConfig = R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 250,
    "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "torch_dtype": "float32"})";
/// A tiny Mixtral: 4 stacked experts, for expert parallelism alone and with tp.
constexpr const char *kMixtralConfig = R"({"architectures": ["MixtralForCausalLM"],
    "vocab_size": 250, "hidden_size": 64, "intermediate_size": 32, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "num_local_experts": 4,
    "num_experts_per_tok": 2, "torch_dtype": "float32"})";

struct ShardCase {
  const char *name;
  const char *config;
  int64_t tp, ep;
};

class ShardTest : public ::testing::TestWithParam<ShardCase> {
protected:
  void SetUp() override {
    ModelRegistry::registerBuiltinModels();
    dir.write("config.json", GetParam().config);
    auto opened = openModelSource(dir.str(), std::nullopt);
    ASSERT_TRUE(static_cast<bool>(opened)) << errorText(opened);
    source = std::move(*opened);
    auto graph = compileToStage(source, context, Stage::Graph, {});
    ASSERT_TRUE(static_cast<bool>(graph)) << errorText(graph);
    auto table = ParamTable::fromModule(**graph);
    ASSERT_TRUE(static_cast<bool>(table)) << errorText(table);
    params = std::move(*table);
    writeRandomCheckpoint();
    auto checkpointOr = Checkpoint::open(dir.str());
    ASSERT_TRUE(static_cast<bool>(checkpointOr)) << errorText(checkpointOr);
    checkpoint = std::move(*checkpointOr);
    WeightLoader loader(*checkpoint, params, source.resolved.config);
    ASSERT_TRUE(static_cast<bool>(source.resolved.model->loadWeights(loader)));
    auto loadedOr = loader.finish();
    ASSERT_TRUE(static_cast<bool>(loadedOr)) << errorText(loadedOr);
    loaded = std::move(*loadedOr);
    // Every other parameter's segments go through a transform (a negation), as a checkpoint
    // stored in another layout would: the slices must come from the transformed data.
    bool transform = false;
    for (auto &[name, param] : loaded) {
      transform = !transform;
      if (!transform)
        continue;
      for (size_t index = 0; index < param.segments.size(); ++index) {
        auto negate = std::make_shared<TensorTransform>();
        negate->description = "negated";
        negate->sourceShape = param.segments[index].tensor->shape;
        negate->shape = negate->sourceShape;
        negate->apply = [](llvm::ArrayRef<float> in, llvm::ArrayRef<int64_t>,
                           llvm::MutableArrayRef<float> out) {
          for (size_t i = 0; i < in.size(); ++i)
            out[i] = -in[i];
        };
        param.transforms.resize(param.segments.size());
        param.transforms[index] = negate;
      }
    }

    CompileOptions options;
    options.tensorParallel = GetParam().tp;
    options.expertParallel = GetParam().ep;
    sharded = (*graph)->clone();
    ASSERT_FALSE(fuseGraph(*sharded, options));
    ASSERT_FALSE(shardGraph(*sharded, options));
  }

  /// The checkpoint as Hugging Face stores it: unpacked q/k/v and gate/up, random values.
  void writeRandomCheckpoint() {
    std::mt19937 generator(1234);
    std::normal_distribution<float> normal;
    std::vector<TensorToWrite> tensors;
    for (const auto &[name, info] : params.params()) {
      std::vector<std::pair<std::string, std::vector<int64_t>>> pieces;
      if (info.segments.empty()) {
        pieces.push_back({name, {info.shape.begin(), info.shape.end()}});
      } else {
        for (const auto &[module, rows] : info.segments) {
          std::vector<int64_t> shape(info.shape.begin(), info.shape.end());
          shape[0] = rows;
          std::string packed = name.substr(0, name.rfind('.'));
          std::string unpacked =
              packed.substr(0, packed.rfind('.') + 1) + module + name.substr(name.rfind('.'));
          pieces.push_back({unpacked, shape});
        }
      }
      for (auto &[piece, shape] : pieces) {
        int64_t count = 1;
        for (int64_t dim : shape)
          count *= dim;
        auto values = std::make_shared<std::vector<float>>(count);
        for (float &value : *values)
          value = normal(generator);
        tensors.push_back({piece, DType::F32, llvm::SmallVector<int64_t, 4>(shape.begin(), shape.end()),
                           [values](llvm::MutableArrayRef<uint8_t> out) {
                             std::memcpy(out.data(), values->data(), out.size());
                           }});
      }
    }
    ASSERT_FALSE(writeSafeTensors(dir.path("model.safetensors"), tensors, {}));
  }

  /// The whole packed tensor: its segments' (transformed) checkpoint tensors stacked along
  /// dim 0.
  std::vector<float> wholeTensor(const LoadedParam &param) {
    std::vector<float> whole;
    for (size_t index = 0; index < param.segments.size(); ++index) {
      std::vector<float> segment = materializeSegment(param, index);
      whole.insert(whole.end(), segment.begin(), segment.end());
    }
    return whole;
  }

  TempDir dir;
  mlir::MLIRContext context;
  ModelSource source;
  ParamTable params;
  std::unique_ptr<Checkpoint> checkpoint;
  LoadedWeights loaded;
  mlir::OwningOpRef<mlir::ModuleOp> sharded;
};

} // namespace

TEST_P(ShardTest, RankSlicesReconstructEveryParameter) {
  // All tp · ep ranks, expert-parallel index major.
  int64_t ranks = GetParam().tp * GetParam().ep;
  auto layouts = collectWeightLayouts(*sharded);
  ASSERT_TRUE(static_cast<bool>(layouts)) << errorText(layouts);
  int shardedCount = 0;
  for (const WeightLayout &layout : *layouts) {
    const ParamInfo *info = params.find(layout.name);
    ASSERT_TRUE(info) << layout.name;
    std::vector<float> whole = wholeTensor(loaded.at(layout.name));
    int64_t localElements = 1;
    for (int64_t dim : layout.localShape)
      localElements *= dim;
    std::vector<std::vector<float>> slices(ranks, std::vector<float>(localElements));
    for (int64_t rank = 0; rank < ranks; ++rank)
      copyRankSlice(loaded.at(layout.name), info->shape, layout, rank, DType::F32,
                    llvm::MutableArrayRef<uint8_t>(reinterpret_cast<uint8_t *>(slices[rank].data()),
                                                   localElements * sizeof(float)));
    if (!layout.shard) {
      for (int64_t rank = 0; rank < ranks; ++rank)
        EXPECT_EQ(slices[rank], whole) << layout.name << " is replicated but rank " << rank
                                       << " holds something else";
      continue;
    }
    ++shardedCount;
    ShardAttr shard = *layout.shard;
    int64_t dim = shard.getDim();
    ASSERT_LT(dim, 2);
    // Rows (dim 0) or columns (dim 1) of the whole, padded tensor, put back from the slices.
    int64_t rows = dim == 0 ? shard.getGlobalSize() : info->shape[0];
    int64_t columns = info->shape.size() == 1 ? 1 : (dim == 1 ? shard.getGlobalSize() : info->shape[1]);
    std::vector<float> rebuilt(rows * columns, 0.0f);
    std::vector<int> copies(rows * columns, 0);
    int64_t localColumns = layout.localShape.size() == 1 ? 1 : layout.localShape[1];
    // Column slices of stacked experts cover only the rows of the rank's expert block.
    int64_t blockRows = dim == 1 ? rows / shard.getEp() : rows;
    for (int64_t rank = 0; rank < ranks; ++rank) {
      int64_t local = 0;
      int64_t firstRow = dim == 1 ? shard.getExpertIndex(rank) * blockRows : 0;
      for (auto [offset, size] : shard.getRankRanges(rank)) {
        for (int64_t i = 0; i < size; ++i, ++local) {
          for (int64_t other = 0; other < (dim == 0 ? columns : blockRows); ++other) {
            int64_t row = dim == 0 ? offset + i : firstRow + other;
            int64_t column = dim == 0 ? other : offset + i;
            float value = dim == 0 ? slices[rank][local * localColumns + other]
                                   : slices[rank][other * localColumns + local];
            if (copies[row * columns + column]++ == 0)
              rebuilt[row * columns + column] = value;
            else // a replicated KV head: every copy is the same
              EXPECT_EQ(rebuilt[row * columns + column], value) << layout.name;
          }
        }
      }
    }
    int64_t validRows = dim == 0 && shard.getValid() > 0 ? shard.getValid() : rows;
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t column = 0; column < columns; ++column) {
        ASSERT_GT(copies[row * columns + column], 0)
            << layout.name << ": element (" << row << ", " << column << ") is on no rank";
        float expected = row < validRows ? whole[row * columns + column] : 0.0f;
        ASSERT_EQ(rebuilt[row * columns + column], expected)
            << layout.name << ": element (" << row << ", " << column << ") differs"
            << (row >= validRows ? " (vocabulary padding must be zero)" : "");
      }
  }
  EXPECT_GT(shardedCount, 0);
}

INSTANTIATE_TEST_SUITE_P(Parallel, ShardTest,
                         ::testing::Values(ShardCase{"LlamaTp2", kLlamaConfig, 2, 1},
                                           ShardCase{"LlamaTp4", kLlamaConfig, 4, 1},
                                           ShardCase{"MixtralTp2", kMixtralConfig, 2, 1},
                                           ShardCase{"MixtralEp2", kMixtralConfig, 1, 2},
                                           ShardCase{"MixtralEp4", kMixtralConfig, 1, 4},
                                           ShardCase{"MixtralTp2Ep2", kMixtralConfig, 2, 2}),
                         [](const ::testing::TestParamInfo<ShardCase> &info) {
                           return std::string(info.param.name);
                         });
