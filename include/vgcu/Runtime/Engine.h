//===- Engine.h - Serving many requests on one artifact: continuous batching ---------===//
//
// The engine owns the requests, the scheduler (KV blocks, chunked prefill, preemption by
// recomputation) and sampling; each step() runs one batch through the executor and returns
// what every request gained. Every rank of a tensor-parallel artifact runs the same engine
// on the same requests; rank 0's sampled tokens are broadcast so that the ranks stay in
// step whatever their arithmetic.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_RUNTIME_ENGINE_H
#define VGCU_RUNTIME_ENGINE_H

#include "vgcu/Runtime/Executor.h"
#include "vgcu/Runtime/Sampler.h"
#include "vgcu/Runtime/Scheduler.h"

#include "llvm/ADT/StringMap.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace vgcu::runtime {

struct GenerationRequest {
  std::string id;
  std::vector<int64_t> promptIds;
  SamplingParams sampling;
  /// Return the logits (f32, [vocab]) each new token was picked from.
  bool returnLogits = false;
};

enum class FinishReason { none, length, stop, abort };
llvm::StringRef finishReasonName(FinishReason reason);

/// What one step gave a request.
struct RequestOutput {
  std::string id;
  std::vector<int64_t> newTokens;
  std::vector<at::Tensor> newLogits;
  FinishReason finishReason = FinishReason::none;
  bool finished() const { return finishReason != FinishReason::none; }
};

struct EngineOptions {
  SchedulerLimits limits;
  /// KV cache blocks (of the artifact's block size) shared by all requests.
  int64_t cacheBlocks = 0;
};

struct EngineStats {
  int64_t steps = 0;
  int64_t preemptions = 0;
  int64_t promptTokens = 0;
  int64_t generatedTokens = 0;
  /// Steps of decode tokens only (one per sequence): their tokens and time (run and sampling).
  int64_t decodeTokens = 0;
  double decodeSeconds = 0.0;
};

class Engine {
public:
  /// Allocates the KV cache on `executor`.
  static llvm::Expected<std::unique_ptr<Engine>>
  create(Executor &executor, Collectives &collectives, EngineOptions options);
  ~Engine();

  /// Queues a request; refused (and not queued) when its id is in use, a parameter is out of
  /// range, a token is outside the vocabulary, or it could never fit the model or the cache.
  llvm::Error addRequest(GenerationRequest request);
  /// Ends a request at once and frees its blocks; its next output says `abort`. Unknown
  /// ids are ignored (the request may have just finished).
  void abort(llvm::StringRef id);
  /// Runs one batch: what each request scheduled in it gained, and every request aborted
  /// since the last step.
  llvm::Expected<std::vector<RequestOutput>> step();
  bool hasUnfinishedRequests() const { return !scheduler.idle() || !aborted.empty(); }

  /// `value` as rank 0 has it, on every rank (decisions made on rank 0's clock).
  int64_t agreeWithRankZero(int64_t value);

  const EngineStats &stats() const { return engineStats; }
  size_t waitingCount() const { return scheduler.waitingCount(); }
  size_t runningCount() const { return scheduler.runningCount(); }
  /// Fraction of the KV cache's blocks in use.
  double cacheUsage() const;

private:
  struct RequestState;
  Engine(Executor &executor, Collectives &collectives, EngineOptions options);
  Batch buildBatch(const std::vector<ScheduledChunk> &chunks) const;

  Executor &executor;
  Collectives &collectives;
  EngineOptions options;
  Scheduler scheduler;
  llvm::StringMap<std::unique_ptr<RequestState>> requests;
  std::vector<std::string> aborted;
  EngineStats engineStats;
  std::random_device seeds;
};

/// `bytes` as rank 0 has them, on every rank (what reached rank 0's server: new requests,
/// aborts). Every rank must call it at the same point.
std::string broadcastFromRankZero(Collectives &collectives, const std::string &bytes);

} // namespace vgcu::runtime

#endif // VGCU_RUNTIME_ENGINE_H
