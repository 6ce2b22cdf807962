// SPDX-License-Identifier: Apache-2.0
#include "provider/yaml.hpp"

#include <algorithm>
#include <vector>

namespace constellation::provider {

namespace {

using core::json::Type;
using core::json::Value;

bool plain_safe(std::string_view s) {
  if (s.empty()) return false;
  char c0 = s.front();
  if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z'))) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || c == '/';
    if (!ok) return false;
  }
  // Words a YAML 1.1 resolver (Go's yaml.v2 among them) reads as booleans or null.
  static constexpr std::string_view kReserved[] = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"};
  std::string lower(s);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return std::find(std::begin(kReserved), std::end(kReserved), lower) == std::end(kReserved);
}

void hex_escape(std::string& out, char kind, std::uint32_t cp, int digits) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += '\\';
  out += kind;
  for (int i = digits - 1; i >= 0; --i) out += kHex[(cp >> (4 * i)) & 0xF];
}

// Decodes one UTF-8 sequence at s[i]; returns the code point and its length, or -1 for an invalid
// sequence (length 1).
std::int32_t decode(std::string_view s, std::size_t i, std::size_t& len) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  len = 1;
  std::size_t n;
  std::int32_t cp, min;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; min = 0x10000; }
  else return -1;
  if (i + n > s.size()) return -1;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  len = n;
  return cp;
}

void quoted(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            hex_escape(out, 'x', c, 2);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    std::size_t len = 1;
    std::int32_t cp = decode(s, i, len);
    if (cp < 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
    } else if ((cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE ||
               cp == 0xFFFF) {
      hex_escape(out, 'u', static_cast<std::uint32_t>(cp), 4);
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  out += '"';
}

void scalar_string(std::string& out, std::string_view s) {
  if (plain_safe(s)) {
    out += s;
  } else {
    quoted(out, s);
  }
}

bool is_block(const Value& v) {
  return (v.is_object() && !v.as_object().empty()) || (v.is_array() && !v.as_array().empty());
}

void scalar(std::string& out, const Value& v) {
  switch (v.type()) {
    case Type::Null: out += "null"; break;
    case Type::Bool: out += v.as_bool() ? "true" : "false"; break;
    case Type::Int: out += std::to_string(v.as_int()); break;
    case Type::UInt: out += std::to_string(v.as_uint()); break;
    case Type::Double: out += core::json::serialize(v); break;
    case Type::String: scalar_string(out, v.as_string()); break;
    case Type::Array: out += "[]"; break;
    case Type::Object: out += "{}"; break;
  }
}

void emit(std::string& out, const Value& v, int indent, std::string_view first_prefix);

void mapping(std::string& out, const core::json::Object& obj, int indent, std::string_view first_prefix) {
  std::vector<const std::pair<std::string, Value>*> members;
  members.reserve(obj.size());
  for (const auto& m : obj) members.push_back(&m);
  std::sort(members.begin(), members.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  bool first = true;
  for (const auto* m : members) {
    if (first && !first_prefix.empty()) {
      out += first_prefix;
    } else {
      out.append(static_cast<std::size_t>(indent), ' ');
    }
    first = false;
    scalar_string(out, m->first);
    out += ':';
    if (is_block(m->second)) {
      out += '\n';
      emit(out, m->second, indent + 2, {});
    } else {
      out += ' ';
      scalar(out, m->second);
      out += '\n';
    }
  }
}

void sequence(std::string& out, const core::json::Array& arr, int indent) {
  const std::string dash = std::string(static_cast<std::size_t>(indent), ' ') + "- ";
  for (const auto& item : arr) {
    if (item.is_object() && !item.as_object().empty()) {
      mapping(out, item.as_object(), indent + 2, dash);
    } else if (item.is_array() && !item.as_array().empty()) {
      out.append(static_cast<std::size_t>(indent), ' ');
      out += "-\n";
      sequence(out, item.as_array(), indent + 2);
    } else {
      out += dash;
      scalar(out, item);
      out += '\n';
    }
  }
}

void emit(std::string& out, const Value& v, int indent, std::string_view first_prefix) {
  if (v.is_object() && !v.as_object().empty()) {
    mapping(out, v.as_object(), indent, first_prefix);
  } else if (v.is_array() && !v.as_array().empty()) {
    sequence(out, v.as_array(), indent);
  } else {
    out += first_prefix;
    scalar(out, v);
    out += '\n';
  }
}

}  // namespace

std::string to_yaml(const core::json::Value& v) {
  std::string out;
  emit(out, v, 0, {});
  return out;
}

}  // namespace constellation::provider
