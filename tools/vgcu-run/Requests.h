//===- Requests.h - vgcu-run --requests: the JSON-lines request file ----------------===//
#ifndef VGCU_TOOLS_VGCU_RUN_REQUESTS_H
#define VGCU_TOOLS_VGCU_RUN_REQUESTS_H

#include "vgcu/Runtime/Engine.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <vector>

namespace vgcu {

/// One request per non-blank line: {"id": "a", "prompt_ids": [5, 17, 42], "max_tokens": 16,
/// "temperature": 0, ...}; an error names the file, the line and the field. Token ids are
/// checked against `vocabSize`, ids for uniqueness (a missing id is the line number).
llvm::Expected<std::vector<runtime::GenerationRequest>> readRequestFile(llvm::StringRef path,
                                                                       int64_t vocabSize);

/// One request object of that format; `defaultId` when it has no "id".
llvm::Expected<runtime::GenerationRequest> parseRequestObject(const llvm::json::Object &object,
                                                              llvm::StringRef defaultId,
                                                              int64_t vocabSize);
/// A request in that format (what parseRequestObject reads back).
llvm::json::Object requestToJson(const runtime::GenerationRequest &request);

} // namespace vgcu

#endif // VGCU_TOOLS_VGCU_RUN_REQUESTS_H
