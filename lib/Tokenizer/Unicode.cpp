//===- Unicode.cpp - UTF-8, GPT-2's byte alphabet and ICU regular expressions ------===//

#include "TokenizerParts.h"

#include "vgcu/Support/Error.h"

#include <unicode/regex.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

using namespace vgcu;
using namespace vgcu::tokenizer;

unsigned vgcu::tokenizer::utf8Length(unsigned char lead) {
  if (lead < 0x80)
    return 1;
  if ((lead >> 5) == 0x6)
    return 2;
  if ((lead >> 4) == 0xE)
    return 3;
  return 4;
}

void vgcu::tokenizer::appendUtf8(std::string &out, uint32_t c) {
  if (c < 0x80) {
    out += char(c);
  } else if (c < 0x800) {
    out += char(0xC0 | (c >> 6));
    out += char(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += char(0xE0 | (c >> 12));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  } else {
    out += char(0xF0 | (c >> 18));
    out += char(0x80 | ((c >> 12) & 0x3F));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  }
}

uint32_t vgcu::tokenizer::nextCodePoint(llvm::StringRef text, size_t &i) {
  auto byte = [&](size_t k) { return uint32_t(static_cast<unsigned char>(text[k])); };
  uint32_t lead = byte(i);
  unsigned length = utf8Length(lead);
  uint32_t c = length == 1 ? lead : length == 2 ? lead & 0x1F : length == 3 ? lead & 0x0F
                                                                            : lead & 0x07;
  for (unsigned k = 1; k < length; ++k)
    c = (c << 6) | (byte(i + k) & 0x3F);
  i += length;
  return c;
}

size_t vgcu::tokenizer::previousCodePoint(llvm::StringRef text, size_t end, size_t floor) {
  size_t start = end - 1;
  while (start > floor && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
    --start;
  return start;
}

bool vgcu::tokenizer::isWhiteSpace(uint32_t c) {
  return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_WHITE_SPACE);
}

std::pair<size_t, size_t> vgcu::tokenizer::trimWhiteSpace(llvm::StringRef text, size_t begin,
                                                          size_t end, bool left, bool right) {
  while (left && begin < end) {
    size_t next = begin;
    if (!isWhiteSpace(nextCodePoint(text, next)))
      break;
    begin = next;
  }
  while (right && end > begin) {
    size_t start = previousCodePoint(text, end, begin), probe = start;
    if (!isWhiteSpace(nextCodePoint(text, probe)))
      break;
    end = start;
  }
  return {begin, end};
}

namespace {

/// The length of the valid UTF-8 character at `bytes[i]`, or 0 with `*invalid` set to the
/// length of the maximal invalid subpart there (Unicode's "best practice" for U+FFFD).
unsigned validCharacterAt(llvm::StringRef bytes, size_t i, unsigned *invalid) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
  unsigned char lead = byte(i);
  if (lead < 0x80)
    return 1;
  unsigned length;
  unsigned char low = 0x80, high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0)
      low = 0xA0;
    if (lead == 0xED)
      high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0)
      low = 0x90;
    if (lead == 0xF4)
      high = 0x8F;
  } else {
    *invalid = 1;
    return 0;
  }
  for (unsigned k = 1; k < length; ++k) {
    if (i + k >= bytes.size()) {
      *invalid = k;
      return 0;
    }
    unsigned char next = byte(i + k);
    unsigned char lo = k == 1 ? low : 0x80, hi = k == 1 ? high : 0xBF;
    if (next < lo || next > hi) {
      *invalid = k;
      return 0;
    }
  }
  return length;
}

} // namespace

size_t vgcu::tokenizer::findInvalidUtf8(llvm::StringRef text) {
  for (size_t i = 0; i < text.size();) {
    unsigned invalid = 0;
    unsigned length = validCharacterAt(text, i, &invalid);
    if (length == 0)
      return i;
    i += length;
  }
  return llvm::StringRef::npos;
}

std::string vgcu::tokenizer::decodeUtf8Lossy(llvm::StringRef bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    unsigned invalid = 0;
    unsigned length = validCharacterAt(bytes, i, &invalid);
    if (length) {
      out.append(bytes.data() + i, length);
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      i += invalid;
    }
  }
  return out;
}

namespace {

struct ByteLevelTables {
  std::vector<std::string> alphabet;
  llvm::DenseMap<uint32_t, int> byteOf;

  ByteLevelTables() : alphabet(256) {
    // GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the rest are
    // shifted past U+00FF so that no byte becomes whitespace or a control character.
    std::vector<bool> printable(256, false);
    for (int b = '!'; b <= '~'; ++b)
      printable[b] = true;
    for (int b = 0xA1; b <= 0xAC; ++b)
      printable[b] = true;
    for (int b = 0xAE; b <= 0xFF; ++b)
      printable[b] = true;
    uint32_t shifted = 256;
    for (int b = 0; b < 256; ++b) {
      uint32_t c = printable[b] ? uint32_t(b) : shifted++;
      appendUtf8(alphabet[b], c);
      byteOf[c] = b;
    }
  }
};

const ByteLevelTables &byteLevelTables() {
  static const ByteLevelTables tables;
  return tables;
}

} // namespace

const std::vector<std::string> &vgcu::tokenizer::byteLevelAlphabet() {
  return byteLevelTables().alphabet;
}

