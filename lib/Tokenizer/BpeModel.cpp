//===- BpeModel.cpp - Byte-pair encoding with ranked merges, byte fallback and unk ---===//

#include "TokenizerParts.h"

#include "vgcu/Support/Error.h"

#include "llvm/Support/Format.h"

#include <queue>

using namespace vgcu;
using namespace vgcu::tokenizer;

llvm::Expected<std::unique_ptr<BpeModel>> BpeModel::fromJson(const llvm::json::Object &model,
                                                             llvm::StringRef where) {
  auto bpe = std::unique_ptr<BpeModel>(new BpeModel());
  const llvm::json::Object *vocab = model.getObject("vocab");
  if (!vocab)
    return makeError("{0} has no 'vocab' object", where);
  int64_t largest = -1;
  for (const auto &[token, value] : *vocab) {
    auto id = value.getAsInteger();
    if (!id || *id < 0 || *id >= (int64_t(1) << 31) - 1)
      return makeError("{0}: vocab entry '{1}' must have an id from 0 to 2^31-2", where,
                       token.str());
    bpe->vocab[token.str()] = int32_t(*id);
    largest = std::max(largest, *id);
  }
  bpe->idToToken.resize(size_t(largest + 1));
  for (const auto &entry : bpe->vocab)
    bpe->idToToken[entry.second] = entry.first().str();

  if (auto prefix = model.getString("continuing_subword_prefix"))
    bpe->continuingSubwordPrefix = prefix->str();
  if (auto suffix = model.getString("end_of_word_suffix"))
    bpe->endOfWordSuffix = suffix->str();
  bpe->byteFallback = model.getBoolean("byte_fallback").value_or(false);
  bpe->fuseUnk = model.getBoolean("fuse_unk").value_or(false);
  bpe->ignoreMerges = model.getBoolean("ignore_merges").value_or(false);
  if (auto unk = model.getString("unk_token")) {
    auto it = bpe->vocab.find(*unk);
    if (it == bpe->vocab.end())
      return makeError("{0}: unk_token '{1}' is not in the vocabulary", where, *unk);
    bpe->unkId = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    std::string name;
    llvm::raw_string_ostream(name) << "<0x" << llvm::format_hex_no_prefix(b, 2, true) << ">";
    auto it = bpe->vocab.find(name);
    bpe->byteIds[b] = it == bpe->vocab.end() ? -1 : it->second;
  }

  const llvm::json::Array *merges = model.getArray("merges");
  if (!merges)
    return makeError("{0} has no 'merges' array", where);
  bpe->merges.reserve(merges->size());
  for (size_t rank = 0; rank < merges->size(); ++rank) {
    const llvm::json::Value &merge = (*merges)[rank];
    llvm::StringRef left, right;
    if (auto line = merge.getAsString()) {
      // The older format: "left right", split at its one space.
      auto [first, second] = line->split(' ');
      if (second.empty() || second.contains(' ') || first.empty())
        return makeError("{0}: merge {1} ('{2}') is not two tokens separated by one space",
                         where, rank, *line);
      left = first;
      right = second;
    } else if (const llvm::json::Array *pair = merge.getAsArray();
               pair && pair->size() == 2 && (*pair)[0].getAsString() &&
               (*pair)[1].getAsString()) {
      left = *(*pair)[0].getAsString();
      right = *(*pair)[1].getAsString();
    } else {
      return makeError("{0}: merge {1} is neither \"left right\" nor [left, right]", where,
                       rank);
    }
    auto leftId = bpe->vocab.find(left), rightId = bpe->vocab.find(right);
    if (leftId == bpe->vocab.end() || rightId == bpe->vocab.end())
      return makeError("{0}: merge {1} ('{2}' '{3}') names a token outside the vocabulary",
                       where, rank, left, right);
    llvm::StringRef rightPart = right;
    if (!bpe->continuingSubwordPrefix.empty() &&
        rightPart.starts_with(bpe->continuingSubwordPrefix))
      rightPart = rightPart.drop_front(bpe->continuingSubwordPrefix.size());
    std::string merged = (left + rightPart).str();
    auto resultId = bpe->vocab.find(merged);
    if (resultId == bpe->vocab.end())
      return makeError("{0}: merge {1} makes '{2}', which is not in the vocabulary", where,
                       rank, merged);
    // A repeated pair takes its later rank, as in the `tokenizers` library.
    bpe->merges[pairKey(leftId->second, rightId->second)] = {int32_t(rank), resultId->second};
  }
  return bpe;
}

