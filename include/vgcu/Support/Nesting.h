//===- Nesting.h - Finding input that nests too deep for a recursive parser ------===//
#ifndef VGCU_SUPPORT_NESTING_H
#define VGCU_SUPPORT_NESTING_H

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace vgcu {

/// The syntax whose brackets are counted: JSON's `[` and `{`, or MLIR's `[ ( { <` (a `>` that
/// closes no `<`, as in `->` or `>=`, is not a bracket, and `//` comments are skipped). Each
/// closer closes only its own opener. Double-quoted strings are skipped in both.
enum class NestingSyntax { Json, Mlir };

/// Far deeper than any real IR nests its regions, attributes and types (vgcu-opt's limit).
inline constexpr unsigned kMaxMlirNesting = 1000;

/// A 1-based line and column.
struct TextPosition {
  unsigned line;
  unsigned column;
};

/// Where brackets first nest deeper than `maxDepth`, if they do. llvm::json and MLIR's
/// parser recurse once per level and overflow the stack on a few ten thousand levels, so
/// input is checked with this before they see it.
std::optional<TextPosition> findExcessiveNesting(llvm::StringRef text, unsigned maxDepth,
                                                 NestingSyntax syntax);

} // namespace vgcu

#endif // VGCU_SUPPORT_NESTING_H
