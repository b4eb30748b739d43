//===- JinjaBuiltins.cpp - Filters, tests, methods and globals of chat templates -----===//

#include "JinjaValue.h"

#include "TokenizerParts.h"

#include "vgcu/Support/Error.h"

#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <ctime>

using namespace vgcu;
using namespace vgcu::tokenizer;
using namespace vgcu::tokenizer::jinja;

namespace {

/// Python's str.isspace for one code point.
bool isPythonSpace(uint32_t c) {
  return isWhiteSpace(c) || (c >= 0x1C && c <= 0x1F);
}

/// Python's str.strip/lstrip/rstrip: whitespace, or the characters of `chars`.
std::string stripText(llvm::StringRef text, const Value *chars, bool left, bool right) {
  std::vector<std::string> letters = characters(text);
  std::vector<std::string> set;
  if (chars && chars->kind() == Value::String)
    set = characters(chars->asString());
  auto strips = [&](const std::string &letter) {
    if (chars && chars->kind() == Value::String)
      return llvm::is_contained(set, letter);
    size_t i = 0;
    return isPythonSpace(nextCodePoint(letter, i));
  };
  size_t begin = 0, end = letters.size();
  while (left && begin < end && strips(letters[begin]))
    ++begin;
  while (right && end > begin && strips(letters[end - 1]))
    --end;
  std::string out;
  for (size_t i = begin; i < end; ++i)
    out += letters[i];
  return out;
}

std::string changeCase(llvm::StringRef text, bool upper) {
  icu::UnicodeString wide =
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), text.size()));
  if (upper)
    wide.toUpper(icu::Locale::getRoot());
  else
    wide.toLower(icu::Locale::getRoot());
  std::string out;
  wide.toUTF8String(out);
  return out;
}

/// Python's str.title (and capitalize when `firstOnly`): a letter after a non-letter is
/// upper case, the other letters lower case.
std::string titleCase(llvm::StringRef text, bool firstOnly) {
  std::string out;
  bool previousCased = false, first = true;
  for (const std::string &letter : characters(text)) {
    size_t i = 0;
    uint32_t c = nextCodePoint(letter, i);
    bool cased = u_hasBinaryProperty(c, UCHAR_CASED);
    bool toUpper = firstOnly ? first : !previousCased;
    out += changeCase(letter, toUpper && cased);
    previousCased = cased;
    first = false;
  }
  return out;
}

llvm::Expected<Value> splitText(llvm::StringRef text, const Value *separator,
                                int64_t maxSplit) {
  std::vector<Value> parts;
  if (!separator || separator->kind() == Value::None) {
    std::vector<std::string> letters = characters(text);
    std::string current;
    bool inWord = false;
    int64_t splits = 0;
    for (size_t k = 0; k < letters.size(); ++k) {
      size_t i = 0;
      bool space = isPythonSpace(nextCodePoint(letters[k], i));
      if (space && inWord && (maxSplit < 0 || splits < maxSplit)) {
        parts.push_back(Value::string(current));
        current.clear();
        inWord = false;
        ++splits;
      } else if (!space || inWord) {
        if (!inWord && maxSplit >= 0 && splits >= maxSplit) {
          // The rest after the last split, leading whitespace dropped.
          for (size_t rest = k; rest < letters.size(); ++rest)
            current += letters[rest];
          current = stripText(current, nullptr, false, true);
          inWord = true;
          break;
        }
        current += letters[k];
        inWord = true;
      }
    }
    if (inWord && !current.empty())
      parts.push_back(Value::string(current));
    return Value::list(std::move(parts));
  }
  if (separator->kind() != Value::String)
    return makeError("split's separator must be a string");
  const std::string &sep = separator->asString();
  if (sep.empty())
    return makeError("empty separator");
  llvm::StringRef rest = text;
  int64_t splits = 0;
  while (maxSplit < 0 || splits < maxSplit) {
    size_t at = rest.find(sep);
    if (at == llvm::StringRef::npos)
      break;
    parts.push_back(Value::string(rest.substr(0, at).str()));
    rest = rest.substr(at + sep.size());
    ++splits;
  }
  parts.push_back(Value::string(rest.str()));
  return Value::list(std::move(parts));
}

