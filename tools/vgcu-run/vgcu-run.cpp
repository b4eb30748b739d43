//===- vgcu-run.cpp - Runs a vgcu artifact: prefill, then greedy decode ------------===//

#include "vgcu/Artifact/ArtifactReader.h"
#include "vgcu/Runtime/Distributed.h"
#include "vgcu/Runtime/Executor.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/Log.h"
#include "vgcu/Support/TestHooks.h"

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

using namespace vgcu;
using namespace vgcu::runtime;
namespace cl = llvm::cl;

namespace {
cl::OptionCategory category("vgcu-run options");

cl::opt<std::string> artifactPath(cl::Positional, cl::desc("NAME.vgcu"), cl::Required,
                                  cl::cat(category));
cl::opt<std::string> promptIds("prompt-ids", cl::desc("Prompt token ids, comma separated"),
                               cl::value_desc("5,17,42"), cl::Required, cl::cat(category));
cl::opt<int64_t> maxNewTokens("max-new-tokens", cl::desc("Tokens to generate (greedy)"),
                              cl::init(16), cl::cat(category));
cl::opt<bool> json("json", cl::desc("Print one JSON object: tokens, logits, timing"),
                   cl::init(false), cl::cat(category));
/// More threads than this only oversubscribe any machine vgcu-run targets.
constexpr int kMaxThreads = 1024;
cl::opt<int> threads("num-threads", cl::desc("ATen threads per rank (0: cores / ranks)"),
                     cl::init(0), cl::cat(category));
cl::opt<bool> skipChecksums("no-verify-checksums",
                            cl::desc("Skip re-hashing the artifact's files"), cl::init(false),
                            cl::cat(category));

cl::opt<int> warmup("warmup",
                    cl::desc("Untimed generations before the timed one (page in weights, "
                             "size the buffer arena)"),
                    cl::init(0), cl::cat(category));

// Set by the launcher for the processes it starts.
cl::opt<int64_t> rankOption("rank", cl::desc("(internal) this process's rank"), cl::init(-1),
                            cl::Hidden);
cl::opt<int> masterPort("master-port", cl::desc("(internal) rank 0's TCPStore port"),
                        cl::init(0), cl::Hidden);
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

/// The prompt's ids, checked against the vocabulary and, with the new tokens, against the
/// model's positions.
llvm::Expected<std::vector<int64_t>> readPrompt(const ArtifactManifest &manifest) {
  auto ids = parseIds(promptIds, manifest.vocabSize);
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

/// Loads this rank, generates, and (rank 0) prints the result.
int runRank(const ArtifactManifest &manifest, int64_t rank, Collectives &collectives) {
  auto ids = readPrompt(manifest);
  if (!ids)
    return fail(ids.takeError());
  auto executor = Executor::load(manifest, rank, referenceKernelLibrary(), collectives);
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

  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  auto logits = checkFinite((*executor)->prefill(*ids), "for the prompt");
  if (!logits)
    return fail(logits.takeError());
  auto prefillEnd = Clock::now();
  at::Tensor promptLogits = *logits;
  std::vector<int64_t> generated;
  if (maxNewTokens > 0)
    generated.push_back(greedyToken(promptLogits));
  if (rank == debugKillRank)
    raise(SIGKILL);
  if (maxNewTokens > 1)
    debugPausePoint("decode");
  int64_t position = static_cast<int64_t>(ids->size());
  while (static_cast<int64_t>(generated.size()) < maxNewTokens) {
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
  }
  auto end = Clock::now();
  if (rank != 0)
    return 0;

  double prefillSeconds = std::chrono::duration<double>(prefillEnd - start).count();
  double decodeSeconds = std::chrono::duration<double>(end - prefillEnd).count();
  int64_t decodeSteps = std::max<int64_t>(0, static_cast<int64_t>(generated.size()) - 1);
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
  llvm::outs() << llvm::json::Value(std::move(result)) << "\n";
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerLogLevelOption(category);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "vgcu-run: runs a vgcu artifact on the CPU reference kernels: "
                              "prefill, then greedy decode\n");
  if (auto error = applyLogLevelOption())
    return fail(std::move(error));
  if (maxNewTokens < 0)
    return fail(makeError("--max-new-tokens must not be negative"));
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
  at::set_num_threads(perRankThreads);

  if (worldSize == 1) {
    auto collectives = makeSingleRankCollectives();
    return runRank(*manifest, 0, *collectives);
  }
  if (rankOption < 0) {
    // The launcher: one process per rank, this executable again, once the prompt is known
    // to be good.
    auto ids = readPrompt(*manifest);
    if (!ids)
      return fail(ids.takeError());
    // The launcher's own arguments come last: after a "--" they are all positional.
    std::vector<std::string> arguments{"--no-verify-checksums"};
    for (int i = 1; i < argc; ++i)
      arguments.push_back(argv[i]);
    auto self = llvm::sys::fs::getMainExecutable(argv[0], reinterpret_cast<void *>(&fail));
    if (auto error = runRankProcesses(self, arguments, worldSize))
      return fail(std::move(error));
    return 0;
  }
  if (rankOption >= worldSize)
    return fail(makeError("--rank {0} is outside the artifact's {1} ranks",
                          rankOption.getValue(), worldSize));
  auto collectives =
      connectGloo(rankOption, worldSize, tp, masterPort, std::chrono::seconds(60));
  if (!collectives)
    return fail(collectives.takeError());
  return runRank(*manifest, rankOption, **collectives);
}
