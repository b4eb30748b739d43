//===- FrontendLoader.cpp - Loading the TorchScript importer when it is needed -----===//

#include "vgcu/Frontend/TorchScriptImporter.h"
#include "vgcu/Support/Error.h"

#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace vgcu;

/// Where libVgcuFrontend.so is: in the library directory beside the tool's bin/ directory
/// (build/lib in the build tree, <prefix>/<libdir> when installed).
static std::string frontendLibraryPath() {
  static int anchor;
  std::string self = llvm::sys::fs::getMainExecutable(nullptr, &anchor);
  llvm::StringRef prefix = llvm::sys::path::parent_path(llvm::sys::path::parent_path(self));
  std::string fallback;
  for (llvm::StringRef libdir : {llvm::StringRef("lib"), llvm::StringRef(VGCU_INSTALL_LIBDIR)}) {
    llvm::SmallString<256> path(prefix);
    llvm::sys::path::append(path, libdir, "libVgcuFrontend.so");
    if (llvm::sys::fs::exists(path))
      return path.str().str();
    if (fallback.empty())
      fallback = path.str().str();
  }
  return fallback;
}

llvm::Expected<TracedModel>
vgcu::importTorchScriptOnDemand(llvm::StringRef path, mlir::MLIRContext &context) {
  // LibTorch reports a directory as a zip archive without a central directory.
  if (llvm::sys::fs::is_directory(path))
    return makeError("'{0}' is a directory, not a TorchScript file", path);
  std::string library = frontendLibraryPath();
  std::string error;
  auto handle = llvm::sys::DynamicLibrary::getPermanentLibrary(library.c_str(), &error);
  if (!handle.isValid())
    return makeError("cannot load the TorchScript importer '{0}': {1}", library, error);
  auto entry = reinterpret_cast<decltype(&vgcuImportTorchScript)>(
      handle.getAddressOfSymbol("vgcuImportTorchScript"));
  if (!entry)
    return makeError("'{0}' has no vgcuImportTorchScript entry", library);
  TracedModel model;
  if (!entry(path.str().c_str(), &context, &model, &error))
    return makeError("{0}", error);
  return std::move(model);
}
