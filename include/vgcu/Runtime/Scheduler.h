//===- Scheduler.h - Continuous batching: KV blocks, sequences and each step's batch ---===//
//
// vLLM's scheduler in small: every step takes the running sequences first (one decode token
// each, or the next chunk of a prompt), then admits waiting ones while the step has token
// budget (max_num_batched_tokens) and sequence slots (max_num_seqs) left, cutting a prompt
// into chunks where the budget ends. When the KV cache has no block for a running sequence,
// the newest running sequence is preempted: its blocks are freed and it waits to be
// recomputed from its prompt and the tokens it had generated.
//
//===----------------------------------------------------------------------===//
#ifndef VGCU_RUNTIME_SCHEDULER_H
#define VGCU_RUNTIME_SCHEDULER_H

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace vgcu::runtime {

/// Fixed-size blocks of the paged KV cache, handed out to sequences.
class BlockManager {
public:
  BlockManager(int64_t blocks, int64_t blockSize);
  int64_t blockSize() const { return tokensPerBlock; }
  int64_t totalBlocks() const { return static_cast<int64_t>(total); }
  int64_t freeBlocks() const { return static_cast<int64_t>(freeList.size()); }
  /// Blocks that hold `tokens` tokens.
  int64_t blocksFor(int64_t tokens) const;
  /// Grows `table` until it holds `tokens` tokens; when there are not enough free blocks,
  /// allocates nothing and returns false.
  bool grow(std::vector<int64_t> &table, int64_t tokens);
  /// Returns every block of `table` and empties it.
  void release(std::vector<int64_t> &table);

private:
  int64_t tokensPerBlock;
  size_t total;
  /// Free blocks, the next one to hand out last (freed blocks are reused first).
  std::vector<int64_t> freeList;
};

/// A request as the scheduler sees it: its tokens and where their KV is.
struct Sequence {
  enum class Status { waiting, running, finished };
  std::string id;
  /// The prompt followed by the generated tokens.
  std::vector<int64_t> tokens;
  int64_t promptLength = 0;
  /// Tokens whose KV is in the cache; the rest are computed by coming steps.
  int64_t computed = 0;
  std::vector<int64_t> blocks;
  Status status = Status::waiting;
  int64_t preemptions = 0;
};

struct SchedulerLimits {
  int64_t maxNumSeqs = 64;
  int64_t maxNumBatchedTokens = 512;
  /// One sequence per step and whole prompts (the rotary tables of dynamic NTK and LongRoPE
  /// depend on the longest position of a call).
  bool oneSequencePerStep = false;
  /// Sequences reaching this length are recomputed whole (Phi-3 LongRoPE); 0: never.
  int64_t recomputeAt = 0;
};

/// The tokens [start, start + count) of `sequence` computed by this step.
struct ScheduledChunk {
  Sequence *sequence;
  int64_t start;
  int64_t count;
  /// Whether the chunk reaches the sequence's last token, so the step samples its next one.
  bool samples() const {
    return start + count == static_cast<int64_t>(sequence->tokens.size());
  }
};

class Scheduler {
public:
  Scheduler(SchedulerLimits limits, int64_t blocks, int64_t blockSize);

  /// Queues `sequence` (owned by the caller until it finishes or is aborted).
  void add(Sequence *sequence);
  /// The next step's chunks; sequences preempted to make room are in `preempted`.
  std::vector<ScheduledChunk> schedule(std::vector<Sequence *> &preempted);
  /// Ends `sequence`, whether finished or aborted: frees its blocks, forgets it.
  void finish(Sequence *sequence);

  bool idle() const { return waiting.empty() && running.empty(); }
  size_t waitingCount() const { return waiting.size(); }
  size_t runningCount() const { return running.size(); }
  const BlockManager &blocks() const { return blockManager; }
  const SchedulerLimits &limits() const { return schedulerLimits; }

private:
  void preempt(Sequence *sequence);

  SchedulerLimits schedulerLimits;
  BlockManager blockManager;
  std::deque<Sequence *> waiting;
  /// In admission order: the last one is preempted first.
  std::vector<Sequence *> running;
};

} // namespace vgcu::runtime

#endif // VGCU_RUNTIME_SCHEDULER_H
