//===- ModelRegistry.h - Architecture names to graph builders ---------------------===//
#ifndef VGCU_MODELS_MODELREGISTRY_H
#define VGCU_MODELS_MODELREGISTRY_H

#include "vgcu/Models/CausalLM.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vgcu {

using ModelFactory = std::function<std::unique_ptr<CausalLM>()>;

/// What docs/supported_models.md says about an architecture.
struct ModelInfo {
  std::string family;
  std::string description;
  std::vector<std::string> exampleModels;
};

/// Architecture strings of config.json (`architectures[0]`) mapped to builder factories.
/// Factories run only when a model of that architecture is built.
class ModelRegistry {
public:
  static ModelRegistry &global();

  /// Registers (or overrides) an architecture, logging which of the two happened, as
  /// vLLM's ModelRegistry.register_model does.
  void registerModel(llvm::StringRef architecture, ModelFactory factory, ModelInfo info = {});
  bool contains(llvm::StringRef architecture) const;
  /// Registered architectures, sorted.
  std::vector<std::string> architectures() const;
  const ModelInfo *info(llvm::StringRef architecture) const;
  /// A new builder, or an error listing what is registered and the closest name.
  llvm::Expected<std::unique_ptr<CausalLM>> create(llvm::StringRef architecture) const;
  /// Markdown table of the registered architectures (docs/supported_models.md).
  std::string supportedModelsMarkdown() const;

  /// Registers vgcu's own architectures without logging (called once by every tool).
  static void registerBuiltinModels();

private:
  struct Entry {
    ModelFactory factory;
    ModelInfo info;
  };
  std::map<std::string, Entry> entries;
  friend void registerBuiltin(llvm::StringRef, ModelFactory, ModelInfo);
};

/// Registers one of vgcu's own architectures, silently (registerBuiltinModels uses it).
void registerBuiltin(llvm::StringRef architecture, ModelFactory factory, ModelInfo info);

/// Loads a plugin: a shared library exporting
/// `extern "C" void vgcuRegisterPlugin(vgcu::ModelRegistry &registry)`.
llvm::Error loadPlugin(llvm::StringRef path);
/// Loads every plugin named by --load-plugin and by the VGCU_PLUGINS environment variable
/// (paths separated by ':').
llvm::Error loadPlugins(llvm::ArrayRef<std::string> paths);

} // namespace vgcu

/// The entry point a plugin exports.
extern "C" void vgcuRegisterPlugin(vgcu::ModelRegistry &registry);

#endif // VGCU_MODELS_MODELREGISTRY_H