std::string replaceText(llvm::StringRef text, llvm::StringRef from, llvm::StringRef to,
                        int64_t count) {
  std::string out;
  if (from.empty()) { // Python inserts `to` around every character
    std::vector<std::string> letters = characters(text);
    int64_t done = 0;
    for (const std::string &letter : letters) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      out += letter;
    }
    if (count < 0 || done < count)
      out += to;
    return out;
  }
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t at = text.find(from);
    if (at == llvm::StringRef::npos)
      break;
    out += text.substr(0, at);
    out += to;
    text = text.substr(at + from.size());
    ++done;
  }
  return out + text.str();
}

const Value *argument(const std::vector<Value> &arguments, const Keywords &keywords,
                      size_t position, llvm::StringRef name) {
  for (const auto &[key, value] : keywords)
    if (key == name)
      return &value;
  return position < arguments.size() ? &arguments[position] : nullptr;
}

llvm::Error needString(const Value &value, llvm::StringRef what) {
  if (value.kind() == Value::String)
    return llvm::Error::success();
  if (value.kind() == Value::Undefined)
    return makeError("'{0}' is undefined", value.undefinedName());
  return makeError("{0} needs a string, not '{1}'", what, value.typeName());
}

llvm::Expected<int64_t> lengthOf(const Value &value) {
  switch (value.kind()) {
  case Value::Undefined:
    return 0;
  case Value::String:
    return int64_t(characters(value.asString()).size());
  case Value::List:
    return int64_t(value.items().size());
  case Value::Dict:
  case Value::Namespace:
    return int64_t(value.entries().size());
  default:
    return makeError("object of type '{0}' has no len()", value.typeName());
  }
}

Value itemsOf(const Value &dict) {
  std::vector<Value> pairs;
  for (const auto &[key, value] : dict.entries())
    pairs.push_back(Value::list({Value::string(key), value}));
  return Value::list(std::move(pairs));
}

} // namespace

llvm::Expected<bool> vgcu::tokenizer::jinja::applyTest(llvm::StringRef name,
                                                        const Value &subject,
                                                        const std::vector<Value> &arguments) {
  Value::Kind kind = subject.kind();
  if (name == "defined")
    return kind != Value::Undefined;
  if (name == "undefined")
    return kind == Value::Undefined;
  if (name == "none")
    return kind == Value::None;
  if (name == "string")
    return kind == Value::String;
  if (name == "number")
    return kind == Value::Integer || kind == Value::Float;
  if (name == "integer")
    return kind == Value::Integer;
  if (name == "float")
    return kind == Value::Float;
  if (name == "boolean")
    return kind == Value::Boolean;
  if (name == "true")
    return kind == Value::Boolean && subject.truthy();
  if (name == "false")
    return kind == Value::Boolean && !subject.truthy();
  if (name == "mapping")
    return kind == Value::Dict;
  if (name == "iterable")
    return kind == Value::List || kind == Value::Dict || kind == Value::String ||
           kind == Value::Undefined;
  if (name == "sequence")
    return kind == Value::List || kind == Value::Dict || kind == Value::String;
  if (name == "callable")
    return false;
  if (name == "lower" || name == "upper") {
    if (kind != Value::String)
      return false;
    return changeCase(subject.asString(), name == "upper") == subject.asString();
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (kind != Value::Integer && kind != Value::Boolean)
      return makeError("test '{0}' needs an integer", name);
    int64_t divisor = name == "divisibleby" && !arguments.empty() ? arguments[0].asInteger() : 2;
    if (divisor == 0)
      return makeError("division by zero in 'divisibleby'");
    bool divisible = subject.asInteger() % divisor == 0;
    return name == "odd" ? !divisible : divisible;
  }
  if (arguments.size() == 1) {
    if (name == "equalto" || name == "eq" || name == "==" || name == "sameas")
      return subject.equals(arguments[0]);
    if (name == "ne" || name == "!=")
      return !subject.equals(arguments[0]);
    if (name == "in")
      return arguments[0].contains(subject);
    if (name == "lt" || name == "gt" || name == "le" || name == "ge") {
      auto order = subject.compare(arguments[0]);
      if (!order)
        return order.takeError();
      return name == "lt" ? *order < 0 : name == "gt" ? *order > 0 : name == "le" ? *order <= 0
                                                                                 : *order >= 0;
    }
  }
  return makeError("no test named '{0}' (with {1} arguments)", name, arguments.size());
}

