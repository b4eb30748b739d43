//===- JinjaValue.cpp - Template values: Python's str, repr, ==, +, slices, JSON -----===//

#include "JinjaValue.h"

#include "TokenizerParts.h"

#include "vgcu/Support/Error.h"

#include <algorithm>
#include <charconv>
#include <cmath>

using namespace vgcu;
using namespace vgcu::tokenizer;
using namespace vgcu::tokenizer::jinja;

Value Value::undefined(std::string name) {
  Value value;
  value.name_ = std::move(name);
  return value;
}
Value Value::none() {
  Value value;
  value.kind_ = None;
  return value;
}
Value Value::boolean(bool b) {
  Value value;
  value.kind_ = Boolean;
  value.boolean_ = b;
  return value;
}
Value Value::integer(int64_t i) {
  Value value;
  value.kind_ = Integer;
  value.integer_ = i;
  return value;
}
Value Value::real(double d) {
  Value value;
  value.kind_ = Float;
  value.real_ = d;
  return value;
}
Value Value::string(std::string s) {
  Value value;
  value.kind_ = String;
  value.string_ = std::make_shared<std::string>(std::move(s));
  return value;
}
Value Value::list(std::vector<Value> items) {
  Value value;
  value.kind_ = List;
  value.list_ = std::make_shared<std::vector<Value>>(std::move(items));
  return value;
}
Value Value::dict() {
  Value value;
  value.kind_ = Dict;
  value.dict_ = std::make_shared<DictData>();
  return value;
}
Value Value::makeNamespace() {
  Value value = dict();
  value.kind_ = Namespace;
  return value;
}

void Value::setItem(const std::string &key, Value value) {
  auto [it, inserted] = dict_->index.emplace(key, dict_->entries.size());
  if (inserted)
    dict_->entries.emplace_back(key, std::move(value));
  else
    dict_->entries[it->second].second = std::move(value);
}

Value Value::item(const std::string &key) const {
  if (kind_ != Dict && kind_ != Namespace)
    return undefined(key);
  auto it = dict_->index.find(key);
  return it == dict_->index.end() ? undefined(key) : dict_->entries[it->second].second;
}

llvm::StringRef Value::typeName() const {
  switch (kind_) {
  case Undefined: return "Undefined";
  case None: return "NoneType";
  case Boolean: return "bool";
  case Integer: return "int";
  case Float: return "float";
  case String: return "str";
  case List: return "list";
  case Dict: return "dict";
  case Namespace: return "Namespace";
  }
  return "object";
}

bool Value::truthy() const {
  switch (kind_) {
  case Undefined:
  case None:
    return false;
  case Boolean:
    return boolean_;
  case Integer:
    return integer_ != 0;
  case Float:
    return real_ != 0.0;
  case String:
    return !string_->empty();
  case List:
    return !list_->empty();
  case Dict:
    return !dict_->entries.empty();
  case Namespace:
    return true;
  }
  return false;
}

std::string vgcu::tokenizer::jinja::formatFloat(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value < 0 ? "-inf" : "inf";
  if (value == 0)
    return std::signbit(value) ? "-0.0" : "0.0";
  // The shortest digits that read back as `value`, then Python's layout of them.
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  std::string scientific(buffer, result.ptr);
  size_t e = scientific.find('e');
  int exponent = std::stoi(scientific.substr(e + 1));
  std::string mantissa = scientific.substr(0, e);
  bool negative = mantissa[0] == '-';
  if (negative)
    mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa)
    if (c != '.')
      digits += c;
  std::string out = negative ? "-" : "";
  if (exponent >= -5 && exponent < 16) {
    if (exponent < 0) {
      out += "0." + std::string(size_t(-exponent - 1), '0') + digits;
    } else if (size_t(exponent) + 1 >= digits.size()) {
      out += digits + std::string(size_t(exponent) + 1 - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, size_t(exponent) + 1) + "." + digits.substr(size_t(exponent) + 1);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1)
    out += "." + digits.substr(1);
  char exponentText[16];
  snprintf(exponentText, sizeof exponentText, "e%c%02d", exponent < 0 ? '-' : '+',
           std::abs(exponent));
  return out + exponentText;
}

