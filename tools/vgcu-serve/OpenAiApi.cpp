//===- OpenAiApi.cpp - OpenAI completion and chat requests into engine requests ------===//

#include "OpenAiApi.h"

#include "vgcu/Support/Json.h"

#include <cmath>
#include <variant>

using namespace vgcu;
using namespace vgcu::serve;

std::string ApiError::body() const {
  llvm::json::Object error{{"message", message}, {"type", type}, {"code", status}};
  error["param"] = param.empty() ? llvm::json::Value(nullptr) : llvm::json::Value(param);
  std::string text;
  llvm::raw_string_ostream(text) << llvm::json::Value(llvm::json::Object{{"error", std::move(error)}});
  return text;
}

llvm::json::Object vgcu::serve::usageJson(int64_t promptTokens, int64_t completionTokens) {
  return llvm::json::Object{{"prompt_tokens", promptTokens},
                            {"completion_tokens", completionTokens},
                            {"total_tokens", promptTokens + completionTokens}};
}

namespace {

ApiError invalid(llvm::StringRef param, const llvm::Twine &message) {
  ApiError error;
  error.param = param.str();
  error.message = message.str();
  return error;
}

/// A list of token ids, or nothing.
std::optional<std::vector<int64_t>> tokenIds(const llvm::json::Value &value) {
  const llvm::json::Array *array = value.getAsArray();
  if (!array)
    return std::nullopt;
  std::vector<int64_t> ids;
  for (const llvm::json::Value &entry : *array) {
    auto id = entry.getAsInteger();
    if (!id)
      return std::nullopt;
    ids.push_back(*id);
  }
  return ids;
}

} // namespace

