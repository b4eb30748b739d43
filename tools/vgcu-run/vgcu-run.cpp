//===- vgcu-run.cpp - Runs a vgcu artifact: one prompt, or many requests batched ----===//

#include "Requests.h"

#include "../common/ExecutorOptions.h"
#include "../common/HostOptions.h"

#include "vgcu/Artifact/ArtifactReader.h"
#include "vgcu/Runtime/ActivationDump.h"
#include "vgcu/Runtime/Distributed.h"
#include "vgcu/Runtime/Engine.h"
#include "vgcu/Runtime/Executor.h"
#include "vgcu/Runtime/Trace.h"
#include "vgcu/Support/OutputFile.h"
#include "vgcu/Support/Progress.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Json.h"
#include "vgcu/Support/Log.h"
#include "vgcu/Support/TestHooks.h"
#include "vgcu/Tokenizer/ChatTemplate.h"
#include "vgcu/Tokenizer/Tokenizer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <ATen/Parallel.h>

#include <chrono>
#include <csignal>
#include <limits>
#include <set>
#include <thread>
#include <unistd.h>

using namespace vgcu;
using namespace vgcu::runtime;
namespace cl = llvm::cl;

namespace {
cl::OptionCategory category("vgcu-run options");

cl::opt<std::string> artifactPath(cl::Positional, cl::desc("NAME.vgcu"), cl::Required,
                                  cl::cat(category));
cl::opt<std::string> promptIds("prompt-ids", cl::desc("Prompt token ids, comma separated"),
                               cl::value_desc("5,17,42"), cl::cat(category));
cl::opt<std::string> promptText(
    "prompt",
    cl::desc("Prompt text, encoded with the tokenizer the artifact carries; the generated text "
             "is printed as it comes, and generation stops at an end-of-sequence token"),
    cl::value_desc("TEXT"), cl::cat(category));
cl::opt<std::string> chatMessage(
    "chat",
    cl::desc("A user message, made into the prompt by the chat template the artifact's "
             "tokenizer carries (with the assistant's turn opened); the reply is printed as "
             "--prompt prints text"),
    cl::value_desc("TEXT"), cl::cat(category));
cl::opt<std::string> systemMessage("system",
                                   cl::desc("--chat: a system message before the user's"),
                                   cl::value_desc("TEXT"), cl::cat(category));
cl::opt<std::string> requestsPath(
    "requests",
    cl::desc("Run the requests of a JSON-lines file through the batching engine and print one "
             "JSON line per request as it finishes"),
    cl::value_desc("FILE.jsonl"), cl::cat(category));
cl::opt<double> arrivalRate("arrival-rate",
                            cl::desc("With --requests: submit requests as a Poisson process of "
                                     "this many per second (0: all at once)"),
                            cl::init(0.0), cl::cat(category));
cl::opt<uint64_t> arrivalSeed("arrival-seed", cl::desc("Seed of the --arrival-rate process"),
                              cl::init(0), cl::cat(category));
cl::opt<int64_t> maxNumSeqs("max-num-seqs",
                            cl::desc("With --requests: sequences in one batch at most"),
                            cl::init(64), cl::cat(category));
cl::opt<int64_t> maxNumBatchedTokens(
    "max-num-batched-tokens",
    cl::desc("With --requests: tokens in one batch at most (prompts are cut into chunks)"),
    cl::init(512), cl::cat(category));
cl::opt<int64_t> kvCacheBlocks(
    "kv-cache-blocks",
    cl::desc("With --requests: KV cache blocks shared by all requests (0: enough for every "
             "request at once)"),
    cl::init(0), cl::cat(category));
cl::opt<std::string> statsPath("totals-json",
                               cl::desc("With --requests: write the run's totals as JSON here"),
                               cl::value_desc("FILE"), cl::cat(category));
cl::opt<int64_t> maxNewTokens("max-new-tokens", cl::desc("Tokens to generate (greedy)"),
                              cl::init(16), cl::cat(category));
cl::opt<bool> json("json", cl::desc("Print one JSON object: tokens, logits, timing"),
                   cl::init(false), cl::cat(category));
/// More threads than this only oversubscribe any machine vgcu-run targets.
constexpr int kMaxThreads = 1024;
cl::opt<int> threads("num-threads", cl::desc("ATen threads per rank (0: cores / ranks)"),
                     cl::init(0), cl::cat(category));
ExecutorOptions executorOptions(category);
cl::opt<bool> skipChecksums("no-verify-checksums",
                            cl::desc("Skip re-hashing the artifact's files"), cl::init(false),
                            cl::cat(category));

cl::opt<int> warmup("warmup",
                    cl::desc("Untimed generations before the timed one (page in weights, "
                             "size the buffer arena)"),
                    cl::init(0), cl::cat(category));

cl::OptionCategory diagnostics("vgcu-run diagnostics");
cl::opt<std::string> tracePath(
    "trace",
    cl::desc("Write a Chrome trace event file (Perfetto, chrome://tracing) of every kernel "
             "launch: one track per rank, each prefill and decode step enclosing its launches"),
    cl::value_desc("FILE.json"), cl::cat(diagnostics));
cl::opt<bool> profile("profile",
                      cl::desc("Print (stderr) where rank 0's time goes: per kernel kind, "
                               "launches, time, share of a step, GB/s and GFLOP/s; with --json "
                               "(or --totals-json) also as its 'profile' field"),
                      cl::init(false), cl::cat(diagnostics));
cl::opt<std::string> dumpDirectory(
    "dump-activations",
    cl::desc("Write the prompt's module outputs (every decoder layer, attention, MLP, norm), "
             "named by Hugging Face module path and gathered across ranks, to DIR as "
             "safetensors (python/vgcu_diff.py compares them with the PyTorch model)"),
    cl::value_desc("DIR"), cl::cat(diagnostics));
cl::opt<std::string> dumpLayers("dump-layers",
                                cl::desc("With --dump-activations: only these decoder layers"),
                                cl::value_desc("0,5,..."), cl::cat(diagnostics));
cl::opt<bool> dumpKernels(
    "dump-kernels",
    cl::desc("With --dump-activations: also every kernel's outputs (kernels.safetensors; at "
             "tp > 1 one slice per tensor rank)"),
    cl::init(false), cl::cat(diagnostics));

// Set by the launcher for the processes it starts.
cl::opt<int64_t> rankOption("rank", cl::desc("(internal) this process's rank"), cl::init(-1),
                            cl::Hidden);
HostOptions hosts(category);
// Fault injection for tests: this rank kills itself after prefill.
cl::opt<int64_t> debugKillRank("debug-kill-rank",
                               cl::desc("(testing) rank that dies with SIGKILL after prefill"),
                               cl::init(-1), cl::Hidden);

int fail(llvm::Error error) {
  std::string prefix = rankOption >= 0 ? "vgcu-run (rank " + std::to_string(rankOption) + ")"
                                       : std::string("vgcu-run");
  // One write, so that the lines of ranks failing together do not interleave.
  llvm::errs() << (prefix + ": error: " + llvm::toString(std::move(error)) + "\n");
  return 1;
}

llvm::Expected<std::vector<int64_t>> parseIds(llvm::StringRef text, int64_t vocab) {
  std::vector<int64_t> ids;
  llvm::SmallVector<llvm::StringRef> pieces;
  if (text.trim().empty())
    return makeError("--prompt-ids is empty");
  text.split(pieces, ',', -1, /*KeepEmpty=*/true);
  for (auto [index, piece] : llvm::enumerate(pieces)) {
    int64_t id;
    if (piece.trim().empty())
      return makeError("--prompt-ids: entry {0} of '{1}' is empty", index + 1, text);
    if (piece.trim().getAsInteger(10, id))
      return makeError("--prompt-ids: '{0}' is not an integer", piece.trim());
    if (id < 0 || id >= vocab)
      return makeError("--prompt-ids: token id {0} is outside the vocabulary [0, {1})", id, vocab);
    ids.push_back(id);
  }
  if (ids.empty())
    return makeError("--prompt-ids is empty");
  return ids;
}

int64_t greedyToken(const at::Tensor &logits) { return logits.argmax().item<int64_t>(); }

/// Positions a generation occupies: the prompt's, then one per new token but the last,
/// which is never fed back.
int64_t positionsUsed(int64_t promptTokens) {
  return promptTokens + std::max<int64_t>(0, maxNewTokens - 1);
}

/// Logits that are NaN or infinite are an error, not a token (and not invalid JSON).
llvm::Expected<at::Tensor> checkFinite(llvm::Expected<at::Tensor> logits,
                                       const llvm::Twine &step) {
  if (!logits)
    return logits.takeError();
  if (!at::isfinite(*logits).all().item<bool>())
    return makeError("the model produced non-finite logits (NaN or infinity) {0}; its weights "
                     "or inputs are out of range for its dtype",
                     step.str());
  return logits;
}

/// Whether the prompt comes as text (--prompt or --chat).
bool textInput() {
  return promptText.getNumOccurrences() > 0 || chatMessage.getNumOccurrences() > 0;
}

/// The tokenizer the artifact carries.
llvm::Expected<std::unique_ptr<tokenizer::Tokenizer>>
loadTokenizer(const ArtifactManifest &manifest) {
  if (manifest.tokenizer.empty())
    return makeError("artifact '{0}' carries no tokenizer (its model directory had no "
                     "tokenizer.json): give the prompt as --prompt-ids",
                     manifest.directory);
  return tokenizer::Tokenizer::fromDirectory(manifest.path(manifest.tokenizer));
}

/// The artifact's tokenizer when the prompt is text (--prompt, --chat), else null.
llvm::Expected<std::unique_ptr<tokenizer::Tokenizer>>
promptTokenizer(const ArtifactManifest &manifest) {
  if (!textInput())
    return nullptr;
  return loadTokenizer(manifest);
}

/// --prompt encoded (or --chat's message through the chat template, whose text already has
/// the special tokens), every id inside the model's vocabulary.
llvm::Expected<std::vector<int64_t>> encodePrompt(const ArtifactManifest &manifest,
                                                  const tokenizer::Tokenizer &tokenizer) {
  bool chatMode = chatMessage.getNumOccurrences() > 0;
  std::string text = promptText;
  if (chatMode) {
    llvm::json::Array messages;
    if (systemMessage.getNumOccurrences())
      messages.push_back(llvm::json::Object{{"role", "system"}, {"content", systemMessage}});
    messages.push_back(llvm::json::Object{{"role", "user"}, {"content", chatMessage}});
    std::string variables;
    llvm::raw_string_ostream(variables) << llvm::json::Value(llvm::json::Object{
        {"messages", std::move(messages)}, {"add_generation_prompt", true}});
    auto rendered = tokenizer::applyChatTemplate(tokenizer, variables);
    if (!rendered)
      return addContext(rendered.takeError(), "--chat");
    text = std::move(*rendered);
  }
  auto ids = tokenizer.encode(text, /*addSpecialTokens=*/!chatMode);
  if (!ids)
    return addContext(ids.takeError(), chatMode ? "--chat" : "--prompt");
  if (ids->empty())
    return makeError("the prompt encodes to no tokens");
  for (int64_t id : *ids)
    if (id >= manifest.vocabSize)
      return makeError("the prompt's token {0} ('{1}') is outside the model's vocabulary of {2}",
                       id, tokenizer.idToToken(id).value_or(""), manifest.vocabSize);
  return ids;
}

/// The prompt's ids, checked against the vocabulary and, with the new tokens, against the
/// model's positions; `tokenizer` encodes a text prompt.
llvm::Expected<std::vector<int64_t>> readPrompt(const ArtifactManifest &manifest,
                                                const tokenizer::Tokenizer *tokenizer) {
  auto ids = tokenizer ? encodePrompt(manifest, *tokenizer)
                       : parseIds(promptIds, manifest.vocabSize);
  if (!ids)
    return ids.takeError();
  int64_t promptTokens = static_cast<int64_t>(ids->size());
  bool overflows = maxNewTokens > std::numeric_limits<int64_t>::max() - promptTokens;
  if (manifest.maxPositions > 0 && overflows)
    return makeError("prompt plus {0} new tokens is more than the model's {1} positions",
                     maxNewTokens.getValue(), manifest.maxPositions);
  if (overflows)
    return makeError("--max-new-tokens {0} is too large", maxNewTokens.getValue());
  int64_t positions = positionsUsed(promptTokens);
  if (manifest.maxPositions > 0 && positions > manifest.maxPositions)
    return makeError("prompt plus {0} new tokens needs {1} positions (the last new token is "
                     "not fed back), more than the model's {2}",
                     maxNewTokens.getValue(), positions, manifest.maxPositions);
  return ids;
}

int runRequests(const ArtifactManifest &manifest, int64_t rank, Collectives &collectives);

/// --dump-layers as a set.
llvm::Expected<std::set<int64_t>> parseLayerList(llvm::StringRef text) {
  std::set<int64_t> layers;
  llvm::SmallVector<llvm::StringRef> pieces;
  text.split(pieces, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef piece : pieces) {
    int64_t layer;
    if (piece.trim().getAsInteger(10, layer) || layer < 0)
      return makeError("--dump-layers: '{0}' is not a layer index", piece.trim());
    layers.insert(layer);
  }
  if (layers.empty())
    return makeError("--dump-layers is empty");
  return layers;
}

/// Where a rank writes its trace: the file itself, or (several ranks) a part the launcher
/// merges into it.
std::string traceFileOf(int64_t rank, int64_t worldSize) {
  return worldSize == 1 ? tracePath.getValue()
                        : tracePath + ".rank" + std::to_string(rank) + ".part";
}

/// The diagnostics a run asked for, watching its executor.
struct Diagnostics {
  std::unique_ptr<KernelTracer> tracer;
  std::unique_ptr<ActivationRecorder> recorder;

