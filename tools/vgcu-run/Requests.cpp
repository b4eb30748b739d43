//===- Requests.cpp - vgcu-run --requests: the JSON-lines request file --------------===//

#include "Requests.h"

#include "vgcu/Support/Error.h"
#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Json.h"

#include "llvm/ADT/StringSet.h"

using namespace vgcu;
using namespace vgcu::runtime;

namespace {

/// A request file of a million lines is a benchmark, not a mistake; beyond that, a mistake.
constexpr uint64_t kMaxRequestFileBytes = uint64_t{1} << 30;

llvm::Expected<std::vector<int64_t>> tokenList(const llvm::json::Value &value,
                                               llvm::StringRef field, int64_t vocabSize) {
  const llvm::json::Array *array = value.getAsArray();
  if (!array)
    return makeError("'{0}' must be a list of token ids", field);
  std::vector<int64_t> ids;
  for (const llvm::json::Value &entry : *array) {
    std::optional<int64_t> id = entry.getAsInteger();
    if (!id)
      return makeError("'{0}' must be a list of token ids", field);
    if (*id < 0 || *id >= vocabSize)
      return makeError("'{0}': token id {1} is outside the vocabulary [0, {2})", field, *id,
                       vocabSize);
    ids.push_back(*id);
  }
  return ids;
}

} // namespace

llvm::Expected<GenerationRequest> vgcu::parseRequestObject(const llvm::json::Object &object,
                                                           llvm::StringRef defaultId,
                                                           int64_t vocabSize) {
  GenerationRequest request;
  request.id = defaultId.str();
  request.sampling.temperature = 1.0;
  SamplingParams &sampling = request.sampling;
  auto number = [](const llvm::json::Value &value, llvm::StringRef field,
                   double &out) -> llvm::Error {
    std::optional<double> parsed = value.getAsNumber();
    if (!parsed)
      return makeError("'{0}' must be a number", field);
    out = *parsed;
    return llvm::Error::success();
  };
  auto integer = [](const llvm::json::Value &value, llvm::StringRef field,
                    int64_t &out) -> llvm::Error {
    std::optional<int64_t> parsed = value.getAsInteger();
    if (!parsed)
      return makeError("'{0}' must be an integer", field);
    out = *parsed;
    return llvm::Error::success();
  };
  bool hasPrompt = false;
  for (const auto &[key, value] : object) {
    llvm::StringRef field = key;
    llvm::Error error = llvm::Error::success();
    if (field == "id") {
      if (auto text = value.getAsString())
        request.id = text->str();
      else if (auto integral = value.getAsInteger())
        request.id = std::to_string(*integral);
      else
        error = makeError("'id' must be a string");
    } else if (field == "prompt_ids") {
      auto ids = tokenList(value, field, vocabSize);
      if (!ids)
        return ids.takeError();
      request.promptIds = std::move(*ids);
      hasPrompt = true;
    } else if (field == "max_tokens") {
      error = integer(value, field, sampling.maxTokens);
    } else if (field == "temperature") {
      error = number(value, field, sampling.temperature);
    } else if (field == "top_k") {
      error = integer(value, field, sampling.topK);
      // vLLM and OpenAI clients spell "off" as -1.
      if (!error && sampling.topK == -1)
        sampling.topK = 0;
    } else if (field == "top_p") {
      error = number(value, field, sampling.topP);
    } else if (field == "min_p") {
      error = number(value, field, sampling.minP);
    } else if (field == "repetition_penalty") {
      error = number(value, field, sampling.repetitionPenalty);
    } else if (field == "seed") {
      int64_t seed = 0;
      error = integer(value, field, seed);
      if (!error && seed < 0)
        error = makeError("'seed' must not be negative");
      sampling.seed = static_cast<uint64_t>(seed);
    } else if (field == "stop_token_ids") {
      auto ids = tokenList(value, field, vocabSize);
      if (!ids)
        return ids.takeError();
      sampling.stopTokenIds = std::move(*ids);
    } else if (field == "ignore_eos" || field == "return_logits") {
      std::optional<bool> flag = value.getAsBoolean();
      if (!flag)
        error = makeError("'{0}' must be true or false", field);
      else
        (field == "ignore_eos" ? sampling.ignoreEos : request.returnLogits) = *flag;
    } else {
      error = makeError("unknown field '{0}' (fields: id, prompt_ids, max_tokens, temperature, "
                        "top_k, top_p, min_p, repetition_penalty, seed, stop_token_ids, "
                        "ignore_eos, return_logits)",
                        field);
    }
    if (error)
      return std::move(error);
  }
  if (!hasPrompt)
    return makeError("'prompt_ids' is missing");
  if (request.promptIds.empty())
    return makeError("'prompt_ids' is empty");
  if (auto error = sampling.validate())
    return std::move(error);
  return request;
}

llvm::json::Object vgcu::requestToJson(const GenerationRequest &request) {
  const SamplingParams &sampling = request.sampling;
  llvm::json::Object object{{"id", request.id},
                            {"prompt_ids", llvm::json::Array(request.promptIds)},
                            {"max_tokens", sampling.maxTokens},
                            {"temperature", sampling.temperature},
                            {"top_k", sampling.topK},
                            {"top_p", sampling.topP},
                            {"min_p", sampling.minP},
                            {"repetition_penalty", sampling.repetitionPenalty},
                            {"stop_token_ids", llvm::json::Array(sampling.stopTokenIds)},
                            {"ignore_eos", sampling.ignoreEos},
                            {"return_logits", request.returnLogits}};
  if (sampling.seed)
    object["seed"] = static_cast<int64_t>(*sampling.seed);
  return object;
}

llvm::Expected<std::vector<GenerationRequest>> vgcu::readRequestFile(llvm::StringRef path,
                                                                     int64_t vocabSize) {
  auto buffer = readInputFile(path, "request file", kMaxRequestFileBytes);
  if (!buffer)
    return buffer.takeError();
  std::vector<GenerationRequest> requests;
  llvm::StringSet<> ids;
  llvm::SmallVector<llvm::StringRef> lines;
  (*buffer)->getBuffer().split(lines, '\n');
  for (auto [index, line] : llvm::enumerate(lines)) {
    int64_t lineNumber = static_cast<int64_t>(index) + 1;
    auto where = [&](llvm::Error error) {
      return addContext(std::move(error), path.str() + ":" + std::to_string(lineNumber));
    };
    if (line.trim().empty())
      continue;
    auto json = parseJson(line);
    if (!json)
      return where(makeError("invalid JSON: {0}", llvm::toString(json.takeError())));
    const llvm::json::Object *object = json->getAsObject();
    if (!object)
      return where(makeError("a request must be a JSON object"));
    auto request = parseRequestObject(*object, std::to_string(lineNumber), vocabSize);
    if (!request)
      return where(request.takeError());
    if (!ids.insert(request->id).second)
      return where(makeError("id '{0}' is used by an earlier request", request->id));
    requests.push_back(std::move(*request));
  }
  if (requests.empty())
    return makeError("{0}: no requests", path);
  return requests;
}
