// SPDX-License-Identifier: Apache-2.0
#include "provider/labels.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <span>
#include <utility>

namespace constellation::provider {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t i = s.find(sep, start);
    out.push_back(s.substr(start, i == std::string_view::npos ? std::string_view::npos : i - start));
    if (i == std::string_view::npos) break;
    start = i + 1;
  }
  return out;
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view kind_name(const FieldDesc& f) {
  switch (f.kind) {
    case FieldKind::String: return "a string";
    case FieldKind::Bool: return "a boolean";
    case FieldKind::Int: return "an integer";
    case FieldKind::Duration: return "a duration";
    case FieldKind::StringList: return "a comma-separated list";
    case FieldKind::StringMap: return "a map";
    case FieldKind::Struct: return "a section";
    case FieldKind::StructList: return "a list of sections";
    case FieldKind::ServerSlot: return "a section";
    case FieldKind::Raw: return "a section";
  }
  return "a value";
}

/// Where one label lands and what went wrong with it. Errors are plain messages; the caller adds
/// the label key and the resource.
class Placer {
 public:
  Placer(TraefikVersion version, std::vector<std::vector<std::string>>& disabled)
      : version_(version), disabled_(disabled) {}

  Result<void> place(Value& obj, const TypeDesc& type, std::span<const std::string_view> path,
                     std::string_view raw, std::vector<std::string>& canonical) {
    std::string_view seg = path.front();
    std::string_view name = seg;
    std::optional<std::size_t> index;
    if (std::size_t lb = seg.find('['); lb != std::string_view::npos) {
      if (seg.back() != ']' || lb == 0) return Error(Code::InvalidArgument, "malformed segment '" + std::string(seg) + "'");
      std::string_view digits = seg.substr(lb + 1, seg.size() - lb - 2);
      std::size_t v = 0;
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (ec != std::errc() || p != digits.data() + digits.size() || digits.empty() || v > 1000) {
        return Error(Code::InvalidArgument, "bad list index in '" + std::string(seg) + "'");
      }
      name = seg.substr(0, lb);
      index = v;
    }
    if (name.empty()) return Error(Code::InvalidArgument, "empty field name");
    const FieldDesc* f = find_field(type, name);
    if (!f) {
      std::string msg = "unknown field '" + std::string(name) + "' in " + std::string(type.name);
      if (auto s = suggest_field(type, name); !s.empty()) msg += " (did you mean '" + std::string(s) + "'?)";
      return Error(Code::InvalidArgument, msg);
    }
    if (!available_in(f->availability, version_)) {
      return Error(Code::InvalidArgument,
                   f->availability == Availability::V3Only
                       ? "'" + std::string(f->name) + "' is a Traefik v3 option (the target is v2)"
                       : "'" + std::string(f->name) + "' was removed in Traefik v3 (the target is v3)");
    }
    canonical.emplace_back(f->name);
    if (index && f->kind != FieldKind::StructList) {
      return Error(Code::InvalidArgument, "'" + std::string(f->name) + "' is not a list; drop the [index]");
    }
    auto rest = path.subspan(1);
    switch (f->kind) {
      case FieldKind::String:
      case FieldKind::Bool:
      case FieldKind::Int:
      case FieldKind::Duration:
      case FieldKind::StringList: {
        if (!rest.empty()) {
          return Error(Code::InvalidArgument, "'" + std::string(f->name) + "' is " + std::string(kind_name(*f)) +
                                                  " and has no field '" + std::string(rest.front()) + "'");
        }
        CST_TRY_ASSIGN(std::optional<Value> v, leaf(*f, raw));
        if (!v) return ok();  // an empty value leaves the field unset, as in Traefik
        if (obj.find(f->name)) return Error(Code::InvalidArgument, "'" + std::string(f->name) + "' is set twice");
        obj[f->name] = std::move(*v);
        return ok();
      }
      case FieldKind::StringMap: {
        if (rest.size() != 1 || rest.front().empty()) {
          return Error(Code::InvalidArgument,
                       "'" + std::string(f->name) + "' is a map: write " + std::string(f->name) + ".<key>=<value>");
        }
        Value& m = obj[f->name];
        if (m.is_null()) m = Value::object();
        if (m.find(rest.front())) {
          return Error(Code::InvalidArgument,
                       "'" + std::string(f->name) + "." + std::string(rest.front()) + "' is set twice");
        }
        m[rest.front()] = Value(std::string(raw));
        return ok();
      }
      case FieldKind::Raw: {
        if (rest.empty()) {
          return Error(Code::InvalidArgument,
                       "'" + std::string(f->name) + "' is a section: write " + std::string(f->name) + ".<name>.<key>");
        }
        Value* cur = &obj[f->name];
        if (cur->is_null()) *cur = Value::object();
        for (std::size_t i = 0; i < rest.size(); ++i) {
          if (rest[i].empty()) return Error(Code::InvalidArgument, "empty key under '" + std::string(f->name) + "'");
          if (!cur->is_object()) return Error(Code::InvalidArgument, "'" + std::string(rest[i - 1]) + "' is set both as a value and as a section");
          Value* next = cur->find(rest[i]);
          if (i + 1 == rest.size()) {
            if (next) return Error(Code::InvalidArgument, "'" + std::string(rest[i]) + "' is set twice");
            (*cur)[rest[i]] = Value(std::string(raw));
            return ok();
          }
          if (!next) {
            (*cur)[rest[i]] = Value::object();
            next = cur->find(rest[i]);
          }
          cur = next;
        }
        return ok();
      }
      case FieldKind::Struct:
      case FieldKind::ServerSlot: {
        if (rest.empty()) {
          if (!f->allow_empty) {
            std::string example = f->type && !f->type->fields.empty()
                                      ? std::string(f->name) + "." + std::string(f->type->fields.front().name)
                                      : std::string(f->name) + ".<field>";
            return Error(Code::InvalidArgument,
                         "'" + std::string(f->name) + "' is a section, not a value: set one of its fields, e.g. " +
                             example);
          }
          auto b = parse_go_bool(trim(raw));
          if (!b) {
            return Error(Code::InvalidArgument,
                         "'" + std::string(f->name) + "' takes true (enable with defaults) or false, got '" +
                             std::string(raw) + "'");
          }
          if (*b) {
            Value& sub = obj[f->name];
            if (sub.is_null()) sub = Value::object();
          } else {
            disabled_.push_back(canonical);
          }
          return ok();
        }
        Value& sub = obj[f->name];
        if (sub.is_null()) sub = Value::object();
        return place(sub, *f->type, rest, raw, canonical);
      }
      case FieldKind::StructList: {
        if (!index) {
          return Error(Code::InvalidArgument, "'" + std::string(f->name) + "' is a list: write " +
                                                  std::string(f->name) + "[0]." +
                                                  std::string(f->type->fields.front().name));
        }
        if (rest.empty()) {
          return Error(Code::InvalidArgument,
                       "'" + std::string(f->name) + "[" + std::to_string(*index) + "]' is a section, not a value");
        }
        Value& list = obj[f->name];  // an object keyed "[i]" until finish() turns it into an array
        if (list.is_null()) list = Value::object();
        std::string key = "[" + std::to_string(*index) + "]";
        canonical.back() += key;
        Value& elem = list[key];
        if (elem.is_null()) elem = Value::object();
        return place(elem, *f->type, rest, raw, canonical);
      }
    }
    return ok();
  }

