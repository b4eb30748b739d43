//===- Json.h - JSON parsing with a bound on nesting depth ------------------------===//
#ifndef VGCU_SUPPORT_JSON_H
#define VGCU_SUPPORT_JSON_H

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

namespace vgcu {

/// Deeper nesting than any config, safetensors header, index or manifest has.
inline constexpr unsigned kMaxJsonDepth = 256;

/// llvm::json::parse, which recurses once per nesting level and so overflows the stack on a
/// few ten thousand `[`: the text is first scanned and refused when arrays and objects nest
/// deeper than `maxDepth`, with the line and column where they do.
llvm::Expected<llvm::json::Value> parseJson(llvm::StringRef text,
                                            unsigned maxDepth = kMaxJsonDepth);

} // namespace vgcu

#endif // VGCU_SUPPORT_JSON_H
