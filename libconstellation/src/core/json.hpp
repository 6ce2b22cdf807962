// SPDX-License-Identifier: Apache-2.0
//
// JSON in and out. parse() reads untrusted text through simdjson (validating UTF-8, bounding size
// and depth, rejecting duplicate keys) into a small owned tree; Writer emits JSON whose bytes
// depend only on the value (sorted keys on request, one escaping rule for every character), so
// equal inputs give equal bytes — the Traefik provider's body hash depends on it.
#pragma once

#include <constellation/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace constellation::core::json {

enum class Type { Null, Bool, Int, UInt, Double, String, Array, Object };

class Value;
using Array = std::vector<Value>;
/// Members in document (or insertion) order. Keys are unique in parsed values.
using Object = std::vector<std::pair<std::string, Value>>;

/// "null", "bool", "integer", "integer", "number", "string", "array", "object".
std::string_view type_name(Type t);

/// An owned JSON value. Integers that fit int64 are Int, larger non-negative ones UInt, all
/// other numbers Double.
class Value {
 public:
  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(static_cast<std::int64_t>(i)) {}
  Value(long i) : v_(static_cast<std::int64_t>(i)) {}
  Value(long long i) : v_(static_cast<std::int64_t>(i)) {}
  Value(unsigned u) : v_(static_cast<std::int64_t>(u)) {}
  Value(unsigned long u) { set_unsigned(u); }
  Value(unsigned long long u) { set_unsigned(u); }
  Value(double d) : v_(d) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Object o) : v_(std::move(o)) {}

  static Value array() { return Value(Array{}); }
  static Value object() { return Value(Object{}); }

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::Null; }
  bool is_bool() const { return type() == Type::Bool; }
  /// Int or UInt.
  bool is_integer() const { return type() == Type::Int || type() == Type::UInt; }
  /// Any number.
  bool is_number() const { return is_integer() || type() == Type::Double; }
  bool is_string() const { return type() == Type::String; }
  bool is_array() const { return type() == Type::Array; }
  bool is_object() const { return type() == Type::Object; }

  // Typed access; the type must match (a bug otherwise). Use the get_* helpers for input.
  bool as_bool() const;
  std::int64_t as_int() const;    // Int, or UInt <= INT64_MAX
  std::uint64_t as_uint() const;  // UInt, or Int >= 0
  double as_double() const;       // any number
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  /// Member `key` of an object, or nullptr (also when this is not an object).
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  /// Member `key`, inserted as null when missing. This must be an object (or null, which
  /// becomes an empty object).
  Value& operator[](std::string_view key);
  /// Appends to an array (a null becomes an empty array).
  Value& push_back(Value v);

  friend bool operator==(const Value& a, const Value& b);

 private:
  void set_unsigned(unsigned long long u);
  std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string, Array, Object> v_;
};

struct ParseOptions {
  /// Larger input is rejected before parsing. Default 64 MiB.
  std::size_t max_bytes = 64u << 20;
  /// Deepest nesting of arrays and objects accepted. Default 64.
  std::size_t max_depth = 64;
  /// Duplicate keys in one object are an error unless this is set (then the last one wins).
  bool allow_duplicate_keys = false;
};

/// Parses one JSON document. Errors (InvalidArgument): empty, oversized, truncated, too deep,
/// invalid UTF-8 (with the byte offset), a syntax error, a number out of range, a duplicate key
/// (with its path), or trailing content.
Result<Value> parse(std::string_view text, const ParseOptions& options = {});

struct WriteOptions {
  /// Object members sorted by key (bytewise). Off: document/insertion order.
  bool sort_keys = false;
  /// Everything outside printable ASCII as \uXXXX (surrogate pairs above U+FFFF).
  bool ascii_only = false;
  /// 0: compact. n > 0: newline-separated, n spaces per level.
  int indent = 0;
};

/// Streaming JSON writer. Calls must form one well-nested value (a bug otherwise): inside an
/// object, key() precedes every value. Strings are escaped by one fixed rule: the two-character
/// escapes for " \ \b \f \n \r \t, \u00XX for the other control characters and DEL, \u2028 and
/// \u2029 always, invalid UTF-8 replaced by U+FFFD, and with ascii_only every other non-ASCII
/// character as \uXXXX. Non-finite doubles are written as null.
class Writer {
 public:
  explicit Writer(WriteOptions options = {}) : opts_(options) {}

  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  Writer& null();
  Writer& value(bool b);
  Writer& value(std::int64_t i);
  Writer& value(std::uint64_t u);
  Writer& value(int i) { return value(static_cast<std::int64_t>(i)); }
  Writer& value(unsigned u) { return value(static_cast<std::uint64_t>(u)); }
  Writer& value(long long i) { return value(static_cast<std::int64_t>(i)); }
  Writer& value(unsigned long long u) { return value(static_cast<std::uint64_t>(u)); }
  Writer& value(double d);
  Writer& value(std::string_view s);
  Writer& value(const char* s) { return value(std::string_view(s)); }
  Writer& value(const std::string& s) { return value(std::string_view(s)); }
  /// A whole Value (objects sorted when sort_keys is set).
  Writer& value(const Value& v);
  /// Pre-serialised JSON inserted verbatim (the caller vouches for it).
  Writer& raw(std::string_view json);

  /// The output so far; complete once every begin has its end.
  const std::string& str() const { return out_; }
  std::string take() && { return std::move(out_); }
  bool complete() const { return stack_.empty() && has_root_; }

 private:
  void before_value();
  void newline();
  void write_string(std::string_view s);
  WriteOptions opts_;
  std::string out_;
  // One entry per open container: true for object. Counts of members so far alongside.
  std::vector<std::pair<bool, std::size_t>> stack_;
  bool expect_value_after_key_ = false;
  bool has_root_ = false;
};

/// v as JSON text.
std::string serialize(const Value& v, const WriteOptions& options = {});

/// Appends s to out as a JSON string literal (with quotes), by Writer's escaping rule.
void append_escaped(std::string& out, std::string_view s, bool ascii_only = false);

// --- Reading input with precise errors ---------------------------------------------------------
// Each takes the object, the key and `where` (a path such as "services.web" or "$.zones[0]") and
// returns InvalidArgument naming where/key and the expected and actual types.

Result<const Value*> get_member(const Value& obj, std::string_view key, std::string_view where);
Result<std::string> get_string(const Value& obj, std::string_view key, std::string_view where);
Result<std::int64_t> get_int(const Value& obj, std::string_view key, std::string_view where);
Result<bool> get_bool(const Value& obj, std::string_view key, std::string_view where);
Result<const Array*> get_array(const Value& obj, std::string_view key, std::string_view where);
Result<const Value*> get_object(const Value& obj, std::string_view key, std::string_view where);
/// As the get_* above but a missing key (or null) yields `fallback`.
Result<std::string> get_string_or(const Value& obj, std::string_view key, std::string_view where, std::string fallback);
Result<std::int64_t> get_int_or(const Value& obj, std::string_view key, std::string_view where, std::int64_t fallback);
Result<bool> get_bool_or(const Value& obj, std::string_view key, std::string_view where, bool fallback);

/// Byte offset of the first invalid UTF-8 sequence in s, or npos if s is valid UTF-8
/// (no overlongs, no surrogates, nothing above U+10FFFF).
std::size_t find_invalid_utf8(std::string_view s);

}  // namespace constellation::core::json
