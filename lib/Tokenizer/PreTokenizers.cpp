//===- PreTokenizers.cpp - tokenizer.json pre-tokenizers (Split, ByteLevel, ...) ----===//

#include "TokenizerParts.h"

#include "vgcu/Support/Error.h"

#include <unicode/uchar.h>

using namespace vgcu;
using namespace vgcu::tokenizer;

namespace {

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

using Region = std::pair<std::pair<size_t, size_t>, bool>; // byte range, is a delimiter

/// The `tokenizers` library's split of `text` at `delimiters` (sorted, non-overlapping).
void splitPiece(llvm::StringRef text, const std::vector<std::pair<size_t, size_t>> &delimiters,
                Behavior behavior, bool invert, std::vector<std::string> &out) {
  std::vector<Region> regions;
  size_t last = 0;
  for (auto [begin, end] : delimiters) {
    if (begin > last)
      regions.push_back({{last, begin}, invert});
    regions.push_back({{begin, end}, !invert});
    last = end;
  }
  if (last < text.size())
    regions.push_back({{last, text.size()}, invert});

  std::vector<std::pair<size_t, size_t>> pieces;
  bool previousDelimiter = false;
  switch (behavior) {
  case Behavior::Removed:
    for (auto &[range, delimiter] : regions)
      if (!delimiter)
        pieces.push_back(range);
    break;
  case Behavior::Isolated:
    for (auto &[range, delimiter] : regions)
      pieces.push_back(range);
    break;
  case Behavior::MergedWithPrevious:
    for (auto &[range, delimiter] : regions) {
      if (delimiter && !previousDelimiter && !pieces.empty())
        pieces.back().second = range.second;
      else
        pieces.push_back(range);
      previousDelimiter = delimiter;
    }
    break;
  case Behavior::MergedWithNext:
    for (auto it = regions.rbegin(); it != regions.rend(); ++it) {
      if (it->second && !previousDelimiter && !pieces.empty())
        pieces.back().first = it->first.first;
      else
        pieces.push_back(it->first);
      previousDelimiter = it->second;
    }
    std::reverse(pieces.begin(), pieces.end());
    break;
  case Behavior::Contiguous:
    for (size_t i = 0; i < regions.size(); ++i) {
      if (i > 0 && regions[i].second == previousDelimiter)
        pieces.back().second = regions[i].first.second;
      else
        pieces.push_back(regions[i].first);
      previousDelimiter = regions[i].second;
    }
    break;
  }
  for (auto [begin, end] : pieces)
    if (end > begin)
      out.push_back(text.slice(begin, end).str());
}

llvm::Expected<Behavior> parseBehavior(const llvm::json::Object &object, llvm::StringRef where) {
  auto name = object.getString("behavior");
  if (!name)
    return makeError("{0} has no 'behavior'", where);
  if (*name == "Removed")
    return Behavior::Removed;
  if (*name == "Isolated")
    return Behavior::Isolated;
  if (*name == "MergedWithPrevious")
    return Behavior::MergedWithPrevious;
  if (*name == "MergedWithNext")
    return Behavior::MergedWithNext;
  if (*name == "Contiguous")
    return Behavior::Contiguous;
  return makeError("{0}: unknown split behavior '{1}'", where, *name);
}

/// Applies `splitOne` to every piece.
template <typename Fn>
void splitEach(std::vector<std::string> &pieces, Fn splitOne) {
  std::vector<std::string> out;
  out.reserve(pieces.size());
  for (const std::string &piece : pieces)
    splitOne(llvm::StringRef(piece), out);
  pieces = std::move(out);
}

/// Delimiters made of runs of code points for which `isDelimiter` holds (one per code point
/// unless `grouped`).
template <typename Pred>
std::vector<std::pair<size_t, size_t>> codePointDelimiters(llvm::StringRef text,
                                                           Pred isDelimiter) {
  std::vector<std::pair<size_t, size_t>> delimiters;
  for (size_t i = 0; i < text.size();) {
    size_t start = i;
    uint32_t c = nextCodePoint(text, i);
    if (isDelimiter(c))
      delimiters.emplace_back(start, i);
  }
  return delimiters;
}

class SequencePreTokenizer : public PreTokenizer {
public:
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  void split(std::vector<std::string> &pieces, const PieceContext &context) const override {
    for (const auto &step : steps)
      step->split(pieces, context);
  }
};

class SplitPreTokenizer : public PreTokenizer {
public:
  Pattern pattern;
  Behavior behavior = Behavior::Isolated;
  bool invert = false;
  void split(std::vector<std::string> &pieces, const PieceContext &) const override {
    splitEach(pieces, [&](llvm::StringRef piece, std::vector<std::string> &out) {
      splitPiece(piece, pattern.findAll(piece), behavior, invert, out);
    });
  }
};

class ByteLevelPreTokenizer : public PreTokenizer {
public:
  bool addPrefixSpace = false;
  std::shared_ptr<Regex> gpt2Split; // null when use_regex is false
  void split(std::vector<std::string> &pieces, const PieceContext &) const override {
    const auto &alphabet = byteLevelAlphabet();
    splitEach(pieces, [&](llvm::StringRef piece, std::vector<std::string> &out) {
      std::string text = piece.str();
      if (addPrefixSpace && !piece.starts_with(" "))
        text = " " + text;
      std::vector<std::string> words;
      if (gpt2Split)
        splitPiece(text, gpt2Split->findAll(text), Behavior::Isolated, false, words);
      else
        words.push_back(text);
      for (const std::string &word : words) {
        std::string mapped;
        mapped.reserve(word.size() * 2);
        for (unsigned char byte : word)
          mapped += alphabet[byte];
        out.push_back(std::move(mapped));
      }
    });
  }
};

class MetaspacePreTokenizer : public PreTokenizer {
public:
  std::string replacement = "\xE2\x96\x81";
  enum class Prepend { Always, First, Never } prepend = Prepend::Always;
  bool splitPieces = true;
  void split(std::vector<std::string> &pieces, const PieceContext &context) const override {
    bool first = true;
    splitEach(pieces, [&](llvm::StringRef piece, std::vector<std::string> &out) {
      std::string text;
      for (char c : piece) {
        if (c == ' ')
          text += replacement;
        else
          text += c;
      }
      bool prepend = this->prepend == Prepend::Always ||
                     (this->prepend == Prepend::First && first && context.firstSection);
      first = false;
      if (prepend && !llvm::StringRef(text).starts_with(replacement))
        text = replacement + text;
      if (!splitPieces) {
        out.push_back(text);
        return;
      }
      std::vector<std::pair<size_t, size_t>> delimiters;
      llvm::StringRef view(text);
      for (size_t at = view.find(replacement); at != llvm::StringRef::npos;
           at = view.find(replacement, at + replacement.size()))
        delimiters.emplace_back(at, at + replacement.size());
      splitPiece(text, delimiters, Behavior::MergedWithNext, false, out);
    });
  }
};

class DigitsPreTokenizer : public PreTokenizer {
public:
  bool individualDigits = false;
  void split(std::vector<std::string> &pieces, const PieceContext &) const override {
    splitEach(pieces, [&](llvm::StringRef piece, std::vector<std::string> &out) {
      auto digits = codePointDelimiters(piece, [](uint32_t c) {
        int8_t type = u_charType(static_cast<UChar32>(c));
        return type == U_DECIMAL_DIGIT_NUMBER || type == U_LETTER_NUMBER ||
               type == U_OTHER_NUMBER;
      });
      splitPiece(piece, digits, individualDigits ? Behavior::Isolated : Behavior::Contiguous,
                 false, out);
    });
  }
};

class WhitespaceSplitPreTokenizer : public PreTokenizer {
public:
  void split(std::vector<std::string> &pieces, const PieceContext &) const override {
    splitEach(pieces, [&](llvm::StringRef piece, std::vector<std::string> &out) {
      auto spaces = codePointDelimiters(piece, isWhiteSpace);
      splitPiece(piece, spaces, Behavior::Removed, false, out);
    });
  }
};

/// The `tokenizers` library's ByteLevel split (GPT-2's pattern).
constexpr const char *kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

} // namespace

