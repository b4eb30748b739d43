//===- ChatTemplate.h - Jinja chat templates rendered as transformers renders them ---===//
#ifndef VGCU_TOKENIZER_CHATTEMPLATE_H
#define VGCU_TOKENIZER_CHATTEMPLATE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace vgcu::tokenizer {

class Tokenizer;
namespace jinja {
class Value;
}

/// A compiled Jinja template: the subset of Jinja2 chat templates use (if/elif/else, for with
/// `loop`, set and namespace, break/continue, filters, tests, slices, string and dict methods),
/// in the environment of transformers' apply_chat_template: trim_blocks, lstrip_blocks,
/// `raise_exception`, `strftime_now` and a `tojson` that writes as Python's json.dumps.
class JinjaTemplate {
public:
  ~JinjaTemplate();
  /// Parses `source`; errors name the line.
  static llvm::Expected<std::unique_ptr<JinjaTemplate>> parse(llvm::StringRef source);
  /// Renders with the variables of a JSON object (objects are dicts, keeping key order).
  llvm::Expected<std::string> render(llvm::StringRef variablesJson) const;
  /// Renders with the keys of `variables` (a dict) as variables.
  llvm::Expected<std::string> render(const jinja::Value &variables) const;

  struct Impl;

private:
  explicit JinjaTemplate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

/// The prompt `tokenizer`'s chat_template makes of `variablesJson`, a JSON object with
/// `messages` ([{"role": ..., "content": ...}, ...] as OpenAI's API and transformers take
/// them) and optionally `add_generation_prompt`, `tools` and any variable the template reads
/// (`enable_thinking`, ...). As apply_chat_template does, `tools` is null when absent and
/// tokenizer_config.json's special tokens (bos_token, eos_token, ...) are defined. An error when
/// the tokenizer has no template or the template raises one.
/// `chatTemplate`, when given, replaces the tokenizer's (as vLLM's --chat-template does).
llvm::Expected<std::string> applyChatTemplate(const Tokenizer &tokenizer,
                                              llvm::StringRef variablesJson,
                                              const JinjaTemplate *chatTemplate = nullptr);

/// The prompt for an OpenAI chat completion request body (JSON text): its `messages` and
/// `tools`, `add_generation_prompt` (true unless the body says otherwise, as vLLM's server
/// does) and the variables of `chat_template_kwargs`.
llvm::Expected<std::string> applyChatTemplateToRequest(const Tokenizer &tokenizer,
                                                       llvm::StringRef body,
                                                       const JinjaTemplate *chatTemplate = nullptr);

} // namespace vgcu::tokenizer

#endif // VGCU_TOKENIZER_CHATTEMPLATE_H