llvm::Expected<Value> vgcu::tokenizer::jinja::applyFilter(llvm::StringRef name,
                                                           const Value &subject,
                                                           const std::vector<Value> &arguments,
                                                           const Keywords &keywords) {
  if (name == "tojson") {
    const Value *indent = argument(arguments, keywords, 0, "indent");
    const Value *sortKeys = argument({}, keywords, 99, "sort_keys");
    const Value *ensureAscii = argument({}, keywords, 99, "ensure_ascii");
    std::optional<int64_t> spaces;
    if (indent && indent->kind() == Value::Integer)
      spaces = indent->asInteger();
    auto text = subject.toJson(spaces, sortKeys && sortKeys->truthy(),
                               ensureAscii && ensureAscii->truthy());
    if (!text)
      return text.takeError();
    return Value::string(*text);
  }
  if (name == "default" || name == "d") {
    const Value *fallback = argument(arguments, keywords, 0, "default_value");
    const Value *boolean = argument(arguments, keywords, 1, "boolean");
    bool useFallback = subject.kind() == Value::Undefined ||
                       (boolean && boolean->truthy() && !subject.truthy());
    return useFallback ? (fallback ? *fallback : Value::string("")) : subject;
  }
  if (name == "length" || name == "count") {
    auto length = lengthOf(subject);
    if (!length)
      return length.takeError();
    return Value::integer(*length);
  }
  if (name == "string")
    return Value::string(subject.toString());
  if (name == "safe")
    return subject;
  if (name == "list") {
    auto items = subject.iterate();
    if (!items)
      return items.takeError();
    return Value::list(std::move(*items));
  }
  if (name == "first" || name == "last") {
    auto items = subject.iterate();
    if (!items)
      return items.takeError();
    if (items->empty())
      return Value::undefined(name.str());
    return name == "first" ? items->front() : items->back();
  }
  if (name == "reverse") {
    if (subject.kind() == Value::String)
      return subject.slice(std::nullopt, std::nullopt, -1);
    auto items = subject.iterate();
    if (!items)
      return items.takeError();
    std::reverse(items->begin(), items->end());
    return Value::list(std::move(*items));
  }
  if (name == "join") {
    const Value *separator = argument(arguments, keywords, 0, "d");
    const Value *attribute = argument(arguments, keywords, 1, "attribute");
    auto items = subject.iterate();
    if (!items)
      return items.takeError();
    std::string out;
    for (size_t i = 0; i < items->size(); ++i) {
      if (i && separator)
        out += separator->toString();
      Value item = (*items)[i];
      if (attribute)
        item = item.item(attribute->toString());
      out += item.toString();
    }
    return Value::string(out);
  }
  if (name == "items") {
    if (subject.kind() != Value::Dict)
      return makeError("'items' needs a dict, not '{0}'", subject.typeName());
    return itemsOf(subject);
  }
  if (name == "selectattr" || name == "rejectattr") {
    const Value *attribute = argument(arguments, keywords, 0, "attribute");
    if (!attribute)
      return makeError("'{0}' needs an attribute name", name);
    auto items = subject.iterate();
    if (!items)
      return items.takeError();
    std::vector<Value> kept;
    for (const Value &item : *items) {
      Value field = item.item(attribute->toString());
      bool passes = field.truthy();
      if (arguments.size() > 1) {
        auto result = applyTest(arguments[1].toString(), field,
                                std::vector<Value>(arguments.begin() + 2, arguments.end()));
        if (!result)
          return result.takeError();
        passes = *result;
      }
      if (passes == (name == "selectattr"))
        kept.push_back(item);
    }
    return Value::list(std::move(kept));
  }
  if (name == "map") {
    const Value *attribute = argument({}, keywords, 99, "attribute");
    auto items = subject.iterate();
    if (!items)
      return items.takeError();
    std::vector<Value> mapped;
    for (const Value &item : *items) {
      if (attribute) {
        mapped.push_back(item.item(attribute->toString()));
        continue;
      }
      if (arguments.empty())
        return makeError("'map' needs a filter name or attribute=");
      auto result = applyFilter(arguments[0].toString(), item,
                                std::vector<Value>(arguments.begin() + 1, arguments.end()), {});
      if (!result)
        return result.takeError();
      mapped.push_back(std::move(*result));
    }
    return Value::list(std::move(mapped));
  }
  if (name == "int" || name == "float") {
    // A float outside int64's range has no integer here (Python's would be a big integer).
    auto toInteger = [](double value) -> llvm::Expected<Value> {
      if (!(std::fabs(value) < 9.2e18))
        return makeError("'int' of {0} is outside the 64-bit range", formatFloat(value));
      return Value::integer(static_cast<int64_t>(value));
    };
    if (subject.isNumber())
      return name == "int" ? (subject.kind() == Value::Float ? toInteger(subject.asNumber())
                                                             : Value::integer(subject.asInteger()))
                           : Value::real(subject.asNumber());
    llvm::StringRef text = subject.kind() == Value::String ? llvm::StringRef(subject.asString())
                                                           : llvm::StringRef();
    int64_t integer;
    double real;
    if (name == "int" && !text.trim().getAsInteger(10, integer))
      return Value::integer(integer);
    if (!text.trim().getAsDouble(real))
      return name == "int" ? toInteger(real) : llvm::Expected<Value>(Value::real(real));
    return name == "int" ? Value::integer(0) : Value::real(0.0);
  }
  if (name == "abs") {
    if (subject.kind() == Value::Float)
      return Value::real(std::fabs(subject.asNumber()));
    if (subject.isNumber() && subject.asInteger() != INT64_MIN)
      return Value::integer(std::llabs(subject.asInteger()));
    return makeError("'abs' needs a number");
  }
  // The rest work on the subject's str(), as Jinja's string filters do.
  std::string converted = subject.toString();
  llvm::StringRef text = converted;
  if (name == "trim")
    return Value::string(stripText(text, argument(arguments, keywords, 0, "chars"), true, true));
  if (name == "upper" || name == "lower")
    return Value::string(changeCase(text, name == "upper"));
  if (name == "capitalize" || name == "title")
    return Value::string(titleCase(text, name == "capitalize"));
  if (name == "replace") {
    const Value *from = argument(arguments, keywords, 0, "old");
    const Value *to = argument(arguments, keywords, 1, "new");
    const Value *count = argument(arguments, keywords, 2, "count");
    if (!from || !to)
      return makeError("'replace' needs the old and the new text");
    return Value::string(replaceText(text, from->toString(), to->toString(),
                                     count && count->kind() == Value::Integer
                                         ? count->asInteger()
                                         : -1));
  }
  return makeError("no filter named '{0}'", name);
}

