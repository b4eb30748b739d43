//===- ChatTemplate.cpp - tokenizer_config.json's chat_template applied to messages ---===//

#include "vgcu/Tokenizer/ChatTemplate.h"

#include "JinjaValue.h"

#include "vgcu/Support/Error.h"
#include "vgcu/Tokenizer/Tokenizer.h"

using namespace vgcu;
using namespace vgcu::tokenizer;
using namespace vgcu::tokenizer::jinja;

llvm::Expected<std::string>
vgcu::tokenizer::applyChatTemplate(const Tokenizer &tokenizer, llvm::StringRef variablesJson,
                                   const JinjaTemplate *chatTemplate) {
  if (!chatTemplate && tokenizer.chatTemplate().empty())
    return makeError("the tokenizer has no chat_template (tokenizer_config.json)");
  auto compiled = chatTemplate ? chatTemplate : tokenizer.compiledChatTemplate();
  if (!compiled)
    return addContext(compiled.takeError(), "chat_template");
  auto request = Value::parseJson(variablesJson, "chat request");
  if (!request)
    return request.takeError();
  if (request->kind() != Value::Dict)
    return makeError("a chat request must be a JSON object");
  if (request->item("messages").kind() != Value::List)
    return makeError("a chat request needs 'messages', a list");
  // What apply_chat_template passes: the special tokens, then the caller's variables, with
  // `tools` null when not given.
  Value variables = Value::dict();
  for (const auto &[key, value] : tokenizer.specialTokens())
    variables.setItem(key, Value::string(value));
  variables.setItem("tools", Value::none());
  variables.setItem("add_generation_prompt", Value::boolean(false));
  for (const auto &[key, value] : request->entries())
    variables.setItem(key, value);
  auto rendered = (*compiled)->render(variables);
  if (!rendered)
    return addContext(rendered.takeError(), "chat_template");
  return rendered;
}
