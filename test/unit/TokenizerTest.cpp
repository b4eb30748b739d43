//===- TokenizerTest.cpp - BPE merges, byte fallback, added tokens, streaming text ---===//

#include "vgcu/Tokenizer/Tokenizer.h"

#include <gtest/gtest.h>

using namespace vgcu::tokenizer;

namespace {

std::unique_ptr<Tokenizer> build(const std::string &tokenizerJson,
                                 const std::string &configJson = "") {
  auto tokenizer = Tokenizer::fromJson(tokenizerJson, configJson, "test");
  if (!tokenizer) {
    ADD_FAILURE() << llvm::toString(tokenizer.takeError());
    return nullptr;
  }
  return std::move(*tokenizer);
}

std::string errorOf(const std::string &tokenizerJson, const std::string &configJson = "") {
  auto tokenizer = Tokenizer::fromJson(tokenizerJson, configJson, "test");
  if (tokenizer)
    return "";
  return llvm::toString(tokenizer.takeError());
}

std::vector<int64_t> encode(const Tokenizer &tokenizer, llvm::StringRef text,
                            bool special = false) {
  auto ids = tokenizer.encode(text, special);
  if (!ids) {
    ADD_FAILURE() << llvm::toString(ids.takeError());
    return {};
  }
  return *ids;
}

std::string decode(const Tokenizer &tokenizer, std::vector<int64_t> ids,
                   bool skipSpecial = false) {
  DecodeOptions options;
  options.skipSpecialTokens = skipSpecial;
  auto text = tokenizer.decode(ids, options);
  if (!text) {
    ADD_FAILURE() << llvm::toString(text.takeError());
    return "";
  }
  return *text;
}

// Merges "a b" (rank 0), "b c" (rank 1), "ab c" (rank 2): "abc" merges a+b first, then ab+c;
// "bcb" has no a, so b+c, leaving b.
const char *kLetters = R"({
  "model": {"type": "BPE",
            "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5, "<u>": 6},
            "unk_token": "<u>", "fuse_unk": true,
            "merges": ["a b", "b c", "ab c"]},
  "added_tokens": [
    {"id": 7, "content": "<x>", "special": true},
    {"id": 8, "content": "<xy>", "special": true},
    {"id": 9, "content": "[s]", "special": false, "lstrip": true, "rstrip": true}],
  "post_processor": {"type": "TemplateProcessing",
                     "single": [{"SpecialToken": {"id": "<x>", "type_id": 0}},
                                {"Sequence": {"id": "A", "type_id": 0}}],
                     "special_tokens": {"<x>": {"id": "<x>", "ids": [7], "tokens": ["<x>"]}}}
})";

TEST(TokenizerTest, MergesApplyLowestRankFirstThenLeftmost) {
  auto tokenizer = build(kLetters);
  ASSERT_TRUE(tokenizer);
  EXPECT_EQ(encode(*tokenizer, "abc"), (std::vector<int64_t>{5}));
  EXPECT_EQ(encode(*tokenizer, "bcb"), (std::vector<int64_t>{4, 1}));
  // Rank 0 twice: the left pair merges first, leaving "ab", "ab".
  EXPECT_EQ(encode(*tokenizer, "abab"), (std::vector<int64_t>{3, 3}));
  // Unknown characters in a row fuse into one unk.
  EXPECT_EQ(encode(*tokenizer, "azzb"), (std::vector<int64_t>{0, 6, 1}));
  EXPECT_EQ(encode(*tokenizer, "abc", /*special=*/true), (std::vector<int64_t>{7, 5}));
}

TEST(TokenizerTest, AddedTokensMatchLongestAndStripSpaces) {
  auto tokenizer = build(kLetters);
  ASSERT_TRUE(tokenizer);
  EXPECT_EQ(encode(*tokenizer, "a<xy>b<x>c"), (std::vector<int64_t>{0, 8, 1, 7, 2}));
  // lstrip and rstrip take the spaces around "[s]" into the token.
  EXPECT_EQ(encode(*tokenizer, "ab  [s]  c"), (std::vector<int64_t>{3, 9, 2}));
  EXPECT_EQ(decode(*tokenizer, {7, 3, 9, 2}, /*skipSpecial=*/true), "ab [s] c");
  EXPECT_EQ(tokenizer->vocabSize(), 10);
  EXPECT_TRUE(tokenizer->isSpecial(7));
  EXPECT_FALSE(tokenizer->isSpecial(9));
}

