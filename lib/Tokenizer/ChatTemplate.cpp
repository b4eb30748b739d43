//===- ChatTemplate.cpp - tokenizer_config.json's chat_template applied to messages ---===//

#include "vgcu/Tokenizer/ChatTemplate.h"

#include "JinjaValue.h"

#include "vgcu/Support/Error.h"
#include "vgcu/Tokenizer/Tokenizer.h"

using namespace vgcu;
using namespace vgcu::tokenizer;
using namespace vgcu::tokenizer::jinja;

namespace {

/// The chat request's JSON object, with `messages` checked.
llvm::Expected<Value> readChatRequest(llvm::StringRef json) {
  auto request = Value::parseJson(json, "chat request");
  if (!request)
    return request.takeError();
  if (request->kind() != Value::Dict)
    return makeError("a chat request must be a JSON object");
  if (request->item("messages").kind() != Value::List)
    return makeError("a chat request needs 'messages', a list");
  return request;
}

/// Renders with apply_chat_template's variables: the special tokens, `tools` null and
/// `add_generation_prompt` false unless `variables` (a dict) sets them.
llvm::Expected<std::string> render(const Tokenizer &tokenizer, const Value &given,
                                   const JinjaTemplate *chatTemplate) {
  if (!chatTemplate && tokenizer.chatTemplate().empty())
    return makeError("the tokenizer has no chat_template (tokenizer_config.json)");
  auto compiled = chatTemplate ? chatTemplate : tokenizer.compiledChatTemplate();
  if (!compiled)
    return addContext(compiled.takeError(), "chat_template");
  Value variables = Value::dict();
  for (const auto &[key, value] : tokenizer.specialTokens())
    variables.setItem(key, Value::string(value));
  variables.setItem("tools", Value::none());
  variables.setItem("add_generation_prompt", Value::boolean(false));
  for (const auto &[key, value] : given.entries())
    variables.setItem(key, value);
  auto rendered = (*compiled)->render(variables);
  if (!rendered)
    return addContext(rendered.takeError(), "chat_template");
  return rendered;
}

} // namespace

llvm::Expected<std::string>
vgcu::tokenizer::applyChatTemplate(const Tokenizer &tokenizer, llvm::StringRef variablesJson,
                                   const JinjaTemplate *chatTemplate) {
  auto request = readChatRequest(variablesJson);
  if (!request)
    return request.takeError();
  return render(tokenizer, *request, chatTemplate);
}

llvm::Expected<std::string>
vgcu::tokenizer::applyChatTemplateToRequest(const Tokenizer &tokenizer, llvm::StringRef body,
                                            const JinjaTemplate *chatTemplate) {
  auto request = readChatRequest(body);
  if (!request)
    return request.takeError();
  Value variables = Value::dict();
  variables.setItem("messages", request->item("messages"));
  if (Value tools = request->item("tools"); tools.kind() != Value::Undefined)
    variables.setItem("tools", tools);
  Value generationPrompt = request->item("add_generation_prompt");
  variables.setItem("add_generation_prompt", generationPrompt.kind() == Value::Undefined
                                                 ? Value::boolean(true)
                                                 : generationPrompt);
  Value extra = request->item("chat_template_kwargs");
  if (extra.kind() == Value::Dict)
    for (const auto &[key, value] : extra.entries())
      variables.setItem(key, value);
  else if (extra.kind() != Value::Undefined && extra.kind() != Value::None)
    return makeError("'chat_template_kwargs' must be an object");
  return render(tokenizer, variables, chatTemplate);
}