int vgcu::tokenizer::byteOfByteLevelChar(uint32_t c) {
  const auto &byteOf = byteLevelTables().byteOf;
  auto it = byteOf.find(c);
  return it == byteOf.end() ? -1 : it->second;
}

// --- Regular expressions ----------------------------------------------------------------

struct Regex::Impl {
  std::unique_ptr<icu::RegexPattern> pattern;
};

Regex::Regex(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Regex::~Regex() = default;

llvm::Expected<std::unique_ptr<Regex>> Regex::compile(llvm::StringRef pattern) {
  // Oniguruma's \s (Hugging Face tokenizers' regex engine) is Unicode White_Space; ICU's
  // leaves out U+000B and U+0085, so the split patterns would differ on them.
  std::string rewritten;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      char next = pattern[i + 1];
      if (next == 's')
        rewritten += "\\p{White_Space}";
      else if (next == 'S')
        rewritten += "\\P{White_Space}";
      else {
        rewritten += '\\';
        rewritten += next;
      }
      ++i;
    } else {
      rewritten += pattern[i];
    }
  }
  UErrorCode status = U_ZERO_ERROR;
  UParseError parseError;
  auto compiled = std::unique_ptr<icu::RegexPattern>(icu::RegexPattern::compile(
      icu::UnicodeString::fromUTF8(rewritten), 0, parseError, status));
  if (U_FAILURE(status) || !compiled)
    return makeError("regular expression '{0}' does not compile (ICU: {1} at offset {2})",
                     pattern, u_errorName(status), parseError.offset);
  auto impl = std::make_unique<Impl>();
  impl->pattern = std::move(compiled);
  return std::unique_ptr<Regex>(new Regex(std::move(impl)));
}

std::vector<std::pair<size_t, size_t>> Regex::findAll(llvm::StringRef text) const {
  // ICU matches UTF-16; byteAt maps each UTF-16 index back to a UTF-8 offset.
  icu::UnicodeString wide;
  std::vector<size_t> byteAt;
  for (size_t i = 0; i < text.size();) {
    size_t start = i;
    uint32_t c = nextCodePoint(text, i);
    wide.append(static_cast<UChar32>(c));
    byteAt.push_back(start);
    if (c >= 0x10000)
      byteAt.push_back(start);
  }
  byteAt.push_back(text.size());
  std::vector<std::pair<size_t, size_t>> matches;
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::RegexMatcher> matcher(impl->pattern->matcher(wide, status));
  if (U_FAILURE(status))
    return matches;
  while (matcher->find(status) && U_SUCCESS(status)) {
    int32_t begin = matcher->start(status), end = matcher->end(status);
    if (U_FAILURE(status))
      break;
    if (end > begin)
      matches.emplace_back(byteAt[begin], byteAt[end]);
  }
  return matches;
}

llvm::Expected<Pattern> Pattern::parse(const llvm::json::Value *value, llvm::StringRef where) {
  const llvm::json::Object *object = value ? value->getAsObject() : nullptr;
  if (!object)
    return makeError("{0}: 'pattern' must be an object with 'String' or 'Regex'", where);
  Pattern pattern;
  if (auto literal = object->getString("String")) {
    if (literal->empty())
      return makeError("{0}: the 'String' pattern is empty", where);
    pattern.literal = literal->str();
    return pattern;
  }
  if (auto regex = object->getString("Regex")) {
    auto compiled = Regex::compile(*regex);
    if (!compiled)
      return addContext(compiled.takeError(), where);
    pattern.regex = std::move(*compiled);
    return pattern;
  }
  return makeError("{0}: 'pattern' must be an object with 'String' or 'Regex'", where);
}

std::vector<std::pair<size_t, size_t>> Pattern::findAll(llvm::StringRef text) const {
  if (regex)
    return regex->findAll(text);
  std::vector<std::pair<size_t, size_t>> matches;
  for (size_t at = text.find(literal); at != llvm::StringRef::npos;
       at = text.find(literal, at + literal.size()))
    matches.emplace_back(at, at + literal.size());
  return matches;
}

llvm::Expected<StageJson> vgcu::tokenizer::readStageJson(const llvm::json::Value &json,
                                                         llvm::StringRef where) {
  const llvm::json::Object *object = json.getAsObject();
  if (!object)
    return makeError("{0} must be an object", where);
  auto type = object->getString("type");
  if (!type)
    return makeError("{0} has no 'type'", where);
  return StageJson{object, *type, (where + " (" + *type + ")").str()};
}

llvm::Expected<Replacement> Replacement::parse(const llvm::json::Object &object,
                                               llvm::StringRef where) {
  auto pattern = Pattern::parse(object.get("pattern"), where);
  if (!pattern)
    return pattern.takeError();
  auto content = object.getString("content");
  if (!content)
    return makeError("{0} has no 'content' string", where);
  return Replacement{std::move(*pattern), content->str()};
}

std::string Replacement::apply(llvm::StringRef text) const {
  std::string out;
  size_t last = 0;
  for (auto [begin, end] : pattern.findAll(text)) {
    out.append(text.data() + last, begin - last);
    out += content;
    last = end;
  }
  out.append(text.data() + last, text.size() - last);
  return out;
}