llvm::Expected<std::unique_ptr<PreTokenizer>>
vgcu::tokenizer::makePreTokenizer(const llvm::json::Value &json, llvm::StringRef where) {
  auto stage = readStageJson(json, where);
  if (!stage)
    return stage.takeError();
  const auto &[object, type, here] = *stage;
  if (type == "Sequence")
    return readSequenceStage<SequencePreTokenizer, PreTokenizer>(*stage, "pretokenizers", makePreTokenizer);
  if (type == "Split") {
    auto split = std::make_unique<SplitPreTokenizer>();
    auto pattern = Pattern::parse(object->get("pattern"), here);
    if (!pattern)
      return pattern.takeError();
    split->pattern = std::move(*pattern);
    auto behavior = parseBehavior(*object, here);
    if (!behavior)
      return behavior.takeError();
    split->behavior = *behavior;
    split->invert = object->getBoolean("invert").value_or(false);
    return std::unique_ptr<PreTokenizer>(std::move(split));
  }
  if (type == "ByteLevel") {
    auto byteLevel = std::make_unique<ByteLevelPreTokenizer>();
    byteLevel->addPrefixSpace = object->getBoolean("add_prefix_space").value_or(true);
    if (object->getBoolean("use_regex").value_or(true)) {
      auto regex = Regex::compile(kGpt2Pattern);
      if (!regex)
        return addContext(regex.takeError(), here);
      byteLevel->gpt2Split = std::move(*regex);
    }
    return std::unique_ptr<PreTokenizer>(std::move(byteLevel));
  }
  if (type == "Metaspace") {
    auto metaspace = std::make_unique<MetaspacePreTokenizer>();
    if (auto replacement = object->getString("replacement")) {
      if (replacement->empty() || findInvalidUtf8(*replacement) != llvm::StringRef::npos)
        return makeError("{0}: 'replacement' must be one character", here);
      metaspace->replacement = replacement->str();
    }
    if (auto scheme = object->getString("prepend_scheme")) {
      if (*scheme == "always")
        metaspace->prepend = MetaspacePreTokenizer::Prepend::Always;
      else if (*scheme == "first")
        metaspace->prepend = MetaspacePreTokenizer::Prepend::First;
      else if (*scheme == "never")
        metaspace->prepend = MetaspacePreTokenizer::Prepend::Never;
      else
        return makeError("{0}: unknown prepend_scheme '{1}'", here, *scheme);
    } else if (auto add = object->getBoolean("add_prefix_space")) {
      metaspace->prepend = *add ? MetaspacePreTokenizer::Prepend::Always
                                : MetaspacePreTokenizer::Prepend::Never;
    }
    metaspace->splitPieces = object->getBoolean("split").value_or(true);
    return std::unique_ptr<PreTokenizer>(std::move(metaspace));
  }
  if (type == "Digits") {
    auto digits = std::make_unique<DigitsPreTokenizer>();
    digits->individualDigits = object->getBoolean("individual_digits").value_or(false);
    return std::unique_ptr<PreTokenizer>(std::move(digits));
  }
  if (type == "WhitespaceSplit")
    return std::unique_ptr<PreTokenizer>(std::make_unique<WhitespaceSplitPreTokenizer>());
  if (type == "Whitespace") {
    auto split = std::make_unique<SplitPreTokenizer>();
    llvm::json::Value pattern = llvm::json::Object{{"Regex", "\\w+|[^\\w\\s]+"}};
    auto parsed = Pattern::parse(&pattern, here);
    if (!parsed)
      return parsed.takeError();
    split->pattern = std::move(*parsed);
    split->behavior = Behavior::Removed;
    split->invert = true;
    return std::unique_ptr<PreTokenizer>(std::move(split));
  }
  return makeError("{0}: pre-tokenizer type '{1}' is not supported (supported: Sequence, Split, "
                   "ByteLevel, Metaspace, Digits, Whitespace, WhitespaceSplit)",
                   where, type);
}
