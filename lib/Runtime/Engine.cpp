//===- Engine.cpp - Serving many requests on one artifact: continuous batching -------===//

#include "vgcu/Runtime/Engine.h"
#include "vgcu/Support/Error.h"

#include "llvm/ADT/STLExtras.h"

#include <chrono>

using namespace vgcu;
using namespace vgcu::runtime;

llvm::StringRef runtime::finishReasonName(FinishReason reason) {
  switch (reason) {
  case FinishReason::none: return "";
  case FinishReason::length: return "length";
  case FinishReason::stop: return "stop";
  case FinishReason::abort: return "abort";
  }
  return "";
}

struct Engine::RequestState {
  GenerationRequest request;
  Sequence sequence;
  std::mt19937_64 generator;
  int64_t generated = 0;
};

Engine::Engine(Executor &executor, Collectives &collectives, EngineOptions options)
    : executor(executor), collectives(collectives), options(options),
      scheduler(options.limits, options.cacheBlocks, executor.blockSize()) {}

Engine::~Engine() = default;

llvm::Expected<std::unique_ptr<Engine>> Engine::create(Executor &executor,
                                                       Collectives &collectives,
                                                       EngineOptions options) {
  if (options.limits.maxNumSeqs < 1 || options.limits.maxNumBatchedTokens < 1)
    return makeError("max_num_seqs and max_num_batched_tokens must be at least 1");
  if (auto error = executor.allocateCache(options.cacheBlocks))
    return std::move(error);
  // These programs rotate by the longest position of the call: one sequence, whole
  // prompts, per call, or sequences would change each other's rotary tables.
  options.limits.oneSequencePerStep |= executor.rotaryDependsOnCallLength();
  options.limits.recomputeAt = executor.manifest().recomputeAt;
  return std::unique_ptr<Engine>(new Engine(executor, collectives, options));
}

llvm::Error Engine::addRequest(GenerationRequest request) {
  const ArtifactManifest &manifest = executor.manifest();
  auto refuse = [&](llvm::Error error) {
    return addContext(std::move(error), "request '" + request.id + "'");
  };
  if (requests.count(request.id))
    return refuse(makeError("a request with this id is already running"));
  if (request.promptIds.empty())
    return refuse(makeError("the prompt is empty"));
  for (int64_t id : request.promptIds)
    if (id < 0 || id >= manifest.vocabSize)
      return refuse(makeError("token id {0} is outside the vocabulary [0, {1})", id,
                              manifest.vocabSize));
  if (auto error = request.sampling.validate())
    return refuse(std::move(error));
  int64_t promptLength = static_cast<int64_t>(request.promptIds.size());
  // The last new token is never fed back.
  int64_t positions = promptLength + request.sampling.maxTokens - 1;
  if (manifest.maxPositions > 0 && positions > manifest.maxPositions)
    return refuse(makeError("its prompt of {0} tokens plus {1} new tokens needs {2} positions, "
                            "more than the model's {3}",
                            promptLength, request.sampling.maxTokens, positions,
                            manifest.maxPositions));
  const BlockManager &blocks = scheduler.blocks();
  if (blocks.blocksFor(positions) > blocks.totalBlocks())
    return refuse(makeError("it needs {0} KV cache blocks for {1} positions; the cache has {2}",
                            blocks.blocksFor(positions), positions, blocks.totalBlocks()));

  auto state = std::make_unique<RequestState>();
  state->sequence.id = request.id;
  state->sequence.tokens = request.promptIds;
  state->sequence.promptLength = promptLength;
  state->generator.seed(request.sampling.seed ? *request.sampling.seed
                                              : (static_cast<uint64_t>(seeds()) << 32) | seeds());
  state->request = std::move(request);
  engineStats.promptTokens += promptLength;
  scheduler.add(&state->sequence);
  std::string id = state->request.id;
  requests[id] = std::move(state);
  return llvm::Error::success();
}

void Engine::abort(llvm::StringRef id) {
  auto it = requests.find(id);
  if (it == requests.end())
    return;
  scheduler.finish(&it->second->sequence);
  aborted.push_back(id.str());
  requests.erase(it);
}

double Engine::cacheUsage() const {
  const BlockManager &blocks = scheduler.blocks();
  return blocks.totalBlocks() == 0
             ? 0.0
             : 1.0 - static_cast<double>(blocks.freeBlocks()) / blocks.totalBlocks();
}

int64_t Engine::agreeWithRankZero(int64_t value) {
  if (collectives.worldSize() == 1)
    return value;
  at::Tensor shared = at::tensor({collectives.rank() == 0 ? static_cast<double>(value) : 0.0},
                                 at::kDouble);
  collectives.allReduce(shared, CollectiveGroup::expert);
  return static_cast<int64_t>(shared.item<double>());
}

