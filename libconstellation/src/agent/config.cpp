// SPDX-License-Identifier: Apache-2.0
#include "agent/config.hpp"

#include "core/json.hpp"
#include "io/net/endpoint.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <variant>

namespace constellation::agent {

namespace {

using StringList = std::vector<std::string>;
using StringMap = std::map<std::string, std::string>;
using Target = std::variant<std::string Config::*, bool Config::*, int Config::*, double Config::*,
                            std::uint64_t Config::*, StringList Config::*, StringMap Config::*>;

struct Field {
  std::string_view path;  // "gossip.bind"
  Target target;
};

// Every scalar, list and map field, by its path in the file. The environment variable of a field is
// CONSTELLATION_ + its path upper-cased with '.' → '_' (gossip.bind → CONSTELLATION_GOSSIP_BIND).
const std::vector<Field>& fields() {
  static const std::vector<Field> kFields = {
      {"node.name", &Config::node_name},
      {"node.data_dir", &Config::data_dir},
      {"node.roles", &Config::roles},
      {"node.tags", &Config::tags},
      {"node.addresses", &Config::addresses},
      {"gossip.bind", &Config::gossip_bind},
      {"gossip.advertise", &Config::gossip_advertise},
      {"gossip.join", &Config::join},
      {"gossip.keys", &Config::gossip_keys},
      {"gossip.label", &Config::cluster_label},
      {"gossip.profile", &Config::gossip_profile},
      {"raft.voters", &Config::raft_voters},
      {"raft.bind", &Config::raft_bind},
      {"raft.advertise", &Config::raft_advertise},
      {"raft.key", &Config::raft_key},
      {"raft.profile", &Config::raft_profile},
      {"api.listen", &Config::api_listen},
      {"api.tls.cert", &Config::api_tls_cert},
      {"api.tls.key", &Config::api_tls_key},
      {"api.tls.client_ca", &Config::api_tls_client_ca},
      {"api.max_body_bytes", &Config::api_max_body_bytes},
      {"api.rate_limit", &Config::api_rate_limit},
      {"api.rate_burst", &Config::api_rate_burst},
      {"services.dir", &Config::services_dir},
      {"services.runtime", &Config::services_runtime},
      {"services.docker_socket", &Config::docker_socket},
      {"traefik.version", &Config::traefik_version},
      {"traefik.include_warning", &Config::traefik_include_warning},
      {"traefik.file", &Config::traefik_file},
      {"traefik.token", &Config::traefik_token},
      {"log.level", &Config::log_level},
  };
  return kFields;
}

const Field* find_field(std::string_view path) {
  for (const auto& f : fields()) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

bool is_section(std::string_view path) {
  for (const auto& f : fields()) {
    if (f.path.size() > path.size() && f.path.starts_with(path) && f.path[path.size()] == '.') return true;
  }
  return path == "api.tokens" || path == "dns";
}

std::string where(std::string_view file, const YAML::Mark& m) {
  return std::string(file) + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

Error at(std::string_view file, const YAML::Node& n, std::string_view path, const std::string& what) {
  return Error(Code::InvalidArgument, where(file, n.Mark()) + ": " + std::string(path) + ": " + what);
}

std::string_view kind_of(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "nothing";
  }
}

// Parses one scalar's text into the field's type (shared by the file and the environment).
Result<void> assign_scalar(Config& c, const Field& f, const std::string& text) {
  auto bad = [&](std::string_view expected) {
    return Error(Code::InvalidArgument, "expected " + std::string(expected) + ", got '" + text + "'");
  };
  return std::visit(
      [&](auto member) -> Result<void> {
        using T = std::remove_reference_t<decltype(c.*member)>;
        if constexpr (std::is_same_v<T, std::string>) {
          c.*member = text;
        } else if constexpr (std::is_same_v<T, bool>) {
          std::string t = text;
          std::transform(t.begin(), t.end(), t.begin(), [](unsigned char ch) { return std::tolower(ch); });
          if (t == "true" || t == "yes" || t == "on" || t == "1")
            c.*member = true;
          else if (t == "false" || t == "no" || t == "off" || t == "0")
            c.*member = false;
          else
            return bad("true or false");
        } else if constexpr (std::is_same_v<T, int> || std::is_same_v<T, std::uint64_t>) {
          T v{};
          auto r = std::from_chars(text.data(), text.data() + text.size(), v);
          if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return bad("an integer");
          c.*member = v;
        } else if constexpr (std::is_same_v<T, double>) {
          double v{};
          auto r = std::from_chars(text.data(), text.data() + text.size(), v);
          if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return bad("a number");
          c.*member = v;
        } else if constexpr (std::is_same_v<T, StringList>) {
          // Environment form: comma-separated.
          StringList out;
          std::size_t start = 0;
          while (start <= text.size()) {
            auto comma = text.find(',', start);
            if (comma == std::string::npos) comma = text.size();
            std::string item = text.substr(start, comma - start);
            if (!item.empty()) out.push_back(item);
            start = comma + 1;
          }
          c.*member = std::move(out);
        } else if constexpr (std::is_same_v<T, StringMap>) {
          // Environment form: k=v,k2=v2.
          StringMap out;
          std::size_t start = 0;
          while (start < text.size()) {
            auto comma = text.find(',', start);
            if (comma == std::string::npos) comma = text.size();
            std::string item = text.substr(start, comma - start);
            auto eq = item.find('=');
            if (eq == std::string::npos || eq == 0) return bad("name=value pairs separated by commas");
            out[item.substr(0, eq)] = item.substr(eq + 1);
            start = comma + 1;
          }
          c.*member = std::move(out);
        }
        return ok();
      },
      f.target);
}

// YAML → JSON for sections handed to modules that read JSON (dns): scalars become numbers,
// booleans and null where they read as such, unless quoted.
core::json::Value yaml_to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      core::json::Value obj = core::json::Value::object();
      for (const auto& kv : n) obj[kv.first.Scalar()] = yaml_to_json(kv.second);
      return obj;
    }
    case YAML::NodeType::Sequence: {
      core::json::Value arr = core::json::Value::array();
      for (const auto& item : n) arr.push_back(yaml_to_json(item));
      return arr;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return core::json::Value(s);  // quoted: always a string
      if (s == "true" || s == "false") return core::json::Value(s == "true");
      if (s == "null" || s == "~") return core::json::Value();
      long long i = 0;
      if (auto r = std::from_chars(s.data(), s.data() + s.size(), i);
          r.ec == std::errc() && r.ptr == s.data() + s.size()) {
        return core::json::Value(i);
      }
      double d = 0;
      if (auto r = std::from_chars(s.data(), s.data() + s.size(), d);
          r.ec == std::errc() && r.ptr == s.data() + s.size()) {
        return core::json::Value(d);
      }
      return core::json::Value(s);
    }
    default: return core::json::Value();
  }
}