llvm::Expected<Value> vgcu::tokenizer::jinja::callMethod(const Value &object,
                                                          llvm::StringRef name,
                                                          const std::vector<Value> &arguments,
                                                          const Keywords &keywords) {
  if (object.kind() == Value::Undefined)
    return makeError("'{0}' is undefined", object.undefinedName());
  if (object.kind() == Value::Dict) {
    if (name == "get") {
      if (arguments.empty())
        return makeError("get() needs a key");
      Value found = object.item(arguments[0].toString());
      if (found.kind() != Value::Undefined)
        return found;
      return arguments.size() > 1 ? arguments[1] : Value::none();
    }
    if (name == "items")
      return itemsOf(object);
    if (name == "keys" || name == "values") {
      std::vector<Value> out;
      for (const auto &[key, value] : object.entries())
        out.push_back(name == "keys" ? Value::string(key) : value);
      return Value::list(std::move(out));
    }
  }
  if (object.kind() == Value::String) {
    llvm::StringRef text = object.asString();
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
      const Value *chars = argument(arguments, keywords, 0, "chars");
      return Value::string(stripText(text, chars, name != "rstrip", name != "lstrip"));
    }
    if (name == "startswith" || name == "endswith") {
      if (arguments.empty())
        return makeError("{0}() needs an argument", name);
      std::vector<Value> candidates = arguments[0].kind() == Value::List
                                          ? arguments[0].items()
                                          : std::vector<Value>{arguments[0]};
      for (const Value &candidate : candidates) {
        if (auto error = needString(candidate, name.str() + "()"))
          return std::move(error);
        if (name == "startswith" ? text.starts_with(candidate.asString())
                                 : text.ends_with(candidate.asString()))
          return Value::boolean(true);
      }
      return Value::boolean(false);
    }
    if (name == "split") {
      const Value *maxSplit = argument(arguments, keywords, 1, "maxsplit");
      return splitText(text, argument(arguments, keywords, 0, "sep"),
                       maxSplit && maxSplit->kind() == Value::Integer ? maxSplit->asInteger()
                                                                      : -1);
    }
    if (name == "upper" || name == "lower")
      return Value::string(changeCase(text, name == "upper"));
    if (name == "title" || name == "capitalize")
      return Value::string(titleCase(text, name == "capitalize"));
    if (name == "replace") {
      if (arguments.size() < 2)
        return makeError("replace() needs the old and the new text");
      int64_t count = arguments.size() > 2 ? arguments[2].asInteger() : -1;
      return Value::string(
          replaceText(text, arguments[0].toString(), arguments[1].toString(), count));
    }
    if (name == "join") {
      if (arguments.empty())
        return makeError("join() needs a list");
      auto items = arguments[0].iterate();
      if (!items)
        return items.takeError();
      std::string out;
      for (size_t i = 0; i < items->size(); ++i) {
        if (auto error = needString((*items)[i], "join()"))
          return std::move(error);
        out += (i ? text.str() : "") + (*items)[i].asString();
      }
      return Value::string(out);
    }
  }
  return makeError("'{0}' object has no method '{1}' that templates may call",
                   object.typeName(), name);
}