std::vector<std::string> vgcu::tokenizer::jinja::characters(llvm::StringRef text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size();) {
    size_t start = i;
    i += utf8Length(static_cast<unsigned char>(text[i]));
    out.push_back(text.slice(start, std::min(i, text.size())).str());
  }
  return out;
}

namespace {

std::string pythonStringRepr(llvm::StringRef text) {
  char quote = text.contains('\'') && !text.contains('"') ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == static_cast<unsigned char>(quote))
      out += std::string("\\") + char(c);
    else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7F) {
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else
      out += char(c);
  }
  return out + quote;
}

} // namespace

std::string Value::repr() const {
  if (kind_ == String)
    return pythonStringRepr(*string_);
  return toString();
}

std::string Value::toString() const {
  switch (kind_) {
  case Undefined:
    return "";
  case None:
    return "None";
  case Boolean:
    return boolean_ ? "True" : "False";
  case Integer:
    return std::to_string(integer_);
  case Float:
    return formatFloat(real_);
  case String:
    return *string_;
  case List: {
    std::string out = "[";
    for (size_t i = 0; i < list_->size(); ++i)
      out += (i ? ", " : "") + (*list_)[i].repr();
    return out + "]";
  }
  case Dict:
  case Namespace: {
    std::string out = kind_ == Namespace ? "<Namespace {" : "{";
    for (size_t i = 0; i < dict_->entries.size(); ++i)
      out += (i ? ", " : "") + pythonStringRepr(dict_->entries[i].first) + ": " +
             dict_->entries[i].second.repr();
    return out + (kind_ == Namespace ? "}>" : "}");
  }
  }
  return "";
}

bool Value::equals(const Value &other) const {
  if (isNumber() && other.isNumber()) {
    if (kind_ != Float && other.kind_ != Float)
      return asInteger() == other.asInteger();
    return asNumber() == other.asNumber();
  }
  if (kind_ != other.kind_)
    return false;
  switch (kind_) {
  case Undefined:
  case None:
    return true;
  case String:
    return *string_ == *other.string_;
  case List:
    if (list_->size() != other.list_->size())
      return false;
    for (size_t i = 0; i < list_->size(); ++i)
      if (!(*list_)[i].equals((*other.list_)[i]))
        return false;
    return true;
  case Dict:
    if (dict_->entries.size() != other.dict_->entries.size())
      return false;
    for (const auto &[key, value] : dict_->entries)
      if (!value.equals(other.item(key)) || !other.dict_->index.count(key))
        return false;
    return true;
  case Namespace:
    return dict_ == other.dict_;
  default:
    return false;
  }
}

static llvm::Error undefinedError(const Value &value) {
  return makeError("'{0}' is undefined", value.undefinedName());
}

