//===- Tokenizer.h - Hugging Face tokenizers (tokenizer.json) in C++ ---------------===//
#ifndef VGCU_TOKENIZER_TOKENIZER_H
#define VGCU_TOKENIZER_TOKENIZER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vgcu::tokenizer {

class JinjaTemplate;

struct DecodeOptions {
  /// Leave out added tokens marked special (bos, eos, chat markers).
  bool skipSpecialTokens = false;
  /// Hugging Face's clean_up_tokenization (" ." -> ".", " n't" -> "n't", ...); unset follows
  /// tokenizer_config.json's clean_up_tokenization_spaces.
  std::optional<bool> cleanUpTokenizationSpaces;
};

/// A tokenizer read from a model directory's tokenizer.json (normalizer, pre-tokenizer, BPE
/// model, added tokens, post-processor, decoder) and tokenizer_config.json (special tokens,
/// add_bos_token, chat_template). Encoding follows the Hugging Face `tokenizers` library, so
/// the ids are those vLLM-GCU's Python tokenizer gives; docs/tokenizers.md lists what is
/// supported and where the JavaScript port differs. Safe to use from several threads.
class Tokenizer {
public:
  ~Tokenizer();

  /// Reads `directory`/tokenizer.json and, when present, tokenizer_config.json.
  static llvm::Expected<std::unique_ptr<Tokenizer>> fromDirectory(llvm::StringRef directory);
  /// Builds one from the two files' texts; `origin` names them in errors.
  static llvm::Expected<std::unique_ptr<Tokenizer>>
  fromJson(llvm::StringRef tokenizerJson, llvm::StringRef configJson, llvm::StringRef origin);

  /// Token ids of UTF-8 `text`; with `addSpecialTokens`, the post-processor's (bos, ...).
  llvm::Expected<std::vector<int64_t>> encode(llvm::StringRef text,
                                              bool addSpecialTokens = true) const;
  /// The text of `ids` (ids outside the vocabulary are an error).
  llvm::Expected<std::string> decode(llvm::ArrayRef<int64_t> ids,
                                     const DecodeOptions &options = {}) const;

  /// One more than the largest token id (model vocabulary and added tokens).
  int64_t vocabSize() const;
  std::optional<int64_t> tokenToId(llvm::StringRef token) const;
  std::optional<std::string> idToToken(int64_t id) const;
  bool isSpecial(int64_t id) const;

  /// tokenizer_config.json's values (empty when absent).
  const std::string &bosToken() const;
  const std::string &eosToken() const;
  const std::string &chatTemplate() const;
  /// tokenizer_config.json's special tokens that are set ("bos_token" -> "<s>", ...), as
  /// transformers' special_tokens_map has them.
  const std::vector<std::pair<std::string, std::string>> &specialTokens() const;
  /// chatTemplate() parsed (once, on first use).
  llvm::Expected<const JinjaTemplate *> compiledChatTemplate() const;

  struct Impl;

private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

/// Turns generated ids into text as they arrive without splitting a character: a token that
/// ends inside a multi-byte UTF-8 character (byte-level and byte-fallback vocabularies have
/// them) holds its text back until the character is complete. The text is decoded from a few
/// tokens before the new ones, as vLLM does, so decoders that strip a leading space do not eat
/// the space between two pieces.
class IncrementalDetokenizer {
public:
  /// `promptIds` give the context the first generated token is decoded after.
  IncrementalDetokenizer(const Tokenizer &tokenizer, llvm::ArrayRef<int64_t> promptIds = {},
                         bool skipSpecialTokens = false);

  /// The text `id` completes (often empty while a character is incomplete).
  llvm::Expected<std::string> append(int64_t id);
  /// What is still held back, with U+FFFD for an incomplete character at the end.
  llvm::Expected<std::string> finish();

private:
  /// The text of the tokens after readOffset, once it ends in a whole character (or at once
  /// when `final`); advances the offsets when there is any.
  llvm::Expected<std::string> pendingText(bool final);

  const Tokenizer &tokenizer;
  DecodeOptions options;
  std::vector<int64_t> ids;
  size_t prefixOffset = 0;
  size_t readOffset = 0;
};

} // namespace vgcu::tokenizer

#endif // VGCU_TOKENIZER_TOKENIZER_H
