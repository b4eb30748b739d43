//===- TorchScriptImporter.h - TorchScript (torch.jit.trace) modules to vgcu IR ----===//
#ifndef VGCU_FRONTEND_TORCHSCRIPTIMPORTER_H
#define VGCU_FRONTEND_TORCHSCRIPTIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace vgcu {

/// Imports the `forward(input_ids, positions)` method of a TorchScript file saved with
/// torch.jit.save (normally a torch.jit.trace of a *ForCausalLM module) as a `vgcu` module
/// with one function, `@forward(tensor<?xi64>, tensor<?xi64>)`, built from primitive ops.
///
/// Submodule calls are inlined with their module path, so parameters become `vgcu.param`
/// values named as the checkpoint names them (`model.layers.0.self_attn.q_proj.weight`) and
/// every op is located at its module and Python source line. Buffers and anything computed
/// only from constants are evaluated at import time with LibTorch's own kernels; the token
/// dimension stays dynamic. An op outside the supported set is an error that names the
/// `aten::` op and the Python line it came from.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importTorchScript(llvm::StringRef path, mlir::MLIRContext &context);

/// importTorchScript from libVgcuFrontend.so, loaded on first use: LibTorch is large, and
/// tools that only sometimes import should not pay for loading it on every start.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importTorchScriptOnDemand(llvm::StringRef path, mlir::MLIRContext &context);

} // namespace vgcu

/// The entry importTorchScriptOnDemand looks up: imports `path` into `*module` (which the
/// caller then owns) or sets `*error`; returns whether it succeeded.
extern "C" bool vgcuImportTorchScript(const char *path, mlir::MLIRContext *context,
                                      mlir::ModuleOp *module, std::string *error);

namespace vgcu {

} // namespace vgcu

#endif // VGCU_FRONTEND_TORCHSCRIPTIMPORTER_H
