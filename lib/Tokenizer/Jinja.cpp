//===- Jinja.cpp - The Jinja2 subset chat templates use: lexer, parser, evaluator ----===//

#include "vgcu/Tokenizer/ChatTemplate.h"

#include "JinjaValue.h"
#include "TokenizerParts.h"

#include "vgcu/Support/Error.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"

#include <ctime>
#include <functional>

using namespace vgcu;
using namespace vgcu::tokenizer;
using namespace vgcu::tokenizer::jinja;

namespace {

// --- Lexing the template into text and tags ----------------------------------------------

enum class SegmentKind { Text, Output, Statement };

struct Segment {
  SegmentKind kind;
  std::string text; // the text, or the tag's inside
  unsigned line;
};

/// Splits `source` into text and tags, applying whitespace control ({%- -%}) and
/// transformers' trim_blocks and lstrip_blocks; comments are dropped.
llvm::Expected<std::vector<Segment>> splitSegments(llvm::StringRef source) {
  std::vector<Segment> segments;
  size_t at = 0;
  unsigned line = 1;
  bool stripNextText = false, trimNextNewline = false;
  auto lineOf = [&](size_t offset) {
    return line + unsigned(source.slice(at, offset).count('\n'));
  };
  while (at <= source.size()) {
    size_t open = source.find('{', at);
    while (open != llvm::StringRef::npos && open + 1 < source.size() &&
           !llvm::StringRef("{%#").contains(source[open + 1]))
      open = source.find('{', open + 1);
    if (open + 1 >= source.size())
      open = llvm::StringRef::npos;
    std::string text = source.slice(at, open == llvm::StringRef::npos ? source.size() : open).str();
    if (trimNextNewline && llvm::StringRef(text).starts_with("\n"))
      text.erase(0, 1);
    if (stripNextText)
      text = llvm::StringRef(text).ltrim().str();
    trimNextNewline = stripNextText = false;
    if (open == llvm::StringRef::npos) {
      if (!text.empty())
        segments.push_back({SegmentKind::Text, text, line});
      break;
    }
    char kind = source[open + 1];
    const char *close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
    size_t end = source.find(close, open + 2);
    if (end == llvm::StringRef::npos)
      return makeError("line {0}: a tag opened here is never closed", lineOf(open));
    llvm::StringRef inner = source.slice(open + 2, end);
    bool stripBefore = inner.starts_with("-"), keepBefore = inner.starts_with("+");
    bool stripAfter = inner.ends_with("-") && inner.size() > (stripBefore ? 1u : 0u);
    if (stripBefore || keepBefore)
      inner = inner.drop_front();
    if (stripAfter)
      inner = inner.drop_back();
    if (stripBefore) {
      text = llvm::StringRef(text).rtrim().str();
    } else if (kind != '{' && !keepBefore) {
      // lstrip_blocks: spaces and tabs between the start of a line (in the source) and a
      // block tag go.
      size_t blanks = open;
      while (blanks > at && (source[blanks - 1] == ' ' || source[blanks - 1] == '\t'))
        --blanks;
      if (blanks == 0 || source[blanks - 1] == '\n') {
        size_t count = open - blanks;
        while (count-- > 0 && !text.empty() && (text.back() == ' ' || text.back() == '\t'))
          text.pop_back();
      }
    }
    if (!text.empty())
      segments.push_back({SegmentKind::Text, text, line});
    unsigned tagLine = lineOf(open);
    if (kind == '{')
      segments.push_back({SegmentKind::Output, inner.str(), tagLine});
    else if (kind == '%')
      segments.push_back({SegmentKind::Statement, inner.str(), tagLine});
    line = tagLine + unsigned(source.slice(open, end).count('\n'));
    at = end + 2;
    stripNextText = stripAfter;
    // trim_blocks: the first newline after a block tag (or comment) goes.
    trimNextNewline = kind != '{' && !stripAfter;
  }
  return segments;
}

// --- Expression tokens ------------------------------------------------------------------

enum class TokenKind { Name, String, Integer, Float, Operator, End };

struct Token {
  TokenKind kind;
  std::string text;
  int64_t integer = 0;
  double real = 0;
};

llvm::Expected<std::vector<Token>> lexExpression(llvm::StringRef text, unsigned line) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = i;
      while (i < text.size() && (isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_'))
        ++i;
      tokens.push_back({TokenKind::Name, text.slice(start, i).str()});
      continue;
    }
    if (isdigit(static_cast<unsigned char>(c))) {
      size_t start = i;
      while (i < text.size() && isdigit(static_cast<unsigned char>(text[i])))
        ++i;
      bool isFloat = false;
      if (i + 1 < text.size() && text[i] == '.' &&
          isdigit(static_cast<unsigned char>(text[i + 1]))) {
        isFloat = true;
        ++i;
        while (i < text.size() && isdigit(static_cast<unsigned char>(text[i])))
          ++i;
      }
      // An exponent: 1e20, 2.5E-3.
      size_t exponent = i;
      if (exponent < text.size() && (text[exponent] == 'e' || text[exponent] == 'E')) {
        ++exponent;
        if (exponent < text.size() && (text[exponent] == '+' || text[exponent] == '-'))
          ++exponent;
        if (exponent < text.size() && isdigit(static_cast<unsigned char>(text[exponent]))) {
          isFloat = true;
          i = exponent;
          while (i < text.size() && isdigit(static_cast<unsigned char>(text[i])))
            ++i;
        }
      }
      if (isFloat) {
        Token token{TokenKind::Float, text.slice(start, i).str()};
        text.slice(start, i).getAsDouble(token.real);
        tokens.push_back(token);
      } else {
        Token token{TokenKind::Integer, text.slice(start, i).str()};
        if (text.slice(start, i).getAsInteger(10, token.integer))
          return makeError("line {0}: integer '{1}' is too large", line, token.text);
        tokens.push_back(token);
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      std::string value;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        char d = text[i++];
        if (d == c) {
          closed = true;
          break;
        }
        if (d == '\\' && i < text.size()) {
          char e = text[i++];
          switch (e) {
          case 'n': value += '\n'; break;
          case 't': value += '\t'; break;
          case 'r': value += '\r'; break;
          case '\\': value += '\\'; break;
          case '\'': value += '\''; break;
          case '"': value += '"'; break;
          default: value += '\\'; value += e; break;
          }
          continue;
        }
        value += d;
      }
      if (!closed)
        return makeError("line {0}: a string is never closed", line);
      tokens.push_back({TokenKind::String, value});
      continue;
    }
    static const char *const kOperators[] = {"//", "**", "==", "!=", "<=", ">=", "(", ")", "[",
                                             "]",  "{",  "}",  ",",  ".",  ":",  "|", "~", "+",
                                             "-",  "*",  "/",  "%",  "<",  ">",  "="};
    bool matched = false;
    for (const char *op : kOperators) {
      if (text.substr(i).starts_with(op)) {
        tokens.push_back({TokenKind::Operator, op});
        i += strlen(op);
        matched = true;
        break;
      }
    }
    if (!matched)
      return makeError("line {0}: unexpected character '{1}'", line, std::string(1, c));
  }
  tokens.push_back({TokenKind::End, ""});
  return tokens;
}