class FileReader {
 public:
  FileReader(std::string_view file, Config& c, std::vector<ConfigWarning>& w) : file_(file), c_(c), warnings_(w) {}

  Result<void> section(const YAML::Node& map, const std::string& prefix) {
    if (!map.IsMap()) {
      return at(file_, map, prefix.empty() ? "configuration" : prefix,
                "expected a mapping, got " + std::string(kind_of(map)));
    }
    for (const auto& kv : map) {
      const std::string key = kv.first.as<std::string>();
      const std::string path = prefix.empty() ? key : prefix + "." + key;
      const YAML::Node& value = kv.second;
      if (path == "api.tokens") {
        CST_TRY(tokens(value, path));
      } else if (path == "dns") {
        CST_TRY(dns(value));
      } else if (const Field* f = find_field(path)) {
        CST_TRY(field(*f, value, path));
      } else if (is_section(path)) {
        CST_TRY(section(value, path));
      } else {
        warnings_.push_back({where(file_, kv.first.Mark()), "unknown key '" + path + "' (ignored)"});
      }
    }
    return ok();
  }

 private:
  Result<void> field(const Field& f, const YAML::Node& value, const std::string& path) {
    if (std::holds_alternative<StringList Config::*>(f.target)) {
      if (value.IsNull()) return ok();
      if (!value.IsSequence()) return at(file_, value, path, "expected a list, got " + std::string(kind_of(value)));
      StringList out;
      for (const auto& item : value) {
        if (!item.IsScalar()) return at(file_, item, path, "list items must be scalars");
        out.push_back(item.Scalar());
      }
      c_.*std::get<StringList Config::*>(f.target) = std::move(out);
      return ok();
    }
    if (std::holds_alternative<StringMap Config::*>(f.target)) {
      if (value.IsNull()) return ok();
      if (!value.IsMap()) return at(file_, value, path, "expected a mapping, got " + std::string(kind_of(value)));
      StringMap out;
      for (const auto& kv : value) {
        if (!kv.second.IsScalar()) return at(file_, kv.second, path + "." + kv.first.Scalar(), "expected a scalar");
        out[kv.first.Scalar()] = kv.second.Scalar();
      }
      c_.*std::get<StringMap Config::*>(f.target) = std::move(out);
      return ok();
    }
    if (!value.IsScalar()) return at(file_, value, path, "expected a scalar, got " + std::string(kind_of(value)));
    auto r = assign_scalar(c_, f, value.Scalar());
    if (!r) return at(file_, value, path, r.error().message());
    return ok();
  }

