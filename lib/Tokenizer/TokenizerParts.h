//===- TokenizerParts.h - The stages of a tokenizer.json pipeline (internal) -------===//
#ifndef VGCU_LIB_TOKENIZER_TOKENIZERPARTS_H
#define VGCU_LIB_TOKENIZER_TOKENIZERPARTS_H

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace vgcu::tokenizer {

// --- UTF-8 ------------------------------------------------------------------------------

/// The byte offset of the first invalid UTF-8 sequence in `text`, or npos.
size_t findInvalidUtf8(llvm::StringRef text);
/// The length of the UTF-8 character starting at `text[0]` (text must be valid UTF-8).
unsigned utf8Length(unsigned char lead);
/// Appends code point `c` as UTF-8.
void appendUtf8(std::string &out, uint32_t c);
/// Decodes `bytes` as UTF-8, replacing each maximal invalid subpart with U+FFFD (the
/// substitution of Rust's from_utf8_lossy and the WHATWG decoder).
std::string decodeUtf8Lossy(llvm::StringRef bytes);
/// GPT-2's byte-to-character table of byte-level BPE vocabularies, as UTF-8 strings.
const std::vector<std::string> &byteLevelAlphabet();
/// Inverse of byteLevelAlphabet: the byte a code point stands for, or -1.
int byteOfByteLevelChar(uint32_t c);
/// Decodes the next code point of valid UTF-8 at `text[i]` and advances i.
uint32_t nextCodePoint(llvm::StringRef text, size_t &i);
/// The byte where the code point ending at byte `end` of valid UTF-8 `text` starts (not before
/// `floor`).
size_t previousCodePoint(llvm::StringRef text, size_t end, size_t floor = 0);
/// Unicode White_Space (what the `tokenizers` library's char::is_whitespace means).
bool isWhiteSpace(uint32_t c);
/// [begin, end) of valid UTF-8 `text` with white space taken off its left and/or right end.
std::pair<size_t, size_t> trimWhiteSpace(llvm::StringRef text, size_t begin, size_t end,
                                         bool left, bool right);

// --- Stages -----------------------------------------------------------------------------

/// A normalizer: text in, text out (tokenizer.json's "normalizer").
class Normalizer {
public:
  virtual ~Normalizer() = default;
  virtual std::string normalize(llvm::StringRef text) const = 0;
};

/// Position of a piece within the text being encoded (Metaspace's prepend_scheme "first").
struct PieceContext {
  bool firstSection = true;
};

/// A pre-tokenizer: splits each piece into smaller pieces (tokenizer.json's "pre_tokenizer").
class PreTokenizer {
public:
  virtual ~PreTokenizer() = default;
  virtual void split(std::vector<std::string> &pieces, const PieceContext &context) const = 0;
};

/// A decoder step over token strings (tokenizer.json's "decoder").
class Decoder {
public:
  virtual ~Decoder() = default;
  /// `added[i]` marks tokens that are added tokens (left as they are by byte-level decoding).
  virtual void decodeChain(std::vector<std::string> &tokens, std::vector<bool> &added) const = 0;
};

/// A compiled regular expression (ICU) with the Hugging Face `tokenizers` (Oniguruma) meaning
/// of \s and \S.
class Regex {
public:
  ~Regex();
  static llvm::Expected<std::unique_ptr<Regex>> compile(llvm::StringRef pattern);
  /// Byte ranges [begin, end) of the non-empty matches in UTF-8 `text`, in order.
  std::vector<std::pair<size_t, size_t>> findAll(llvm::StringRef text) const;

private:
  struct Impl;
  explicit Regex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

/// tokenizer.json's {"String": ...} or {"Regex": ...} pattern: matches in `text`.
class Pattern {
public:
  static llvm::Expected<Pattern> parse(const llvm::json::Value *value, llvm::StringRef where);
  std::vector<std::pair<size_t, size_t>> findAll(llvm::StringRef text) const;

private:
  std::string literal;
  std::shared_ptr<Regex> regex;
};

/// A stage object of tokenizer.json ({"type": ..., ...}) with its type, and where it is for
/// messages ("tokenizer.json: normalizer (Replace)").
struct StageJson {
  const llvm::json::Object *object;
  llvm::StringRef type;
  std::string where;
};
llvm::Expected<StageJson> readStageJson(const llvm::json::Value &json, llvm::StringRef where);

/// A Sequence stage: the stages of its `key` array, each built by `make`, in a
/// `SequenceStage` (which has a `steps` vector).
template <typename SequenceStage, typename Stage, typename Make>
llvm::Expected<std::unique_ptr<Stage>> readSequenceStage(const StageJson &stage,
                                                         llvm::StringRef key, Make make) {
  const llvm::json::Array *steps = stage.object->getArray(key);
  if (!steps)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   stage.where + " has no '" + key + "' array");
  auto sequence = std::make_unique<SequenceStage>();
  for (size_t i = 0; i < steps->size(); ++i) {
    auto step = make((*steps)[i], stage.where + "." + key.str() + "[" + std::to_string(i) + "]");
    if (!step)
      return step.takeError();
    sequence->steps.push_back(std::move(*step));
  }
  return std::unique_ptr<Stage>(std::move(sequence));
}

/// A Replace stage ("pattern" and "content"; normalizer and decoder alike): every match of
/// the pattern becomes the content, taken literally.
struct Replacement {
  Pattern pattern;
  std::string content;
  static llvm::Expected<Replacement> parse(const llvm::json::Object &object,
                                           llvm::StringRef where);
  std::string apply(llvm::StringRef text) const;
};

llvm::Expected<std::unique_ptr<Normalizer>> makeNormalizer(const llvm::json::Value &json,
                                                           llvm::StringRef where);
llvm::Expected<std::unique_ptr<PreTokenizer>> makePreTokenizer(const llvm::json::Value &json,
                                                               llvm::StringRef where);
llvm::Expected<std::unique_ptr<Decoder>> makeDecoder(const llvm::json::Value &json,
                                                     llvm::StringRef where);

/// The BPE model of tokenizer.json ("model": {"type": "BPE", ...}).
class BpeModel {
public:
  static llvm::Expected<std::unique_ptr<BpeModel>> fromJson(const llvm::json::Object &model,
                                                            llvm::StringRef where);
  /// Appends the ids of one pre-tokenized piece.
  void encodeWord(llvm::StringRef word, std::vector<int64_t> &out) const;

  std::optional<int64_t> tokenToId(llvm::StringRef token) const;
  /// The vocabulary's token strings by id (empty where an id has none).
  const std::vector<std::string> &tokens() const { return idToToken; }

private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  static uint64_t pairKey(int32_t left, int32_t right) {
    return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
  }
  void mergeWord(llvm::StringRef word, std::vector<int32_t> &ids) const;

  llvm::StringMap<int32_t> vocab;
  std::vector<std::string> idToToken;
  std::unordered_map<uint64_t, Merge> merges;
  std::optional<int32_t> unkId;
  int32_t byteIds[256];
  bool byteFallback = false;
  bool fuseUnk = false;
  bool ignoreMerges = false;
  std::string continuingSubwordPrefix;
  std::string endOfWordSuffix;

  // Words repeat ("the", " ", ...): their ids are kept, up to a bound.
  mutable std::mutex cacheMutex;
  mutable llvm::StringMap<std::vector<int32_t>> cache;
  static constexpr size_t kCacheEntries = 1 << 16;
};

} // namespace vgcu::tokenizer

#endif // VGCU_LIB_TOKENIZER_TOKENIZERPARTS_H
