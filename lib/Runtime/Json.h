//===- Json.h - a small bounds-checked JSON reader --------------*- C++ -*-===//
//
// Enough JSON for the dsv4 manifest (docs/ABI.md): objects, arrays, strings,
// numbers, booleans, null. Nesting is capped so hostile input cannot exhaust
// the stack; every read is bounds-checked.
//
//===----------------------------------------------------------------------===//
#ifndef DSV4_RUNTIME_JSON_H
#define DSV4_RUNTIME_JSON_H

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dsv4::rt {

struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0.0;
  std::string string;
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;

  // The member named `key` of an object, or nullptr.
  const JsonValue *find(std::string_view key) const;
};

// Parses `text` into `out`. On failure returns false and sets `error` to a
// message with the byte offset ("expected ':' at offset 17").
bool parseJson(std::string_view text, JsonValue &out, std::string &error);

const char *jsonKindName(JsonValue::Kind kind);

} // namespace dsv4::rt

#endif // DSV4_RUNTIME_JSON_H
