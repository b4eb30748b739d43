//===- RegistryTest.cpp - Registering, overriding and looking up architectures -----===//

#include "TestUtil.h"

#include "vgcu/Models/Llama.h"
#include "vgcu/Models/ModelRegistry.h"
#include "vgcu/Support/Log.h"

#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

using namespace vgcu;
using namespace vgcu::test;

namespace {

/// Captures what the vgcu logger prints while alive.
class LogCapture {
public:
  LogCapture() : sink(std::make_shared<spdlog::sinks::ostream_sink_mt>(stream)) {
    sink->set_pattern("%v");
    logger().sinks().push_back(sink);
  }
  ~LogCapture() { logger().sinks().pop_back(); }
  std::string text() const { return stream.str(); }

private:
  std::ostringstream stream;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink;
};

/// A Llama whose MLP is built by the base class, told apart by its config defaults.
class MarkedLlama : public LlamaForCausalLM {
public:
  ConfigDefaults configDefaults() const override {
    ConfigDefaults defaults;
    defaults.ropeTheta = 1234.0;
    return defaults;
  }
};

} // namespace

TEST(Registry, BuiltinsAreRegistered) {
  ModelRegistry::registerBuiltinModels();
  ModelRegistry &registry = ModelRegistry::global();
  for (const char *name : {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM",
                           "Qwen3ForCausalLM", "OPTForCausalLM"}) {
    EXPECT_TRUE(registry.contains(name)) << name;
    auto model = registry.create(name);
    ASSERT_TRUE(static_cast<bool>(model)) << errorText(model);
  }
  std::string markdown = registry.supportedModelsMarkdown();
  EXPECT_NE(markdown.find("| `Qwen3ForCausalLM` |"), std::string::npos);
}

TEST(Registry, UnknownArchitectureListsRegisteredAndSuggests) {
  ModelRegistry::registerBuiltinModels();
  auto model = ModelRegistry::global().create("LlamaForCausalLm");
  std::string message = errorText(model);
  EXPECT_NE(message.find("unknown architecture 'LlamaForCausalLm'"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'LlamaForCausalLM'?"), std::string::npos) << message;
  EXPECT_NE(message.find("OPTForCausalLM"), std::string::npos) << message;
  std::string far = errorText(ModelRegistry::global().create("Zebra"));
  EXPECT_EQ(far.find("did you mean"), std::string::npos) << far;
}

TEST(Registry, RegisteringLogsNewAndOverride) {
  ModelRegistry::registerBuiltinModels();
  ModelRegistry &registry = ModelRegistry::global();
  {
    LogCapture capture;
    registry.registerModel("UnitTestForCausalLM",
                           [] { return std::make_unique<LlamaForCausalLM>(); });
    EXPECT_NE(capture.text().find("Model architecture UnitTestForCausalLM has been registered"),
              std::string::npos)
        << capture.text();
  }
  {
    LogCapture capture;
    registry.registerModel("UnitTestForCausalLM", [] { return std::make_unique<MarkedLlama>(); });
    EXPECT_NE(capture.text().find("Model architecture UnitTestForCausalLM is already registered, "
                                  "and will be overwritten"),
              std::string::npos)
        << capture.text();
  }
  auto model = registry.create("UnitTestForCausalLM");
  ASSERT_TRUE(static_cast<bool>(model)) << errorText(model);
  EXPECT_DOUBLE_EQ((*model)->configDefaults().ropeTheta, 1234.0);
}

TEST(Registry, FactoriesRunOnlyWhenUsed) {
  int calls = 0;
  ModelRegistry::global().registerModel("LazyForCausalLM", [&calls] {
    ++calls;
    return std::make_unique<LlamaForCausalLM>();
  });
  EXPECT_EQ(calls, 0);
  ASSERT_TRUE(static_cast<bool>(ModelRegistry::global().create("LazyForCausalLM")));
  EXPECT_EQ(calls, 1);
}

TEST(Registry, PluginWithoutEntryPointIsRefused) {
  std::string missing = errorText(loadPlugin("/nonexistent/plugin.so"));
  EXPECT_NE(missing.find("cannot load plugin '/nonexistent/plugin.so'"), std::string::npos)
      << missing;
  // libm is a real shared library without vgcuRegisterPlugin.
  std::string noEntry = errorText(loadPlugin("libm.so.6"));
  EXPECT_NE(noEntry.find("does not export vgcuRegisterPlugin"), std::string::npos) << noEntry;
}