std::string vgcu::runtime::broadcastFromRankZero(Collectives &collectives,
                                                 const std::string &bytes) {
  if (collectives.worldSize() == 1)
    return bytes;
  bool root = collectives.rank() == 0;
  at::Tensor length = at::tensor({root ? static_cast<double>(bytes.size()) : 0.0}, at::kDouble);
  collectives.allReduce(length, CollectiveGroup::expert);
  int64_t size = static_cast<int64_t>(length.item<double>());
  if (size == 0)
    return std::string();
  // A sum with zeros from every other rank is rank 0's bytes.
  at::Tensor data = at::zeros({size}, at::kInt);
  if (root) {
    int32_t *out = data.data_ptr<int32_t>();
    for (int64_t i = 0; i < size; ++i)
      out[i] = static_cast<unsigned char>(bytes[i]);
  }
  collectives.allReduce(data, CollectiveGroup::expert);
  std::string result(static_cast<size_t>(size), '\0');
  const int32_t *in = data.data_ptr<int32_t>();
  for (int64_t i = 0; i < size; ++i)
    result[i] = static_cast<char>(in[i]);
  return result;
}

Batch Engine::buildBatch(const std::vector<ScheduledChunk> &chunks) const {
  int64_t blockSize = executor.blockSize();
  size_t widest = 1;
  for (const ScheduledChunk &chunk : chunks)
    widest = std::max(widest, chunk.sequence->blocks.size());
  std::vector<int64_t> ids, positions, slots, starts{0}, lengths;
  std::vector<int64_t> tables(chunks.size() * widest, 0);
  for (auto [row, chunk] : llvm::enumerate(chunks)) {
    const Sequence &sequence = *chunk.sequence;
    for (int64_t position = chunk.start; position < chunk.start + chunk.count; ++position) {
      ids.push_back(sequence.tokens[position]);
      positions.push_back(position);
      slots.push_back(sequence.blocks[position / blockSize] * blockSize + position % blockSize);
    }
    starts.push_back(static_cast<int64_t>(ids.size()));
    lengths.push_back(chunk.start + chunk.count);
    llvm::copy(sequence.blocks, tables.begin() + row * widest);
  }
  auto vector = [](const std::vector<int64_t> &values) {
    return at::tensor(at::ArrayRef<int64_t>(values), at::kLong);
  };
  Batch batch;
  batch.inputIds = vector(ids);
  batch.positions = vector(positions);
  batch.slotMapping = vector(slots);
  batch.queryStartLoc = vector(starts);
  batch.seqLens = vector(lengths);
  batch.blockTables = vector(tables).view({static_cast<int64_t>(chunks.size()),
                                           static_cast<int64_t>(widest)});
  return batch;
}

llvm::Expected<std::vector<RequestOutput>> Engine::step() {
  std::vector<RequestOutput> outputs;
  for (std::string &id : aborted) {
    RequestOutput output;
    output.id = std::move(id);
    output.finishReason = FinishReason::abort;
    outputs.push_back(std::move(output));
  }
  aborted.clear();
  std::vector<Sequence *> preempted;
  std::vector<ScheduledChunk> chunks = scheduler.schedule(preempted);
  engineStats.preemptions += static_cast<int64_t>(preempted.size());
  if (chunks.empty()) {
    if (!scheduler.idle())
      return makeError("no waiting request fits the free KV cache blocks");
    return outputs;
  }
  Batch batch = buildBatch(chunks);
  bool decodeOnly = batch.inputIds.size(0) == static_cast<int64_t>(chunks.size());
  auto start = std::chrono::steady_clock::now();
  auto logits = executor.execute(batch);
  if (!logits)
    return logits.takeError();
  ++engineStats.steps;

  std::vector<double> picks(chunks.size(), -1.0);
  for (auto [row, chunk] : llvm::enumerate(chunks)) {
    chunk.sequence->computed += chunk.count;
    if (!chunk.samples())
      continue;
    RequestState &state = *requests[chunk.sequence->id];
    picks[row] = static_cast<double>(sampleToken(logits->select(0, row), state.request.sampling,
                                                 chunk.sequence->tokens, state.generator));
  }
  if (collectives.worldSize() > 1) {
    at::Tensor shared = at::tensor(at::ArrayRef<double>(picks), at::kDouble);
    if (collectives.rank() != 0)
      shared.zero_();
    collectives.allReduce(shared, CollectiveGroup::expert);
    for (auto [row, pick] : llvm::enumerate(picks))
      pick = shared[row].item<double>();
  }

  const std::vector<int64_t> &eos = executor.manifest().eosTokenIds;
  for (auto [row, chunk] : llvm::enumerate(chunks)) {
    if (!chunk.samples())
      continue;
    Sequence &sequence = *chunk.sequence;
    auto it = requests.find(sequence.id);
    RequestState &state = *it->second;
    const SamplingParams &params = state.request.sampling;
    int64_t token = static_cast<int64_t>(picks[row]);
    sequence.tokens.push_back(token);
    ++state.generated;
    ++engineStats.generatedTokens;
    RequestOutput output;
    output.id = sequence.id;
    output.newTokens.push_back(token);
    if (state.request.returnLogits)
      output.newLogits.push_back(logits->select(0, row).clone());
    if ((!params.ignoreEos && llvm::is_contained(eos, token)) ||
        llvm::is_contained(params.stopTokenIds, token))
      output.finishReason = FinishReason::stop;
    else if (state.generated >= params.maxTokens)
      output.finishReason = FinishReason::length;
    if (output.finished()) {
      scheduler.finish(&sequence);
      requests.erase(it);
    }
    outputs.push_back(std::move(output));
  }
  if (decodeOnly) {
    engineStats.decodeTokens += static_cast<int64_t>(chunks.size());
    engineStats.decodeSeconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return outputs;
}