  llvm::Error attach(Executor &executor, int64_t rank, Collectives &collectives) {
    if ((!tracePath.empty() || profile || !dumpDirectory.empty()) && !runtimeHooksBuiltIn())
      return makeError("this vgcu-run was built without runtime hooks (VGCU_RUNTIME_HOOKS=OFF): "
                       "--trace, --profile and --dump-activations are unavailable");
    if (!tracePath.empty() || profile) {
      tracer = std::make_unique<KernelTracer>(rank);
      executor.addObserver(tracer.get());
    }
    if (!dumpDirectory.empty()) {
      ActivationDumpOptions options;
      options.kernels = dumpKernels;
      if (!dumpLayers.empty()) {
        auto layers = parseLayerList(dumpLayers);
        if (!layers)
          return layers.takeError();
        options.layers = std::move(*layers);
      }
      recorder = std::make_unique<ActivationRecorder>(collectives, std::move(options));
      executor.addObserver(recorder.get());
    }
    return llvm::Error::success();
  }

  /// Writes what was recorded; the profile goes to stderr and, when given, into `json`.
  llvm::Error finish(Executor &executor, int64_t rank, int64_t worldSize,
                     llvm::json::Object *json) {
    if (tracer) {
      executor.removeObserver(tracer.get());
      if (!tracePath.empty()) {
        llvm::json::Value events(tracer->events());
        std::string file = traceFileOf(rank, worldSize);
        llvm::json::Value content =
            worldSize == 1 ? chromeTrace({std::move(events)}) : std::move(events);
        if (auto error = llvm::writeToOutput(file, [&](llvm::raw_ostream &os) {
              os << content << "\n";
              return llvm::Error::success();
            }))
          return addContext(std::move(error), "--trace");
      }
      if (profile && rank == 0) {
        llvm::json::Object prefill = tracer->profile("prefill"), decode = tracer->profile("decode");
        llvm::errs() << formatProfile(prefill, "prefill") << formatProfile(decode, "decode");
        if (json)
          (*json)["profile"] =
              llvm::json::Object{{"prefill", std::move(prefill)}, {"decode", std::move(decode)}};
      }
    }
    if (recorder) {
      executor.removeObserver(recorder.get());
      if (!recorder->done())
        return makeError("--dump-activations: no prompt was run");
      if (rank == 0)
        if (auto error = recorder->write(dumpDirectory, /*overwrite=*/true))
          return addContext(std::move(error), "--dump-activations");
    }
    return llvm::Error::success();
  }
};

/// The launcher's part of --trace: the ranks' parts merged into one file, the parts removed.
llvm::Error mergeTraceParts(int64_t worldSize) {
  std::vector<llvm::json::Value> parts;
  llvm::Error failure = llvm::Error::success();
  for (int64_t rank = 0; rank < worldSize; ++rank) {
    std::string part = traceFileOf(rank, worldSize);
    auto buffer = readInputFile(part, "trace part");
    if (!buffer) {
      failure = llvm::joinErrors(std::move(failure), buffer.takeError());
      continue;
    }
    auto events = parseJson((*buffer)->getBuffer());
    llvm::sys::fs::remove(part);
    if (!events) {
      failure = llvm::joinErrors(std::move(failure), addContext(events.takeError(), part));
      continue;
    }
    parts.push_back(std::move(*events));
  }
  if (failure)
    return failure;
  llvm::json::Value trace = chromeTrace(std::move(parts));
  return llvm::writeToOutput(tracePath, [&](llvm::raw_ostream &os) {
    os << trace << "\n";
    return llvm::Error::success();
  });
}

/// Loads this rank, generates, and (rank 0) prints the result.
int runRank(const ArtifactManifest &manifest, int64_t rank, Collectives &collectives) {
  if (!requestsPath.empty())
    return runRequests(manifest, rank, collectives);
  // A text prompt: the tokenizer encodes it, and (rank 0) turns what is generated into text.
  auto loaded = promptTokenizer(manifest);
  if (!loaded)
    return fail(loaded.takeError());
  std::unique_ptr<tokenizer::Tokenizer> textTokenizer = std::move(*loaded);
  auto ids = readPrompt(manifest, textTokenizer.get());
  if (!ids)
    return fail(ids.takeError());
  auto executor = executorOptions.load(manifest, rank, collectives);
  if (!executor)
    return fail(executor.takeError());
  if (auto error = (*executor)->resetCache(positionsUsed(static_cast<int64_t>(ids->size()))))
    return fail(std::move(error));
  // Warm-up generations write the same cache slots the timed one overwrites.
  for (int round = 0; round < warmup; ++round) {
    auto logits = (*executor)->prefill(*ids);
    if (!logits)
      return fail(logits.takeError());
    int64_t token = greedyToken(*logits);
    for (int64_t step = 0; step < std::min<int64_t>(maxNewTokens - 1, 4); ++step) {
      auto next = (*executor)->decode(token, static_cast<int64_t>(ids->size()) + step);
      if (!next)
        return fail(next.takeError());
      token = greedyToken(*next);
    }
  }

  Diagnostics diagnostics;
  if (auto error = diagnostics.attach(**executor, rank, collectives))
    return fail(std::move(error));

  using Clock = std::chrono::steady_clock;
  // --prompt: text out as it is generated (rank 0), until an end-of-sequence token.
  bool textMode = textTokenizer != nullptr;
  std::optional<tokenizer::IncrementalDetokenizer> detokenizer;
  if (textMode && rank == 0)
    detokenizer.emplace(*textTokenizer, *ids, /*skipSpecialTokens=*/true);
  std::vector<int64_t> generated;
  std::string generatedText;
  auto emitText = [&](int64_t token) -> llvm::Error {
    if (!detokenizer)
      return llvm::Error::success();
    auto piece = detokenizer->append(token);
    if (!piece)
      return piece.takeError();
    generatedText += *piece;
    if (!json) {
      llvm::outs() << *piece;
      llvm::outs().flush();
    }
    return llvm::Error::success();
  };
  auto finished = [&] {
    return textMode && !generated.empty() &&
           llvm::is_contained(manifest.eosTokenIds, generated.back());
  };

  auto start = Clock::now();
  auto logits = checkFinite((*executor)->prefill(*ids), "for the prompt");
  if (!logits)
    return fail(logits.takeError());
  auto prefillEnd = Clock::now();
  at::Tensor promptLogits = *logits;
  if (maxNewTokens > 0) {
    generated.push_back(greedyToken(promptLogits));
    if (auto error = emitText(generated.back()))
      return fail(std::move(error));
  }
  if (rank == debugKillRank)
    raise(SIGKILL);
  if (maxNewTokens > 1)
    debugPausePoint("decode");
  int64_t position = static_cast<int64_t>(ids->size());
  while (static_cast<int64_t>(generated.size()) < maxNewTokens && !finished()) {
    auto step = [&]() -> llvm::Expected<at::Tensor> {
      if (position + 1 != manifest.recomputeAt)
        return checkFinite((*executor)->decode(generated.back(), position),
                           "at position " + llvm::Twine(position));
      // As Hugging Face's generate does for this model: the whole sequence again, so every
      // cached key gets the rotation of the longer sequence.
      std::vector<int64_t> sequence(*ids);
      sequence.insert(sequence.end(), generated.begin(), generated.end());
      return checkFinite((*executor)->prefill(sequence),
                         "recomputing " + llvm::Twine(position + 1) + " tokens");
    };
    auto next = step();
    ++position;
    if (!next)
      return fail(next.takeError());
    generated.push_back(greedyToken(*next));
    if (auto error = emitText(generated.back()))
      return fail(std::move(error));
  }
  auto end = Clock::now();
  if (detokenizer) {
    auto rest = detokenizer->finish();
    if (!rest)
      return fail(rest.takeError());
    generatedText += *rest;
    if (!json)
      llvm::outs() << *rest << "\n";
  }
  llvm::json::Object profileJson;
  if (auto error = diagnostics.finish(**executor, rank, manifest.worldSize(),
                                      json ? &profileJson : nullptr))
    return fail(std::move(error));
  if (rank != 0)
    return 0;

  double prefillSeconds = std::chrono::duration<double>(prefillEnd - start).count();
  double decodeSeconds = std::chrono::duration<double>(end - prefillEnd).count();
  int64_t decodeSteps = std::max<int64_t>(0, static_cast<int64_t>(generated.size()) - 1);
  if (!json && textMode)
    return 0;
  if (!json) {
    llvm::outs() << llvm::join(llvm::map_range(generated, [](int64_t id) {
                      return std::to_string(id);
                    }),
                               " ")
                 << "\n";
    return 0;
  }
  llvm::json::Array tokens, logitValues;
  for (int64_t id : generated)
    tokens.push_back(id);
  auto accessor = promptLogits.accessor<float, 1>();
  for (int64_t i = 0; i < promptLogits.size(0); ++i)
    logitValues.push_back(static_cast<double>(accessor[i]));
  llvm::json::Object result{
      {"tokens", std::move(tokens)},
      {"logits", std::move(logitValues)},
      {"timing",
       llvm::json::Object{
           {"prompt_tokens", static_cast<int64_t>(ids->size())},
           {"prefill_seconds", prefillSeconds},
           {"prefill_tokens_per_second", prefillSeconds > 0 ? ids->size() / prefillSeconds : 0.0},
           {"decode_steps", decodeSteps},
           {"decode_seconds", decodeSeconds},
           {"decode_tokens_per_second", decodeSeconds > 0 ? decodeSteps / decodeSeconds : 0.0},
           {"launches_per_decode_step", (*executor)->launchesPerDecodeStep()}}},
  };
  if (auto *profileValue = profileJson.get("profile"))
    result["profile"] = std::move(*profileValue);
  if (textMode) {
    result["prompt_ids"] = llvm::json::Array(*ids);
    result["text"] = generatedText;
  }
  llvm::outs() << llvm::json::Value(std::move(result)) << "\n";
  return 0;
}

/// Blocks for every request at once: the default cache of --requests.
int64_t blocksForAll(const std::vector<GenerationRequest> &requests, int64_t blockSize) {
  int64_t blocks = 0;
  for (const GenerationRequest &request : requests) {
    int64_t positions =
        static_cast<int64_t>(request.promptIds.size()) + request.sampling.maxTokens - 1;
    blocks += (positions + blockSize - 1) / blockSize;
  }
  return std::max<int64_t>(blocks, 1);
}

/// Submission times in seconds from the start: all 0, or a Poisson process.
std::vector<double> arrivalTimes(size_t count) {
  std::vector<double> times(count, 0.0);
  if (arrivalRate == 0.0)
    return times;
  std::mt19937_64 generator(arrivalSeed);
  double now = 0.0;
  for (double &time : times) {
    double uniform = (static_cast<double>(generator() >> 11) + 0.5) * 0x1.0p-53;
    now += -std::log(uniform) / arrivalRate;
    time = now;
  }
  return times;
}

/// --requests: every request through the engine; rank 0 prints one JSON line per request as
/// it finishes and, with --stats-json, the totals.
int runRequests(const ArtifactManifest &manifest, int64_t rank, Collectives &collectives) {
  using Clock = std::chrono::steady_clock;
  auto requests = readRequestFile(requestsPath, manifest.vocabSize);
  if (!requests)
    return fail(requests.takeError());
  std::unique_ptr<OutputFile> statsFile;
  if (rank == 0 && !statsPath.empty()) {
    auto file = OutputFile::create(statsPath);
    if (!file)
      return fail(file.takeError());
    statsFile = std::move(*file);
  }
  auto executor = executorOptions.load(manifest, rank, collectives);
  if (!executor)
    return fail(executor.takeError());
  EngineOptions options;
  options.limits.maxNumSeqs = maxNumSeqs;
  options.limits.maxNumBatchedTokens = maxNumBatchedTokens;
  options.cacheBlocks =
      kvCacheBlocks > 0 ? kvCacheBlocks.getValue() : blocksForAll(*requests, manifest.kvBlockSize);
  auto engine = Engine::create(**executor, collectives, options);
  if (!engine)
    return fail(engine.takeError());
  Diagnostics diagnostics;
  if (auto error = diagnostics.attach(**executor, rank, collectives))
    return fail(std::move(error));

  struct Progress {
    Clock::time_point submitted, firstToken;
    std::vector<int64_t> tokens;
    std::vector<at::Tensor> logits;
  };
  std::vector<double> arrivals = arrivalTimes(requests->size());
  llvm::StringMap<size_t> indexOf;
  for (auto [index, request] : llvm::enumerate(*requests))
    indexOf[request.id] = index;
  std::vector<Progress> progress(requests->size());
  ProgressBar bar("requests", requests->size(), "requests");
  size_t submitted = 0, finished = 0;
  auto start = Clock::now();
  while (finished < requests->size()) {
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    int64_t due = std::upper_bound(arrivals.begin(), arrivals.end(), elapsed) - arrivals.begin();
    // Every rank must submit the same requests before the same step: rank 0's clock decides.
    due = (*engine)->agreeWithRankZero(due);
    for (; static_cast<int64_t>(submitted) < due; ++submitted) {
      progress[submitted].submitted = Clock::now();
      if (auto error = (*engine)->addRequest((*requests)[submitted]))
        return fail(addContext(std::move(error), requestsPath));
    }
    if (!(*engine)->hasUnfinishedRequests()) {
      if (rank == 0 && submitted < arrivals.size())
        std::this_thread::sleep_for(std::chrono::duration<double>(
            std::max(0.0, arrivals[submitted] - elapsed)));
      continue;
    }
    auto outputs = (*engine)->step();
    if (!outputs)
      return fail(outputs.takeError());
    auto now = Clock::now();
    for (RequestOutput &output : *outputs) {
      Progress &state = progress[indexOf[output.id]];
      if (state.tokens.empty() && !output.newTokens.empty())
        state.firstToken = now;
      llvm::append_range(state.tokens, output.newTokens);
      llvm::append_range(state.logits, output.newLogits);
      if (!output.finished())
        continue;
      ++finished;
      bar.advance(1);
      if (rank != 0)
        continue;
      llvm::json::Array tokens;
      for (int64_t id : state.tokens)
        tokens.push_back(id);
      llvm::json::Object line{
          {"id", output.id},
          {"tokens", std::move(tokens)},
          {"finish_reason", finishReasonName(output.finishReason)},
          {"ttft_s", std::chrono::duration<double>(state.firstToken - state.submitted).count()},
          {"latency_s", std::chrono::duration<double>(now - state.submitted).count()}};
      if (!state.logits.empty()) {
        llvm::json::Array rows;
        for (const at::Tensor &row : state.logits) {
          llvm::json::Array values;
          auto accessor = row.accessor<float, 1>();
          for (int64_t i = 0; i < row.size(0); ++i)
            values.push_back(static_cast<double>(accessor[i]));
          rows.push_back(std::move(values));
        }
        line["logits"] = std::move(rows);
      }
      llvm::outs() << llvm::json::Value(std::move(line)) << "\n";
      llvm::outs().flush();
      state = Progress();
    }
  }
  bar.finish();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  llvm::json::Object profileJson;
  if (auto error = diagnostics.finish(**executor, rank, manifest.worldSize(),
                                      statsFile ? &profileJson : nullptr))
    return fail(std::move(error));
  const EngineStats &stats = (*engine)->stats();
  if (rank == 0)
    logger().info("{} requests: {} prompt and {} generated tokens in {:.3f} s ({:.1f} generated "
                  "tokens/s), {} steps, {} preemptions",
                  requests->size(), stats.promptTokens, stats.generatedTokens, seconds,
                  stats.generatedTokens / seconds, stats.steps, stats.preemptions);
  if (!statsFile)
    return 0;
  llvm::json::Object totals{
      {"requests", static_cast<int64_t>(requests->size())},
      {"prompt_tokens", stats.promptTokens},
      {"generated_tokens", stats.generatedTokens},
      {"seconds", seconds},
      {"generated_tokens_per_second", seconds > 0 ? stats.generatedTokens / seconds : 0.0},
      {"steps", stats.steps},
      {"preemptions", stats.preemptions},
      {"decode_tokens", stats.decodeTokens},
      {"decode_seconds", stats.decodeSeconds},
      {"decode_tokens_per_second",
       stats.decodeSeconds > 0 ? stats.decodeTokens / stats.decodeSeconds : 0.0},
      {"kv_cache_blocks", options.cacheBlocks}};
  if (auto *profileValue = profileJson.get("profile"))
    totals["profile"] = std::move(*profileValue);
  statsFile->stream() << llvm::json::Value(std::move(totals)) << "\n";
  if (auto error = statsFile->close())
    return fail(std::move(error));
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  // OpenBLAS picks its kernels when it loads; when it picked generic ones for this CPU, start
  // again with the right ones named (a failed exec goes on with the generic kernels).
  if (std::string core = preferredBlasCoreType(); !core.empty()) {
    setenv("OPENBLAS_CORETYPE", core.c_str(), /*overwrite=*/1);
    execv("/proc/self/exe", argv);
  }
  llvm::InitLLVM init(argc, argv);
  registerLogLevelOption(category);
  cl::HideUnrelatedOptions({&category, &diagnostics});
  cl::ParseCommandLineOptions(argc, argv,
                              "vgcu-run: runs a vgcu artifact on the CPU reference kernels: "
                              "prefill, then greedy decode\n");
  if (auto error = applyLogLevelOption())
    return fail(std::move(error));
  if (maxNewTokens < 0)
    return fail(makeError("--max-new-tokens must not be negative"));
  int inputs = (promptIds.getNumOccurrences() > 0) + (promptText.getNumOccurrences() > 0) +
               (chatMessage.getNumOccurrences() > 0) + !requestsPath.empty();
  if (inputs == 0)
    return fail(makeError("give the prompt (--prompt, --chat or --prompt-ids) or a request "
                          "file (--requests)"));
  if (inputs > 1)
    return fail(makeError("--prompt, --chat, --prompt-ids and --requests exclude each other"));
  if (systemMessage.getNumOccurrences() && !chatMessage.getNumOccurrences())
    return fail(makeError("--system goes with --chat"));
  if (!(arrivalRate >= 0.0) || !std::isfinite(arrivalRate))
    return fail(makeError("--arrival-rate must be a finite number >= 0"));
  if (maxNumSeqs < 1 || maxNumBatchedTokens < 1 || kvCacheBlocks < 0)
    return fail(makeError("--max-num-seqs and --max-num-batched-tokens must be at least 1, "
                          "--kv-cache-blocks at least 0"));
  if (!dumpDirectory.empty() && !requestsPath.empty())
    return fail(makeError("--dump-activations records the prompt of --prompt-ids, not --requests"));
  if (dumpDirectory.empty() && (!dumpLayers.empty() || dumpKernels))
    return fail(makeError("--dump-layers and --dump-kernels go with --dump-activations"));
  if (!dumpLayers.empty())
    if (auto layers = parseLayerList(dumpLayers); !layers)
      return fail(layers.takeError());
  if (threads < 0 || threads > kMaxThreads)
    return fail(makeError("--num-threads must be between 0 (automatic) and {0}, got {1}",
                          kMaxThreads, threads.getValue()));

  // Ranks started by the launcher re-hash nothing: the launcher checked the files.
  auto manifest = readArtifact(artifactPath, !skipChecksums && rankOption < 0);
  if (!manifest)
    return fail(manifest.takeError());
  int64_t tp = manifest->tp, worldSize = manifest->worldSize();
  int perRankThreads =
      threads > 0 ? threads.getValue()
                  : std::max<int>(1, at::get_num_threads() / static_cast<int>(worldSize));
  setReferenceKernelThreads(perRankThreads);

  if (rankOption < 0 && hosts.nnodes > 1) {
    if (auto error = hosts.check(worldSize))
      return fail(std::move(error));
    if (!tracePath.empty() || !dumpDirectory.empty())
      return fail(makeError("--trace and --dump-activations need all ranks on one host"));
  }
  if (worldSize == 1) {
    auto collectives = makeSingleRankCollectives();
    return runRank(*manifest, 0, *collectives);
  }
  if (rankOption < 0) {
    // The launcher: one process per rank, this executable again, once the prompt (or the
    // request file) is known to be good.
    if (requestsPath.empty()) {
      auto textTokenizer = promptTokenizer(*manifest);
      if (!textTokenizer)
        return fail(textTokenizer.takeError());
      auto ids = readPrompt(*manifest, textTokenizer->get());
      if (!ids)
        return fail(ids.takeError());
    } else if (auto requests = readRequestFile(requestsPath, manifest->vocabSize); !requests) {
      return fail(requests.takeError());
    }
    // The launcher's own arguments come last: after a "--" they are all positional.
    std::vector<std::string> arguments{"--no-verify-checksums"};
    llvm::append_range(arguments, rankArguments(argc, argv));
    auto self = llvm::sys::fs::getMainExecutable(argv[0], reinterpret_cast<void *>(&fail));
    if (hosts.nnodes > 1) {
      // Several hosts: each launcher starts its own share of the ranks; host 0 serves the
      // store and prints rank 0's results.
      auto ranks = RankProcesses::start(hosts.launch(self, arguments, worldSize));
      if (!ranks)
        return fail(ranks.takeError());
      hosts.announceStore("vgcu-run", (*ranks)->storePort());
      if (auto error = (*ranks)->wait())
        return fail(std::move(error));
      return 0;
    }
    if (auto error = runRankProcesses(self, arguments, worldSize)) {
      if (!tracePath.empty())
        for (int64_t rank = 0; rank < worldSize; ++rank)
          llvm::sys::fs::remove(traceFileOf(rank, worldSize));
      return fail(std::move(error));
    }
    if (!tracePath.empty())
      if (auto error = mergeTraceParts(worldSize))
        return fail(addContext(std::move(error), "--trace"));
    return 0;
  }
  if (rankOption >= worldSize)
    return fail(makeError("--rank {0} is outside the artifact's {1} ranks",
                          rankOption.getValue(), worldSize));
  auto collectives =
      connectGloo(rankOption, worldSize, tp, hosts.masterAddr, hosts.masterPort,
                  std::chrono::seconds(60));
  if (!collectives)
    return fail(collectives.takeError());
  return runRank(*manifest, rankOption, **collectives);
}