/// Deeper nesting of expressions or blocks than any chat template has.
constexpr int kMaxNesting = 100;

// --- The syntax tree --------------------------------------------------------------------

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum Kind {
    Literal, Name, List, Dict, Attribute, Subscript, Slice, Call, Filter, Test, Unary,
    Binary, Conditional
  } kind;
  Value literal;
  std::string name; // Name, Attribute, Filter, Test; the operator of Unary and Binary
  std::vector<ExprPtr> operands;
  std::vector<std::pair<std::string, ExprPtr>> keywords; // call, filter and test arguments
  bool negated = false;                                  // "is not"
  unsigned line = 0;
};

struct Node;
using Body = std::vector<std::unique_ptr<Node>>;

struct Node {
  enum Kind { Text, Output, If, For, Set, Break, Continue } kind;
  std::string text;
  ExprPtr expr;
  std::vector<std::pair<ExprPtr, Body>> branches; // If: conditions and bodies
  Body body, elseBody;                            // For (and If's else)
  std::vector<std::string> targets;               // For's loop variables; Set: name[, attr]
  ExprPtr filter;                                 // For: `for x in items if filter`
  unsigned line = 0;
};

class ExpressionParser {
public:
  ExpressionParser(std::vector<Token> tokens, unsigned line)
      : tokens(std::move(tokens)), line(line) {}

  llvm::Expected<ExprPtr> parseExpression() {
    return nested([&] { return parseConditional(); });
  }
  /// An expression without a trailing `if` (a for loop's iterable, before its filter).
  llvm::Expected<ExprPtr> parseWithoutConditional() { return parseOr(); }

  bool atEnd() const { return tokens[position].kind == TokenKind::End; }
  const Token &peek(size_t ahead = 0) const {
    return tokens[std::min(position + ahead, tokens.size() - 1)];
  }
  bool isOperator(llvm::StringRef op, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::Operator && peek(ahead).text == op;
  }
  bool isName(llvm::StringRef name, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::Name && peek(ahead).text == name;
  }
  bool acceptOperator(llvm::StringRef op) {
    if (!isOperator(op))
      return false;
    ++position;
    return true;
  }
  bool acceptName(llvm::StringRef name) {
    if (!isName(name))
      return false;
    ++position;
    return true;
  }
  llvm::Error expectOperator(llvm::StringRef op) {
    if (acceptOperator(op))
      return llvm::Error::success();
    return error("expected '" + op.str() + "'");
  }
  llvm::Expected<std::string> expectName() {
    if (peek().kind != TokenKind::Name)
      return error("expected a name");
    return tokens[position++].text;
  }
  llvm::Error error(const std::string &what) const {
    return makeError("line {0}: {1}, found '{2}'", line, what,
                     peek().kind == TokenKind::End ? "end of tag" : peek().text);
  }

private:
  /// Runs `parse` one level deeper. Recursion follows the nesting of the expression, and a
  /// template from a stranger may nest deep enough to exhaust the stack.
  template <typename Parse>
  llvm::Expected<ExprPtr> nested(Parse parse) {
    if (depth >= kMaxNesting)
      return error("expressions nest more than " + std::to_string(kMaxNesting) + " deep");
    ++depth;
    auto parsed = parse();
    --depth;
    return parsed;
  }

