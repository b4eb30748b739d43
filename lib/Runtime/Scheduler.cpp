//===- Scheduler.cpp - Continuous batching: KV blocks, sequences and each step's batch -===//

#include "vgcu/Runtime/Scheduler.h"

#include <algorithm>

using namespace vgcu::runtime;

BlockManager::BlockManager(int64_t blocks, int64_t blockSize)
    : tokensPerBlock(blockSize), total(static_cast<size_t>(std::max<int64_t>(blocks, 0))) {
  freeList.reserve(total);
  for (int64_t block = static_cast<int64_t>(total) - 1; block >= 0; --block)
    freeList.push_back(block);
}

int64_t BlockManager::blocksFor(int64_t tokens) const {
  return (tokens + tokensPerBlock - 1) / tokensPerBlock;
}

bool BlockManager::grow(std::vector<int64_t> &table, int64_t tokens) {
  int64_t missing = blocksFor(tokens) - static_cast<int64_t>(table.size());
  if (missing <= 0)
    return true;
  if (missing > freeBlocks())
    return false;
  for (int64_t i = 0; i < missing; ++i) {
    table.push_back(freeList.back());
    freeList.pop_back();
  }
  return true;
}

void BlockManager::release(std::vector<int64_t> &table) {
  for (auto block = table.rbegin(); block != table.rend(); ++block)
    freeList.push_back(*block);
  table.clear();
}

Scheduler::Scheduler(SchedulerLimits limits, int64_t blocks, int64_t blockSize)
    : schedulerLimits(limits), blockManager(blocks, blockSize) {}

void Scheduler::add(Sequence *sequence) {
  sequence->status = Sequence::Status::waiting;
  waiting.push_back(sequence);
}

void Scheduler::preempt(Sequence *sequence) {
  blockManager.release(sequence->blocks);
  sequence->computed = 0;
  sequence->status = Sequence::Status::waiting;
  ++sequence->preemptions;
  running.erase(std::find(running.begin(), running.end(), sequence));
  // First in line again: it was admitted before everything still waiting.
  waiting.push_front(sequence);
}

void Scheduler::finish(Sequence *sequence) {
  blockManager.release(sequence->blocks);
  if (auto it = std::find(running.begin(), running.end(), sequence); it != running.end())
    running.erase(it);
  if (auto it = std::find(waiting.begin(), waiting.end(), sequence); it != waiting.end())
    waiting.erase(it);
  sequence->status = Sequence::Status::finished;
}

std::vector<ScheduledChunk> Scheduler::schedule(std::vector<Sequence *> &preempted) {
  std::vector<ScheduledChunk> chunks;
  const SchedulerLimits &limits = schedulerLimits;
  int64_t budget = limits.maxNumBatchedTokens;
  // How many of `sequence`'s uncomputed tokens this step takes.
  auto chunkOf = [&](const Sequence *sequence) {
    int64_t remaining = static_cast<int64_t>(sequence->tokens.size()) - sequence->computed;
    return limits.oneSequencePerStep ? remaining : std::min(remaining, budget);
  };
  auto full = [&] {
    return budget <= 0 || (limits.oneSequencePerStep && !chunks.empty());
  };

  // Running sequences first, oldest first; the newest give way when blocks run out.
  for (size_t index = 0; index < running.size() && !full();) {
    Sequence *sequence = running[index];
    if (limits.recomputeAt > 0 &&
        static_cast<int64_t>(sequence->tokens.size()) == limits.recomputeAt &&
        sequence->computed == limits.recomputeAt - 1)
      sequence->computed = 0; // the whole sequence again, into the blocks it has
    int64_t count = chunkOf(sequence);
    bool placed = blockManager.grow(sequence->blocks, sequence->computed + count);
    while (!placed) {
      Sequence *victim = running.back();
      preempt(victim);
      preempted.push_back(victim);
      if (victim == sequence)
        break;
      placed = blockManager.grow(sequence->blocks, sequence->computed + count);
    }
    if (!placed)
      break;
    chunks.push_back({sequence, sequence->computed, count});
    budget -= count;
    ++index;
  }

  // Then waiting ones, in order, while the step has room; none after a preemption (the
  // cache is full).
  while (preempted.empty() && !waiting.empty() && !full() &&
         static_cast<int64_t>(running.size()) < limits.maxNumSeqs) {
    Sequence *sequence = waiting.front();
    int64_t count = chunkOf(sequence);
    if (!blockManager.grow(sequence->blocks, sequence->computed + count))
      break;
    waiting.pop_front();
    sequence->status = Sequence::Status::running;
    running.push_back(sequence);
    chunks.push_back({sequence, sequence->computed, count});
    budget -= count;
  }
  return chunks;
}
