//===- Json.cpp - a small bounds-checked JSON reader ----------------------===//
//
// Recursive descent over a string_view. Numbers go through std::from_chars,
// which is locale-independent (a host program that set LC_NUMERIC to a comma
// locale must not change how "1e-06" reads).
//
//===----------------------------------------------------------------------===//
#include "Json.h"

#include <charconv>
#include <cstdio>

using namespace dsv4::rt;

namespace {

// Deeper than any manifest needs (it nests 3 levels), shallow enough that a
// recursion of this depth is harmless.
constexpr int kMaxDepth = 32;

class Parser {
public:
  Parser(std::string_view text, std::string &error) : s(text), error(error) {}

  bool parseDocument(JsonValue &out) {
    if (!parseValue(out, 0))
      return false;
    skipSpace();
    if (pos != s.size())
      return failAt("trailing characters after the JSON value");
    return true;
  }

private:
  std::string_view s;
  size_t pos = 0;
  std::string &error;

  bool failAt(const char *what) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "%s at offset %zu", what, pos);
    error = buf;
    return false;
  }
  void skipSpace() {
    while (pos < s.size() &&
           (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
      ++pos;
  }
  bool consume(char c) {
    skipSpace();
    if (pos < s.size() && s[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (s.substr(pos, word.size()) != word)
      return failAt("invalid literal");
    pos += word.size();
    return true;
  }

  bool parseValue(JsonValue &out, int depth) {
    if (depth > kMaxDepth)
      return failAt("nesting too deep");
    skipSpace();
    if (pos >= s.size())
      return failAt("unexpected end of input");
    char c = s[pos];
    if (c == '{')
      return parseObject(out, depth);
    if (c == '[')
      return parseArray(out, depth);
    if (c == '"') {
      out.kind = JsonValue::Kind::String;
      return parseString(out.string);
    }
    if (c == 't' || c == 'f') {
      out.kind = JsonValue::Kind::Bool;
      out.boolean = c == 't';
      return literal(c == 't' ? "true" : "false");
    }
    if (c == 'n') {
      out.kind = JsonValue::Kind::Null;
      return literal("null");
    }
    return parseNumber(out);
  }

  bool parseNumber(JsonValue &out) {
    size_t begin = pos;
    // JSON grammar: -?digits(.digits)?([eE][+-]?digits)?; from_chars accepts a
    // superset (inf, nan, hex with the right flags), so the span is checked.
    if (pos < s.size() && s[pos] == '-')
      ++pos;
    auto digits = [&] {
      size_t d = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9')
        ++pos;
      return pos > d;
    };
    if (!digits())
      return failAt("invalid number");
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      if (!digits())
        return failAt("invalid number");
    }
    if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
      ++pos;
      if (pos < s.size() && (s[pos] == '+' || s[pos] == '-'))
        ++pos;
      if (!digits())
        return failAt("invalid number");
    }
    const char *first = s.data() + begin, *last = s.data() + pos;
    auto [ptr, ec] = std::from_chars(first, last, out.number);
    if (ec != std::errc() || ptr != last)
      return failAt("number out of range");
    out.kind = JsonValue::Kind::Number;
    return true;
  }

  static int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool parseString(std::string &out) {
    ++pos; // opening quote
    out.clear();
    while (pos < s.size()) {
      char c = s[pos++];
      if (c == '"')
        return true;
      if (static_cast<unsigned char>(c) < 0x20)
        return failAt("control character in string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos >= s.size())
        break;
      char e = s[pos++];
      switch (e) {
      case '"': case '\\': case '/': out.push_back(e); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        if (s.size() - pos < 4)
          return failAt("truncated \\u escape");
        unsigned cp = 0;
        for (int i = 0; i < 4; ++i) {
          int d = hexDigit(s[pos + i]);
          if (d < 0)
            return failAt("invalid \\u escape");
          cp = cp * 16 + unsigned(d);
        }
        pos += 4;
        // Manifest strings are identifiers; anything outside ASCII cannot
        // name a kernel or dtype, so it is kept as a visible placeholder.
        out.push_back(cp < 0x80 ? char(cp) : '?');
        break;
      }
      default:
        return failAt("invalid escape");
      }
    }
    return failAt("unterminated string");
  }

  bool parseArray(JsonValue &out, int depth) {
    ++pos;
    out.kind = JsonValue::Kind::Array;
    if (consume(']'))
      return true;
    do {
      out.array.emplace_back();
      if (!parseValue(out.array.back(), depth + 1))
        return false;
    } while (consume(','));
    if (!consume(']'))
      return failAt("expected ',' or ']'");
    return true;
  }

  bool parseObject(JsonValue &out, int depth) {
    ++pos;
    out.kind = JsonValue::Kind::Object;
    if (consume('}'))
      return true;
    do {
      skipSpace();
      if (pos >= s.size() || s[pos] != '"')
        return failAt("expected a string key");
      std::string key;
      if (!parseString(key))
        return false;
      if (!consume(':'))
        return failAt("expected ':'");
      out.object.emplace_back(std::move(key), JsonValue());
      if (!parseValue(out.object.back().second, depth + 1))
        return false;
    } while (consume(','));
    if (!consume('}'))
      return failAt("expected ',' or '}'");
    return true;
  }
};

} // namespace

const JsonValue *JsonValue::find(std::string_view key) const {
  for (const auto &[k, v] : object)
    if (k == key)
      return &v;
  return nullptr;
}

bool dsv4::rt::parseJson(std::string_view text, JsonValue &out,
                         std::string &error) {
  out = JsonValue();
  return Parser(text, error).parseDocument(out);
}

const char *dsv4::rt::jsonKindName(JsonValue::Kind kind) {
  switch (kind) {
  case JsonValue::Kind::Null: return "null";
  case JsonValue::Kind::Bool: return "a boolean";
  case JsonValue::Kind::Number: return "a number";
  case JsonValue::Kind::String: return "a string";
  case JsonValue::Kind::Array: return "an array";
  case JsonValue::Kind::Object: return "an object";
  }
  return "?";
}
