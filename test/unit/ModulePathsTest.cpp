//===- ModulePathsTest.cpp - Module paths and decoder layers read from op locations -===//

#include "vgcu/Support/ModulePaths.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace vgcu;

TEST(ModulePaths, DecoderLayerOfEveryFamilysLayerList) {
  auto llama = decoderLayerOf("model.layers.3.self_attn.o_proj");
  ASSERT_TRUE(llama);
  EXPECT_EQ(llama->path, "model.layers.3");
  EXPECT_EQ(llama->index, 3);
  auto chatglm = decoderLayerOf("transformer.encoder.layers.12.mlp");
  ASSERT_TRUE(chatglm);
  EXPECT_EQ(chatglm->path, "transformer.encoder.layers.12");
  auto gpt2 = decoderLayerOf("transformer.h.0");
  ASSERT_TRUE(gpt2);
  EXPECT_EQ(gpt2->path, "transformer.h.0");
  EXPECT_EQ(gpt2->index, 0);
  EXPECT_FALSE(decoderLayerOf("model.embed_tokens"));
  EXPECT_FALSE(decoderLayerOf("model.layers"));
  EXPECT_FALSE(decoderLayerOf("model.layers.x.mlp"));
  EXPECT_FALSE(decoderLayerOf(""));
}

TEST(ModulePaths, PrimaryPathIsTheFirstNameWithoutParameterSuffix) {
  MLIRContext context;
  Builder b(&context);
  auto name = [&](llvm::StringRef text) { return NameLoc::get(b.getStringAttr(text)); };
  EXPECT_EQ(primaryModulePath(name("model.norm.weight")), "model.norm");
  EXPECT_EQ(primaryModulePath(name("model.norm.weight.folded")), "model.norm");
  EXPECT_EQ(primaryModulePath(name("lm_head.bias")), "lm_head");
  Location fused = b.getFusedLoc({name("model.layers.1.input_layernorm"),
                                  name("model.layers.0.mlp.down_proj")});
  EXPECT_EQ(primaryModulePath(fused), "model.layers.1.input_layernorm");
  EXPECT_EQ(layerOf(fused), 1);
  EXPECT_FALSE(primaryModulePath(b.getUnknownLoc()));
  EXPECT_FALSE(layerOf(name("lm_head")));
}
