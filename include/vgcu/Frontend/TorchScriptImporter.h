//===- TorchScriptImporter.h - TorchScript (torch.jit.trace) modules to vgcu IR ----===//
#ifndef VGCU_FRONTEND_TORCHSCRIPTIMPORTER_H
#define VGCU_FRONTEND_TORCHSCRIPTIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace vgcu {

/// A parameter of a traced module: its bytes stay owned by the module (TracedModel keeps
/// it alive).
struct TracedParameter {
  std::string name;
  /// The safetensors spelling of its dtype ("F32", "BF16", ...).
  std::string dtype;
  std::vector<int64_t> shape;
  llvm::ArrayRef<uint8_t> bytes;
};

/// An imported TorchScript file.
struct TracedModel {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// Every parameter the graph reads, named as in the module (`model.norm.weight`).
  std::vector<TracedParameter> parameters;
  /// The archive's `config.json` extra file (torch.jit.save(..., _extra_files=...)), or
  /// empty.
  std::string configJson;
  /// Owns what `parameters` point into.
  std::shared_ptr<void> storage;
};

/// Imports the `forward` method of a TorchScript file saved with torch.jit.save (normally a
/// torch.jit.trace of a *ForCausalLM module) as a `vgcu` module with one function,
/// `@forward(input_ids: tensor<?xi64>, positions: tensor<?xi64>)`, built from primitive ops.
/// `forward` may take the positions (`forward(input_ids, position_ids)`), derive them
/// from an all-ones attention mask (`forward(input_ids, attention_mask)`: mask.cumsum(-1)
/// - 1), or derive them from the token count (`forward(input_ids)`: arange(T), the way
/// Hugging Face models are traced); derived positions become the positions argument.
///
/// Submodule calls are inlined with their module path, so parameters become `vgcu.param`
/// values named as the checkpoint names them (`model.layers.0.self_attn.q_proj.weight`) and
/// every op is located at its module and Python source line. Buffers and anything computed
/// only from constants are evaluated at import time with LibTorch's own kernels; the token
/// dimension stays dynamic. An op outside the supported set is an error that names the
/// `aten::` op and the Python line it came from.
llvm::Expected<TracedModel> importTorchScript(llvm::StringRef path, mlir::MLIRContext &context);

/// importTorchScript from libVgcuFrontend.so, loaded on first use: LibTorch is large, and
/// tools that only sometimes import should not pay for loading it on every start.
llvm::Expected<TracedModel> importTorchScriptOnDemand(llvm::StringRef path,
                                                      mlir::MLIRContext &context);

} // namespace vgcu

/// The entry importTorchScriptOnDemand looks up: imports `path` into `*model` or sets
/// `*error`; returns whether it succeeded.
extern "C" bool vgcuImportTorchScript(const char *path, mlir::MLIRContext *context,
                                      vgcu::TracedModel *model, std::string *error);

#endif // VGCU_FRONTEND_TORCHSCRIPTIMPORTER_H