  ExprPtr make(Expr::Kind kind) {
    auto expr = std::make_unique<Expr>();
    expr->kind = kind;
    expr->line = line;
    return expr;
  }

  llvm::Expected<ExprPtr> parseConditional() {
    auto value = parseOr();
    if (!value)
      return value.takeError();
    if (!acceptName("if"))
      return value;
    auto condition = parseOr();
    if (!condition)
      return condition.takeError();
    ExprPtr otherwise;
    if (acceptName("else")) {
      auto parsed = parseConditional();
      if (!parsed)
        return parsed.takeError();
      otherwise = std::move(*parsed);
    } else {
      otherwise = make(Expr::Literal); // undefined
    }
    auto expr = make(Expr::Conditional);
    expr->operands.push_back(std::move(*condition));
    expr->operands.push_back(std::move(*value));
    expr->operands.push_back(std::move(otherwise));
    return expr;
  }

  ExprPtr makeOperation(Expr::Kind kind, std::string op, std::vector<ExprPtr> operands) {
    auto expr = make(kind);
    expr->name = std::move(op);
    expr->operands = std::move(operands);
    return expr;
  }

  /// `next (op next)*`, left-associative; `match` names the operator at the current token
  /// and how many tokens it takes ("" when there is none).
  template <typename Match, typename Next>
  llvm::Expected<ExprPtr> parseLeftAssociative(Match match, Next next) {
    auto left = next();
    if (!left)
      return left.takeError();
    while (true) {
      auto [op, tokensUsed] = match();
      if (op.empty())
        return left;
      position += tokensUsed;
      auto right = next();
      if (!right)
        return right.takeError();
      std::vector<ExprPtr> operands;
      operands.push_back(std::move(*left));
      operands.push_back(std::move(*right));
      left = makeOperation(Expr::Binary, op, std::move(operands));
    }
  }

  template <typename Next>
  llvm::Expected<ExprPtr> parseBinary(std::initializer_list<const char *> ops, bool names,
                                      Next next) {
    auto match = [&]() -> std::pair<std::string, int> {
      for (const char *candidate : ops)
        if (names ? isName(candidate) : isOperator(candidate))
          return {candidate, 1};
      return {"", 0};
    };
    return parseLeftAssociative(match, next);
  }

  llvm::Expected<ExprPtr> parseOr() {
    return parseBinary({"or"}, true, [&] { return parseAnd(); });
  }
  llvm::Expected<ExprPtr> parseAnd() {
    return parseBinary({"and"}, true, [&] { return parseNot(); });
  }
  llvm::Expected<ExprPtr> parseNot() {
    if (!acceptName("not"))
      return parseCompare();
    auto operand = nested([&] { return parseNot(); });
    if (!operand)
      return operand.takeError();
    std::vector<ExprPtr> operands;
    operands.push_back(std::move(*operand));
    return makeOperation(Expr::Unary, "not", std::move(operands));
  }
  llvm::Expected<ExprPtr> parseCompare() {
    auto match = [&]() -> std::pair<std::string, int> {
      for (const char *candidate : {"==", "!=", "<=", ">=", "<", ">"})
        if (isOperator(candidate))
          return {candidate, 1};
      if (isName("in"))
        return {"in", 1};
      if (isName("not") && isName("in", 1))
        return {"not in", 2};
      return {"", 0};
    };
    return parseLeftAssociative(match, [&] { return parseConcat(); });
  }
  llvm::Expected<ExprPtr> parseConcat() {
    return parseBinary({"~"}, false, [&] { return parseSum(); });
  }
  llvm::Expected<ExprPtr> parseSum() {
    return parseBinary({"+", "-"}, false, [&] { return parseProduct(); });
  }
  llvm::Expected<ExprPtr> parseProduct() {
    return parseBinary({"*", "/", "//", "%"}, false, [&] { return parsePower(); });
  }
  llvm::Expected<ExprPtr> parsePower() {
    return parseBinary({"**"}, false, [&] { return parseUnary(true); });
  }
  llvm::Expected<ExprPtr> parseUnary(bool withFilters) {
    if (isOperator("-") || isOperator("+")) {
      std::string op = tokens[position++].text;
      auto operand = nested([&] { return parseUnary(false); });
      if (!operand)
        return operand.takeError();
      std::vector<ExprPtr> operands;
      operands.push_back(std::move(*operand));
      ExprPtr expr = makeOperation(Expr::Unary, op, std::move(operands));
      return withFilters ? parseFilters(std::move(expr)) : llvm::Expected<ExprPtr>(std::move(expr));
    }
    auto primary = parsePrimary();
    if (!primary)
      return primary.takeError();
    auto postfix = parsePostfix(std::move(*primary));
    if (!postfix || !withFilters)
      return postfix;
    return parseFilters(std::move(*postfix));
  }

