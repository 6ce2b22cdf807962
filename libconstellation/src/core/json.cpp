// SPDX-License-Identifier: Apache-2.0
#include "core/json.hpp"

#include "core/assert.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace constellation::core::json {

std::string_view type_name(Type t) {
  switch (t) {
    case Type::Null: return "null";
    case Type::Bool: return "bool";
    case Type::Int:
    case Type::UInt: return "integer";
    case Type::Double: return "number";
    case Type::String: return "string";
    case Type::Array: return "array";
    case Type::Object: return "object";
  }
  return "unknown";
}

// --- Value -----------------------------------------------------------------------------------

void Value::set_unsigned(unsigned long long u) {
  if (u <= static_cast<unsigned long long>(std::numeric_limits<std::int64_t>::max())) {
    v_ = static_cast<std::int64_t>(u);
  } else {
    v_ = static_cast<std::uint64_t>(u);
  }
}

bool Value::as_bool() const {
  CST_ASSERT(is_bool());
  return std::get<bool>(v_);
}

std::int64_t Value::as_int() const {
  if (type() == Type::Int) return std::get<std::int64_t>(v_);
  CST_ASSERT(type() == Type::UInt && std::get<std::uint64_t>(v_) <= static_cast<std::uint64_t>(INT64_MAX));
  return static_cast<std::int64_t>(std::get<std::uint64_t>(v_));
}

std::uint64_t Value::as_uint() const {
  if (type() == Type::UInt) return std::get<std::uint64_t>(v_);
  CST_ASSERT(type() == Type::Int && std::get<std::int64_t>(v_) >= 0);
  return static_cast<std::uint64_t>(std::get<std::int64_t>(v_));
}

double Value::as_double() const {
  switch (type()) {
    case Type::Int: return static_cast<double>(std::get<std::int64_t>(v_));
    case Type::UInt: return static_cast<double>(std::get<std::uint64_t>(v_));
    case Type::Double: return std::get<double>(v_);
    default: CST_ASSERT_MSG(false, "as_double on a non-number");
  }
  return 0;
}

const std::string& Value::as_string() const {
  CST_ASSERT(is_string());
  return std::get<std::string>(v_);
}
const Array& Value::as_array() const {
  CST_ASSERT(is_array());
  return std::get<Array>(v_);
}
Array& Value::as_array() {
  CST_ASSERT(is_array());
  return std::get<Array>(v_);
}
const Object& Value::as_object() const {
  CST_ASSERT(is_object());
  return std::get<Object>(v_);
}
Object& Value::as_object() {
  CST_ASSERT(is_object());
  return std::get<Object>(v_);
}

const Value* Value::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : std::get<Object>(v_)) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value* Value::find(std::string_view key) { return const_cast<Value*>(static_cast<const Value*>(this)->find(key)); }

Value& Value::operator[](std::string_view key) {
  if (is_null()) v_ = Object{};
  CST_ASSERT(is_object());
  if (Value* v = find(key)) return *v;
  auto& obj = std::get<Object>(v_);
  obj.emplace_back(std::string(key), Value());
  return obj.back().second;
}

Value& Value::push_back(Value v) {
  if (is_null()) v_ = Array{};
  CST_ASSERT(is_array());
  auto& arr = std::get<Array>(v_);
  arr.push_back(std::move(v));
  return arr.back();
}

bool operator==(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number() && a.type() != b.type()) {
    if (a.is_integer() && b.is_integer()) return false;  // Int and UInt ranges do not overlap
    return a.as_double() == b.as_double();
  }
  return a.v_ == b.v_;
}

// --- UTF-8 -----------------------------------------------------------------------------------

namespace {

// Decodes one UTF-8 sequence at s[i]. Returns the code point and sets len, or returns -1 (and
// len = 1) for an invalid sequence.
std::int32_t decode_utf8(std::string_view s, std::size_t i, std::size_t& len) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  len = 1;
  if (c < 0x80) return c;
  std::size_t n;
  std::int32_t cp;
  std::int32_t min;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
    min = 0x10000;
  } else
    return -1;
  if (i + n > s.size()) return -1;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  len = n;
  return cp;
}

void append_u_escape(std::string& out, unsigned v) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u";
  out.push_back(kHex[(v >> 12) & 15]);
  out.push_back(kHex[(v >> 8) & 15]);
  out.push_back(kHex[(v >> 4) & 15]);
  out.push_back(kHex[v & 15]);
}

}  // namespace

