//===- Decoders.cpp - tokenizer.json decoders (ByteLevel, ByteFallback, ...) --------===//

#include "TokenizerParts.h"

#include "vgcu/Support/Error.h"

using namespace vgcu;
using namespace vgcu::tokenizer;

namespace {

class SequenceDecoder : public Decoder {
public:
  std::vector<std::unique_ptr<Decoder>> steps;
  void decodeChain(std::vector<std::string> &tokens, std::vector<bool> &added) const override {
    for (const auto &step : steps)
      step->decodeChain(tokens, added);
  }
};

class ByteLevelDecoder : public Decoder {
public:
  // Runs of vocabulary tokens become bytes and then text together (a character may span
  // tokens); added tokens are text already, as in transformers' convert_tokens_to_string.
  void decodeChain(std::vector<std::string> &tokens, std::vector<bool> &added) const override {
    std::vector<std::string> texts;
    std::vector<bool> textAdded;
    std::string bytes;
    bool pending = false;
    auto flush = [&] {
      if (pending)
        texts.push_back(decodeUtf8Lossy(bytes));
      textAdded.resize(texts.size(), false);
      bytes.clear();
      pending = false;
    };
    for (size_t t = 0; t < tokens.size(); ++t) {
      if (added[t]) {
        flush();
        texts.push_back(tokens[t]);
        textAdded.push_back(true);
        continue;
      }
      pending = true;
      // A token with a character outside the byte alphabet stands for its own UTF-8 bytes
      // (the `tokenizers` library's rule).
      std::string mapped;
      bool allMapped = true;
      llvm::StringRef token(tokens[t]);
      for (size_t i = 0; i < token.size() && allMapped;) {
        int byte = byteOfByteLevelChar(nextCodePoint(token, i));
        if (byte < 0)
          allMapped = false;
        else
          mapped += char(byte);
      }
      bytes += allMapped ? mapped : tokens[t];
    }
    flush();
    tokens = std::move(texts);
    added = std::move(textAdded);
  }
};

class ReplaceDecoder : public Decoder {
public:
  explicit ReplaceDecoder(Replacement replacement) : replacement(std::move(replacement)) {}
  void decodeChain(std::vector<std::string> &tokens, std::vector<bool> &) const override {
    for (std::string &token : tokens)
      token = replacement.apply(token);
  }

private:
  Replacement replacement;
};

/// The byte of a "<0xAB>" token, or -1.
int byteToken(llvm::StringRef token) {
  if (token.size() != 6 || !token.starts_with("<0x") || !token.ends_with(">"))
    return -1;
  unsigned value = 0;
  if (token.substr(3, 2).getAsInteger(16, value))
    return -1;
  return int(value);
}

class ByteFallbackDecoder : public Decoder {
public:
  void decodeChain(std::vector<std::string> &tokens, std::vector<bool> &added) const override {
    std::vector<std::string> out;
    std::vector<bool> outAdded;
    std::string bytes;
    size_t byteCount = 0;
    auto flush = [&] {
      if (!byteCount)
        return;
      // As the `tokenizers` library: bytes that are not valid UTF-8 give one U+FFFD each.
      if (findInvalidUtf8(bytes) == llvm::StringRef::npos) {
        out.push_back(bytes);
      } else {
        std::string replacement;
        for (size_t i = 0; i < byteCount; ++i)
          replacement += "\xEF\xBF\xBD";
        out.push_back(replacement);
      }
      outAdded.push_back(false);
      bytes.clear();
      byteCount = 0;
    };
    for (size_t t = 0; t < tokens.size(); ++t) {
      int byte = added[t] ? -1 : byteToken(tokens[t]);
      if (byte >= 0) {
        bytes += char(byte);
        ++byteCount;
        continue;
      }
      flush();
      out.push_back(std::move(tokens[t]));
      outAdded.push_back(added[t]);
    }
    flush();
    tokens = std::move(out);
    added = std::move(outAdded);
  }
};

class FuseDecoder : public Decoder {
public:
  void decodeChain(std::vector<std::string> &tokens, std::vector<bool> &added) const override {
    std::string joined;
    for (const std::string &token : tokens)
      joined += token;
    tokens.assign(1, joined);
    added.assign(1, false);
  }
};

class StripDecoder : public Decoder {
public:
  std::string content;
  unsigned start = 0, stop = 0;
  void decodeChain(std::vector<std::string> &tokens, std::vector<bool> &) const override {
    for (std::string &token : tokens) {
      llvm::StringRef view(token);
      for (unsigned i = 0; i < start && view.starts_with(content); ++i)
        view = view.drop_front(content.size());
      for (unsigned i = 0; i < stop && view.ends_with(content); ++i)
        view = view.drop_back(content.size());
      token = view.str();
    }
  }
};

class MetaspaceDecoder : public Decoder {
public:
  std::string replacement = "\xE2\x96\x81";
  bool prependsSpace = true;
  void decodeChain(std::vector<std::string> &tokens, std::vector<bool> &) const override {
    for (size_t t = 0; t < tokens.size(); ++t) {
      // As the `tokenizers` library: in the first token the replacement is dropped.
      std::string out;
      llvm::StringRef token(tokens[t]);
      for (size_t at = 0; at < token.size();) {
        if (token.substr(at).starts_with(replacement)) {
          if (!(t == 0 && prependsSpace))
            out += ' ';
          at += replacement.size();
        } else {
          out += token[at++];
        }
      }
      tokens[t] = std::move(out);
    }
  }
};

} // namespace