llvm::Expected<Value> vgcu::tokenizer::jinja::callGlobal(llvm::StringRef name,
                                                          const std::vector<Value> &arguments,
                                                          const Keywords &keywords) {
  if (name == "raise_exception")
    return makeError("{0}", arguments.empty() ? std::string() : arguments[0].toString());
  if (name == "namespace" || name == "dict") {
    Value result = name == "namespace" ? Value::makeNamespace() : Value::dict();
    if (!arguments.empty() && arguments[0].kind() == Value::Dict)
      for (const auto &[key, value] : arguments[0].entries())
        result.setItem(key, value);
    for (const auto &[key, value] : keywords)
      result.setItem(key, value);
    return result;
  }
  if (name == "range") {
    if (arguments.empty() || arguments.size() > 3)
      return makeError("range() takes 1 to 3 integers");
    int64_t start = arguments.size() > 1 ? arguments[0].asInteger() : 0;
    int64_t stop = arguments.size() > 1 ? arguments[1].asInteger() : arguments[0].asInteger();
    int64_t step = arguments.size() > 2 ? arguments[2].asInteger() : 1;
    if (step == 0)
      return makeError("range() step must not be zero");
    if ((double(stop) - double(start)) / double(step) > 1e6)
      return makeError("range() of more than a million items");
    std::vector<Value> items;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
      items.push_back(Value::integer(i));
    return Value::list(std::move(items));
  }
  if (name == "strftime_now") {
    if (arguments.empty() || arguments[0].kind() != Value::String)
      return makeError("strftime_now() needs a format string");
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buffer[256];
    size_t length = std::strftime(buffer, sizeof buffer, arguments[0].asString().c_str(), &local);
    return Value::string(std::string(buffer, length));
  }
  return makeError("'{0}' is undefined (not a function templates may call)", name);
}