llvm::Expected<int> Value::compare(const Value &other) const {
  if (kind_ == Undefined)
    return undefinedError(*this);
  if (other.kind_ == Undefined)
    return undefinedError(other);
  if (isNumber() && other.isNumber()) {
    double a = asNumber(), b = other.asNumber();
    if (kind_ != Float && other.kind_ != Float) {
      int64_t x = asInteger(), y = other.asInteger();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (kind_ == String && other.kind_ == String)
    return string_->compare(*other.string_) < 0 ? -1 : *string_ == *other.string_ ? 0 : 1;
  if (kind_ == List && other.kind_ == List) {
    for (size_t i = 0; i < std::min(list_->size(), other.list_->size()); ++i) {
      auto order = (*list_)[i].compare((*other.list_)[i]);
      if (!order)
        return order.takeError();
      if (*order != 0)
        return *order;
    }
    return list_->size() < other.list_->size() ? -1 : list_->size() > other.list_->size();
  }
  return makeError("'<' is not supported between '{0}' and '{1}'", typeName(),
                   other.typeName());
}

llvm::Expected<bool> Value::contains(const Value &item) const {
  switch (kind_) {
  case Undefined:
    return false;
  case String:
    if (item.kind_ != String)
      return makeError("'in <string>' requires a string on the left, not '{0}'",
                       item.typeName());
    return llvm::StringRef(*string_).contains(*item.string_);
  case List:
    return llvm::any_of(*list_, [&](const Value &element) { return element.equals(item); });
  case Dict:
  case Namespace:
    return item.kind_ == String && dict_->index.count(*item.string_) > 0;
  default:
    return makeError("argument of type '{0}' is not iterable", typeName());
  }
}

llvm::Expected<Value> Value::arithmetic(llvm::StringRef op, const Value &right) const {
  if (kind_ == Undefined)
    return undefinedError(*this);
  if (right.kind_ == Undefined)
    return undefinedError(right);
  auto unsupported = [&] {
    return makeError("unsupported operand types for {0}: '{1}' and '{2}'", op, typeName(),
                     right.typeName());
  };
  if (isNumber() && right.isNumber()) {
    bool integers = kind_ != Float && right.kind_ != Float;
    int64_t x = asInteger(), y = right.asInteger();
    double a = asNumber(), b = right.asNumber();
    // Python's integers do not overflow; these do, and say so.
    int64_t exact = 0;
    auto overflow = [&] { return makeError("integer overflow in '{0}'", op); };
    if (op == "+") {
      if (!integers)
        return real(a + b);
      return __builtin_add_overflow(x, y, &exact) ? overflow() : llvm::Expected<Value>(integer(exact));
    }
    if (op == "-") {
      if (!integers)
        return real(a - b);
      return __builtin_sub_overflow(x, y, &exact) ? overflow() : llvm::Expected<Value>(integer(exact));
    }
    if (op == "*") {
      if (!integers)
        return real(a * b);
      return __builtin_mul_overflow(x, y, &exact) ? overflow() : llvm::Expected<Value>(integer(exact));
    }
    if (op == "/") {
      if (b == 0)
        return makeError("division by zero");
      return real(a / b);
    }
    if (op == "//" || op == "%") {
      if (b == 0)
        return makeError("integer division or modulo by zero");
      if (integers) {
        if (x == INT64_MIN && y == -1)
          return overflow();
        int64_t quotient = x / y, remainder = x % y;
        if (remainder != 0 && ((remainder < 0) != (y < 0))) {
          --quotient;
          remainder += y;
        }
        return integer(op == "//" ? quotient : remainder);
      }
      double quotient = std::floor(a / b);
      return real(op == "//" ? quotient : a - quotient * b);
    }
    if (op == "**") {
      if (integers && y >= 0) {
        int64_t result = 1;
        for (int64_t i = 0; i < y && result != 0; ++i) {
          if (__builtin_mul_overflow(result, x, &result))
            return overflow();
          if (x == 1 || x == -1) // the rest only flips the sign
            return integer((x == -1 && (y - i - 1) % 2 == 1) ? -result : result);
        }
        return integer(result);
      }
      return real(std::pow(a, b));
    }
    return unsupported();
  }
  if (op == "+" && kind_ == String && right.kind_ == String)
    return string(*string_ + *right.string_);
  if (op == "+" && kind_ == List && right.kind_ == List) {
    std::vector<Value> items = *list_;
    items.insert(items.end(), right.list_->begin(), right.list_->end());
    return list(std::move(items));
  }
  if (op == "*" && kind_ == Integer && (right.kind_ == String || right.kind_ == List))
    return right.arithmetic(op, *this); // 3 * 'ab' as 'ab' * 3
  if (op == "*" && (kind_ == String || kind_ == List) && right.kind_ == Integer) {
    size_t unit = kind_ == String ? string_->size() : list_->size() * sizeof(Value);
    if (right.integer_ > 0 && unit > 0 && uint64_t(right.integer_) > (uint64_t(1) << 27) / unit)
      return makeError("repeating a {0} {1} times makes more than 128 MiB", typeName(),
                       right.integer_);
    if (kind_ == String) {
      std::string out;
      for (int64_t i = 0; i < right.integer_; ++i)
        out += *string_;
      return string(out);
    }
    std::vector<Value> items;
    for (int64_t i = 0; i < right.integer_; ++i)
      items.insert(items.end(), list_->begin(), list_->end());
    return list(std::move(items));
  }
  return unsupported();
}

llvm::Expected<Value> Value::attribute(llvm::StringRef name) const {
  if (kind_ == Undefined)
    return undefinedError(*this);
  if (kind_ == Dict || kind_ == Namespace)
    return item(name.str());
  return undefined(name.str());
}

/// Python's slice.indices: the positions a slice visits in a sequence of `length` items.
static llvm::Expected<std::vector<int64_t>> sliceIndices(int64_t length,
                                                         std::optional<int64_t> start,
                                                         std::optional<int64_t> stop,
                                                         std::optional<int64_t> step) {
  int64_t by = step.value_or(1);
  if (by == 0)
    return makeError("slice step cannot be zero");
  auto clamp = [&](std::optional<int64_t> index, int64_t otherwise) {
    if (!index)
      return otherwise;
    int64_t i = *index < 0 ? *index + length : *index;
    if (by > 0)
      return std::clamp<int64_t>(i, 0, length);
    return std::clamp<int64_t>(i, -1, length - 1);
  };
  int64_t from = clamp(start, by > 0 ? 0 : length - 1);
  int64_t to = clamp(stop, by > 0 ? length : -1);
  std::vector<int64_t> indices;
  for (int64_t i = from; by > 0 ? i < to : i > to; i += by)
    indices.push_back(i);
  return indices;
}

llvm::Expected<Value> Value::subscript(const Value &key) const {
  if (kind_ == Undefined)
    return undefinedError(*this);
  if ((kind_ == List || kind_ == String) && (key.kind_ == Integer || key.kind_ == Boolean)) {
    std::vector<std::string> chars;
    if (kind_ == String)
      chars = characters(*string_);
    int64_t length = kind_ == List ? int64_t(list_->size()) : int64_t(chars.size());
    int64_t index = key.asInteger() < 0 ? key.asInteger() + length : key.asInteger();
    if (index < 0 || index >= length)
      return undefined("[" + std::to_string(key.asInteger()) + "]");
    return kind_ == List ? (*list_)[index] : string(chars[index]);
  }
  if ((kind_ == Dict || kind_ == Namespace) && key.kind_ == String)
    return item(*key.string_);
  return undefined(key.toString());
}

llvm::Expected<Value> Value::slice(std::optional<int64_t> start, std::optional<int64_t> stop,
                                   std::optional<int64_t> step) const {
  if (kind_ == Undefined)
    return undefinedError(*this);
  if (kind_ != List && kind_ != String)
    return makeError("'{0}' cannot be sliced", typeName());
  std::vector<std::string> chars;
  if (kind_ == String)
    chars = characters(*string_);
  int64_t length = kind_ == List ? int64_t(list_->size()) : int64_t(chars.size());
  auto indices = sliceIndices(length, start, stop, step);
  if (!indices)
    return indices.takeError();
  if (kind_ == String) {
    std::string out;
    for (int64_t i : *indices)
      out += chars[i];
    return string(out);
  }
  std::vector<Value> items;
  for (int64_t i : *indices)
    items.push_back((*list_)[i]);
  return list(std::move(items));
}

llvm::Expected<std::vector<Value>> Value::iterate() const {
  switch (kind_) {
  case Undefined:
    return std::vector<Value>();
  case List:
    return *list_;
  case Dict: {
    std::vector<Value> keys;
    for (const auto &entry : dict_->entries)
      keys.push_back(string(entry.first));
    return keys;
  }
  case String: {
    std::vector<Value> chars;
    for (std::string &c : characters(*string_))
      chars.push_back(string(std::move(c)));
    return chars;
  }
  default:
    return makeError("'{0}' object is not iterable", typeName());
  }
}

// --- JSON ------------------------------------------------------------------------------

static std::string jsonString(llvm::StringRef text, bool ensureAscii) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      size_t start = i;
      uint32_t code = nextCodePoint(text, i);
      if (!ensureAscii) {
        out.append(text.data() + start, i - start);
        continue;
      }
      auto unit = [&](uint32_t u) {
        char escaped[16];
        snprintf(escaped, sizeof escaped, "\\u%04x", u);
        out += escaped;
      };
      if (code >= 0x10000) {
        code -= 0x10000;
        unit(0xD800 + (code >> 10));
        unit(0xDC00 + (code & 0x3FF));
      } else {
        unit(code);
      }
      continue;
    }
    ++i;
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    default:
      if (c < 0x20 || (ensureAscii && c == 0x7F)) {
        char escaped[8];
        snprintf(escaped, sizeof escaped, "\\u%04x", c);
        out += escaped;
      } else {
        out += char(c);
      }
    }
  }
  return out + "\"";
}

