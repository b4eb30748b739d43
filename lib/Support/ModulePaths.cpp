//===- ModulePaths.cpp - Hugging Face module paths carried by op locations --------===//

#include "vgcu/Support/ModulePaths.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

using namespace mlir;

std::optional<llvm::StringRef> vgcu::primaryModulePath(Location loc) {
  std::optional<llvm::StringRef> anchor;
  loc->walk([&](Location inner) {
    if (auto name = dyn_cast<NameLoc>(inner)) {
      anchor = name.getName().getValue();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (!anchor)
    return std::nullopt;
  // A parameter names its module: `...norm.weight`, or a weight computed from it when the
  // artifact is written (`...norm.weight.folded`).
  for (llvm::StringRef suffix : {".weight", ".bias"}) {
    if (anchor->ends_with(suffix))
      return anchor->drop_back(suffix.size());
    size_t inner = anchor->find((suffix + ".").str());
    if (inner != llvm::StringRef::npos)
      return anchor->take_front(inner);
  }
  return anchor;
}

std::optional<vgcu::LayerPath> vgcu::decoderLayerOf(llvm::StringRef modulePath) {
  // The index after the layer list's name.
  size_t offset = 0;
  llvm::StringRef previous;
  while (offset <= modulePath.size()) {
    size_t end = modulePath.find('.', offset);
    if (end == llvm::StringRef::npos)
      end = modulePath.size();
    llvm::StringRef component = modulePath.slice(offset, end);
    int64_t index;
    if (llvm::is_contained({"layers", "h", "blocks"}, previous) &&
        !component.getAsInteger(10, index))
      return LayerPath{modulePath.take_front(end), index};
    previous = component;
    offset = end + 1;
  }
  return std::nullopt;
}

std::optional<int64_t> vgcu::layerOf(Location loc) {
  auto path = primaryModulePath(loc);
  if (!path)
    return std::nullopt;
  if (auto layer = decoderLayerOf(*path))
    return layer->index;
  return std::nullopt;
}
