// SPDX-License-Identifier: Apache-2.0
#include "provider/dynamic.hpp"

#include <algorithm>

namespace constellation::provider {

bool Config::empty() const {
  for (const auto& s : sections) {
    if (!s.empty()) return false;
  }
  return true;
}

std::size_t Config::size() const {
  std::size_t n = 0;
  for (const auto& s : sections) n += s.size();
  return n;
}

void sort_members(Value& v) {
  if (v.is_object()) {
    auto& obj = v.as_object();
    std::sort(obj.begin(), obj.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [k, child] : obj) sort_members(child);
  } else if (v.is_array()) {
    for (auto& child : v.as_array()) sort_members(child);
  }
}

namespace {

template <class C>
Value build_tree(C&& config) {
  Value root = Value::object();
  for (const auto& desc : all_sections()) {
    auto&& resources = config[desc.section];
    if (resources.empty()) continue;
    Value& protocol = root[desc.protocol];
    if (protocol.is_null()) protocol = Value::object();
    Value section = Value::object();
    auto& members = section.as_object();
    members.reserve(resources.size());
    for (auto&& [name, body] : resources) {
      if constexpr (std::is_const_v<std::remove_reference_t<C>>) {
        members.emplace_back(name, body);
      } else {
        members.emplace_back(name, std::move(body));
      }
    }
    protocol[desc.key] = std::move(section);
  }
  return root;
}

}  // namespace

Value to_value(const Config& config) { return build_tree(config); }

Value to_value(Config&& config) { return build_tree(config); }

namespace {

std::string brief(const Value* v) {
  if (!v) return "(absent)";
  std::string s = core::json::serialize(*v, {.sort_keys = true});
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

bool diff(const Value* a, const Value* b, std::string& path, std::string& out) {
  auto join = [&](std::string_view key) {
    std::string p = path;
    if (!p.empty() && key.front() != '[') p += '.';
    p += key;
    return p;
  };
  if (a && b && a->is_object() && b->is_object()) {
    std::vector<std::string> keys;
    for (const auto& [k, _] : a->as_object()) keys.push_back(k);
    for (const auto& [k, _] : b->as_object()) keys.push_back(k);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (const auto& k : keys) {
      std::string saved = path;
      path = join(k);
      if (diff(a->find(k), b->find(k), path, out)) return true;
      path = saved;
    }
    return false;
  }
  if (a && b && a->is_array() && b->is_array() && a->as_array().size() == b->as_array().size()) {
    for (std::size_t i = 0; i < a->as_array().size(); ++i) {
      std::string saved = path;
      path = join("[" + std::to_string(i) + "]");
      if (diff(&a->as_array()[i], &b->as_array()[i], path, out)) return true;
      path = saved;
    }
    return false;
  }
  if (a && b && *a == *b) return false;
  if (!a && !b) return false;
  out = (path.empty() ? std::string("(whole definition)") : path) + ": " + brief(a) + " vs " + brief(b);
  return true;
}

}  // namespace

std::string first_difference(const Value& a, const Value& b) {
  std::string path, out;
  diff(&a, &b, path, out);
  return out;
}

}  // namespace constellation::provider