std::optional<int64_t> BpeModel::tokenToId(llvm::StringRef token) const {
  auto it = vocab.find(token);
  if (it == vocab.end())
    return std::nullopt;
  return it->second;
}

void BpeModel::mergeWord(llvm::StringRef word, std::vector<int32_t> &ids) const {
  // Symbols: one per character (or per byte for byte fallback), in a linked list.
  std::vector<int32_t> symbol;
  std::optional<int32_t> pendingUnk;
  auto addSymbol = [&](int32_t id) {
    if (pendingUnk) {
      symbol.push_back(*pendingUnk);
      pendingUnk.reset();
    }
    symbol.push_back(id);
  };
  for (size_t i = 0; i < word.size();) {
    size_t start = i;
    nextCodePoint(word, i);
    std::string piece = word.slice(start, i).str();
    if (start > 0)
      piece = continuingSubwordPrefix + piece;
    if (i == word.size())
      piece += endOfWordSuffix;
    auto it = vocab.find(piece);
    if (it != vocab.end()) {
      addSymbol(it->second);
      continue;
    }
    if (byteFallback) {
      bool all = true;
      for (unsigned char byte : piece)
        all = all && byteIds[byte] >= 0;
      if (all) {
        for (unsigned char byte : piece)
          addSymbol(byteIds[byte]);
        continue;
      }
    }
    if (unkId) {
      if (pendingUnk && !fuseUnk)
        symbol.push_back(*pendingUnk);
      pendingUnk = *unkId;
    }
  }
  if (pendingUnk)
    symbol.push_back(*pendingUnk);

  size_t n = symbol.size();
  std::vector<int32_t> previous(n), next(n);
  std::vector<bool> alive(n, true);
  for (size_t s = 0; s < n; ++s) {
    previous[s] = int32_t(s) - 1;
    next[s] = s + 1 < n ? int32_t(s + 1) : -1;
  }
  // Lowest rank first; among equal ranks the leftmost pair (its left symbol's first index).
  struct Candidate {
    int32_t rank;
    int32_t left;
    int32_t result;
    bool operator>(const Candidate &other) const {
      return rank != other.rank ? rank > other.rank : left > other.left;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto consider = [&](int32_t left) {
    if (left < 0 || next[left] < 0)
      return;
    auto it = merges.find(pairKey(symbol[left], symbol[next[left]]));
    if (it != merges.end())
      queue.push({it->second.rank, left, it->second.result});
  };
  for (size_t s = 0; s + 1 < n; ++s)
    consider(int32_t(s));
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    int32_t left = top.left;
    if (!alive[left] || next[left] < 0)
      continue;
    // The pair may have changed since it was queued.
    auto it = merges.find(pairKey(symbol[left], symbol[next[left]]));
    if (it == merges.end() || it->second.rank != top.rank || it->second.result != top.result)
      continue;
    int32_t right = next[left];
    symbol[left] = top.result;
    alive[right] = false;
    next[left] = next[right];
    if (next[right] >= 0)
      previous[next[right]] = left;
    consider(previous[left]);
    consider(left);
  }
  ids.clear();
  for (int32_t s = n ? 0 : -1; s >= 0; s = next[s])
    ids.push_back(symbol[s]);
}

void BpeModel::encodeWord(llvm::StringRef word, std::vector<int64_t> &out) const {
  if (word.empty())
    return;
  if (ignoreMerges) {
    auto it = vocab.find(word);
    if (it != vocab.end()) {
      out.push_back(it->second);
      return;
    }
  }
  {
    std::lock_guard<std::mutex> lock(cacheMutex);
    auto it = cache.find(word);
    if (it != cache.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  mergeWord(word, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  std::lock_guard<std::mutex> lock(cacheMutex);
  if (cache.size() < kCacheEntries)
    cache[word] = std::move(ids);
}
