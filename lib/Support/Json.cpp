//===- Json.cpp - JSON parsing with a bound on nesting depth ----------------------===//

#include "vgcu/Support/Json.h"
#include "vgcu/Support/Error.h"

using namespace vgcu;

llvm::Expected<llvm::json::Value> vgcu::parseJson(llvm::StringRef text, unsigned maxDepth) {
  unsigned depth = 0, line = 1;
  size_t lineStart = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      lineStart = i + 1;
    }
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > maxDepth)
        return makeError("[{0}:{1}] arrays and objects nest more than {2} levels deep", line,
                         i - lineStart + 1, maxDepth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return llvm::json::parse(text);
}