  /// `(args, key=value)` after a callee, a filter or a test.
  llvm::Error parseArguments(Expr &expr) {
    if (acceptOperator(")"))
      return llvm::Error::success();
    while (true) {
      if (peek().kind == TokenKind::Name && isOperator("=", 1)) {
        std::string key = tokens[position].text;
        position += 2;
        auto value = parseExpression();
        if (!value)
          return value.takeError();
        expr.keywords.emplace_back(key, std::move(*value));
      } else {
        auto value = parseExpression();
        if (!value)
          return value.takeError();
        expr.operands.push_back(std::move(*value));
      }
      if (acceptOperator(")"))
        return llvm::Error::success();
      if (auto error = expectOperator(","))
        return error;
    }
  }

  llvm::Expected<ExprPtr> parseFilters(ExprPtr node) {
    while (true) {
      if (acceptOperator("|")) {
        auto name = expectName();
        if (!name)
          return name.takeError();
        auto filter = make(Expr::Filter);
        filter->name = *name;
        filter->operands.push_back(std::move(node));
        if (acceptOperator("("))
          if (auto error = parseArguments(*filter))
            return std::move(error);
        node = std::move(filter);
      } else if (acceptName("is")) {
        auto test = make(Expr::Test);
        test->negated = acceptName("not");
        auto name = expectName();
        if (!name)
          return name.takeError();
        test->name = *name;
        test->operands.push_back(std::move(node));
        if (acceptOperator("(")) {
          if (auto error = parseArguments(*test))
            return std::move(error);
        } else if (peek().kind == TokenKind::String || peek().kind == TokenKind::Integer ||
                   peek().kind == TokenKind::Float ||
                   (peek().kind == TokenKind::Name &&
                    !llvm::is_contained({"and", "or", "else", "if", "is", "in", "not"},
                                        peek().text))) {
          // `is sameas false`, `is equalto 3`: one argument without parentheses.
          auto argument = parsePrimary();
          if (!argument)
            return argument.takeError();
          test->operands.push_back(std::move(*argument));
        }
        node = std::move(test);
      } else {
        return node;
      }
    }
  }

  llvm::Expected<ExprPtr> parsePostfix(ExprPtr node) {
    while (true) {
      if (acceptOperator(".")) {
        auto name = peek().kind == TokenKind::Integer ? llvm::Expected<std::string>(
                                                            tokens[position++].text)
                                                      : expectName();
        if (!name)
          return name.takeError();
        auto attribute = make(Expr::Attribute);
        attribute->name = *name;
        attribute->operands.push_back(std::move(node));
        node = std::move(attribute);
      } else if (acceptOperator("[")) {
        ExprPtr parts[3];
        bool slice = false;
        for (int part = 0; part < 3; ++part) {
          if (!isOperator(":") && !isOperator("]")) {
            auto value = parseExpression();
            if (!value)
              return value.takeError();
            parts[part] = std::move(*value);
          }
          if (part < 2 && acceptOperator(":")) {
            slice = true;
            continue;
          }
          break;
        }
        if (auto error = expectOperator("]"))
          return std::move(error);
        auto subscript = make(slice ? Expr::Slice : Expr::Subscript);
        subscript->operands.push_back(std::move(node));
        if (!slice && !parts[0])
          return error("expected an index");
        if (slice)
          for (auto &part : parts)
            subscript->operands.push_back(std::move(part)); // null where omitted
        else
          subscript->operands.push_back(std::move(parts[0]));
        node = std::move(subscript);
      } else if (acceptOperator("(")) {
        auto call = make(Expr::Call);
        call->operands.push_back(std::move(node));
        if (auto error = parseArguments(*call))
          return std::move(error);
        node = std::move(call);
      } else {
        return node;
      }
    }
  }