 private:
  Result<std::optional<Value>> leaf(const FieldDesc& f, std::string_view raw) {
    switch (f.kind) {
      case FieldKind::String:
        if (raw.empty()) return std::optional<Value>();
        return std::optional<Value>(Value(std::string(raw)));
      case FieldKind::Bool: {
        auto b = parse_go_bool(raw);
        if (!b) return Error(Code::InvalidArgument, "'" + std::string(raw) + "' is not a boolean (true or false)");
        return std::optional<Value>(Value(*b));
      }
      case FieldKind::Int: {
        std::string_view s = raw;
        if (!s.empty() && s.front() == '+') s.remove_prefix(1);
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
          return Error(Code::InvalidArgument, "'" + std::string(raw) + "' is not an integer");
        }
        if (v < f.min || v > f.max) {
          std::string range = f.max == std::numeric_limits<std::int64_t>::max()
                                  ? ">= " + std::to_string(f.min)
                                  : "between " + std::to_string(f.min) + " and " + std::to_string(f.max);
          return Error(Code::InvalidArgument, std::to_string(v) + " is out of range (must be " + range + ")");
        }
        return std::optional<Value>(Value(v));
      }
      case FieldKind::Duration: {
        auto d = parse_go_duration(raw);
        if (!d) {
          return Error(Code::InvalidArgument,
                       "'" + std::string(raw) + "' is not a duration (e.g. 10s, 1m30s, 250ms, or seconds as an integer)");
        }
        return std::optional<Value>(Value(std::move(*d)));
      }
      case FieldKind::StringList: {
        if (raw.empty()) return std::optional<Value>();
        Value list = Value::array();
        for (auto part : split(raw, ',')) list.push_back(Value(std::string(trim(part))));
        return std::optional<Value>(std::move(list));
      }
      default: break;
    }
    return std::optional<Value>();
  }

  TraefikVersion version_;
  std::vector<std::vector<std::string>>& disabled_;
};