std::size_t find_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    if (decode_utf8(s, i, len) < 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

void append_escaped(std::string& out, std::string_view s, bool ascii_only) {
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      // Copy the run of plain characters at once.
      std::size_t j = i + 1;
      while (j < s.size()) {
        auto d = static_cast<unsigned char>(s[j]);
        if (d < 0x20 || d >= 0x7f || d == '"' || d == '\\') break;
        ++j;
      }
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: append_u_escape(out, c); break;  // other controls and DEL
      }
      ++i;
      continue;
    }
    std::size_t len;
    std::int32_t cp = decode_utf8(s, i, len);
    if (cp < 0) {
      if (ascii_only)
        append_u_escape(out, 0xFFFD);
      else
        out += "\xEF\xBF\xBD";
    } else if (cp == 0x2028 || cp == 0x2029 || ascii_only) {
      if (cp >= 0x10000) {
        unsigned v = static_cast<unsigned>(cp) - 0x10000;
        append_u_escape(out, 0xD800 + (v >> 10));
        append_u_escape(out, 0xDC00 + (v & 0x3FF));
      } else {
        append_u_escape(out, static_cast<unsigned>(cp));
      }
    } else {
      out.append(s.data() + i, len);
    }
    i += len;
  }
  out.push_back('"');
}

// --- Writer ----------------------------------------------------------------------------------

void Writer::newline() {
  if (opts_.indent <= 0) return;
  out_.push_back('\n');
  out_.append(stack_.size() * static_cast<std::size_t>(opts_.indent), ' ');
}

void Writer::before_value() {
  if (stack_.empty()) {
    CST_ASSERT_MSG(!has_root_, "JSON writer: a second root value");
    has_root_ = true;
    return;
  }
  auto& [is_object, count] = stack_.back();
  if (is_object) {
    CST_ASSERT_MSG(expect_value_after_key_, "JSON writer: value without key inside an object");
    expect_value_after_key_ = false;
    return;
  }
  if (count++ > 0) out_.push_back(',');
  newline();
}

Writer& Writer::begin_object() {
  before_value();
  out_.push_back('{');
  stack_.emplace_back(true, 0);
  return *this;
}

Writer& Writer::end_object() {
  CST_ASSERT(!stack_.empty() && stack_.back().first && !expect_value_after_key_);
  bool had_members = stack_.back().second > 0;
  stack_.pop_back();
  if (had_members) newline();
  out_.push_back('}');
  return *this;
}

Writer& Writer::begin_array() {
  before_value();
  out_.push_back('[');
  stack_.emplace_back(false, 0);
  return *this;
}

Writer& Writer::end_array() {
  CST_ASSERT(!stack_.empty() && !stack_.back().first);
  bool had_items = stack_.back().second > 0;
  stack_.pop_back();
  if (had_items) newline();
  out_.push_back(']');
  return *this;
}

Writer& Writer::key(std::string_view k) {
  CST_ASSERT_MSG(!stack_.empty() && stack_.back().first && !expect_value_after_key_, "JSON writer: misplaced key");
  if (stack_.back().second++ > 0) out_.push_back(',');
  newline();
  append_escaped(out_, k, opts_.ascii_only);
  out_.push_back(':');
  if (opts_.indent > 0) out_.push_back(' ');
  expect_value_after_key_ = true;
  return *this;
}

Writer& Writer::null() {
  before_value();
  out_ += "null";
  return *this;
}

Writer& Writer::value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
  return *this;
}

Writer& Writer::value(std::int64_t i) {
  before_value();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, i);
  out_.append(buf, r.ptr);
  return *this;
}

Writer& Writer::value(std::uint64_t u) {
  before_value();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, u);
  out_.append(buf, r.ptr);
  return *this;
}

Writer& Writer::value(double d) {
  before_value();
  if (!std::isfinite(d)) {
    out_ += "null";
    return *this;
  }
  if (d == 0) d = 0;  // -0 and +0 print the same
  char buf[40];
  auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
  out_.append(buf, r.ptr);
  // A double that prints like an integer ("100", "184674473709551600000") keeps a fraction, so it
  // reads back as a number of the same kind — and one beyond 64 bits reads back at all.
  if (std::find_if(buf, r.ptr, [](char c) { return c == '.' || c == 'e'; }) == r.ptr) out_ += ".0";
  return *this;
}

Writer& Writer::value(std::string_view s) {
  before_value();
  append_escaped(out_, s, opts_.ascii_only);
  return *this;
}

Writer& Writer::raw(std::string_view json) {
  before_value();
  out_.append(json);
  return *this;
}