llvm::Expected<std::unique_ptr<Decoder>>
vgcu::tokenizer::makeDecoder(const llvm::json::Value &json, llvm::StringRef where) {
  auto stage = readStageJson(json, where);
  if (!stage)
    return stage.takeError();
  const auto &[object, type, here] = *stage;
  if (type == "Sequence")
    return readSequenceStage<SequenceDecoder, Decoder>(*stage, "decoders", makeDecoder);
  if (type == "ByteLevel")
    return std::unique_ptr<Decoder>(std::make_unique<ByteLevelDecoder>());
  if (type == "ByteFallback")
    return std::unique_ptr<Decoder>(std::make_unique<ByteFallbackDecoder>());
  if (type == "Fuse")
    return std::unique_ptr<Decoder>(std::make_unique<FuseDecoder>());
  if (type == "Replace") {
    auto replacement = Replacement::parse(*object, here);
    if (!replacement)
      return replacement.takeError();
    return std::unique_ptr<Decoder>(std::make_unique<ReplaceDecoder>(std::move(*replacement)));
  }
  if (type == "Strip") {
    auto strip = std::make_unique<StripDecoder>();
    auto content = object->getString("content");
    if (!content || content->empty())
      return makeError("{0} has no 'content' string", here);
    strip->content = content->str();
    auto start = object->getInteger("start"), stop = object->getInteger("stop");
    if (!start || !stop || *start < 0 || *stop < 0 || *start > 1024 || *stop > 1024)
      return makeError("{0} needs 'start' and 'stop' counts from 0 to 1024", here);
    strip->start = unsigned(*start);
    strip->stop = unsigned(*stop);
    return std::unique_ptr<Decoder>(std::move(strip));
  }
  if (type == "Metaspace") {
    auto metaspace = std::make_unique<MetaspaceDecoder>();
    if (auto replacement = object->getString("replacement")) {
      if (replacement->empty())
        return makeError("{0}: 'replacement' is empty", here);
      metaspace->replacement = replacement->str();
    }
    if (auto scheme = object->getString("prepend_scheme"))
      metaspace->prependsSpace = *scheme != "never";
    else if (auto add = object->getBoolean("add_prefix_space"))
      metaspace->prependsSpace = *add;
    return std::unique_ptr<Decoder>(std::move(metaspace));
  }
  return makeError("{0}: decoder type '{1}' is not supported (supported: Sequence, ByteLevel, "
                   "ByteFallback, Fuse, Replace, Strip, Metaspace)",
                   where, type);
}