  llvm::Expected<ExprPtr> parsePrimary() {
    const Token &token = peek();
    if (token.kind == TokenKind::String) {
      auto expr = make(Expr::Literal);
      std::string text;
      // Adjacent strings join, as in Python.
      while (peek().kind == TokenKind::String)
        text += tokens[position++].text;
      expr->literal = Value::string(text);
      return expr;
    }
    if (token.kind == TokenKind::Integer || token.kind == TokenKind::Float) {
      auto expr = make(Expr::Literal);
      expr->literal = token.kind == TokenKind::Integer ? Value::integer(token.integer)
                                                       : Value::real(token.real);
      ++position;
      return expr;
    }
    if (token.kind == TokenKind::Name) {
      std::string name = tokens[position++].text;
      auto expr = make(Expr::Literal);
      if (name == "true" || name == "True")
        expr->literal = Value::boolean(true);
      else if (name == "false" || name == "False")
        expr->literal = Value::boolean(false);
      else if (name == "none" || name == "None")
        expr->literal = Value::none();
      else {
        expr->kind = Expr::Name;
        expr->name = name;
      }
      return expr;
    }
    if (acceptOperator("(")) {
      auto inner = parseExpression();
      if (!inner)
        return inner.takeError();
      if (isOperator(",")) { // a tuple: a list for our purposes
        auto list = make(Expr::List);
        list->operands.push_back(std::move(*inner));
        while (acceptOperator(",") && !isOperator(")")) {
          auto item = parseExpression();
          if (!item)
            return item.takeError();
          list->operands.push_back(std::move(*item));
        }
        inner = std::move(list);
      }
      if (auto error = expectOperator(")"))
        return std::move(error);
      return inner;
    }
    if (acceptOperator("[")) {
      auto list = make(Expr::List);
      while (!acceptOperator("]")) {
        auto item = parseExpression();
        if (!item)
          return item.takeError();
        list->operands.push_back(std::move(*item));
        if (!isOperator("]"))
          if (auto error = expectOperator(","))
            return std::move(error);
      }
      return list;
    }
    if (acceptOperator("{")) {
      auto dict = make(Expr::Dict);
      while (!acceptOperator("}")) {
        auto key = parseExpression();
        if (!key)
          return key.takeError();
        if (auto error = expectOperator(":"))
          return std::move(error);
        auto value = parseExpression();
        if (!value)
          return value.takeError();
        dict->operands.push_back(std::move(*key));
        dict->operands.push_back(std::move(*value));
        if (!isOperator("}"))
          if (auto error = expectOperator(","))
            return std::move(error);
      }
      return dict;
    }
    return error("expected an expression");
  }

  std::vector<Token> tokens;
  size_t position = 0;
  unsigned line;
  int depth = 0;
};

/// Builds the tree of statements from the segments.
class TemplateParser {
public:
  explicit TemplateParser(std::vector<Segment> segments) : segments(std::move(segments)) {}

  llvm::Expected<Body> parseAll() {
    Body body;
    std::string stoppedAt;
    if (auto error = parseBody(body, {}, stoppedAt))
      return std::move(error);
    return body;
  }

private:
  /// Parses nodes until a statement whose first word is in `stops` (left in `stoppedAt`).
  llvm::Error parseBody(Body &body, std::initializer_list<llvm::StringRef> stops,
                        std::string &stoppedAt) {
    if (++depth > kMaxNesting)
      return makeError("line {0}: blocks nest more than {1} deep",
                       index < segments.size() ? segments[index].line : 0, kMaxNesting);
    llvm::scope_exit leave([&] { --depth; });
    while (index < segments.size()) {
      const Segment &segment = segments[index];
      if (segment.kind == SegmentKind::Text) {
        auto node = std::make_unique<Node>();
        node->kind = Node::Text;
        node->text = segment.text;
        body.push_back(std::move(node));
        ++index;
        continue;
      }
      auto tokens = lexExpression(segment.text, segment.line);
      if (!tokens)
        return tokens.takeError();
      ExpressionParser parser(std::move(*tokens), segment.line);
      if (segment.kind == SegmentKind::Output) {
        auto expr = parser.parseExpression();
        if (!expr)
          return expr.takeError();
        if (!parser.atEnd())
          return parser.error("expected the end of the expression");
        auto node = std::make_unique<Node>();
        node->kind = Node::Output;
        node->expr = std::move(*expr);
        body.push_back(std::move(node));
        ++index;
        continue;
      }
      auto keyword = parser.expectName();
      if (!keyword)
        return keyword.takeError();
      if (llvm::is_contained(stops, *keyword)) {
        stoppedAt = *keyword;
        current = std::make_unique<ExpressionParser>(std::move(parser));
        return llvm::Error::success();
      }
      ++index;
      auto node = std::make_unique<Node>();
      node->line = segment.line;
      if (*keyword == "if") {
        if (auto error = parseIf(*node, parser))
          return error;
      } else if (*keyword == "for") {
        if (auto error = parseFor(*node, parser))
          return error;
      } else if (*keyword == "set") {
        if (auto error = parseSet(*node, parser))
          return error;
      } else if (*keyword == "break" || *keyword == "continue") {
        node->kind = *keyword == "break" ? Node::Break : Node::Continue;
      } else {
        return makeError("line {0}: '{1}' is not a statement vgcu's templates know (if, for, "
                         "set, break, continue)",
                         segment.line, *keyword);
      }
      if (!parser.atEnd() && node->kind != Node::If && node->kind != Node::For)
        return parser.error("expected the end of the statement");
      body.push_back(std::move(node));
    }
    if (stops.size())
      return makeError("the template ends inside a block (missing {0})", *stops.begin());
    return llvm::Error::success();
  }

  llvm::Error parseIf(Node &node, ExpressionParser &parser) {
    node.kind = Node::If;
    auto condition = parser.parseExpression();
    if (!condition)
      return condition.takeError();
    if (!parser.atEnd())
      return parser.error("expected the end of the if");
    while (true) {
      Body body;
      std::string stop;
      if (auto error = parseBody(body, {"endif", "elif", "else"}, stop))
        return error;
      node.branches.emplace_back(std::move(*condition), std::move(body));
      ExpressionParser &tag = *current;
      ++index;
      if (stop == "endif")
        return llvm::Error::success();
      if (stop == "else") {
        std::string end;
        if (auto error = parseBody(node.elseBody, {"endif"}, end))
          return error;
        ++index;
        return llvm::Error::success();
      }
      condition = tag.parseExpression();
      if (!condition)
        return condition.takeError();
    }
  }

