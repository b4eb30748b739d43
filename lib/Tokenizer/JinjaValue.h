//===- JinjaValue.h - Values of chat templates, with Python's semantics (internal) ---===//
#ifndef VGCU_LIB_TOKENIZER_JINJAVALUE_H
#define VGCU_LIB_TOKENIZER_JINJAVALUE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vgcu::tokenizer::jinja {

class Value;
using Keywords = std::vector<std::pair<std::string, Value>>;

/// A template value: what Python (and so Jinja2) would have, with its str(), ==, +, in,
/// slicing and truthiness. Lists, dicts and namespaces are shared by reference, as in
/// Python; dicts keep insertion order.
class Value {
public:
  enum Kind { Undefined, None, Boolean, Integer, Float, String, List, Dict, Namespace };

  Value() = default;
  static Value undefined(std::string name = "");
  static Value none();
  static Value boolean(bool value);
  static Value integer(int64_t value);
  static Value real(double value);
  static Value string(std::string value);
  static Value list(std::vector<Value> items = {});
  static Value dict();
  static Value makeNamespace();

  /// JSON text (an object keeps its key order) as a value; `where` names it in errors.
  static llvm::Expected<Value> parseJson(llvm::StringRef text, llvm::StringRef where);

  Kind kind() const { return kind_; }
  bool isNumber() const { return kind_ == Boolean || kind_ == Integer || kind_ == Float; }
  bool truthy() const;
  /// Python's str(): what {{ value }} prints.
  std::string toString() const;
  /// Python's repr(): how items print inside a list or dict.
  std::string repr() const;
  /// Python's json.dumps(value, ensure_ascii=False, indent=indent, separators=..., sort_keys)
  /// as transformers' tojson filter calls it.
  llvm::Expected<std::string> toJson(std::optional<int64_t> indent, bool sortKeys,
                                     bool ensureAscii) const;

  bool equals(const Value &other) const;
  llvm::Expected<int> compare(const Value &other) const;
  llvm::Expected<bool> contains(const Value &item) const;
  llvm::Expected<Value> arithmetic(llvm::StringRef op, const Value &right) const;
  llvm::Expected<Value> attribute(llvm::StringRef name) const;
  llvm::Expected<Value> subscript(const Value &key) const;
  llvm::Expected<Value> slice(std::optional<int64_t> start, std::optional<int64_t> stop,
                              std::optional<int64_t> step) const;
  /// The items a for loop visits: a list's items, a dict's keys, a string's characters.
  llvm::Expected<std::vector<Value>> iterate() const;

  int64_t asInteger() const { return kind_ == Boolean ? int64_t(boolean_) : integer_; }
  double asNumber() const { return kind_ == Float ? real_ : double(asInteger()); }
  const std::string &asString() const { return *string_; }
  const std::vector<Value> &items() const { return *list_; }
  const std::vector<std::pair<std::string, Value>> &entries() const { return dict_->entries; }
  const std::string &undefinedName() const { return name_; }

  /// Sets a key of a dict or namespace (shared: every copy sees it).
  void setItem(const std::string &key, Value value);
  /// The value of a key of a dict or namespace, or undefined.
  Value item(const std::string &key) const;

  /// The name of the kind, as Python names the type ("str", "list", ...).
  llvm::StringRef typeName() const;

private:
  struct DictData {
    std::vector<std::pair<std::string, Value>> entries;
    std::map<std::string, size_t> index;
  };

  Kind kind_ = Undefined;
  bool boolean_ = false;
  int64_t integer_ = 0;
  double real_ = 0;
  std::shared_ptr<std::string> string_;
  std::shared_ptr<std::vector<Value>> list_;
  std::shared_ptr<DictData> dict_;
  std::string name_; // an undefined value's name, for messages
};

/// Python's repr of a float (shortest round trip; exponent below 1e-4 and from 1e16).
std::string formatFloat(double value);

/// The code points of UTF-8 `text`, each as its UTF-8 string.
std::vector<std::string> characters(llvm::StringRef text);

llvm::Expected<Value> applyFilter(llvm::StringRef name, const Value &subject,
                                  const std::vector<Value> &arguments,
                                  const Keywords &keywords);
llvm::Expected<bool> applyTest(llvm::StringRef name, const Value &subject,
                               const std::vector<Value> &arguments);
llvm::Expected<Value> callMethod(const Value &object, llvm::StringRef name,
                                 const std::vector<Value> &arguments, const Keywords &keywords);
llvm::Expected<Value> callGlobal(llvm::StringRef name, const std::vector<Value> &arguments,
                                 const Keywords &keywords);

} // namespace vgcu::tokenizer::jinja

#endif // VGCU_LIB_TOKENIZER_JINJAVALUE_H
