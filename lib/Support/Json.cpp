//===- Json.cpp - JSON parsing with a bound on nesting depth ----------------------===//

#include "vgcu/Support/Json.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/Nesting.h"

using namespace vgcu;

llvm::Expected<llvm::json::Value> vgcu::parseJson(llvm::StringRef text, unsigned maxDepth) {
  if (auto where = findExcessiveNesting(text, maxDepth, NestingSyntax::Json))
    return makeError("[{0}:{1}] arrays and objects nest more than {2} levels deep", where->line,
                     where->column, maxDepth);
  return llvm::json::parse(text);
}