static llvm::Error writeJson(const Value &value, std::optional<int64_t> indent, bool sortKeys,
                             bool ensureAscii, int level, std::string &out) {
  std::string newline, inner;
  if (indent) {
    newline = "\n" + std::string(size_t(*indent * level), ' ');
    inner = "\n" + std::string(size_t(*indent * (level + 1)), ' ');
  }
  const char *comma = indent ? "," : ", ";
  switch (value.kind()) {
  case Value::None:
    out += "null";
    return llvm::Error::success();
  case Value::Boolean:
    out += value.truthy() ? "true" : "false";
    return llvm::Error::success();
  case Value::Integer:
    out += std::to_string(value.asInteger());
    return llvm::Error::success();
  case Value::Float: {
    double d = value.asNumber();
    out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d < 0 ? "-Infinity" : "Infinity")
                                                 : formatFloat(d);
    return llvm::Error::success();
  }
  case Value::String:
    out += jsonString(value.asString(), ensureAscii);
    return llvm::Error::success();
  case Value::List: {
    if (value.items().empty()) {
      out += "[]";
      return llvm::Error::success();
    }
    out += "[";
    for (size_t i = 0; i < value.items().size(); ++i) {
      out += (i ? comma : "") + inner;
      if (auto error =
              writeJson(value.items()[i], indent, sortKeys, ensureAscii, level + 1, out))
        return error;
    }
    out += newline + "]";
    return llvm::Error::success();
  }
  case Value::Dict: {
    if (value.entries().empty()) {
      out += "{}";
      return llvm::Error::success();
    }
    auto entries = value.entries();
    if (sortKeys)
      std::stable_sort(entries.begin(), entries.end(),
                       [](const auto &a, const auto &b) { return a.first < b.first; });
    out += "{";
    for (size_t i = 0; i < entries.size(); ++i) {
      out += (i ? comma : "") + inner + jsonString(entries[i].first, ensureAscii) + ": ";
      if (auto error =
              writeJson(entries[i].second, indent, sortKeys, ensureAscii, level + 1, out))
        return error;
    }
    out += newline + "}";
    return llvm::Error::success();
  }
  default:
    return makeError("Object of type {0} is not JSON serializable", value.typeName());
  }
}