Writer& Writer::value(const Value& v) {
  switch (v.type()) {
    case Type::Null: return null();
    case Type::Bool: return value(v.as_bool());
    case Type::Int: return value(v.as_int());
    case Type::UInt: return value(v.as_uint());
    case Type::Double: return value(v.as_double());
    case Type::String: return value(std::string_view(v.as_string()));
    case Type::Array:
      begin_array();
      for (const auto& item : v.as_array()) value(item);
      return end_array();
    case Type::Object: {
      begin_object();
      const auto& obj = v.as_object();
      if (opts_.sort_keys) {
        std::vector<const std::pair<std::string, Value>*> members;
        members.reserve(obj.size());
        for (const auto& m : obj) members.push_back(&m);
        std::stable_sort(members.begin(), members.end(), [](auto* a, auto* b) { return a->first < b->first; });
        for (const auto* m : members) {
          key(m->first);
          value(m->second);
        }
      } else {
        for (const auto& [k, item] : obj) {
          key(k);
          value(item);
        }
      }
      return end_object();
    }
  }
  return *this;
}

std::string serialize(const Value& v, const WriteOptions& options) {
  Writer w(options);
  w.value(v);
  return std::move(w).take();
}

// --- typed member access ---------------------------------------------------------------------

namespace {

std::string member_path(std::string_view where, std::string_view key) {
  std::string p(where);
  if (!p.empty()) p.push_back('.');
  p.append(key);
  return p;
}

Error wrong_type(std::string_view where, std::string_view key, std::string_view expected, const Value& got) {
  return Error(Code::InvalidArgument, member_path(where, key) + ": expected " + std::string(expected) + ", got " +
                                          std::string(type_name(got.type())));
}

}  // namespace

Result<const Value*> get_member(const Value& obj, std::string_view key, std::string_view where) {
  if (!obj.is_object()) {
    return Error(Code::InvalidArgument, std::string(where.empty() ? "document" : where) + ": expected object, got " +
                                            std::string(type_name(obj.type())));
  }
  const Value* v = obj.find(key);
  if (!v) return Error(Code::InvalidArgument, member_path(where, key) + ": required field is missing");
  return v;
}

Result<std::string> get_string(const Value& obj, std::string_view key, std::string_view where) {
  CST_TRY_ASSIGN(const Value* v, get_member(obj, key, where));
  if (!v->is_string()) return wrong_type(where, key, "string", *v);
  return v->as_string();
}

Result<std::int64_t> get_int(const Value& obj, std::string_view key, std::string_view where) {
  CST_TRY_ASSIGN(const Value* v, get_member(obj, key, where));
  if (v->type() == Type::Int) return v->as_int();
  if (v->type() == Type::UInt) {
    return Error(Code::InvalidArgument, member_path(where, key) + ": integer out of range");
  }
  if (v->type() == Type::Double) {
    double d = v->as_double();
    if (std::trunc(d) == d && std::fabs(d) < 9.007199254740992e15) return static_cast<std::int64_t>(d);
  }
  return wrong_type(where, key, "integer", *v);
}

Result<bool> get_bool(const Value& obj, std::string_view key, std::string_view where) {
  CST_TRY_ASSIGN(const Value* v, get_member(obj, key, where));
  if (!v->is_bool()) return wrong_type(where, key, "bool", *v);
  return v->as_bool();
}

Result<const Array*> get_array(const Value& obj, std::string_view key, std::string_view where) {
  CST_TRY_ASSIGN(const Value* v, get_member(obj, key, where));
  if (!v->is_array()) return wrong_type(where, key, "array", *v);
  return &v->as_array();
}

Result<const Value*> get_object(const Value& obj, std::string_view key, std::string_view where) {
  CST_TRY_ASSIGN(const Value* v, get_member(obj, key, where));
  if (!v->is_object()) return wrong_type(where, key, "object", *v);
  return v;
}

Result<std::string> get_string_or(const Value& obj, std::string_view key, std::string_view where,
                                  std::string fallback) {
  const Value* v = obj.find(key);
  if (!v || v->is_null()) return fallback;
  return get_string(obj, key, where);
}

Result<std::int64_t> get_int_or(const Value& obj, std::string_view key, std::string_view where, std::int64_t fallback) {
  const Value* v = obj.find(key);
  if (!v || v->is_null()) return fallback;
  return get_int(obj, key, where);
}

Result<bool> get_bool_or(const Value& obj, std::string_view key, std::string_view where, bool fallback) {
  const Value* v = obj.find(key);
  if (!v || v->is_null()) return fallback;
  return get_bool(obj, key, where);
}

}  // namespace constellation::core::json