/// Removes the subtree at `path` (canonical keys, list elements as "key[i]").
void erase_path(Value& v, std::span<const std::string> path) {
  if (path.empty() || !v.is_object()) return;
  std::string_view seg = path.front();
  std::string_view key = seg;
  std::string elem;
  if (auto lb = seg.find('['); lb != std::string_view::npos) {
    key = seg.substr(0, lb);
    elem = std::string(seg.substr(lb));
  }
  Value* child = v.find(key);
  if (!child) return;
  if (!elem.empty()) {
    child = child->find(elem);
    if (!child) return;
  }
  if (path.size() == 1) {
    auto& members = (elem.empty() ? v : *v.find(key)).as_object();
    std::string_view target = elem.empty() ? key : std::string_view(elem);
    members.erase(std::remove_if(members.begin(), members.end(), [&](const auto& m) { return m.first == target; }),
                  members.end());
    return;
  }
  erase_path(*child, path.subspan(1));
}

/// Turns the temporary "[i]"-keyed objects of StructList fields into arrays ordered by index.
void finish_lists(Value& v, const TypeDesc& type) {
  if (!v.is_object()) return;
  for (auto& [key, child] : v.as_object()) {
    const FieldDesc* f = find_field(type, key);
    if (!f) continue;
    if (f->kind == FieldKind::StructList && child.is_object()) {
      std::vector<std::pair<std::size_t, Value>> elems;
      for (auto& [k, e] : child.as_object()) {
        elems.emplace_back(std::stoul(k.substr(1, k.size() - 2)), std::move(e));
      }
      std::sort(elems.begin(), elems.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      Value arr = Value::array();
      for (auto& [i, e] : elems) {
        finish_lists(e, *f->type);
        arr.push_back(std::move(e));
      }
      child = std::move(arr);
    } else if ((f->kind == FieldKind::Struct || f->kind == FieldKind::ServerSlot) && f->type) {
      finish_lists(child, *f->type);
    }
  }
}

struct ResourceKey {
  Section section;
  std::string name;
  friend auto operator<=>(const ResourceKey&, const ResourceKey&) = default;
};

}  // namespace

std::optional<bool> parse_go_bool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") return false;
  return std::nullopt;
}

std::optional<std::string> parse_go_duration(std::string_view s) {
  std::string_view t = s;
  if (t.empty()) return std::nullopt;
  // A bare integer means seconds (paerser's types.Duration).
  {
    std::string_view d = t;
    if (d.front() == '-' || d.front() == '+') d.remove_prefix(1);
    if (!d.empty() && std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      if (d.size() > 18) return std::nullopt;
      return std::string(t) + "s";
    }
  }
  // Go time.ParseDuration: [-+]? ( number unit )+ ; "0" is handled above.
  std::size_t i = 0;
  if (t[i] == '-' || t[i] == '+') ++i;
  if (i == t.size()) return std::nullopt;
  while (i < t.size()) {
    std::size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    bool int_digits = i > start;
    bool frac_digits = false;
    if (i < t.size() && t[i] == '.') {
      ++i;
      std::size_t fs = i;
      while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
      frac_digits = i > fs;
    }
    if (!int_digits && !frac_digits) return std::nullopt;
    static constexpr std::string_view kUnits[] = {"ns", "us", "\xC2\xB5s", "\xCE\xBCs", "ms", "s", "m", "h"};
    bool matched = false;
    for (auto u : kUnits) {  // longest first where prefixes overlap: "ms" before "m", "ns" etc.
      if (t.substr(i, u.size()) == u) {
        if (u == "m" && t.substr(i, 2) == "ms") continue;
        i += u.size();
        matched = true;
        break;
      }
    }
    if (!matched) return std::nullopt;
  }
  return std::string(t);
}