  llvm::Error parseFor(Node &node, ExpressionParser &parser) {
    node.kind = Node::For;
    do {
      auto name = parser.expectName();
      if (!name)
        return name.takeError();
      node.targets.push_back(*name);
    } while (parser.acceptOperator(","));
    if (!parser.acceptName("in"))
      return parser.error("expected 'in'");
    auto iterable = parser.parseWithoutConditional();
    if (!iterable)
      return iterable.takeError();
    node.expr = std::move(*iterable);
    if (parser.acceptName("if")) {
      auto filter = parser.parseExpression();
      if (!filter)
        return filter.takeError();
      node.filter = std::move(*filter);
    }
    if (!parser.atEnd())
      return parser.error("expected the end of the for");
    std::string stop;
    if (auto error = parseBody(node.body, {"endfor", "else"}, stop))
      return error;
    ++index;
    if (stop == "else") {
      if (auto error = parseBody(node.elseBody, {"endfor"}, stop))
        return error;
      ++index;
    }
    return llvm::Error::success();
  }

  llvm::Error parseSet(Node &node, ExpressionParser &parser) {
    node.kind = Node::Set;
    auto name = parser.expectName();
    if (!name)
      return name.takeError();
    node.targets.push_back(*name);
    if (parser.acceptOperator(".")) {
      auto attribute = parser.expectName();
      if (!attribute)
        return attribute.takeError();
      node.targets.push_back(*attribute);
    }
    if (auto error = parser.expectOperator("="))
      return error;
    auto value = parser.parseExpression();
    if (!value)
      return value.takeError();
    node.expr = std::move(*value);
    return llvm::Error::success();
  }

  std::vector<Segment> segments;
  size_t index = 0;
  int depth = 0;
  std::unique_ptr<ExpressionParser> current; // the tag that ended the last body
};

} // namespace

// --- Evaluation -------------------------------------------------------------------------

struct JinjaTemplate::Impl {
  Body body;
};

namespace {

enum class Flow { Normal, Break, Continue };

class Renderer {
public:
  explicit Renderer(std::string &out) : out(out) { scopes.emplace_back(); }

  void define(const std::string &name, Value value) { scopes.front()[name] = std::move(value); }

  llvm::Expected<Flow> run(const Body &body) {
    for (const auto &node : body) {
      auto flow = runNode(*node);
      if (!flow)
        return flow.takeError();
      if (*flow != Flow::Normal)
        return flow;
    }
    return Flow::Normal;
  }

private:
  llvm::Expected<Flow> runNode(const Node &node) {
    switch (node.kind) {
    case Node::Text:
      out += node.text;
      return Flow::Normal;
    case Node::Output: {
      auto value = eval(*node.expr);
      if (!value)
        return value.takeError();
      out += value->toString();
      return Flow::Normal;
    }
    case Node::If:
      for (const auto &[condition, body] : node.branches) {
        auto value = eval(*condition);
        if (!value)
          return value.takeError();
        if (value->truthy())
          return run(body);
      }
      return run(node.elseBody);
    case Node::For:
      return runFor(node);
    case Node::Set: {
      auto value = eval(*node.expr);
      if (!value)
        return value.takeError();
      if (node.targets.size() == 1) {
        scopes.back()[node.targets[0]] = std::move(*value);
        return Flow::Normal;
      }
      Value target = lookup(node.targets[0]);
      if (target.kind() != Value::Namespace)
        return makeError("line {0}: cannot set an attribute of '{1}', which is not a "
                         "namespace",
                         node.line, node.targets[0]);
      target.setItem(node.targets[1], std::move(*value));
      return Flow::Normal;
    }
    case Node::Break:
      return Flow::Break;
    case Node::Continue:
      return Flow::Continue;
    }
    return Flow::Normal;
  }

  llvm::Expected<Flow> runFor(const Node &node) {
    auto iterable = eval(*node.expr);
    if (!iterable)
      return iterable.takeError();
    auto items = iterable->iterate();
    if (!items)
      return makeError("line {0}: {1}", node.line, llvm::toString(items.takeError()));
    if (node.filter) {
      // The filter sees each item under the loop's names; `loop` counts what it keeps.
      std::vector<Value> kept;
      for (const Value &item : *items) {
        scopes.emplace_back();
        if (auto error = bindTargets(node, item)) {
          scopes.pop_back();
          return std::move(error);
        }
        auto keep = eval(*node.filter);
        scopes.pop_back();
        if (!keep)
          return keep.takeError();
        if (keep->truthy())
          kept.push_back(item);
      }
      *items = std::move(kept);
    }
    if (items->empty())
      return run(node.elseBody);
    int64_t length = int64_t(items->size());
    for (int64_t i = 0; i < length; ++i) {
      scopes.emplace_back();
      auto &scope = scopes.back();
      if (auto error = bindTargets(node, (*items)[i]))
        return std::move(error);
      Value loop = Value::dict();
      loop.setItem("index0", Value::integer(i));
      loop.setItem("index", Value::integer(i + 1));
      loop.setItem("revindex0", Value::integer(length - 1 - i));
      loop.setItem("revindex", Value::integer(length - i));
      loop.setItem("first", Value::boolean(i == 0));
      loop.setItem("last", Value::boolean(i == length - 1));
      loop.setItem("length", Value::integer(length));
      loop.setItem("previtem", i > 0 ? (*items)[i - 1] : Value());
      loop.setItem("nextitem", i + 1 < length ? (*items)[i + 1] : Value());
      scope["loop"] = loop;
      auto flow = run(node.body);
      scopes.pop_back();
      if (!flow)
        return flow.takeError();
      if (*flow == Flow::Break)
        break;
    }
    return Flow::Normal;
  }

