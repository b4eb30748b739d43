//===- Tokenizer.cpp - tokenizer.json's pipeline: added tokens, stages, templates ----===//

#include "vgcu/Tokenizer/Tokenizer.h"
#include "vgcu/Tokenizer/ChatTemplate.h"

#include "TokenizerParts.h"

#include "vgcu/Support/Error.h"
#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Json.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <unicode/uchar.h>

#include <mutex>

using namespace vgcu;
using namespace vgcu::tokenizer;

namespace {

struct AddedToken {
  int64_t id;
  std::string content;
  bool singleWord, lstrip, rstrip, normalized, special;
};

/// Finds added tokens in text: leftmost, then longest, as the `tokenizers` library's
/// Aho-Corasick matcher does.
class AddedTokenMatcher {
public:
  void add(const AddedToken *token, llvm::StringRef key) {
    int32_t node = 0;
    for (unsigned char byte : key) {
      uint64_t key = (uint64_t(node) << 8) | byte;
      auto it = edges.find(key);
      if (it == edges.end()) {
        it = edges.emplace(key, int32_t(terminal.size())).first;
        terminal.push_back(nullptr);
      }
      node = it->second;
    }
    if (!terminal[node])
      terminal[node] = token;
  }
  bool empty() const { return terminal.size() == 1; }