DecodedLabels decode_labels(const std::map<std::string, std::string>& labels, TraefikVersion version) {
  DecodedLabels out;
  std::set<ResourceKey> broken;
  std::map<ResourceKey, std::vector<std::vector<std::string>>> disabled;
  auto issue = [&](Severity sev, const std::string& label, std::string resource, std::string message) {
    out.issues.push_back(LabelIssue{sev, label, std::move(resource), std::move(message)});
  };

  for (const auto& [key, value] : labels) {
    auto segs = split(key, '.');
    if (segs.size() < 2 || !iequals(segs[0], "traefik")) continue;
    std::string_view top = segs[1];
    if (segs.size() == 2 && iequals(top, "enable")) {
      auto b = parse_go_bool(trim(value));
      if (!b) {
        out.enable_invalid = true;
        issue(Severity::Error, key, "", "'" + value + "' is not a boolean (true or false); the instance is not routed");
      } else {
        out.enable = *b;
      }
      continue;
    }
    if (iequals(top, "docker") || iequals(top, "swarm")) continue;  // Docker/Swarm-provider options
    if (iequals(top, "constellation")) {
      if (segs.size() == 3 && iequals(segs[2], "network")) {
        if (trim(value).empty()) {
          issue(Severity::Error, key, "", "the network name is empty");
        } else {
          out.network = std::string(trim(value));
        }
      } else {
        issue(Severity::Error, key, "", "unknown Constellation label (known: traefik.constellation.network)");
      }
      continue;
    }
    const SectionDesc* section = nullptr;
    std::string name;
    std::size_t first_field = 0;
    if (iequals(top, "http") || iequals(top, "tcp") || iequals(top, "udp")) {
      if (segs.size() < 3) {
        issue(Severity::Error, key, "", "incomplete label: expected traefik." + std::string(top) + ".<section>.<name>.<field>");
        continue;
      }
      section = find_section(top, segs[2]);
      if (!section) {
        std::string known;
        for (const auto& s : all_sections()) {
          if (iequals(s.protocol, top)) known += (known.empty() ? "" : ", ") + std::string(s.key);
        }
        issue(Severity::Error, key, "", "unknown " + std::string(top) + " section '" + std::string(segs[2]) + "' (known: " + known + ")");
        continue;
      }
      if (segs.size() < 5 || segs[3].empty()) {
        issue(Severity::Error, key, "",
              "incomplete label: expected traefik." + std::string(section->protocol) + "." + std::string(section->key) +
                  ".<name>.<field>");
        continue;
      }
      name = std::string(segs[3]);
      first_field = 4;
    } else if (iequals(top, "tls")) {
      if (segs.size() >= 5 && iequals(segs[2], "stores") && segs[3] == "default") {
        section = find_section("tls", "stores");
        name = "default";
        first_field = 4;
      } else {
        issue(Severity::Warning, key, "", "ignored: labels can only configure traefik.tls.stores.default.*");
        continue;
      }
    } else {
      issue(Severity::Warning, key, "",
            "ignored: not a Traefik v2/v3 label (Traefik v1 labels such as traefik.frontend.rule and traefik.port are "
            "not read)");
      continue;
    }

    ResourceKey rk{section->section, name};
    auto resource = [&] { return section_path(section->section) + "." + name; };
    if (!available_in(section->availability, version)) {
      issue(Severity::Error, key, resource(),
            std::string(section->protocol) + "." + std::string(section->key) + " is a Traefik v3 section (the target is v2)");
      broken.insert(rk);
      continue;
    }
    auto& body = out.config[section->section][name];
    if (body.is_null()) body = Value::object();
    std::vector<std::string_view> path(segs.begin() + static_cast<std::ptrdiff_t>(first_field), segs.end());
    std::vector<std::string> canonical;
    std::vector<std::vector<std::string>> dis;
    Placer placer(version, dis);
    if (auto r = placer.place(body, *section->type, path, value, canonical); !r) {
      issue(Severity::Error, key, resource(), r.error().message());
      broken.insert(rk);
    }
    if (!dis.empty()) {
      auto& all = disabled[rk];
      all.insert(all.end(), std::make_move_iterator(dis.begin()), std::make_move_iterator(dis.end()));
    }
  }

  // Disabled sections (tls=false, ...) go away with whatever was set below them.
  for (auto& [rk, paths] : disabled) {
    if (paths.empty()) continue;
    auto it = out.config[rk.section].find(rk.name);
    if (it == out.config[rk.section].end()) continue;
    for (const auto& p : paths) erase_path(it->second, p);
  }
  for (const auto& rk : broken) out.config[rk.section].erase(rk.name);

  for (const auto& desc : all_sections()) {
    auto& resources = out.config[desc.section];
    for (auto it = resources.begin(); it != resources.end();) {
      finish_lists(it->second, *desc.type);
      sort_members(it->second);
      if (desc.type->one_of) {
        const auto& members = it->second.as_object();
        if (members.size() != 1) {
          std::string resource = section_path(desc.section) + "." + it->first;
          std::string kinds;
          for (const auto& [k, _] : members) kinds += (kinds.empty() ? "" : ", ") + k;
          issue(Severity::Error, "", resource,
                members.empty() ? "defines no " + std::string(desc.type->name) + " kind"
                                : "sets several kinds (" + kinds + "); it must be exactly one of them");
          it = resources.erase(it);
          continue;
        }
      }
      ++it;
    }
  }
  return out;
}

}  // namespace constellation::provider
