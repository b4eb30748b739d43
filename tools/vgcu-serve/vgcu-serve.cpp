//===- vgcu-serve.cpp - An OpenAI-compatible HTTP server on the batching engine -------===//
//
// Rank 0 serves HTTP (cpp-httplib) and runs the engine loop; with tensor parallelism it starts
// the other ranks, which run the same loop on what rank 0 broadcasts before every step (new
// requests, aborts, the end). Handler threads turn token ids into text with their own
// incremental detokenizer and apply stop strings; the engine thread only moves ids.
//
//===----------------------------------------------------------------------===//

#include "Dispatcher.h"
#include "Metrics.h"
#include "OpenAiApi.h"

#include "../common/ExecutorOptions.h"
#include "../common/HostOptions.h"

#include "../vgcu-run/Requests.h"

#include "vgcu/Artifact/ArtifactReader.h"
#include "vgcu/Runtime/Distributed.h"
#include "vgcu/Runtime/Engine.h"
#include "vgcu/Runtime/Executor.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Json.h"
#include "vgcu/Support/Log.h"
#include "vgcu/Tokenizer/ChatTemplate.h"
#include "vgcu/Tokenizer/Tokenizer.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"

#include <ATen/Parallel.h>
#include <httplib.h>

#include <chrono>
#include <csignal>
#include <thread>
#include <unistd.h>

using namespace vgcu;
using namespace vgcu::runtime;
using namespace vgcu::serve;
namespace cl = llvm::cl;
using Clock = std::chrono::steady_clock;