llvm::Expected<std::string> Value::toJson(std::optional<int64_t> indent, bool sortKeys,
                                          bool ensureAscii) const {
  std::string out;
  if (auto error = writeJson(*this, indent, sortKeys, ensureAscii, 0, out))
    return std::move(error);
  return out;
}

namespace {

/// JSON text into values, keeping object key order (llvm::json does not).
class JsonReader {
public:
  JsonReader(llvm::StringRef text, llvm::StringRef where) : text(text), where(where) {}

  llvm::Expected<Value> readDocument() {
    auto value = readValue(0);
    if (!value)
      return value.takeError();
    skipSpace();
    if (at != text.size())
      return fail("unexpected text after the JSON value");
    return value;
  }

private:
  static constexpr int kMaxDepth = 256;

  llvm::Error fail(const std::string &what) {
    return makeError("{0}: invalid JSON at byte {1}: {2}", where, at, what);
  }
  void skipSpace() {
    while (at < text.size() && llvm::StringRef(" \t\r\n").contains(text[at]))
      ++at;
  }
  bool consume(llvm::StringRef word) {
    if (!text.substr(at).starts_with(word))
      return false;
    at += word.size();
    return true;
  }

  llvm::Expected<Value> readValue(int depth) {
    if (depth > kMaxDepth)
      return fail("arrays and objects nest more than 256 levels deep");
    skipSpace();
    if (at >= text.size())
      return fail("unexpected end");
    char c = text[at];
    if (c == '{') {
      ++at;
      Value object = Value::dict();
      skipSpace();
      if (consume("}"))
        return object;
      while (true) {
        skipSpace();
        if (at >= text.size() || text[at] != '"')
          return fail("expected a key string");
        auto key = readString();
        if (!key)
          return key.takeError();
        skipSpace();
        if (!consume(":"))
          return fail("expected ':'");
        auto value = readValue(depth + 1);
        if (!value)
          return value.takeError();
        object.setItem(*key, std::move(*value));
        skipSpace();
        if (consume("}"))
          return object;
        if (!consume(","))
          return fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      ++at;
      std::vector<Value> items;
      skipSpace();
      if (consume("]"))
        return Value::list();
      while (true) {
        auto value = readValue(depth + 1);
        if (!value)
          return value.takeError();
        items.push_back(std::move(*value));
        skipSpace();
        if (consume("]"))
          return Value::list(std::move(items));
        if (!consume(","))
          return fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      auto string = readString();
      if (!string)
        return string.takeError();
      return Value::string(std::move(*string));
    }
    if (consume("true"))
      return Value::boolean(true);
    if (consume("false"))
      return Value::boolean(false);
    if (consume("null"))
      return Value::none();
    size_t start = at;
    if (at < text.size() && text[at] == '-')
      ++at;
    bool isFloat = false;
    while (at < text.size() && (isdigit(static_cast<unsigned char>(text[at])) ||
                                llvm::StringRef(".eE+-").contains(text[at]))) {
      isFloat |= llvm::StringRef(".eE").contains(text[at]);
      ++at;
    }
    llvm::StringRef number = text.slice(start, at);
    int64_t integer;
    if (!isFloat && !number.getAsInteger(10, integer))
      return Value::integer(integer);
    double real;
    if (number.empty() || number.getAsDouble(real))
      return fail("expected a value");
    return Value::real(real);
  }

  llvm::Expected<std::string> readString() {
    ++at; // the opening quote
    std::string out;
    while (at < text.size()) {
      char c = text[at++];
      if (c == '"')
        return out;
      if (static_cast<unsigned char>(c) < 0x20)
        return fail("a control character inside a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at >= text.size())
        break;
      char e = text[at++];
      switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        auto unit = readHex4();
        if (!unit)
          return unit.takeError();
        uint32_t code = *unit;
        if (code >= 0xD800 && code < 0xDC00 && consume("\\u")) {
          auto low = readHex4();
          if (!low)
            return low.takeError();
          if (*low < 0xDC00 || *low >= 0xE000)
            return fail("an unpaired surrogate");
          code = 0x10000 + ((code - 0xD800) << 10) + (*low - 0xDC00);
        } else if (code >= 0xD800 && code < 0xE000) {
          return fail("an unpaired surrogate");
        }
        appendUtf8(out, code);
        break;
      }
      default:
        return fail("an unknown escape");
      }
    }
    return fail("a string is never closed");
  }

  llvm::Expected<uint32_t> readHex4() {
    unsigned value;
    if (at + 4 > text.size() || text.substr(at, 4).getAsInteger(16, value))
      return fail("expected four hex digits after \\u");
    at += 4;
    return value;
  }

  llvm::StringRef text;
  llvm::StringRef where;
  size_t at = 0;
};

} // namespace

llvm::Expected<Value> Value::parseJson(llvm::StringRef text, llvm::StringRef where) {
  size_t invalid = findInvalidUtf8(text);
  if (invalid != llvm::StringRef::npos)
    return makeError("{0}: not valid UTF-8 (at byte {1})", where, invalid);
  return JsonReader(text, where).readDocument();
}