  /// The loop's names for `item` in the innermost scope (two names unpack a pair).
  llvm::Error bindTargets(const Node &node, const Value &item) {
    auto &scope = scopes.back();
    if (node.targets.size() == 1) {
      scope[node.targets[0]] = item;
      return llvm::Error::success();
    }
    auto parts = item.iterate();
    if (!parts || parts->size() != node.targets.size()) {
      if (!parts)
        llvm::consumeError(parts.takeError());
      return makeError("line {0}: cannot unpack an item into {1} names", node.line,
                       node.targets.size());
    }
    for (size_t t = 0; t < node.targets.size(); ++t)
      scope[node.targets[t]] = (*parts)[t];
    return llvm::Error::success();
  }

  Value lookup(const std::string &name) const {
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it) {
      auto found = it->find(name);
      if (found != it->end())
        return found->second;
    }
    return Value::undefined(name);
  }

  llvm::Expected<Value> eval(const Expr &expr) {
    auto value = evalInner(expr);
    if (!value)
      return makeError("line {0}: {1}", expr.line, llvm::toString(value.takeError()));
    return value;
  }

  llvm::Expected<std::vector<Value>> evalOperands(const Expr &expr, size_t from) {
    std::vector<Value> values;
    for (size_t i = from; i < expr.operands.size(); ++i) {
      auto value = evalInner(*expr.operands[i]);
      if (!value)
        return value.takeError();
      values.push_back(std::move(*value));
    }
    return values;
  }

  llvm::Expected<Keywords> evalKeywords(const Expr &expr) {
    Keywords keywords;
    for (const auto &[key, valueExpr] : expr.keywords) {
      auto value = evalInner(*valueExpr);
      if (!value)
        return value.takeError();
      keywords.emplace_back(key, std::move(*value));
    }
    return keywords;
  }

  llvm::Expected<Value> evalInner(const Expr &expr) {
    switch (expr.kind) {
    case Expr::Literal:
      return expr.literal;
    case Expr::Name:
      return lookup(expr.name);
    case Expr::List: {
      auto items = evalOperands(expr, 0);
      if (!items)
        return items.takeError();
      return Value::list(std::move(*items));
    }
    case Expr::Dict: {
      auto items = evalOperands(expr, 0);
      if (!items)
        return items.takeError();
      Value dict = Value::dict();
      for (size_t i = 0; i + 1 < items->size(); i += 2)
        dict.setItem((*items)[i].toString(), (*items)[i + 1]);
      return dict;
    }
    case Expr::Attribute: {
      auto object = evalInner(*expr.operands[0]);
      if (!object)
        return object.takeError();
      return object->attribute(expr.name);
    }
    case Expr::Subscript: {
      auto values = evalOperands(expr, 0);
      if (!values)
        return values.takeError();
      return (*values)[0].subscript((*values)[1]);
    }
    case Expr::Slice: {
      auto object = evalInner(*expr.operands[0]);
      if (!object)
        return object.takeError();
      std::optional<int64_t> bounds[3];
      for (int part = 0; part < 3; ++part) {
        if (!expr.operands[part + 1])
          continue;
        auto bound = evalInner(*expr.operands[part + 1]);
        if (!bound)
          return bound.takeError();
        if (bound->kind() != Value::None) {
          if (bound->kind() != Value::Integer)
            return makeError("slice indices must be integers");
          bounds[part] = bound->asInteger();
        }
      }
      return object->slice(bounds[0], bounds[1], bounds[2]);
    }
    case Expr::Call:
      return evalCall(expr);
    case Expr::Filter: {
      auto values = evalOperands(expr, 0);
      if (!values)
        return values.takeError();
      auto keywords = evalKeywords(expr);
      if (!keywords)
        return keywords.takeError();
      Value subject = std::move((*values)[0]);
      values->erase(values->begin());
      return applyFilter(expr.name, subject, *values, *keywords);
    }
    case Expr::Test: {
      auto values = evalOperands(expr, 0);
      if (!values)
        return values.takeError();
      Value subject = std::move((*values)[0]);
      values->erase(values->begin());
      auto result = applyTest(expr.name, subject, *values);
      if (!result)
        return result.takeError();
      return Value::boolean(*result != expr.negated);
    }
    case Expr::Unary: {
      auto operand = evalInner(*expr.operands[0]);
      if (!operand)
        return operand.takeError();
      if (expr.name == "not")
        return Value::boolean(!operand->truthy());
      if (expr.name == "-")
        return Value::integer(0).arithmetic("-", *operand);
      return operand;
    }
    case Expr::Binary: {
      auto left = evalInner(*expr.operands[0]);
      if (!left)
        return left.takeError();
      // and/or short-circuit and give an operand, as in Python.
      if (expr.name == "and" && !left->truthy())
        return left;
      if (expr.name == "or" && left->truthy())
        return left;
      auto right = evalInner(*expr.operands[1]);
      if (!right)
        return right.takeError();
      if (expr.name == "and" || expr.name == "or")
        return right;
      if (expr.name == "~")
        return Value::string(left->toString() + right->toString());
      if (expr.name == "==" || expr.name == "!=")
        return Value::boolean(left->equals(*right) == (expr.name == "=="));
      if (expr.name == "in" || expr.name == "not in") {
        auto contained = right->contains(*left);
        if (!contained)
          return contained.takeError();
        return Value::boolean(*contained == (expr.name == "in"));
      }
      if (expr.name == "<" || expr.name == ">" || expr.name == "<=" || expr.name == ">=") {
        auto order = left->compare(*right);
        if (!order)
          return order.takeError();
        bool result = expr.name == "<"    ? *order < 0
                      : expr.name == ">"  ? *order > 0
                      : expr.name == "<=" ? *order <= 0
                                          : *order >= 0;
        return Value::boolean(result);
      }
      return left->arithmetic(expr.name, *right);
    }
    case Expr::Conditional: {
      auto condition = evalInner(*expr.operands[0]);
      if (!condition)
        return condition.takeError();
      return evalInner(*expr.operands[condition->truthy() ? 1 : 2]);
    }
    }
    return Value();
  }