namespace {

cl::OptionCategory category("vgcu-serve options");
cl::opt<std::string> artifactPath(cl::Positional, cl::desc("NAME.vgcu"), cl::Required,
                                  cl::cat(category));
cl::opt<std::string> host("host", cl::desc("Address to listen on"), cl::init("127.0.0.1"),
                          cl::cat(category));
cl::opt<int> port("port", cl::desc("Port to listen on (0: any free port; the first line on "
                                   "stdout says which)"),
                  cl::init(8000), cl::cat(category));
cl::opt<std::string> servedModelName("served-model-name",
                                     cl::desc("The model name requests use (default: the "
                                              "artifact's directory name without .vgcu)"),
                                     cl::cat(category));
cl::opt<std::string> apiKey("api-key",
                            cl::desc("Require 'Authorization: Bearer KEY' on /v1/ requests"),
                            cl::cat(category));
cl::opt<int64_t> maxNumSeqs("max-num-seqs", cl::desc("Requests in one batch at most"),
                            cl::init(64), cl::cat(category));
cl::opt<int64_t> maxNumBatchedTokens("max-num-batched-tokens",
                                     cl::desc("Tokens in one step at most (prompt chunks and "
                                              "decode tokens)"),
                                     cl::init(512), cl::cat(category));
cl::opt<int64_t> maxModelLen("max-model-len",
                             cl::desc("Prompt plus generated tokens per request at most "
                                      "(default: the model's positions)"),
                             cl::init(0), cl::cat(category));
cl::opt<int64_t> kvCacheBlocks("kv-cache-blocks",
                               cl::desc("KV cache blocks (default: enough for --max-num-seqs "
                                        "requests of --max-model-len)"),
                               cl::init(0), cl::cat(category));
cl::opt<int> threads("num-threads", cl::desc("ATen threads per rank (0: cores / ranks)"),
                     cl::init(0), cl::cat(category));
ExecutorOptions executorOptions(category);
cl::opt<std::string> chatTemplatePath("chat-template",
                                      cl::desc("A Jinja file that replaces the tokenizer's "
                                               "chat_template"),
                                      cl::value_desc("FILE"), cl::cat(category));
HostOptions hosts(category);
cl::opt<int64_t> rankOption("rank", cl::desc("(internal) this process's rank"), cl::init(-1),
                            cl::Hidden);

int fail(llvm::Error error) {
  llvm::errs() << "vgcu-serve: error: " << llvm::toString(std::move(error)) << "\n";
  return 1;
}

// --- The engine loop, on every rank ----------------------------------------------------

struct ServeLimits {
  int64_t maxModelLen = 0;
  EngineOptions engine;
};

llvm::Error runEngineLoop(const ArtifactManifest &manifest, int64_t rank,
                          Collectives &collectives, const ServeLimits &limits,
                          Dispatcher *dispatcher, Metrics *metrics) {
  auto executor = executorOptions.load(manifest, rank, collectives);
  if (!executor)
    return executor.takeError();
  auto engine = Engine::create(**executor, collectives, limits.engine);
  if (!engine)
    return engine.takeError();
  if (metrics)
    metrics->cacheBlocks = limits.engine.cacheBlocks;
  // Idle ranks wait in a collective for rank 0; a heartbeat keeps them inside Gloo's timeout.
  const auto heartbeat = std::chrono::milliseconds(collectives.worldSize() > 1 ? 1000 : 200);
  while (true) {
    std::string control;
    if (dispatcher)
      control = dispatcher->takeControl((*engine)->hasUnfinishedRequests(), heartbeat);
    control = broadcastFromRankZero(collectives, control);
    bool shutdown = false;
    if (!control.empty()) {
      auto parsed = parseJson(control);
      if (!parsed)
        return addContext(parsed.takeError(), "the control message from rank 0");
      const llvm::json::Object *message = parsed->getAsObject();
      if (const llvm::json::Array *adds = message ? message->getArray("add") : nullptr) {
        for (const llvm::json::Value &add : *adds) {
          const llvm::json::Object *fields = add.getAsObject();
          auto request = fields ? parseRequestObject(*fields, "", manifest.vocabSize)
                                : llvm::Expected<GenerationRequest>(
                                      makeError("a request is not an object"));
          llvm::Error error = request ? (*engine)->addRequest(*request) : request.takeError();
          if (error) {
            std::string text = llvm::toString(std::move(error));
            if (dispatcher && fields)
              dispatcher->reject(fields->getString("id").value_or("").str(), text);
          }
        }
      }
      if (const llvm::json::Array *aborts = message ? message->getArray("abort") : nullptr)
        for (const llvm::json::Value &id : *aborts)
          if (auto text = id.getAsString())
            (*engine)->abort(*text);
      shutdown = message && message->getBoolean("shutdown").value_or(false);
    }
    auto updateGauges = [&] {
      if (!metrics)
        return;
      metrics->running = static_cast<int64_t>((*engine)->runningCount());
      metrics->waiting = static_cast<int64_t>((*engine)->waitingCount());
      metrics->cacheUsage = (*engine)->cacheUsage();
    };
    if (shutdown && !(*engine)->hasUnfinishedRequests())
      return llvm::Error::success();
    if (!(*engine)->hasUnfinishedRequests()) {
      updateGauges();
      continue;
    }
    auto outputs = (*engine)->step();
    if (!outputs)
      return outputs.takeError();
    updateGauges();
    if (dispatcher)
      dispatcher->deliver(*outputs);
  }
}

// --- HTTP ------------------------------------------------------------------------------

struct ServerContext {
  const ArtifactManifest *manifest = nullptr;
  const tokenizer::Tokenizer *tokenizer = nullptr;
  const tokenizer::JinjaTemplate *chatTemplate = nullptr;
  Dispatcher *dispatcher = nullptr;
  Metrics *metrics = nullptr;
  std::string modelName;
  int64_t maxModelLen = 0;
  int64_t created = 0;
  std::atomic<int64_t> nextId{0};
};

void sendJson(httplib::Response &response, int status, const llvm::json::Value &value) {
  std::string text;
  llvm::raw_string_ostream(text) << value;
  response.status = status;
  response.set_content(text, "application/json");
}

void sendError(httplib::Response &response, const ApiError &error) {
  response.status = error.status;
  response.set_content(error.body(), "application/json");
}

/// One request's text as it is generated: the detokenizer, stop strings (with the text that
/// could still become one held back), and timing for the metrics.
class Generation {
public:
  Generation(ServerContext &context, const ApiRequest &api, std::vector<int64_t> promptIds,
             std::string id)
      : context(context), api(api), promptIds(std::move(promptIds)), id(std::move(id)),
        detokenizer(*context.tokenizer, this->promptIds, /*skipSpecialTokens=*/true),
        start(Clock::now()), last(start) {
    for (const std::string &stop : api.stopStrings)
      holdBack = std::max(holdBack, stop.size() - 1);
  }

