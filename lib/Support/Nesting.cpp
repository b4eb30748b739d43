//===- Nesting.cpp - Finding input that nests too deep for a recursive parser ----===//

#include "vgcu/Support/Nesting.h"

using namespace vgcu;

std::optional<TextPosition> vgcu::findExcessiveNesting(llvm::StringRef text, unsigned maxDepth,
                                                       NestingSyntax syntax) {
  bool mlir = syntax == NestingSyntax::Mlir;
  unsigned depth = 0, line = 1;
  size_t lineStart = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      lineStart = i + 1;
    } else if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\')
          ++i;
        else if (text[i] == '\n')
          break;
      }
      if (i < text.size() && text[i] == '\n')
        --i; // counted as a new line next
    } else if (mlir && c == '/' && text.substr(i, 2) == "//") {
      i = std::min(text.find('\n', i), text.size()) - 1;
    } else if (c == '[' || c == '{' || (mlir && (c == '(' || c == '<'))) {
      if (++depth > maxDepth)
        return TextPosition{line, static_cast<unsigned>(i - lineStart + 1)};
    } else if (depth > 0 &&
               (c == ']' || c == '}' ||
                (mlir && (c == ')' || (c == '>' && (i == 0 || text[i - 1] != '-')))))) {
      --depth;
    }
  }
  return std::nullopt;
}