  Result<void> tokens(const YAML::Node& list, const std::string& path) {
    if (list.IsNull()) return ok();
    if (!list.IsSequence()) return at(file_, list, path, "expected a list of {name, secret, role}");
    std::vector<ApiToken> out;
    std::size_t i = 0;
    for (const auto& item : list) {
      const std::string p = path + "[" + std::to_string(i++) + "]";
      if (!item.IsMap()) return at(file_, item, p, "expected a mapping with name, secret and role");
      ApiToken t;
      for (const auto& kv : item) {
        const std::string k = kv.first.Scalar();
        if (!kv.second.IsScalar()) return at(file_, kv.second, p + "." + k, "expected a scalar");
        const std::string& v = kv.second.Scalar();
        if (k == "name")
          t.name = v;
        else if (k == "secret")
          t.secret = v;
        else if (k == "role") {
          auto role = api::parse_role(v);
          if (!role) return at(file_, kv.second, p + ".role", role.error().message());
          t.role = *role;
        } else {
          warnings_.push_back({where(file_, kv.first.Mark()), "unknown key '" + p + "." + k + "' (ignored)"});
        }
      }
      if (t.name.empty()) return at(file_, item, p + ".name", "required field is missing");
      if (t.secret.empty()) return at(file_, item, p + ".secret", "required field is missing");
      out.push_back(std::move(t));
    }
    c_.api_tokens = std::move(out);
    return ok();
  }

  Result<void> dns(const YAML::Node& node) {
    if (node.IsNull()) return ok();
    if (!node.IsMap()) return at(file_, node, "dns", "expected a mapping, got " + std::string(kind_of(node)));
    if (auto e = node["enabled"]) {
      if (!e.IsScalar()) return at(file_, e, "dns.enabled", "expected true or false");
      const std::string& v = e.Scalar();
      if (v == "true")
        c_.dns_enabled = true;
      else if (v == "false")
        c_.dns_enabled = false;
      else
        return at(file_, e, "dns.enabled", "expected true or false, got '" + v + "'");
    }
    if (auto i = node["interval_seconds"]) {
      int v = 0;
      const std::string s = i.IsScalar() ? i.Scalar() : "";
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (!i.IsScalar() || r.ec != std::errc() || r.ptr != s.data() + s.size() || v < 5) {
        return at(file_, i, "dns.interval_seconds", "expected an integer of at least 5, got '" + s + "'");
      }
      c_.dns_interval_seconds = v;
    }
    core::json::Object rest;
    core::json::Value section = yaml_to_json(node);
    for (auto& [k, val] : section.as_object()) {
      if (k != "enabled" && k != "interval_seconds") rest.emplace_back(k, std::move(val));
    }
    c_.dns_json = core::json::serialize(core::json::Value(std::move(rest)));
    return ok();
  }

  std::string_view file_;
  Config& c_;
  std::vector<ConfigWarning>& warnings_;
};

}  // namespace

Result<Config> parse_config(std::string_view yaml, std::string_view file, std::vector<ConfigWarning>& warnings) {
  Config c;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Error(Code::InvalidArgument, where(file, e.mark) + ": invalid YAML: " + e.msg);
  }
  if (root.IsNull()) return c;  // an empty file means all defaults
  try {
    FileReader reader(file, c, warnings);
    CST_TRY(reader.section(root, ""));
  } catch (const YAML::Exception& e) {
    return Error(Code::InvalidArgument, where(file, e.mark) + ": " + e.msg);
  }
  return c;
}

