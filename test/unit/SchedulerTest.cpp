//===- SchedulerTest.cpp - KV block manager and continuous-batching scheduler ---------===//

#include "vgcu/Runtime/Scheduler.h"

#include <gtest/gtest.h>

using namespace vgcu::runtime;

namespace {

Sequence makeSequence(const std::string &id, int64_t promptLength) {
  Sequence sequence;
  sequence.id = id;
  sequence.tokens.assign(promptLength, 7);
  sequence.promptLength = promptLength;
  return sequence;
}

/// What a step does to the sequences it ran: KV computed, and a token appended to each one
/// the step sampled.
void complete(const std::vector<ScheduledChunk> &chunks) {
  for (const ScheduledChunk &chunk : chunks) {
    bool samples = chunk.samples();
    chunk.sequence->computed += chunk.count;
    if (samples)
      chunk.sequence->tokens.push_back(1);
  }
}

TEST(BlockManagerTest, GrowsReleasesAndRefusesWithoutPartialAllocation) {
  BlockManager blocks(4, 16);
  EXPECT_EQ(blocks.blocksFor(0), 0);
  EXPECT_EQ(blocks.blocksFor(1), 1);
  EXPECT_EQ(blocks.blocksFor(16), 1);
  EXPECT_EQ(blocks.blocksFor(17), 2);
  std::vector<int64_t> a, b;
  ASSERT_TRUE(blocks.grow(a, 20));
  EXPECT_EQ(a, (std::vector<int64_t>{0, 1}));
  ASSERT_TRUE(blocks.grow(a, 32)); // still two blocks
  EXPECT_EQ(a.size(), 2u);
  EXPECT_FALSE(blocks.grow(b, 48)); // three blocks, two free: nothing taken
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(blocks.freeBlocks(), 2);
  ASSERT_TRUE(blocks.grow(b, 17));
  EXPECT_EQ(blocks.freeBlocks(), 0);
  blocks.release(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(blocks.freeBlocks(), 2);
  std::vector<int64_t> c;
  ASSERT_TRUE(blocks.grow(c, 1));
  EXPECT_EQ(c, (std::vector<int64_t>{0})); // freed blocks are reused first
}

TEST(SchedulerTest, ChunksPromptsToTheTokenBudgetAndRunsDecodesFirst) {
  SchedulerLimits limits;
  limits.maxNumBatchedTokens = 10;
  Scheduler scheduler(limits, 16, 4);
  Sequence a = makeSequence("a", 6), b = makeSequence("b", 9);
  scheduler.add(&a);
  scheduler.add(&b);
  std::vector<Sequence *> preempted;
  auto step = scheduler.schedule(preempted);
  ASSERT_EQ(step.size(), 2u);
  EXPECT_EQ(step[0].sequence, &a);
  EXPECT_EQ(step[0].count, 6);
  EXPECT_TRUE(step[0].samples());
  EXPECT_EQ(step[1].sequence, &b);
  EXPECT_EQ(step[1].start, 0);
  EXPECT_EQ(step[1].count, 4); // the rest of the budget: a chunk of b's prompt
  EXPECT_FALSE(step[1].samples());
  complete(step);
  step = scheduler.schedule(preempted);
  ASSERT_EQ(step.size(), 2u);
  EXPECT_EQ(step[0].sequence, &a); // a's decode token first
  EXPECT_EQ(step[0].count, 1);
  EXPECT_EQ(step[1].sequence, &b);
  EXPECT_EQ(step[1].start, 4);
  EXPECT_EQ(step[1].count, 5);
  EXPECT_TRUE(step[1].samples());
  EXPECT_TRUE(preempted.empty());
}

TEST(SchedulerTest, AdmitsAtMostMaxNumSeqs) {
  SchedulerLimits limits;
  limits.maxNumSeqs = 2;
  Scheduler scheduler(limits, 16, 4);
  Sequence a = makeSequence("a", 2), b = makeSequence("b", 2), c = makeSequence("c", 2);
  for (Sequence *sequence : {&a, &b, &c})
    scheduler.add(sequence);
  std::vector<Sequence *> preempted;
  auto step = scheduler.schedule(preempted);
  EXPECT_EQ(step.size(), 2u);
  EXPECT_EQ(scheduler.waitingCount(), 1u);
  complete(step);
  scheduler.finish(&a);
  step = scheduler.schedule(preempted);
  ASSERT_EQ(step.size(), 2u);
  EXPECT_EQ(step[0].sequence, &b);
  EXPECT_EQ(step[1].sequence, &c);
}

TEST(SchedulerTest, PreemptsTheNewestSequenceWhenBlocksRunOut) {
  // Two blocks of four tokens: a and b fill one each; a's fifth token needs a third.
  Scheduler scheduler(SchedulerLimits(), 2, 4);
  Sequence a = makeSequence("a", 3), b = makeSequence("b", 3);
  scheduler.add(&a);
  scheduler.add(&b);
  std::vector<Sequence *> preempted;
  complete(scheduler.schedule(preempted)); // prompts: 3 tokens each, a 4th sampled
  complete(scheduler.schedule(preempted)); // decode position 3: both still one block
  ASSERT_TRUE(preempted.empty());
  auto step = scheduler.schedule(preempted); // position 4: a needs a second block
  ASSERT_EQ(preempted.size(), 1u);
  EXPECT_EQ(preempted[0], &b);
  EXPECT_EQ(b.status, Sequence::Status::waiting);
  EXPECT_EQ(b.computed, 0);
  EXPECT_TRUE(b.blocks.empty());
  EXPECT_EQ(b.preemptions, 1);
  ASSERT_EQ(step.size(), 1u);
  EXPECT_EQ(step[0].sequence, &a);
  EXPECT_EQ(a.blocks.size(), 2u);
  complete(step);
  scheduler.finish(&a);
  // b is recomputed whole: its prompt and the two tokens it had generated.
  preempted.clear();
  step = scheduler.schedule(preempted);
  ASSERT_EQ(step.size(), 1u);
  EXPECT_EQ(step[0].sequence, &b);
  EXPECT_EQ(step[0].start, 0);
  EXPECT_EQ(step[0].count, 5);
  EXPECT_TRUE(step[0].samples());
}

TEST(SchedulerTest, PreemptsItselfWhenItIsTheNewest) {
  Scheduler scheduler(SchedulerLimits(), 1, 4);
  Sequence a = makeSequence("a", 4);
  scheduler.add(&a);
  std::vector<Sequence *> preempted;
  complete(scheduler.schedule(preempted));
  auto step = scheduler.schedule(preempted); // position 4 needs a block that is not there
  EXPECT_TRUE(step.empty());
  ASSERT_EQ(preempted.size(), 1u);
  EXPECT_EQ(preempted[0], &a);
}

TEST(SchedulerTest, OneSequencePerStepTakesWholePrompts) {
  SchedulerLimits limits;
  limits.maxNumBatchedTokens = 4;
  limits.oneSequencePerStep = true;
  Scheduler scheduler(limits, 16, 4);
  Sequence a = makeSequence("a", 9), b = makeSequence("b", 2);
  scheduler.add(&a);
  scheduler.add(&b);
  std::vector<Sequence *> preempted;
  auto step = scheduler.schedule(preempted);
  ASSERT_EQ(step.size(), 1u);
  EXPECT_EQ(step[0].count, 9);
  complete(step);
  step = scheduler.schedule(preempted);
  ASSERT_EQ(step.size(), 1u);
  EXPECT_EQ(step[0].sequence, &a);
}

TEST(SchedulerTest, RecomputesASequenceReachingTheRecomputeLength) {
  SchedulerLimits limits;
  limits.recomputeAt = 5;
  Scheduler scheduler(limits, 16, 4);
  Sequence a = makeSequence("a", 4);
  scheduler.add(&a);
  std::vector<Sequence *> preempted;
  complete(scheduler.schedule(preempted)); // 4 computed, a 5th token sampled
  auto step = scheduler.schedule(preempted);
  ASSERT_EQ(step.size(), 1u);
  EXPECT_EQ(step[0].start, 0);
  EXPECT_EQ(step[0].count, 5);
  EXPECT_EQ(a.preemptions, 0);
}

} // namespace
