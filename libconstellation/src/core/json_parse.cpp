// SPDX-License-Identifier: Apache-2.0
// JSON input through simdjson's DOM parser, converted into json::Value. simdjson stays inside
// this file (docs/adr/0001-dependencies.md).
#include "core/json.hpp"

#include <simdjson.h>

#include <string>
#include <unordered_set>

namespace constellation::core::json {

namespace {

constexpr std::size_t kLargeDocument = 1u << 20;

Error parse_error(std::string what) { return Error(Code::InvalidArgument, "invalid JSON: " + std::move(what)); }

std::string child_path(const std::string& path, std::string_view key) {
  std::string p = path;
  p.push_back('.');
  p.append(key);
  return p;
}

class Converter {
 public:
  Converter(const ParseOptions& options) : opts_(options) {}

  Result<Value> convert(simdjson::dom::element e, std::size_t depth, const std::string& path) {
    using simdjson::dom::element_type;
    switch (e.type()) {
      case element_type::NULL_VALUE: return Value();
      case element_type::BOOL: return Value(bool(e.get_bool().value_unsafe()));
      case element_type::INT64: return Value(static_cast<long long>(e.get_int64().value_unsafe()));
      case element_type::UINT64: return Value(static_cast<unsigned long long>(e.get_uint64().value_unsafe()));
      case element_type::DOUBLE: return Value(e.get_double().value_unsafe());
      case element_type::STRING: return Value(std::string_view(e.get_string().value_unsafe()));
      case element_type::ARRAY: {
        if (depth >= opts_.max_depth) return too_deep(path);
        Array arr;
        std::size_t i = 0;
        // Hold the array by value: value_unsafe() on a temporary result returns a reference into it.
        simdjson::dom::array items = e.get_array().value_unsafe();
        for (simdjson::dom::element item : items) {
          CST_TRY_ASSIGN(Value v, convert(item, depth + 1, path + "[" + std::to_string(i++) + "]"));
          arr.push_back(std::move(v));
        }
        return Value(std::move(arr));
      }
      case element_type::OBJECT: {
        if (depth >= opts_.max_depth) return too_deep(path);
        Object obj;
        simdjson::dom::object o = e.get_object().value_unsafe();
        const bool use_set = o.size() > 16;
        std::unordered_set<std::string_view> seen;
        for (simdjson::dom::key_value_pair kv : o) {
          std::string_view key = kv.key;
          bool dup = false;
          if (use_set) {
            dup = !seen.insert(key).second;
          } else {
            for (const auto& [k, v] : obj) dup = dup || k == key;
          }
          if (dup && !opts_.allow_duplicate_keys) {
            return parse_error("duplicate key '" + std::string(key) + "' in " + path);
          }
          CST_TRY_ASSIGN(Value v, convert(kv.value, depth + 1, child_path(path, key)));
          if (dup) {
            for (auto& [k, old] : obj) {
              if (k == key) old = std::move(v);
            }
          } else {
            obj.emplace_back(std::string(key), std::move(v));
          }
        }
        return Value(std::move(obj));
      }
    }
    return parse_error("unknown element type");
  }

 private:
  Error too_deep(const std::string& path) {
    return parse_error("nesting deeper than " + std::to_string(opts_.max_depth) + " levels at " + path);
  }
  const ParseOptions& opts_;
};

Result<Value> parse_with(simdjson::dom::parser& parser, std::string_view text, const ParseOptions& options) {
  // One more level than ours, so that our converter, not simdjson, reports the depth error with a path.
  const std::size_t depth = options.max_depth + 2;
  if (parser.capacity() < text.size() || parser.max_depth() != depth) {
    if (auto err = parser.allocate(std::max<std::size_t>(text.size(), 4096), depth); err != simdjson::SUCCESS) {
      return Error(Code::Unavailable, std::string("JSON parser allocation failed: ") + simdjson::error_message(err));
    }
  }
  simdjson::dom::element root;
  auto err = parser.parse(text.data(), text.size(), true).get(root);
  if (err != simdjson::SUCCESS) {
    switch (err) {
      case simdjson::UTF8_ERROR: {
        auto at = find_invalid_utf8(text);
        return parse_error("invalid UTF-8" +
                           (at == std::string_view::npos ? std::string() : " at byte " + std::to_string(at)));
      }
      case simdjson::DEPTH_ERROR:
        return parse_error("nesting deeper than " + std::to_string(options.max_depth) + " levels");
      case simdjson::EMPTY: return parse_error("empty document");
      case simdjson::NUMBER_OUT_OF_RANGE:
      case simdjson::NUMBER_ERROR: return parse_error("bad or out-of-range number");
      case simdjson::UNCLOSED_STRING: return parse_error("unterminated string");
      case simdjson::UNESCAPED_CHARS: return parse_error("unescaped control character in a string");
      case simdjson::INCOMPLETE_ARRAY_OR_OBJECT: return parse_error("document ends inside an array or object");
      default: return parse_error(simdjson::error_message(err));
    }
  }
  Converter conv(options);
  return conv.convert(root, 0, "$");
}

}  // namespace

Result<Value> parse(std::string_view text, const ParseOptions& options) {
  if (text.size() > options.max_bytes) {
    return parse_error("document of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                       std::to_string(options.max_bytes));
  }
  if (text.size() >= kLargeDocument) {
    simdjson::dom::parser parser;  // freed afterwards: do not keep megabytes per thread
    return parse_with(parser, text, options);
  }
  thread_local simdjson::dom::parser parser;
  return parse_with(parser, text, options);
}

}  // namespace constellation::core::json