  /// Takes an event: the text that may be sent now (after the text sent so far).
  llvm::Expected<std::string> consume(const Event &event) {
    auto now = Clock::now();
    if (event.kind == Event::Tokens) {
      if (generated == 0)
        context.metrics->timeToFirstToken.observe(seconds(start, now));
      else
        for (size_t i = 0; i < event.tokens.size(); ++i)
          context.metrics->interTokenLatency.observe(seconds(last, now) / event.tokens.size());
      last = now;
      for (int64_t token : event.tokens) {
        ++generated;
        auto piece = detokenizer.append(token);
        if (!piece)
          return piece.takeError();
        text += *piece;
        if (checkStop())
          break;
      }
    } else if (event.kind == Event::Finished) {
      auto rest = detokenizer.finish();
      if (!rest)
        return rest.takeError();
      text += *rest;
      if (!checkStop())
        finishReason = event.reason == FinishReason::length ? "length" : "stop";
    }
    // While a stop string could still begin in the last bytes, they wait.
    size_t sendable = finished() ? text.size() : text.size() > holdBack ? text.size() - holdBack : 0;
    while (sendable > sent && sendable < text.size() &&
           (static_cast<unsigned char>(text[sendable]) & 0xC0) == 0x80)
      --sendable;
    if (sendable <= sent)
      return std::string();
    std::string delta = text.substr(sent, sendable - sent);
    sent = sendable;
    return delta;
  }

  bool finished() const { return !finishReason.empty(); }
  const std::string &reason() const { return finishReason; }
  const std::string &fullText() const { return text; }
  int64_t promptTokens() const { return static_cast<int64_t>(promptIds.size()); }
  int64_t completionTokens() const { return generated; }
  void record(llvm::StringRef reason) {
    context.metrics->requestLatency.observe(seconds(start, Clock::now()));
    context.metrics->finished(reason, promptTokens(), completionTokens());
  }

private:
  static double seconds(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
  }
  /// Ends the text at the first stop string, if one appeared.
  bool checkStop() {
    if (finished())
      return true;
    size_t from = sent > holdBack ? sent - holdBack : 0;
    size_t earliest = std::string::npos;
    for (const std::string &stop : api.stopStrings)
      earliest = std::min(earliest, text.find(stop, from));
    if (earliest == std::string::npos)
      return false;
    text.resize(earliest);
    finishReason = "stop";
    context.dispatcher->abort(id); // the engine need not go on
    return true;
  }

