//===- Nesting.cpp - Finding input that nests too deep for a recursive parser ----===//

#include "vgcu/Support/Nesting.h"

#include "llvm/ADT/SmallVector.h"

using namespace vgcu;

static char closerOf(char opener) {
  switch (opener) {
  case '[':
    return ']';
  case '{':
    return '}';
  case '(':
    return ')';
  default:
    return '>';
  }
}

std::optional<TextPosition> vgcu::findExcessiveNesting(llvm::StringRef text, unsigned maxDepth,
                                                       NestingSyntax syntax) {
  bool mlir = syntax == NestingSyntax::Mlir;
  // Each closer steps out only of the opener it matches: counting any closer against any opener
  // lets `>=` inside an affine set hide a level the parser is still in.
  llvm::SmallVector<char, 64> open;
  unsigned line = 1;
  size_t lineStart = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      lineStart = i + 1;
    } else if (c == '"') {
      for (++i; i < text.size() && text[i] != '"' && text[i] != '\n'; ++i)
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] != '\n')
          ++i;
      if (i < text.size() && text[i] == '\n')
        --i; // counted as a new line next
    } else if (mlir && c == '/' && text.substr(i, 2) == "//") {
      i = std::min(text.find('\n', i), text.size()) - 1;
    } else if (c == '[' || c == '{' || (mlir && (c == '(' || c == '<'))) {
      open.push_back(c);
      if (open.size() > maxDepth)
        return TextPosition{line, static_cast<unsigned>(i - lineStart + 1)};
    } else if (c == ']' || c == '}' || (mlir && (c == ')' || c == '>'))) {
      // A `<` never closed was a comparison, not an opener; a `>` that closes no `<` is one too
      // (`->`, `>=`). Either way the parser would have stopped at a real mismatch before going
      // any deeper than what was already counted.
      if (c != '>')
        while (!open.empty() && open.back() == '<')
          open.pop_back();
      if (!open.empty() && closerOf(open.back()) == c)
        open.pop_back();
    }
  }
  return std::nullopt;
}