  /// The longest token starting at `text[at]`, or null; `*length` is its key's length.
  const AddedToken *longestAt(llvm::StringRef text, size_t at, size_t *length) const {
    const AddedToken *found = nullptr;
    int32_t node = 0;
    for (size_t i = at; i < text.size(); ++i) {
      auto it = edges.find((uint64_t(node) << 8) | static_cast<unsigned char>(text[i]));
      if (it == edges.end())
        break;
      node = it->second;
      if (terminal[node]) {
        found = terminal[node];
        *length = i + 1 - at;
      }
    }
    return found;
  }

private:
  std::unordered_map<uint64_t, int32_t> edges;
  std::vector<const AddedToken *> terminal{nullptr};
};

struct Section {
  size_t begin, end;
  const AddedToken *token; // null for text between added tokens
};

bool isWordChar(uint32_t c) {
  return c == '_' || u_hasBinaryProperty(c, UCHAR_ALPHABETIC) || u_isdigit(c) ||
         u_charType(c) == U_NON_SPACING_MARK;
}

/// The code point that ends at byte `end` of valid UTF-8 `text`.
uint32_t codePointBefore(llvm::StringRef text, size_t end) {
  size_t start = previousCodePoint(text, end);
  return nextCodePoint(text, start);
}

/// Splits `text` at the added tokens `matcher` finds, honouring single_word, lstrip and rstrip.
std::vector<Section> splitAtAddedTokens(llvm::StringRef text, const AddedTokenMatcher &matcher) {
  std::vector<Section> sections;
  size_t textStart = 0; // start of the text not yet in a section
  for (size_t at = 0; at < text.size();) {
    size_t length = 0;
    const AddedToken *token = matcher.empty() ? nullptr : matcher.longestAt(text, at, &length);
    if (!token) {
      at += utf8Length(static_cast<unsigned char>(text[at]));
      continue;
    }
    size_t begin = at, end = at + length;
    if (token->singleWord) {
      bool wordBefore = begin > 0 && isWordChar(codePointBefore(text, begin));
      size_t probe = end;
      bool wordAfter = end < text.size() && isWordChar(nextCodePoint(text, probe));
      if (wordBefore || wordAfter) {
        at = end;
        continue;
      }
    }
    // lstrip and rstrip take the white space around the token into it.
    if (token->lstrip)
      begin = trimWhiteSpace(text, textStart, begin, /*left=*/false, /*right=*/true).second;
    if (token->rstrip)
      end = trimWhiteSpace(text, end, text.size(), /*left=*/true, /*right=*/false).first;
    if (begin > textStart)
      sections.push_back({textStart, begin, nullptr});
    sections.push_back({begin, end, token});
    textStart = at = end;
  }
  if (textStart < text.size())
    sections.push_back({textStart, text.size(), nullptr});
  return sections;
}

/// The string of a tokenizer_config.json token field ("<s>" or {"content": "<s>", ...}).
std::string configToken(const llvm::json::Object &config, llvm::StringRef key) {
  const llvm::json::Value *value = config.get(key);
  if (!value)
    return "";
  if (auto text = value->getAsString())
    return text->str();
  if (const llvm::json::Object *object = value->getAsObject())
    if (auto content = object->getString("content"))
      return content->str();
  return "";
}

void cleanUpTokenization(std::string &text) {
  static const std::pair<const char *, const char *> kReplacements[] = {
      {" .", "."},   {" ?", "?"},     {" !", "!"},     {" ,", ","},   {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (auto [from, to] : kReplacements) {
    std::string out;
    llvm::StringRef rest(text), needle(from);
    for (size_t at = rest.find(needle); at != llvm::StringRef::npos; at = rest.find(needle)) {
      out += rest.substr(0, at);
      out += to;
      rest = rest.substr(at + needle.size());
    }
    out += rest;
    text = std::move(out);
  }
}

} // namespace

struct Tokenizer::Impl {
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> preTokenizer;
  std::unique_ptr<BpeModel> model;
  std::unique_ptr<Decoder> decoder;
  std::vector<std::unique_ptr<AddedToken>> addedTokens;
  llvm::DenseMap<int64_t, const AddedToken *> addedById;
  llvm::StringMap<int64_t> addedByContent;
  llvm::DenseSet<int64_t> specialIds;
  AddedTokenMatcher rawMatcher, normalizedMatcher;
  // What the post-processor puts around the text's ids.
  std::vector<int64_t> prefixIds, suffixIds;
  int64_t vocabSize = 0;
  std::string bosToken, eosToken, chatTemplate;
  std::vector<std::pair<std::string, std::string>> specialTokens;
  bool cleanUpSpaces = true;
  // The chat template, parsed on first use.
  mutable std::once_flag templateOnce;
  mutable std::unique_ptr<JinjaTemplate> compiledTemplate;
  mutable std::string templateError;

  llvm::Error encodeText(llvm::StringRef text, bool firstSection,
                         std::vector<int64_t> &ids) const;
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

namespace {

/// The ids a post-processor adds before and after the text (TemplateProcessing's "single",
/// Bert/RobertaProcessing's cls and sep), resolved against the vocabulary.
llvm::Error readPostProcessor(const llvm::json::Value &json, llvm::StringRef where,
                              Tokenizer::Impl &impl) {
  auto stage = readStageJson(json, where);
  if (!stage)
    return stage.takeError();
  const auto &[object, type, here] = *stage;
  if (type == "Sequence") {
    const llvm::json::Array *steps = object->getArray("processors");
    if (!steps)
      return makeError("{0} has no 'processors' array", here);
    for (size_t i = 0; i < steps->size(); ++i)
      if (auto error = readPostProcessor((*steps)[i],
                                         here + ".processors[" + std::to_string(i) + "]", impl))
        return error;
    return llvm::Error::success();
  }
  if (type == "ByteLevel")
    return llvm::Error::success(); // offsets only
  if (type == "TemplateProcessing") {
    const llvm::json::Array *single = object->getArray("single");
    const llvm::json::Object *special = object->getObject("special_tokens");
    if (!single)
      return makeError("{0} has no 'single' template", here);
    impl.prefixIds.clear();
    impl.suffixIds.clear();
    bool afterSequence = false;
    for (const llvm::json::Value &item : *single) {
      const llvm::json::Object *piece = item.getAsObject();
      if (piece && piece->getObject("Sequence")) {
        afterSequence = true;
        continue;
      }
      const llvm::json::Object *token = piece ? piece->getObject("SpecialToken") : nullptr;
      auto name = token ? token->getString("id") : std::nullopt;
      if (!name)
        return makeError("{0}: a 'single' item is neither Sequence nor SpecialToken", here);
      const llvm::json::Object *entry = special ? special->getObject(*name) : nullptr;
      const llvm::json::Array *entryIds = entry ? entry->getArray("ids") : nullptr;
      if (!entryIds)
        return makeError("{0}: special token '{1}' has no ids in 'special_tokens'", here,
                         *name);
      for (const llvm::json::Value &id : *entryIds) {
        auto value = id.getAsInteger();
        if (!value || *value < 0)
          return makeError("{0}: special token '{1}' has an invalid id", here, *name);
        (afterSequence ? impl.suffixIds : impl.prefixIds).push_back(*value);
      }
    }
    return llvm::Error::success();
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    auto idOf = [&](llvm::StringRef key) -> std::optional<int64_t> {
      const llvm::json::Array *pair = object->getArray(key);
      if (!pair || pair->size() != 2)
        return std::nullopt;
      return (*pair)[1].getAsInteger();
    };
    auto cls = idOf("cls"), sep = idOf("sep");
    if (!cls || !sep)
      return makeError("{0} needs 'cls' and 'sep' as [token, id]", here);
    impl.prefixIds = {*cls};
    impl.suffixIds = {*sep};
    return llvm::Error::success();
  }
  return makeError("{0}: post-processor type '{1}' is not supported (supported: Sequence, "
                   "ByteLevel, TemplateProcessing, RobertaProcessing, BertProcessing)",
                   where, type);
}

/// tokenizer_config.json's special tokens, chat template and clean-up flag.
void readTokenizerConfig(const llvm::json::Object &config, Tokenizer::Impl &impl) {
  impl.bosToken = configToken(config, "bos_token");
  impl.eosToken = configToken(config, "eos_token");
  for (const char *key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                          "cls_token", "mask_token"})
    if (std::string token = configToken(config, key); !token.empty())
      impl.specialTokens.emplace_back(key, token);
  if (auto text = config.getString("chat_template")) {
    impl.chatTemplate = text->str();
  } else if (const llvm::json::Array *templates = config.getArray("chat_template")) {
    for (const llvm::json::Value &entry : *templates)
      if (const llvm::json::Object *named = entry.getAsObject())
        if (named->getString("name") == llvm::StringRef("default"))
          if (auto text = named->getString("template"))
            impl.chatTemplate = text->str();
  }
  impl.cleanUpSpaces = config.getBoolean("clean_up_tokenization_spaces").value_or(true);
}

/// The ids around the text from add_bos_token / add_eos_token (a slow tokenizer's rule).
llvm::Error setBosEos(const llvm::json::Object &config, llvm::StringRef configWhere,
                      bool defaultBos, Tokenizer::Impl &impl) {
  bool addBos = config.getBoolean("add_bos_token").value_or(defaultBos);
  bool addEos = config.getBoolean("add_eos_token").value_or(false);
  auto idOfToken = [&](const std::string &token) -> std::optional<int64_t> {
    if (token.empty())
      return std::nullopt;
    if (auto it = impl.addedByContent.find(token); it != impl.addedByContent.end())
      return it->second;
    return impl.model->tokenToId(token);
  };
  auto bos = idOfToken(impl.bosToken), eos = idOfToken(impl.eosToken);
  if (addBos && !bos)
    return makeError("{0}: add_bos_token is set but bos_token '{1}' is not a token",
                     configWhere, impl.bosToken);
  if (addEos && !eos)
    return makeError("{0}: add_eos_token is set but eos_token '{1}' is not a token",
                     configWhere, impl.eosToken);
  impl.prefixIds.clear();
  impl.suffixIds.clear();
  if (addBos)
    impl.prefixIds.push_back(*bos);
  if (addEos)
    impl.suffixIds.push_back(*eos);
  return llvm::Error::success();
}

llvm::Error checkTemplateIds(const Tokenizer::Impl &impl, llvm::StringRef where) {
  for (const std::vector<int64_t> *ids : {&impl.prefixIds, &impl.suffixIds})
    for (int64_t id : *ids)
      if (id >= impl.vocabSize)
        return makeError("{0}: the post-processor adds token id {1}, outside the vocabulary",
                         where, id);
  return llvm::Error::success();
}

/// tokenizer_config.json's object (empty when there is none).
llvm::Expected<llvm::json::Value> parseConfig(llvm::StringRef configJson,
                                              llvm::StringRef configWhere) {
  if (configJson.empty())
    return llvm::json::Value(llvm::json::Object());
  auto parsedConfig = parseJson(configJson);
  if (!parsedConfig)
    return makeError("{0}: invalid JSON: {1}", configWhere,
                     llvm::toString(parsedConfig.takeError()));
  if (!parsedConfig->getAsObject())
    return makeError("{0}: the top level must be an object", configWhere);
  return std::move(*parsedConfig);
}

} // namespace

llvm::Expected<std::unique_ptr<Tokenizer>>
Tokenizer::fromJson(llvm::StringRef tokenizerJson, llvm::StringRef configJson,
                    llvm::StringRef origin) {
  std::string tokenizerWhere = (origin + "/tokenizer.json").str();
  auto parsed = parseJson(tokenizerJson);
  if (!parsed)
    return makeError("{0}: invalid JSON: {1}", tokenizerWhere, llvm::toString(parsed.takeError()));
  const llvm::json::Object *root = parsed->getAsObject();
  if (!root)
    return makeError("{0}: the top level must be an object", tokenizerWhere);

  std::string configWhere = (origin + "/tokenizer_config.json").str();
  auto configValue = parseConfig(configJson, configWhere);
  if (!configValue)
    return configValue.takeError();
  const llvm::json::Object *config = configValue->getAsObject();

  auto impl = std::make_unique<Impl>();
  const llvm::json::Object *model = root->getObject("model");
  if (!model)
    return makeError("{0} has no 'model' object", tokenizerWhere);
  auto modelType = model->getString("type");
  if (modelType && *modelType != "BPE")
    return makeError("{0}: model type '{1}' is not supported (vgcu reads BPE vocabularies: "
                     "GPT-2/Llama 3/Qwen byte-level and SentencePiece-converted ones)",
                     tokenizerWhere, *modelType);
  if (!modelType && !model->getArray("merges"))
    return makeError("{0}: the model has no 'type' and no 'merges' (not BPE)", tokenizerWhere);
  auto bpe = BpeModel::fromJson(*model, tokenizerWhere + ": model");
  if (!bpe)
    return bpe.takeError();
  impl->model = std::move(*bpe);
  impl->vocabSize = int64_t(impl->model->tokens().size());

  auto optionalStage = [&](llvm::StringRef key, auto make, auto &slot) -> llvm::Error {
    const llvm::json::Value *value = root->get(key);
    if (!value || value->kind() == llvm::json::Value::Null)
      return llvm::Error::success();
    auto stage = make(*value, (tokenizerWhere + ": " + key).str());
    if (!stage)
      return stage.takeError();
    slot = std::move(*stage);
    return llvm::Error::success();
  };
  if (auto error = optionalStage("normalizer", makeNormalizer, impl->normalizer))
    return std::move(error);
  if (auto error = optionalStage("pre_tokenizer", makePreTokenizer, impl->preTokenizer))
    return std::move(error);
  if (auto error = optionalStage("decoder", makeDecoder, impl->decoder))
    return std::move(error);

  if (const llvm::json::Array *added = root->getArray("added_tokens")) {
    for (size_t i = 0; i < added->size(); ++i) {
      const llvm::json::Object *entry = (*added)[i].getAsObject();
      auto id = entry ? entry->getInteger("id") : std::nullopt;
      auto content = entry ? entry->getString("content") : std::nullopt;
      if (!id || *id < 0 || *id >= (int64_t(1) << 31) - 1 || !content || content->empty())
        return makeError("{0}: added_tokens[{1}] needs an 'id' from 0 to 2^31-2 and a "
                         "non-empty 'content'",
                         tokenizerWhere, i);
      if (findInvalidUtf8(*content) != llvm::StringRef::npos)
        return makeError("{0}: added_tokens[{1}] is not valid UTF-8", tokenizerWhere, i);
      auto token = std::make_unique<AddedToken>(AddedToken{
          *id, content->str(), entry->getBoolean("single_word").value_or(false),
          entry->getBoolean("lstrip").value_or(false), entry->getBoolean("rstrip").value_or(false),
          entry->getBoolean("normalized").value_or(false),
          entry->getBoolean("special").value_or(false)});
      impl->addedById[token->id] = token.get();
      impl->addedByContent[token->content] = token->id;
      if (token->special)
        impl->specialIds.insert(token->id);
      impl->vocabSize = std::max(impl->vocabSize, token->id + 1);
      impl->addedTokens.push_back(std::move(token));
    }
  }
  // As the `tokenizers` library: tokens marked `normalized` are found in the normalized text
  // (by their normalized form), the others in the text as written.
  for (const auto &token : impl->addedTokens) {
    if (token->normalized && impl->normalizer)
      impl->normalizedMatcher.add(token.get(), impl->normalizer->normalize(token->content));
    else if (token->normalized)
      impl->normalizedMatcher.add(token.get(), token->content);
    else
      impl->rawMatcher.add(token.get(), token->content);
  }
  if (const llvm::json::Array *extra = config->getArray("additional_special_tokens"))
    for (const llvm::json::Value &value : *extra)
      if (auto text = value.getAsString())
        if (auto it = impl->addedByContent.find(*text); it != impl->addedByContent.end())
          impl->specialIds.insert(it->second);

  if (const llvm::json::Value *post = root->get("post_processor");
      post && post->kind() != llvm::json::Value::Null)
    if (auto error = readPostProcessor(*post, tokenizerWhere + ": post_processor", *impl))
      return std::move(error);

  readTokenizerConfig(*config, *impl);
  // transformers' LlamaTokenizerFast and GemmaTokenizerFast rebuild the post-processor from
  // add_bos_token / add_eos_token when they load, whatever tokenizer.json says (DeepSeek-V3's
  // tokenizer.json adds no bos; its tokenizer_config.json asks for one).
  llvm::StringRef tokenizerClass = config->getString("tokenizer_class").value_or("");
  tokenizerClass.consume_back("Fast");
  if (tokenizerClass == "LlamaTokenizer" || tokenizerClass == "CodeLlamaTokenizer" ||
      tokenizerClass == "GemmaTokenizer")
    if (auto error = setBosEos(*config, configWhere, /*defaultBos=*/true, *impl))
      return std::move(error);
  if (auto error = checkTemplateIds(*impl, tokenizerWhere))
    return std::move(error);
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

llvm::Expected<std::unique_ptr<Tokenizer>>
Tokenizer::fromDirectory(llvm::StringRef directory) {
  llvm::SmallString<256> tokenizerPath(directory), modelPath(directory), configPath(directory);
  llvm::sys::path::append(tokenizerPath, "tokenizer.json");
  llvm::sys::path::append(modelPath, "tokenizer.model");
  llvm::sys::path::append(configPath, "tokenizer_config.json");
  if (!llvm::sys::fs::exists(tokenizerPath)) {
    // Debian's libsentencepiece carries its own protobuf, which crashes a process that also
    // has LibTorch's (vgcu-run, vgcu-serve): a SentencePiece model is converted, not read.
    if (llvm::sys::fs::exists(modelPath))
      return makeError("{0} has a SentencePiece tokenizer.model but no tokenizer.json; write "
                       "one with transformers (AutoTokenizer.from_pretrained(dir)"
                       ".save_pretrained(dir) converts it)",
                       directory);
    return makeError("{0} has no tokenizer.json (vgcu reads Hugging Face fast-tokenizer files)",
                     directory);
  }
  auto tokenizerFile = readInputFile(tokenizerPath, "tokenizer file", kMaxJsonFileBytes);
  if (!tokenizerFile)
    return tokenizerFile.takeError();
  std::unique_ptr<llvm::MemoryBuffer> configFile;
  if (llvm::sys::fs::exists(configPath)) {
    auto read = readInputFile(configPath, "tokenizer config file", kMaxJsonFileBytes);
    if (!read)
      return read.takeError();
    configFile = std::move(*read);
  }
  return fromJson((*tokenizerFile)->getBuffer(),
                  configFile ? configFile->getBuffer() : llvm::StringRef(), directory);
}

llvm::Error Tokenizer::Impl::encodeText(llvm::StringRef text, bool firstSection,
                                        std::vector<int64_t> &ids) const {
  std::string normalized = normalizer ? normalizer->normalize(text) : text.str();
  for (const Section &section : splitAtAddedTokens(normalized, normalizedMatcher)) {
    if (section.token) {
      ids.push_back(section.token->id);
      continue;
    }
    std::vector<std::string> pieces{normalized.substr(section.begin, section.end - section.begin)};
    if (preTokenizer)
      preTokenizer->split(pieces, PieceContext{firstSection && section.begin == 0});
    for (const std::string &piece : pieces)
      model->encodeWord(piece, ids);
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<int64_t>> Tokenizer::encode(llvm::StringRef text,
                                                       bool addSpecialTokens) const {
  size_t invalid = findInvalidUtf8(text);
  if (invalid != llvm::StringRef::npos)
    return makeError("the text is not valid UTF-8 (at byte {0})", invalid);
  std::vector<int64_t> ids;
  if (addSpecialTokens)
    ids = impl->prefixIds;
  for (const Section &section : splitAtAddedTokens(text, impl->rawMatcher)) {
    if (section.token) {
      ids.push_back(section.token->id);
      continue;
    }
    if (auto error = impl->encodeText(text.slice(section.begin, section.end),
                                      section.begin == 0, ids))
      return std::move(error);
  }
  if (addSpecialTokens)
    ids.insert(ids.end(), impl->suffixIds.begin(), impl->suffixIds.end());
  return ids;
}

llvm::Expected<std::string> Tokenizer::decode(llvm::ArrayRef<int64_t> ids,
                                              const DecodeOptions &options) const {
  std::vector<std::string> tokens;
  std::vector<bool> added;
  tokens.reserve(ids.size());
  const auto &vocabulary = impl->model->tokens();
  for (int64_t id : ids) {
    if (auto it = impl->addedById.find(id); it != impl->addedById.end()) {
      if (options.skipSpecialTokens && impl->specialIds.contains(id))
        continue;
      tokens.push_back(it->second->content);
      added.push_back(true);
      continue;
    }
    if (id < 0 || id >= int64_t(vocabulary.size()) || vocabulary[id].empty())
      return makeError("token id {0} is not in the vocabulary (ids 0 to {1})", id,
                       impl->vocabSize - 1);
    tokens.push_back(vocabulary[id]);
    added.push_back(false);
  }
  std::string text;
  if (impl->decoder) {
    impl->decoder->decodeChain(tokens, added);
    for (const std::string &piece : tokens)
      text += piece;
  } else {
    for (size_t i = 0; i < tokens.size(); ++i)
      text += (i ? " " : "") + tokens[i];
  }
  if (options.cleanUpTokenizationSpaces.value_or(impl->cleanUpSpaces))
    cleanUpTokenization(text);
  return text;
}

int64_t Tokenizer::vocabSize() const { return impl->vocabSize; }

std::optional<int64_t> Tokenizer::tokenToId(llvm::StringRef token) const {
  if (auto it = impl->addedByContent.find(token); it != impl->addedByContent.end())
    return it->second;
  return impl->model->tokenToId(token);
}

std::optional<std::string> Tokenizer::idToToken(int64_t id) const {
  if (auto it = impl->addedById.find(id); it != impl->addedById.end())
    return it->second->content;

  const auto &vocabulary = impl->model->tokens();
  if (id < 0 || id >= int64_t(vocabulary.size()) || vocabulary[id].empty())
    return std::nullopt;
  return vocabulary[id];
}

bool Tokenizer::isSpecial(int64_t id) const { return impl->specialIds.contains(id); }
const std::string &Tokenizer::bosToken() const { return impl->bosToken; }
const std::string &Tokenizer::eosToken() const { return impl->eosToken; }
const std::string &Tokenizer::chatTemplate() const { return impl->chatTemplate; }
const std::vector<std::pair<std::string, std::string>> &Tokenizer::specialTokens() const {
  return impl->specialTokens;
}

llvm::Expected<const JinjaTemplate *> Tokenizer::compiledChatTemplate() const {
  std::call_once(impl->templateOnce, [&] {
    auto parsed = JinjaTemplate::parse(impl->chatTemplate);
    if (parsed)
      impl->compiledTemplate = std::move(*parsed);
    else
      impl->templateError = llvm::toString(parsed.takeError());
  });
  if (!impl->compiledTemplate)
    return makeError("{0}", impl->templateError);
  return impl->compiledTemplate.get();
}

// --- Streaming --------------------------------------------------------------------------

namespace {
/// How many tokens before the new ones are decoded with them (vLLM's choice).
constexpr size_t kContextTokens = 5;

bool endsWithReplacement(llvm::StringRef text) { return text.ends_with("\xEF\xBF\xBD"); }
} // namespace

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer &tokenizer,
                                               llvm::ArrayRef<int64_t> promptIds,
                                               bool skipSpecialTokens)
    : tokenizer(tokenizer), ids(promptIds.begin(), promptIds.end()) {
  options.skipSpecialTokens = skipSpecialTokens;
  options.cleanUpTokenizationSpaces = false; // not local to a window of tokens
  readOffset = ids.size();
  prefixOffset = readOffset > kContextTokens ? readOffset - kContextTokens : 0;
}

llvm::Expected<std::string> IncrementalDetokenizer::pendingText(bool final) {
  llvm::ArrayRef<int64_t> all(ids);
  auto before = tokenizer.decode(all.slice(prefixOffset, readOffset - prefixOffset), options);
  if (!before)
    return before.takeError();
  auto now = tokenizer.decode(all.drop_front(prefixOffset), options);
  if (!now)
    return now.takeError();
  // A trailing U+FFFD is a character still missing bytes: wait for the next token.
  if (now->size() <= before->size() || (!final && endsWithReplacement(*now)))
    return std::string();
  prefixOffset = readOffset;
  readOffset = ids.size();
  return now->substr(before->size());
}

llvm::Expected<std::string> IncrementalDetokenizer::append(int64_t id) {
  ids.push_back(id);
  return pendingText(/*final=*/false);
}

llvm::Expected<std::string> IncrementalDetokenizer::finish() {
  if (readOffset == ids.size())
    return std::string();
  return pendingText(/*final=*/true);
}
