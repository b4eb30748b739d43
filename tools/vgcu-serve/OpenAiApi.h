//===- OpenAiApi.h - OpenAI completion and chat requests into engine requests --------===//
#ifndef VGCU_TOOLS_VGCU_SERVE_OPENAIAPI_H
#define VGCU_TOOLS_VGCU_SERVE_OPENAIAPI_H

#include "vgcu/Runtime/Sampler.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace vgcu::serve {

/// A request the server refuses: the HTTP status, and OpenAI's error fields.
struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;
  /// {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}
  std::string body() const;
};

/// The fields of /v1/completions and /v1/chat/completions the engine uses.
struct ApiRequest {
  bool chat = false;
  bool stream = false;
  bool includeUsage = false;
  runtime::SamplingParams sampling;
  /// max_tokens (or max_completion_tokens) was given; otherwise completions take 16 and chat
  /// what the model's length leaves.
  bool maxTokensGiven = false;
  std::vector<std::string> stopStrings;
  /// Completions: the prompt as text, or as token ids.
  std::optional<std::string> promptText;
  std::vector<int64_t> promptIds;
};

/// Reads a request body; `servedModel` is the only model a request may name.
std::variant<ApiRequest, ApiError> parseApiRequest(llvm::StringRef body, bool chat,
                                                   llvm::StringRef servedModel);

/// The usage object: prompt, completion and total tokens.
llvm::json::Object usageJson(int64_t promptTokens, int64_t completionTokens);

} // namespace vgcu::serve

#endif // VGCU_TOOLS_VGCU_SERVE_OPENAIAPI_H