  llvm::Expected<Value> evalCall(const Expr &expr) {
    auto arguments = evalOperands(expr, 1);
    if (!arguments)
      return arguments.takeError();
    auto keywords = evalKeywords(expr);
    if (!keywords)
      return keywords.takeError();
    const Expr &callee = *expr.operands[0];
    if (callee.kind == Expr::Attribute) { // a method: "text".strip(), dict.items(), ...
      auto object = evalInner(*callee.operands[0]);
      if (!object)
        return object.takeError();
      return callMethod(*object, callee.name, *arguments, *keywords);
    }
    if (callee.kind == Expr::Name)
      return callGlobal(callee.name, *arguments, *keywords);
    return makeError("this expression cannot be called");
  }

  std::vector<std::map<std::string, Value>> scopes;
  std::string &out;
};

} // namespace

JinjaTemplate::JinjaTemplate(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
JinjaTemplate::~JinjaTemplate() = default;

/// What Jinja2's lexer reads: every line boundary Python's splitlines knows becomes "\n", and
/// one newline at the end is dropped (keep_trailing_newline is off in transformers).
static std::string normalizeNewlines(llvm::StringRef source) {
  std::string out;
  for (size_t i = 0; i < source.size();) {
    llvm::StringRef rest = source.substr(i);
    if (rest.starts_with("\r\n")) {
      out += '\n';
      i += 2;
    } else if (llvm::StringRef("\r\v\f\x1c\x1d\x1e").contains(rest[0])) {
      out += '\n';
      ++i;
    } else if (rest.starts_with("\xC2\x85")) {
      out += '\n';
      i += 2;
    } else if (rest.starts_with("\xE2\x80\xA8") || rest.starts_with("\xE2\x80\xA9")) {
      out += '\n';
      i += 3;
    } else {
      out += rest[0];
      ++i;
    }
  }
  if (llvm::StringRef(out).ends_with("\n"))
    out.pop_back();
  return out;
}

llvm::Expected<std::unique_ptr<JinjaTemplate>> JinjaTemplate::parse(llvm::StringRef source) {
  std::string normalized = normalizeNewlines(source);
  auto segments = splitSegments(normalized);
  if (!segments)
    return segments.takeError();
  TemplateParser parser(std::move(*segments));
  auto body = parser.parseAll();
  if (!body)
    return body.takeError();
  auto impl = std::make_unique<Impl>();
  impl->body = std::move(*body);
  return std::unique_ptr<JinjaTemplate>(new JinjaTemplate(std::move(impl)));
}

llvm::Expected<std::string> JinjaTemplate::render(const Value &variables) const {
  std::string out;
  Renderer renderer(out);
  for (const auto &[key, value] : variables.entries())
    renderer.define(key, value);
  auto flow = renderer.run(impl->body);
  if (!flow)
    return flow.takeError();
  return out;
}

llvm::Expected<std::string> JinjaTemplate::render(llvm::StringRef variablesJson) const {
  auto variables = Value::parseJson(variablesJson, "template variables");
  if (!variables)
    return variables.takeError();
  if (variables->kind() != Value::Dict)
    return makeError("template variables must be a JSON object");
  return render(*variables);
}
