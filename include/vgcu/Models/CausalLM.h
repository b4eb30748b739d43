//===- CausalLM.h - The interface every model graph builder implements ------------===//
#ifndef VGCU_MODELS_CAUSALLM_H
#define VGCU_MODELS_CAUSALLM_H

#include "vgcu/Config/ModelConfig.h"
#include "vgcu/Models/ModelContext.h"
#include "vgcu/Weights/DType.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace vgcu {

class Checkpoint;
class WeightLoader;
struct ParamInfo;
struct TensorTransform;

/// packed parameter name → the checkpoint modules packed into it, in order
/// (vLLM's packed_modules_mapping), e.g. "qkv_proj" → {"q_proj", "k_proj", "v_proj"}.
using PackedModulesMapping = std::map<std::string, std::vector<std::string>>;

/// A decoder-only model as vLLM writes one: the top-level `*ForCausalLM` module. Builders
/// implement init() (vLLM's __init__, creating the module tree with prefixes) and the
/// methods below; buildModelGraph() turns them into a `vgcu` module with two functions,
/// `@forward(input_ids, positions) -> hidden_states` and
/// `@compute_logits(hidden_states) -> logits`.
class CausalLM {
public:
  virtual ~CausalLM();

  /// Reads config.json; the default reads a Llama-like decoder with configDefaults().
  virtual llvm::Error parseConfig(const ConfigReader &reader, ModelConfig &config) const;
  /// The Hugging Face defaults of this architecture's optional config fields.
  virtual ConfigDefaults configDefaults() const { return {}; }
  virtual PackedModulesMapping packedModulesMapping() const;

  /// Creates the modules; `prefix` is "" for a top-level model.
  virtual void init(ModelContext &ctx, llvm::StringRef prefix) = 0;
  virtual mlir::Value getInputEmbeddings(mlir::Value inputIds) = 0;
  virtual mlir::Value forward(mlir::Value inputIds, mlir::Value positions) = 0;
  virtual mlir::Value computeLogits(mlir::Value hiddenStates) = 0;

  /// Hands every checkpoint tensor to `loader` under the parameter it fills, as vLLM's
  /// load_weights does with its stacked_params_mapping; returns the parameters loaded.
  virtual llvm::Expected<std::set<std::string>> loadWeights(WeightLoader &loader) const;
  /// The name a checkpoint tensor has in this model before packing (default: the same).
  virtual std::string parameterNameFor(llvm::StringRef checkpointName) const;
  /// How checkpoint tensor `checkpointName` must be rewritten to fill (its segment of)
  /// parameter `param`, if its layout differs from vgcu's (default: it does not).
  virtual std::shared_ptr<const TensorTransform>
  checkpointTransform(llvm::StringRef checkpointName, llvm::StringRef param,
                      const ModelConfig &config) const;
  /// How each segment of packed parameter `param` is taken from the one checkpoint tensor
  /// `checkpointName` that stores all of them (Phi-3's qkv_proj, InternLM2's wqkv grouped
  /// per KV head, GPT-2's transposed c_attn). Default: consecutive rows, in segment order.
  virtual std::vector<std::shared_ptr<const TensorTransform>>
  packedSegmentTransforms(llvm::StringRef checkpointName, const ParamInfo &param,
                          const ModelConfig &config) const;
  /// Checkpoint tensors this model ignores (rotary inv_freq buffers, a tied lm_head).
  virtual bool skipCheckpointTensor(llvm::StringRef name, const ModelConfig &config) const;
  /// The sequence length at which generation recomputes the whole sequence instead of
  /// decoding one token, as Hugging Face's generate does for this architecture (Phi-3 with
  /// LongRoPE, so that cached keys are rotated with the factors of the longer sequence);
  /// nothing for ordinary incremental decoding.
  virtual std::optional<int64_t> recomputeAtLength(const ModelConfig &config) const {
    return std::nullopt;
  }
};

/// Parses `config` for `model` and builds its graph in `dtype`.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
buildModelGraph(CausalLM &model, const ModelConfig &config, mlir::MLIRContext *context,
                DType dtype);

/// Reads `configPath` with the builder registered for its architecture.
struct ResolvedModel {
  std::unique_ptr<CausalLM> model;
  ModelConfig config;
};
llvm::Expected<ResolvedModel> resolveModel(llvm::StringRef configPath);
/// The same for config.json contents already read; `path` names them in errors.
llvm::Expected<ResolvedModel> resolveModelFromJson(const llvm::json::Object &json,
                                                   llvm::StringRef path);

} // namespace vgcu

#endif // VGCU_MODELS_CAUSALLM_H