  ServerContext &context;
  const ApiRequest &api;
  std::vector<int64_t> promptIds;
  std::string id;
  tokenizer::IncrementalDetokenizer detokenizer;
  std::string text;
  size_t sent = 0, holdBack = 0;
  int64_t generated = 0;
  std::string finishReason;
  Clock::time_point start, last;
};

/// A chunk or response object's common fields.
llvm::json::Object responseObject(const ServerContext &context, const std::string &id,
                                  bool chat, bool chunk) {
  return llvm::json::Object{
      {"id", id},
      {"object", chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion"},
      {"created", context.created},
      {"model", context.modelName}};
}

llvm::json::Object choice(bool chat, bool chunk, const std::string &text,
                          const std::string &reason, bool firstChunk) {
  llvm::json::Object object{{"index", 0}, {"logprobs", nullptr}};
  object["finish_reason"] = reason.empty() ? llvm::json::Value(nullptr) : llvm::json::Value(reason);
  if (!chat) {
    object["text"] = text;
  } else if (!chunk) {
    object["message"] = llvm::json::Object{{"role", "assistant"}, {"content", text}};
  } else {
    llvm::json::Object delta;
    if (firstChunk)
      delta["role"] = "assistant";
    if (!text.empty() || firstChunk)
      delta["content"] = text;
    object["delta"] = std::move(delta);
  }
  return object;
}

std::string sseEvent(const llvm::json::Value &value) {
  std::string text = "data: ";
  llvm::raw_string_ostream(text) << value;
  return text + "\n\n";
}

void handleGeneration(ServerContext &context, const httplib::Request &http,
                      httplib::Response &response, bool chat) {
  auto reject = [&](const ApiError &error) {
    ++context.metrics->rejected;
    sendError(response, error);
  };
  auto parsed = parseApiRequest(http.body, chat, context.modelName);
  if (auto *error = std::get_if<ApiError>(&parsed))
    return reject(*error);
  auto api = std::make_shared<ApiRequest>(std::get<ApiRequest>(std::move(parsed)));
  ApiError error;

  // The prompt's ids: the chat template's text (with its own special tokens), the
  // completion's text with the tokenizer's, or ids as given.
  std::vector<int64_t> ids;
  if (chat || api->promptText) {
    std::string text;
    if (chat) {
      auto rendered =
          tokenizer::applyChatTemplateToRequest(*context.tokenizer, http.body, context.chatTemplate);
      if (!rendered) {
        error.param = "messages";
        error.message = llvm::toString(rendered.takeError());
        return reject(error);
      }
      text = std::move(*rendered);
    } else {
      text = *api->promptText;
    }
    auto encoded = context.tokenizer->encode(text, /*addSpecialTokens=*/!chat);
    if (!encoded) {
      error.param = chat ? "messages" : "prompt";
      error.message = llvm::toString(encoded.takeError());
      return reject(error);
    }
    ids = std::move(*encoded);
  } else {
    ids = api->promptIds;
  }
  for (int64_t token : ids)
    if (token < 0 || token >= context.manifest->vocabSize) {
      error.param = "prompt";
      error.message = "token id " + std::to_string(token) + " is outside the vocabulary [0, " +
                      std::to_string(context.manifest->vocabSize) + ")";
      return reject(error);
    }
  int64_t promptTokens = static_cast<int64_t>(ids.size());
  if (promptTokens == 0) {
    error.param = chat ? "messages" : "prompt";
    error.message = "the prompt has no tokens";
    return reject(error);
  }
  int64_t room = context.maxModelLen - promptTokens;
  if (!api->maxTokensGiven)
    api->sampling.maxTokens = chat ? room : std::min<int64_t>(16, room);
  if (room < 1 || api->sampling.maxTokens > room) {
    error.param = "max_tokens";
    error.message = "this model's maximum context length is " +
                    std::to_string(context.maxModelLen) + " tokens; the request has " +
                    std::to_string(promptTokens) + " prompt tokens and asks for " +
                    std::to_string(std::max<int64_t>(api->sampling.maxTokens, 1)) +
                    " more";
    return reject(error);
  }

  GenerationRequest request;
  request.id = (chat ? "chatcmpl-" : "cmpl-") + std::to_string(context.nextId++);
  request.promptIds = ids;
  request.sampling = api->sampling;
  auto channel = std::make_shared<Channel>();
  if (!context.dispatcher->submit(request, channel)) {
    ApiError busy;
    busy.status = 503;
    busy.type = "service_unavailable";
    busy.message = "the server is shutting down";
    return reject(busy);
  }
  auto generation = std::make_shared<Generation>(context, *api, ids, request.id);
  const std::string id = request.id;
  constexpr auto kPoll = std::chrono::milliseconds(100);

  if (!api->stream) {
    while (!generation->finished()) {
      auto event = channel->pop(kPoll);
      if (!event)
        continue;
      if (event->kind == Event::Rejected) {
        error.message = event->error;
        return reject(error);
      }
      if (auto delta = generation->consume(*event); !delta) {
        ApiError internal;
        internal.status = 500;
        internal.type = "internal_error";
        internal.message = llvm::toString(delta.takeError());
        return sendError(response, internal);
      }
    }
    generation->record(generation->reason());
    llvm::json::Object body = responseObject(context, id, chat, /*chunk=*/false);
    body["choices"] = llvm::json::Array{
        choice(chat, false, generation->fullText(), generation->reason(), false)};
    body["usage"] = usageJson(generation->promptTokens(), generation->completionTokens());
    return sendJson(response, 200, llvm::json::Value(std::move(body)));
  }

  // Streaming: server-sent events until [DONE]. A write that fails means the client left:
  // its request is aborted, which frees its KV blocks.
  struct StreamState {
    bool first = true, done = false, rejected = false;
  };
  auto state = std::make_shared<StreamState>();
  response.set_header("Cache-Control", "no-cache");
  response.set_chunked_content_provider(
      "text/event-stream",
      [&context, api, channel, generation, state, id, chat](size_t, httplib::DataSink &sink) {
        auto event = channel->pop(kPoll);
        if (!event)
          return true; // asked again
        if (event->kind == Event::Rejected) {
          ApiError error;
          error.message = event->error;
          state->rejected = true;
          sink.write("data: ", 6);
          std::string body = error.body() + "\n\n";
          sink.write(body.data(), body.size());
          sink.done();
          ++context.metrics->rejected;
          return true;
        }
        auto delta = generation->consume(*event);
        if (!delta)
          return false;
        auto write = [&](const std::string &text) { return sink.write(text.data(), text.size()); };
        if (!delta->empty() || state->first || generation->finished()) {
          llvm::json::Object chunk = responseObject(context, id, chat, /*chunk=*/true);
          chunk["choices"] = llvm::json::Array{
              choice(chat, true, *delta, generation->reason(), state->first)};
          state->first = false;
          if (!write(sseEvent(llvm::json::Value(std::move(chunk)))))
            return false;
        }
        if (!generation->finished())
          return true;
        if (api->includeUsage) {
          llvm::json::Object usage = responseObject(context, id, chat, /*chunk=*/true);
          usage["choices"] = llvm::json::Array();
          usage["usage"] = usageJson(generation->promptTokens(), generation->completionTokens());
          if (!write(sseEvent(llvm::json::Value(std::move(usage)))))
            return false;
        }
        if (!write("data: [DONE]\n\n"))
          return false;
        state->done = true;
        generation->record(generation->reason());
        sink.done();
        return true;
      },
      [&context, generation, state, id](bool) {
        if (state->done || state->rejected)
          return;
        // The client went away (or the stream failed) before the end.
        context.dispatcher->abort(id);
        generation->record("abort");
      });
}

/// The HTTP endpoints.
void addRoutes(httplib::Server &server, ServerContext &context) {
  server.set_pre_routing_handler([&context](const httplib::Request &request,
                                            httplib::Response &response) {
    if (apiKey.empty() || !llvm::StringRef(request.path).starts_with("/v1/"))
      return httplib::Server::HandlerResponse::Unhandled;
    if (request.get_header_value("Authorization") == "Bearer " + apiKey)
      return httplib::Server::HandlerResponse::Unhandled;
    ApiError error;
    error.status = 401;
    error.type = "authentication_error";
    error.message = "a valid API key is needed: 'Authorization: Bearer <key>'";
    sendError(response, error);
    return httplib::Server::HandlerResponse::Handled;
  });
  server.Get("/health", [](const httplib::Request &, httplib::Response &response) {
    response.status = 200;
  });
  server.Get("/metrics", [&context](const httplib::Request &, httplib::Response &response) {
    response.set_content(context.metrics->render(), "text/plain; version=0.0.4");
  });
  server.Get("/v1/models", [&context](const httplib::Request &, httplib::Response &response) {
    llvm::json::Object model{{"id", context.modelName},
                             {"object", "model"},
                             {"created", context.created},
                             {"owned_by", "vgcu"},
                             {"max_model_len", context.maxModelLen}};
    sendJson(response, 200,
             llvm::json::Object{{"object", "list"}, {"data", llvm::json::Array{std::move(model)}}});
  });
  server.Post("/v1/completions",
              [&context](const httplib::Request &request, httplib::Response &response) {
                handleGeneration(context, request, response, /*chat=*/false);
              });
  server.Post("/v1/chat/completions",
              [&context](const httplib::Request &request, httplib::Response &response) {
                handleGeneration(context, request, response, /*chat=*/true);
              });
}

// --- Processes -------------------------------------------------------------------------

llvm::Expected<ServeLimits> servingLimits(const ArtifactManifest &manifest) {
  ServeLimits limits;
  int64_t positions = manifest.maxPositions > 0 ? manifest.maxPositions : 4096;
  limits.maxModelLen = maxModelLen > 0 ? maxModelLen.getValue() : positions;
  if (limits.maxModelLen > positions)
    return makeError("--max-model-len {0} is more than the model's {1} positions",
                     limits.maxModelLen, positions);
  if (maxNumSeqs < 1 || maxNumBatchedTokens < 1 || kvCacheBlocks < 0 || maxModelLen < 0)
    return makeError("--max-num-seqs and --max-num-batched-tokens must be at least 1, "
                     "--kv-cache-blocks and --max-model-len at least 0");
  limits.engine.limits.maxNumSeqs = maxNumSeqs;
  limits.engine.limits.maxNumBatchedTokens = maxNumBatchedTokens;
  int64_t perSequence = (limits.maxModelLen + manifest.kvBlockSize - 1) / manifest.kvBlockSize;
  limits.engine.cacheBlocks = kvCacheBlocks > 0 ? kvCacheBlocks.getValue()
                                                : maxNumSeqs * perSequence;
  return limits;
}

std::string defaultModelName() {
  llvm::StringRef name = llvm::sys::path::filename(
      llvm::StringRef(artifactPath).rtrim('/'));
  name.consume_back(".vgcu");
  return name.str();
}

/// SIGTERM and SIGINT reach the server's signal thread through this pipe.
int signalPipe[2] = {-1, -1};

void forwardSignal(int number) {
  unsigned char byte = static_cast<unsigned char>(number);
  ssize_t written = write(signalPipe[1], &byte, 1);
  (void)written;
}

/// What rank 0 reads besides the artifact: the tokenizer and the chat template.
struct TextSupport {
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  std::unique_ptr<tokenizer::JinjaTemplate> chatOverride;
};

llvm::Expected<TextSupport> loadTextSupport(const ArtifactManifest &manifest) {
  if (manifest.tokenizer.empty())
    return makeError("artifact '{0}' carries no tokenizer (its model directory had no "
                     "tokenizer.json); vgcu-serve takes and gives text",
                     manifest.directory);
  TextSupport support;
  auto tokenizer = tokenizer::Tokenizer::fromDirectory(manifest.path(manifest.tokenizer));
  if (!tokenizer)
    return tokenizer.takeError();
  support.tokenizer = std::move(*tokenizer);
  if (!chatTemplatePath.empty()) {
    auto source = readInputFile(chatTemplatePath, "chat template", kMaxJsonFileBytes);
    if (!source)
      return source.takeError();
    auto parsed = tokenizer::JinjaTemplate::parse((*source)->getBuffer());
    if (!parsed)
      return addContext(parsed.takeError(), chatTemplatePath);
    support.chatOverride = std::move(*parsed);
  }
  return support;
}

/// Rank 0 with the HTTP server; returns the exit status.
int runServer(const ArtifactManifest &manifest, Collectives &collectives, const ServeLimits &limits,
          const TextSupport &text) {
  Dispatcher dispatcher;
  Metrics metrics;
  ServerContext context;
  context.manifest = &manifest;
  context.tokenizer = text.tokenizer.get();
  context.chatTemplate = text.chatOverride.get();
  context.dispatcher = &dispatcher;
  context.metrics = &metrics;
  context.modelName = servedModelName.empty() ? defaultModelName() : servedModelName.getValue();
  context.maxModelLen = limits.maxModelLen;
  context.created = static_cast<int64_t>(std::time(nullptr));

  httplib::Server server;
  // A streaming response holds its thread to the end: enough threads for a full batch.
  size_t handlerThreads = static_cast<size_t>(std::max<int64_t>(16, maxNumSeqs + 8));
  server.new_task_queue = [handlerThreads] { return new httplib::ThreadPool(handlerThreads); };
  server.set_payload_max_length(size_t(64) << 20);
  addRoutes(server, context);
  int bound = port == 0 ? server.bind_to_any_port(host) : server.bind_to_port(host, port) ? port : -1;
  if (bound < 0)
    return fail(makeError("cannot listen on {0}:{1}: {2}", host.getValue(), port.getValue(),
                          strerror(errno)));
  std::thread http([&server] { server.listen_after_bind(); });

  // SIGTERM or SIGINT: stop taking requests, finish the ones in flight, then end. A second
  // one ends at once.
  // (The handler only writes the signal's number into a pipe: OpenBLAS and OpenMP threads
  // that exist before main could receive it, so blocking it for a sigwait thread is not
  // enough.)
  if (pipe(signalPipe) != 0)
    return fail(makeError("cannot make a pipe: {0}", strerror(errno)));
  struct sigaction action {};
  action.sa_handler = forwardSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::thread signals([&dispatcher] {
    unsigned char received = 0;
    while (read(signalPipe[0], &received, 1) == 1 || errno == EINTR) {
      if (received == 0) // written by runServer() itself at the end
        return;
      if (dispatcher.isDraining())
        _exit(1);
      logger().info("signal {}: finishing the requests in flight, then stopping", received);
      dispatcher.beginDrain();
    }
  });
  llvm::outs() << "listening on http://" << host << ":" << bound << "\n";
  llvm::outs().flush();
  logger().info("serving '{}' ({} rank{}) on http://{}:{}", context.modelName,
                manifest.worldSize(), manifest.worldSize() == 1 ? "" : "s", host.getValue(),
                bound);

  llvm::Error loop = runEngineLoop(manifest, 0, collectives, limits, &dispatcher, &metrics);
  server.stop();
  http.join();
  unsigned char end = 0;
  if (write(signalPipe[1], &end, 1) == 1)
    signals.join();
  else
    signals.detach();
  if (loop)
    return fail(std::move(loop));
  logger().info("stopped");
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerLogLevelOption(category);
  cl::HideUnrelatedOptions({&category});
  cl::ParseCommandLineOptions(argc, argv,
                              "vgcu-serve: serves a vgcu artifact over HTTP with OpenAI's "
                              "completions and chat completions API\n");
  if (auto error = applyLogLevelOption())
    return fail(std::move(error));
  auto manifest = readArtifact(artifactPath, /*verifyChecksums=*/rankOption < 0);
  if (!manifest)
    return fail(manifest.takeError());
  auto limits = servingLimits(*manifest);
  if (!limits)
    return fail(limits.takeError());
  int64_t worldSize = manifest->worldSize();
  int perRankThreads = threads > 0 ? threads.getValue()
                                   : std::max<int>(1, at::get_num_threads() /
                                                          static_cast<int>(worldSize / hosts.nnodes));
  setReferenceKernelThreads(perRankThreads);
  signal(SIGPIPE, SIG_IGN);

  if (rankOption >= 0) { // a rank started by rank 0 or by another host's launcher
    auto collectives = connectGloo(rankOption, worldSize, manifest->tp, hosts.masterAddr,
                                   hosts.masterPort, std::chrono::seconds(60));
    if (!collectives)
      return fail(collectives.takeError());
    if (auto error = runEngineLoop(*manifest, rankOption, **collectives, *limits, nullptr,
                                   nullptr))
      return fail(std::move(error));
    return 0;
  }
  if (auto error = hosts.check(worldSize))
    return fail(std::move(error));
  auto self = llvm::sys::fs::getMainExecutable(argv[0], reinterpret_cast<void *>(&fail));
  RankLaunch launch = hosts.launch(self, rankArguments(argc, argv), worldSize);
  if (hosts.nodeRank > 0) { // another host: its ranks only
    auto ranks = RankProcesses::start(launch);
    if (!ranks)
      return fail(ranks.takeError());
    if (auto error = (*ranks)->wait())
      return fail(std::move(error));
    return 0;
  }

  // Host 0: this process is rank 0. What it needs besides the artifact is read before any
  // rank starts.
  auto text = loadTextSupport(*manifest);
  if (!text)
    return fail(text.takeError());
  std::unique_ptr<Collectives> collectives;
  std::unique_ptr<RankProcesses> ranks;
  std::thread watcher;
  if (worldSize == 1) {
    collectives = makeSingleRankCollectives();
  } else {
    launch.firstRank = 1; // this process is rank 0
    auto started = RankProcesses::start(launch);
    if (!started)
      return fail(started.takeError());
    ranks = std::move(*started);
    hosts.announceStore("vgcu-serve", ranks->storePort());
    auto joined = connectGloo(0, worldSize, manifest->tp, hosts.masterAddr, ranks->storePort(),
                              std::chrono::seconds(60));
    if (!joined)
      return fail(joined.takeError());
    collectives = std::move(*joined);
    // A rank that dies takes the server down: its peers would wait for it forever.
    watcher = std::thread([&ranks] {
      if (auto error = ranks->wait()) {
        llvm::errs() << "vgcu-serve: error: " << llvm::toString(std::move(error)) << "\n";
        _exit(1);
      }
    });
  }
  int status = runServer(*manifest, *collectives, *limits, *text);
  if (status != 0) {
    // The other ranks would wait for rank 0 forever; they die with this process.
    llvm::errs().flush();
    _exit(status);
  }
  if (watcher.joinable())
    watcher.join();
  return status;
}
