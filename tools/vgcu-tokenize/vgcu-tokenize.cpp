//===- vgcu-tokenize.cpp - Encodes and decodes text with a model's tokenizer.json -------===//

#include "vgcu/Support/CommandLine.h"
#include "vgcu/Support/Error.h"
#include "vgcu/Support/InputFiles.h"
#include "vgcu/Support/Json.h"
#include "vgcu/Support/Log.h"
#include "vgcu/Tokenizer/ChatTemplate.h"
#include "vgcu/Tokenizer/Tokenizer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace vgcu;
using namespace vgcu::tokenizer;
namespace cl = llvm::cl;

namespace {

cl::OptionCategory category("vgcu-tokenize options");
cl::opt<std::string> directory(cl::Positional, cl::Required,
                               cl::desc("<model directory with tokenizer.json>"),
                               cl::cat(category));
cl::opt<std::string> text("text", cl::desc("Print the token ids of this text"),
                          cl::cat(category));
cl::opt<std::string> decodeIds("decode",
                               cl::desc("Print the text of these comma-separated token ids"),
                               cl::cat(category));
cl::opt<std::string> batch("batch",
                           cl::desc("Read JSON lines {\"text\": ...} from this file (- for "
                                    "stdin) and write one JSON line per input: ids with and "
                                    "without special tokens, decoded text, streamed text"),
                           cl::cat(category));
cl::opt<std::string> chat("chat",
                          cl::desc("Read JSON lines of chat template variables ({\"messages\": "
                                   "[...], \"add_generation_prompt\": true, ...}) from this "
                                   "file (- for stdin) and write one JSON line per input: the "
                                   "prompt the chat template makes and its ids, or the error"),
                          cl::cat(category));
cl::opt<std::string> chatTemplatePath("chat-template",
                                      cl::desc("--chat: use this Jinja file instead of the "
                                               "tokenizer's chat_template"),
                                      cl::value_desc("FILE"), cl::cat(category));
cl::opt<bool> noSpecialTokens("no-special-tokens",
                              cl::desc("--text: leave out the tokens the post-processor adds "
                                       "(bos, ...)"),
                              cl::cat(category));
cl::opt<bool> skipSpecialTokens("skip-special-tokens",
                                cl::desc("--decode: leave out special tokens"),
                                cl::cat(category));

int fail(llvm::Error error) {
  llvm::errs() << "vgcu-tokenize: error: " << llvm::toString(std::move(error)) << "\n";
  return 1;
}

llvm::Expected<std::vector<int64_t>> parseIds(llvm::StringRef list) {
  std::vector<int64_t> ids;
  llvm::SmallVector<llvm::StringRef> parts;
  list.split(parts, ',');
  for (llvm::StringRef part : parts) {
    int64_t id;
    if (part.trim().getAsInteger(10, id))
      return makeError("--decode: '{0}' is not a token id", part);
    ids.push_back(id);
  }
  return ids;
}

llvm::json::Array toJson(llvm::ArrayRef<int64_t> ids) {
  llvm::json::Array array;
  for (int64_t id : ids)
    array.push_back(id);
  return array;
}

/// One JSON line of --batch: everything the tokenizer tests compare with the reference.
llvm::Expected<llvm::json::Object> describe(const Tokenizer &tokenizer, llvm::StringRef text) {
  auto ids = tokenizer.encode(text, /*addSpecialTokens=*/true);
  if (!ids)
    return ids.takeError();
  auto plain = tokenizer.encode(text, /*addSpecialTokens=*/false);
  if (!plain)
    return plain.takeError();
  auto decoded = tokenizer.decode(*ids);
  if (!decoded)
    return decoded.takeError();
  DecodeOptions skip;
  skip.skipSpecialTokens = true;
  auto decodedSkip = tokenizer.decode(*ids, skip);
  if (!decodedSkip)
    return decodedSkip.takeError();
  DecodeOptions raw;
  raw.cleanUpTokenizationSpaces = false;
  auto decodedRaw = tokenizer.decode(*plain, raw);
  if (!decodedRaw)
    return decodedRaw.takeError();
  // Streamed one token at a time, as a server would.
  IncrementalDetokenizer stream(tokenizer);
  std::string streamed;
  for (int64_t id : *plain) {
    auto piece = stream.append(id);
    if (!piece)
      return piece.takeError();
    streamed += *piece;
  }
  auto rest = stream.finish();
  if (!rest)
    return rest.takeError();
  streamed += *rest;
  return llvm::json::Object{{"ids", toJson(*ids)},
                            {"ids_without_special", toJson(*plain)},
                            {"decoded", *decoded},
                            {"decoded_skip_special", *decodedSkip},
                            {"decoded_without_cleanup", *decodedRaw},
                            {"streamed", streamed}};
}

/// The non-empty lines of `path` (- for stdin).
llvm::Expected<std::vector<std::string>> readLines(const std::string &path) {
  std::unique_ptr<llvm::MemoryBuffer> input;
  if (path == "-") {
    auto stdinBuffer = llvm::MemoryBuffer::getSTDIN();
    if (!stdinBuffer)
      return makeError("cannot read stdin: {0}", stdinBuffer.getError().message());
    input = std::move(*stdinBuffer);
  } else {
    // A device or a FIFO is refused before anything is read, as for every input file.
    auto file = readInputFile(path, "input file", kMaxJsonFileBytes);
    if (!file)
      return file.takeError();
    input = std::move(*file);
  }
  llvm::SmallVector<llvm::StringRef> pieces;
  input->getBuffer().split(pieces, '\n', -1, /*KeepEmpty=*/false);
  std::vector<std::string> lines;
  for (llvm::StringRef piece : pieces)
    lines.push_back(piece.str());
  return lines;
}

/// --chat: a chat template error is that line's result; the exit status says whether any
/// line failed.
int runChat(const Tokenizer &tokenizer) {
  auto lines = readLines(chat);
  if (!lines)
    return fail(lines.takeError());
  std::unique_ptr<JinjaTemplate> override;
  if (!chatTemplatePath.empty()) {
    auto source = readInputFile(chatTemplatePath, "chat template", kMaxJsonFileBytes);
    if (!source)
      return fail(source.takeError());
    auto parsed = JinjaTemplate::parse((*source)->getBuffer());
    if (!parsed)
      return fail(addContext(parsed.takeError(), chatTemplatePath));
    override = std::move(*parsed);
  }
  int status = 0;
  for (size_t i = 0; i < lines->size(); ++i) {
    std::string where = (chat + ":" + llvm::Twine(i + 1)).str();
    auto prompt = applyChatTemplate(tokenizer, (*lines)[i], override.get());
    if (!prompt) {
      std::string message = llvm::toString(prompt.takeError());
      llvm::errs() << "vgcu-tokenize: error: " << where << ": " << message << "\n";
      llvm::outs() << llvm::json::Value(llvm::json::Object{{"error", message}}) << "\n";
      status = 1;
      continue;
    }
    auto ids = tokenizer.encode(*prompt, /*addSpecialTokens=*/false);
    if (!ids)
      return fail(addContext(ids.takeError(), where));
    llvm::outs() << llvm::json::Value(llvm::json::Object{{"prompt", *prompt}, {"ids", toJson(*ids)}})
                 << "\n";
  }
  return status;
}

int runBatch(const Tokenizer &tokenizer) {
  auto lines = readLines(batch);
  if (!lines)
    return fail(lines.takeError());
  for (size_t i = 0; i < lines->size(); ++i) {
    std::string where = (batch + ":" + llvm::Twine(i + 1)).str();
    auto line = parseJson((*lines)[i]);
    if (!line)
      return fail(makeError("{0}: invalid JSON: {1}", where, llvm::toString(line.takeError())));
    const llvm::json::Object *object = line->getAsObject();
    auto lineText = object ? object->getString("text") : std::nullopt;
    if (!lineText)
      return fail(makeError("{0}: expected an object with a \"text\" string", where));
    auto described = describe(tokenizer, *lineText);
    if (!described)
      return fail(addContext(described.takeError(), where));
    llvm::outs() << llvm::json::Value(std::move(*described)) << "\n";
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerLogLevelOption(category);
  showOnlyToolOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "vgcu-tokenize: encodes text into token ids and decodes ids "
                              "into text with a model directory's tokenizer.json\n");
  if (auto error = applyLogLevelOption())
    return fail(std::move(error));
  int modes = (text.getNumOccurrences() > 0) + (decodeIds.getNumOccurrences() > 0) +
              !batch.empty() + !chat.empty();
  if (modes != 1)
    return fail(makeError("give exactly one of --text, --decode, --batch and --chat"));

  auto tokenizer = Tokenizer::fromDirectory(directory);
  if (!tokenizer)
    return fail(tokenizer.takeError());
  if (!batch.empty())
    return runBatch(**tokenizer);
  if (!chat.empty())
    return runChat(**tokenizer);
  if (text.getNumOccurrences()) {
    auto ids = (*tokenizer)->encode(text, !noSpecialTokens);
    if (!ids)
      return fail(ids.takeError());
    llvm::outs() << llvm::join(llvm::map_range(*ids, [](int64_t id) { return std::to_string(id); }),
                               ",")
                 << "\n";
    return 0;
  }
  auto ids = parseIds(decodeIds);
  if (!ids)
    return fail(ids.takeError());
  DecodeOptions options;
  options.skipSpecialTokens = skipSpecialTokens;
  auto decoded = (*tokenizer)->decode(*ids, options);
  if (!decoded)
    return fail(decoded.takeError());
  llvm::outs() << *decoded << "\n";
  return 0;
}
