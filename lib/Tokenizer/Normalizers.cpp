//===- Normalizers.cpp - tokenizer.json normalizers (NFC, Replace, Prepend, ...) ---===//

#include "TokenizerParts.h"

#include "vgcu/Support/Error.h"

#include <unicode/bytestream.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

using namespace vgcu;
using namespace vgcu::tokenizer;

namespace {

class SequenceNormalizer : public Normalizer {
public:
  std::vector<std::unique_ptr<Normalizer>> steps;
  std::string normalize(llvm::StringRef text) const override {
    std::string current = text.str();
    for (const auto &step : steps)
      current = step->normalize(current);
    return current;
  }
};

class UnicodeNormalizer : public Normalizer {
public:
  explicit UnicodeNormalizer(const icu::Normalizer2 *normalizer) : normalizer(normalizer) {}
  std::string normalize(llvm::StringRef text) const override {
    std::string out;
    icu::StringByteSink<std::string> sink(&out);
    UErrorCode status = U_ZERO_ERROR;
    normalizer->normalizeUTF8(0, icu::StringPiece(text.data(), text.size()), sink, nullptr,
                              status);
    return U_SUCCESS(status) ? out : text.str();
  }

private:
  const icu::Normalizer2 *normalizer;
};

class LowercaseNormalizer : public Normalizer {
public:
  std::string normalize(llvm::StringRef text) const override {
    icu::UnicodeString wide = icu::UnicodeString::fromUTF8(
        icu::StringPiece(text.data(), text.size()));
    wide.toLower(icu::Locale::getRoot());
    std::string out;
    wide.toUTF8String(out);
    return out;
  }
};

class StripAccentsNormalizer : public Normalizer {
public:
  std::string normalize(llvm::StringRef text) const override {
    std::string out;
    for (size_t i = 0; i < text.size();) {
      size_t start = i;
      uint32_t c = nextCodePoint(text, i);
      if (u_charType(static_cast<UChar32>(c)) != U_NON_SPACING_MARK)
        out.append(text.data() + start, i - start);
    }
    return out;
  }
};

class PrependNormalizer : public Normalizer {
public:
  std::string prefix;
  std::string normalize(llvm::StringRef text) const override {
    return text.empty() ? std::string() : prefix + text.str();
  }
};

class ReplaceNormalizer : public Normalizer {
public:
  explicit ReplaceNormalizer(Replacement replacement) : replacement(std::move(replacement)) {}
  std::string normalize(llvm::StringRef text) const override { return replacement.apply(text); }

private:
  Replacement replacement;
};

class StripNormalizer : public Normalizer {
public:
  bool left = true, right = true;
  std::string normalize(llvm::StringRef text) const override {
    auto [begin, end] = trimWhiteSpace(text, 0, text.size(), left, right);
    return text.slice(begin, end).str();
  }
};

} // namespace

llvm::Expected<std::unique_ptr<Normalizer>>
vgcu::tokenizer::makeNormalizer(const llvm::json::Value &json, llvm::StringRef where) {
  auto stage = readStageJson(json, where);
  if (!stage)
    return stage.takeError();
  const auto &[object, type, here] = *stage;
  if (type == "Sequence")
    return readSequenceStage<SequenceNormalizer, Normalizer>(*stage, "normalizers", makeNormalizer);
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2 *normalizer =
        type == "NFC"    ? icu::Normalizer2::getNFCInstance(status)
        : type == "NFD"  ? icu::Normalizer2::getNFDInstance(status)
        : type == "NFKC" ? icu::Normalizer2::getNFKCInstance(status)
                          : icu::Normalizer2::getNFKDInstance(status);
    if (U_FAILURE(status) || !normalizer)
      return makeError("{0}: ICU has no {1} normalizer ({2})", here, type,
                       u_errorName(status));
    return std::unique_ptr<Normalizer>(std::make_unique<UnicodeNormalizer>(normalizer));
  }
  if (type == "Lowercase")
    return std::unique_ptr<Normalizer>(std::make_unique<LowercaseNormalizer>());
  if (type == "StripAccents")
    return std::unique_ptr<Normalizer>(std::make_unique<StripAccentsNormalizer>());
  if (type == "Prepend") {
    auto prepend = std::make_unique<PrependNormalizer>();
    auto prefix = object->getString("prepend");
    if (!prefix)
      return makeError("{0} has no 'prepend' string", here);
    prepend->prefix = prefix->str();
    return std::unique_ptr<Normalizer>(std::move(prepend));
  }
  if (type == "Replace") {
    auto replacement = Replacement::parse(*object, here);
    if (!replacement)
      return replacement.takeError();
    return std::unique_ptr<Normalizer>(
        std::make_unique<ReplaceNormalizer>(std::move(*replacement)));
  }
  if (type == "Strip") {
    auto strip = std::make_unique<StripNormalizer>();
    strip->left = object->getBoolean("strip_left").value_or(true);
    strip->right = object->getBoolean("strip_right").value_or(true);
    return std::unique_ptr<Normalizer>(std::move(strip));
  }
  return makeError("{0}: normalizer type '{1}' is not supported (supported: Sequence, NFC, NFD, "
                   "NFKC, NFKD, Lowercase, StripAccents, Prepend, Replace, Strip)",
                   where, type);
}