// SentencePiece-style: spaces become U+2581, characters outside the vocabulary fall back to
// byte tokens, the decoder undoes both.
const char *kSentencePiece = R"({
  "normalizer": {"type": "Sequence", "normalizers": [
      {"type": "Prepend", "prepend": "\u2581"},
      {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
  "model": {"type": "BPE", "byte_fallback": true, "unk_token": "<unk>",
            "vocab": {"<unk>": 0, "<0xC3>": 1, "<0xA9>": 2, "\u2581": 3, "h": 4, "i": 5,
                      "\u2581h": 6, "\u2581hi": 7},
            "merges": [["\u2581", "h"], ["\u2581h", "i"]]},
  "decoder": {"type": "Sequence", "decoders": [
      {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
      {"type": "ByteFallback"}, {"type": "Fuse"},
      {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
})";

TEST(TokenizerTest, ByteFallbackAndMetaspaceRoundTrip) {
  auto tokenizer = build(kSentencePiece);
  ASSERT_TRUE(tokenizer);
  auto ids = encode(*tokenizer, "hi \xC3\xA9");
  EXPECT_EQ(ids, (std::vector<int64_t>{7, 3, 1, 2}));
  EXPECT_EQ(decode(*tokenizer, ids), "hi \xC3\xA9");
  // A byte that is not a whole character decodes to U+FFFD, one per byte.
  EXPECT_EQ(decode(*tokenizer, {7, 1}), "hi\xEF\xBF\xBD");
  // No byte token for this character's bytes: unk.
  EXPECT_EQ(encode(*tokenizer, "\xE4\xB8\xAD"), (std::vector<int64_t>{3, 0}));
}

/// A byte-level vocabulary of the 256 byte characters alone.
std::string byteLevelJson() {
  std::string vocab;
  // GPT-2's table: printable Latin-1 bytes are themselves, the others are shifted past 0xFF.
  std::vector<uint32_t> charOf(256);
  uint32_t shifted = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    charOf[b] = printable ? uint32_t(b) : shifted++;
  }
  for (int b = 0; b < 256; ++b) {
    char escaped[16];
    snprintf(escaped, sizeof escaped, "\"\\u%04x\"", charOf[b]);
    vocab += (b ? ", " : "") + std::string(escaped) + ": " + std::to_string(b);
  }
  return R"({"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
             "decoder": {"type": "ByteLevel"},
             "model": {"type": "BPE", "merges": [], "vocab": {)" +
         vocab + "}}}";
}

TEST(TokenizerTest, StreamingHoldsBackIncompleteCharacters) {
  auto tokenizer = build(byteLevelJson());
  ASSERT_TRUE(tokenizer);
  // "é😀": two bytes then four, one token per byte.
  std::string text = "a\xC3\xA9\xF0\x9F\x98\x80!";
  auto ids = encode(*tokenizer, text);
  ASSERT_EQ(ids.size(), 8u);
  EXPECT_EQ(decode(*tokenizer, ids), text);
  IncrementalDetokenizer stream(*tokenizer);
  std::vector<std::string> pieces;
  for (int64_t id : ids) {
    auto piece = stream.append(id);
    ASSERT_TRUE(bool(piece));
    pieces.push_back(*piece);
  }
  EXPECT_EQ(pieces, (std::vector<std::string>{"a", "", "\xC3\xA9", "", "", "",
                                              "\xF0\x9F\x98\x80", "!"}));
  // A character left incomplete at the end is U+FFFD.
  IncrementalDetokenizer cut(*tokenizer, {ids[0]});
  auto held = cut.append(ids[1]);
  ASSERT_TRUE(bool(held));
  EXPECT_EQ(*held, "");
  auto rest = cut.finish();
  ASSERT_TRUE(bool(rest));
  EXPECT_EQ(*rest, "\xEF\xBF\xBD");
}

TEST(TokenizerTest, ClearErrors) {
  EXPECT_NE(errorOf(R"({"model": {"type": "Unigram", "vocab": []}})")
                .find("model type 'Unigram' is not supported"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})")
                .find("merge 0 ('a' 'b') names a token outside the vocabulary"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                        "pre_tokenizer": {"type": "BertPreTokenizer"}})")
                .find("pre-tokenizer type 'BertPreTokenizer' is not supported"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})",
                    R"({"tokenizer_class": "LlamaTokenizerFast", "bos_token": "<s>"})")
                .find("add_bos_token is set but bos_token '<s>' is not a token"),
            std::string::npos);
  auto tokenizer = build(kLetters);
  ASSERT_TRUE(tokenizer);
  auto invalid = tokenizer->encode("a\xC3(", false);
  ASSERT_FALSE(bool(invalid));
  EXPECT_EQ(llvm::toString(invalid.takeError()), "the text is not valid UTF-8 (at byte 1)");
  auto outside = tokenizer->decode({3, 42});
  ASSERT_FALSE(bool(outside));
  EXPECT_EQ(llvm::toString(outside.takeError()),
            "token id 42 is not in the vocabulary (ids 0 to 9)");
}

} // namespace