Result<void> apply_environment(Config& config, const std::map<std::string, std::string>& env,
                               std::vector<ConfigWarning>& warnings) {
  for (const auto& [name, value] : env) {
    if (!name.starts_with("CONSTELLATION_")) continue;
    const Field* match = nullptr;
    for (const auto& f : fields()) {
      std::string var = "CONSTELLATION_";
      for (char ch : f.path)
        var.push_back(ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
      if (var == name) match = &f;
    }
    if (!match) {
      if (name != "CONSTELLATION_CONFIG")
        warnings.push_back({"environment", "unknown variable " + name + " (ignored)"});
      continue;
    }
    auto r = assign_scalar(config, *match, value);
    if (!r) return Error(Code::InvalidArgument, "environment variable " + name + ": " + r.error().message());
  }
  return ok();
}

Result<void> validate(const Config& c) {
  auto bad = [](std::string_view field, const std::string& what) {
    return Error(Code::InvalidArgument, std::string(field) + ": " + what);
  };
  if (c.data_dir.empty()) return bad("node.data_dir", "must not be empty");
  for (const auto& [net, addr] : c.addresses) {
    if (addr.starts_with("iface:") && addr.size() > 6) continue;  // an interface's address, resolved at start
    if (auto ip = io::net::IpAddress::parse(addr); !ip) return bad("node.addresses." + net, ip.error().message());
  }
  struct Listen {
    std::string_view field;
    const std::string& value;
  };
  for (const Listen& l :
       {Listen{"gossip.bind", c.gossip_bind}, Listen{"raft.bind", c.raft_bind}, Listen{"api.listen", c.api_listen}}) {
    if (auto e = io::net::Endpoint::parse_listen(l.value); !e) return bad(l.field, e.error().message());
  }
  for (const Listen& l : {Listen{"gossip.advertise", c.gossip_advertise}, Listen{"raft.advertise", c.raft_advertise}}) {
    if (l.value.empty()) continue;
    if (auto e = io::net::Endpoint::parse(l.value); !e) return bad(l.field, e.error().message());
  }
  for (std::size_t i = 0; i < c.join.size(); ++i) {
    if (auto e = io::net::Endpoint::parse(c.join[i], 7946); !e) {
      return bad("gossip.join[" + std::to_string(i) + "]", e.error().message());
    }
  }
  if (c.gossip_profile != "lan" && c.gossip_profile != "fast") {
    return bad("gossip.profile", "expected lan or fast, got '" + c.gossip_profile + "'");
  }
  if (c.raft_voters.size() > 7) {
    return bad("raft.voters", "at most 7 voters, got " + std::to_string(c.raft_voters.size()));
  }
  for (std::size_t i = 0; i < c.raft_voters.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (c.raft_voters[i] == c.raft_voters[j]) {
        return bad("raft.voters[" + std::to_string(i) + "]", "'" + c.raft_voters[i] + "' is listed twice");
      }
    }
  }
  if (c.raft_voters.size() > 1 && c.raft_key.size() < 16) {
    return bad("raft.key", "a cluster with more than one voter needs a key of at least 16 characters");
  }
  if (c.raft_profile != "default" && c.raft_profile != "fast") {
    return bad("raft.profile", "expected default or fast, got '" + c.raft_profile + "'");
  }
  if (c.api_tls_cert.empty() != c.api_tls_key.empty()) {
    return bad(c.api_tls_cert.empty() ? "api.tls.cert" : "api.tls.key", "api.tls.cert and api.tls.key go together");
  }
  if (!c.api_tls_client_ca.empty() && c.api_tls_cert.empty()) {
    return bad("api.tls.client_ca", "client certificates need api.tls.cert and api.tls.key");
  }
  for (std::size_t i = 0; i < c.api_tokens.size(); ++i) {
    const auto& t = c.api_tokens[i];
    const std::string p = "api.tokens[" + std::to_string(i) + "]";
    if (t.secret.starts_with("sha256:")) {
      auto hex = std::string_view(t.secret).substr(7);
      bool okhex = hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char ch) {
                     return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
                   });
      if (!okhex) return bad(p + ".secret", "sha256: must be followed by 64 lower-case hex digits");
    } else if (t.secret.size() < 16) {
      return bad(p + ".secret", "a token must be at least 16 characters");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (c.api_tokens[j].name == t.name) return bad(p + ".name", "duplicate token name '" + t.name + "'");
    }
  }
  if (c.api_tokens.empty()) {
    auto e = io::net::Endpoint::parse_listen(c.api_listen);
    auto ip = e ? e->ip() : Result<io::net::IpAddress>(Error(Code::InvalidArgument, ""));
    if (!ip || !ip->is_loopback()) {
      return bad("api.tokens",
                 "an API listening on " + c.api_listen +
                     " (not loopback) needs at least one token: anyone who can reach it could act as admin");
    }
  }
  if (c.api_max_body_bytes < 1024) return bad("api.max_body_bytes", "must be at least 1024");
  if (c.api_rate_limit <= 0 || c.api_rate_burst < 1)
    return bad("api.rate_limit", "must be positive (and rate_burst >= 1)");
  if (c.services_runtime != "process" && c.services_runtime != "docker") {
    return bad("services.runtime", "expected process or docker, got '" + c.services_runtime + "'");
  }
  if (c.traefik_version != "v2" && c.traefik_version != "v3") {
    return bad("traefik.version", "expected v2 or v3, got '" + c.traefik_version + "'");
  }
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" && c.log_level != "error") {
    return bad("log.level", "expected debug, info, warn or error, got '" + c.log_level + "'");
  }
  return ok();
}

}  // namespace constellation::agent