std::variant<ApiRequest, ApiError> vgcu::serve::parseApiRequest(llvm::StringRef body, bool chat,
                                                                llvm::StringRef servedModel) {
  auto parsed = parseJson(body);
  if (!parsed)
    return invalid("", "the request body is not valid JSON: " + llvm::toString(parsed.takeError()));
  const llvm::json::Object *object = parsed->getAsObject();
  if (!object)
    return invalid("", "the request body must be a JSON object");
  ApiRequest request;
  request.chat = chat;
  runtime::SamplingParams &sampling = request.sampling;
  sampling.temperature = 1.0;

  auto number = [&](llvm::StringRef key, double &out) -> std::optional<ApiError> {
    const llvm::json::Value *value = object->get(key);
    if (!value || value->kind() == llvm::json::Value::Null)
      return std::nullopt;
    auto parsedNumber = value->getAsNumber();
    if (!parsedNumber || !std::isfinite(*parsedNumber))
      return invalid(key, "'" + key + "' must be a number");
    out = *parsedNumber;
    return std::nullopt;
  };
  auto integer = [&](llvm::StringRef key, int64_t &out) -> std::optional<ApiError> {
    const llvm::json::Value *value = object->get(key);
    if (!value || value->kind() == llvm::json::Value::Null)
      return std::nullopt;
    auto parsedInteger = value->getAsInteger();
    if (!parsedInteger)
      return invalid(key, "'" + key + "' must be an integer");
    out = *parsedInteger;
    return std::nullopt;
  };
  auto boolean = [&](llvm::StringRef key, bool &out) -> std::optional<ApiError> {
    const llvm::json::Value *value = object->get(key);
    if (!value || value->kind() == llvm::json::Value::Null)
      return std::nullopt;
    auto flag = value->getAsBoolean();
    if (!flag)
      return invalid(key, "'" + key + "' must be true or false");
    out = *flag;
    return std::nullopt;
  };

  if (const llvm::json::Value *model = object->get("model")) {
    auto name = model->getAsString();
    if (!name)
      return invalid("model", "'model' must be a string");
    if (*name != servedModel) {
      ApiError error = invalid("model", "the model '" + *name + "' does not exist (this server "
                                        "serves '" + servedModel + "')");
      error.status = 404;
      error.type = "not_found_error";
      return error;
    }
  }
  int64_t maxTokens = -1, topK = 0, seed = -1, n = 1;
  for (auto check : {integer("max_tokens", maxTokens), integer("max_completion_tokens", maxTokens),
                     number("temperature", sampling.temperature), number("top_p", sampling.topP),
                     integer("top_k", topK), number("min_p", sampling.minP),
                     number("repetition_penalty", sampling.repetitionPenalty),
                     integer("seed", seed), integer("n", n),
                     boolean("ignore_eos", sampling.ignoreEos),
                     boolean("stream", request.stream)})
    if (check)
      return *check;
  if (maxTokens != -1) {
    if (maxTokens < 1)
      return invalid("max_tokens", "'max_tokens' must be at least 1");
    request.maxTokensGiven = true;
    sampling.maxTokens = maxTokens;
  }
  // OpenAI clients and vLLM spell "no top-k" as -1.
  sampling.topK = topK == -1 ? 0 : topK;
  if (object->get("seed") && object->get("seed")->kind() != llvm::json::Value::Null) {
    if (seed < 0)
      return invalid("seed", "'seed' must not be negative");
    sampling.seed = static_cast<uint64_t>(seed);
  }
  if (n != 1)
    return invalid("n", "only n = 1 is supported (one choice per request)");
  if (auto error = sampling.validate()) {
    std::string message = llvm::toString(std::move(error));
    return invalid(llvm::StringRef(message).split(' ').first, message);
  }
  // Fields vgcu does not implement: refused when they ask for something, not ignored.
  for (llvm::StringRef key : {"presence_penalty", "frequency_penalty"}) {
    double value = 0.0;
    if (auto error = number(key, value))
      return *error;
    if (value != 0.0)
      return invalid(key, "'" + key + "' is not supported (use repetition_penalty)");
  }
  for (llvm::StringRef key : {"logprobs", "top_logprobs", "echo", "best_of", "suffix"}) {
    const llvm::json::Value *value = object->get(key);
    bool unset = !value || value->kind() == llvm::json::Value::Null ||
                 value->getAsBoolean() == std::optional<bool>(false) ||
                 (key == "best_of" && value->getAsInteger() == std::optional<int64_t>(1));
    if (!unset)
      return invalid(key, "'" + key + "' is not supported");
  }
  if (const llvm::json::Value *options = object->get("stream_options");
      options && options->kind() != llvm::json::Value::Null) {
    const llvm::json::Object *fields = options->getAsObject();
    if (!fields)
      return invalid("stream_options", "'stream_options' must be an object");
    if (const llvm::json::Value *usage = fields->get("include_usage")) {
      auto flag = usage->getAsBoolean();
      if (!flag)
        return invalid("stream_options", "'include_usage' must be true or false");
      request.includeUsage = *flag;
    }
  }
  if (const llvm::json::Value *stop = object->get("stop");
      stop && stop->kind() != llvm::json::Value::Null) {
    if (auto text = stop->getAsString()) {
      request.stopStrings.push_back(text->str());
    } else if (const llvm::json::Array *list = stop->getAsArray()) {
      for (const llvm::json::Value &entry : *list) {
        auto text = entry.getAsString();
        if (!text)
          return invalid("stop", "'stop' must be a string or a list of strings");
        request.stopStrings.push_back(text->str());
      }
    } else {
      return invalid("stop", "'stop' must be a string or a list of strings");
    }
    for (const std::string &text : request.stopStrings)
      if (text.empty())
        return invalid("stop", "'stop' strings must not be empty");
  }
  if (const llvm::json::Value *ids = object->get("stop_token_ids");
      ids && ids->kind() != llvm::json::Value::Null) {
    auto list = tokenIds(*ids);
    if (!list)
      return invalid("stop_token_ids", "'stop_token_ids' must be a list of token ids");
    sampling.stopTokenIds = *list;
  }

  if (chat) {
    const llvm::json::Value *messages = object->get("messages");
    if (!messages || !messages->getAsArray())
      return invalid("messages", "'messages' must be a list of messages");
    if (messages->getAsArray()->empty())
      return invalid("messages", "'messages' is empty");
    for (const llvm::json::Value &message : *messages->getAsArray()) {
      const llvm::json::Object *fields = message.getAsObject();
      if (!fields || !fields->getString("role"))
        return invalid("messages", "each message must be an object with a 'role' string");
    }
    return request;
  }
  const llvm::json::Value *prompt = object->get("prompt");
  if (!prompt)
    return invalid("prompt", "'prompt' is missing");
  // One prompt per request: text, token ids, or a list holding one of those.
  const llvm::json::Value *single = prompt;
  if (const llvm::json::Array *list = prompt->getAsArray();
      list && list->size() == 1 && ((*list)[0].getAsString() || (*list)[0].getAsArray()))
    single = &(*list)[0];
  if (auto text = single->getAsString()) {
    request.promptText = text->str();
    return request;
  }
  if (auto ids = tokenIds(*single)) {
    if (ids->empty())
      return invalid("prompt", "'prompt' is empty");
    request.promptIds = std::move(*ids);
    return request;
  }
  return invalid("prompt", "'prompt' must be a string or a list of token ids (one prompt per "
                           "request)");
}
