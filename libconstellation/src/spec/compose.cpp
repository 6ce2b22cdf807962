// SPDX-License-Identifier: Apache-2.0
#include "spec/compose.hpp"

#include "catalog/addresses.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <set>
#include <unordered_set>

namespace constellation::spec {

namespace {

// Thrown (and caught in parse_compose) when a document exceeds its node budget.
struct BudgetExceeded {};

struct Entry {
  std::string key;
  YAML::Mark key_mark;
  YAML::Node value;
};

const char* type_word(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Undefined: return "nothing";
  }
  return "unknown";
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reading context for one file: diagnostics, interpolation, the node budget.
class Ctx {
 public:
  Ctx(std::string_view file, const Variables& vars, std::vector<Diagnostic>& diags, std::size_t budget)
      : file_(file), vars_(vars), diags_(diags), budget_(budget) {}

  void error(const YAML::Mark& m, std::string field, std::string message) {
    add(Severity::Error, m, std::move(field), std::move(message));
  }
  void warn(const YAML::Mark& m, std::string field, std::string message) {
    add(Severity::Warning, m, std::move(field), std::move(message));
  }
  bool ok() const { return errors_ == 0; }
  const std::string& file() const { return file_; }

  void spend() {
    if (budget_ == 0) throw BudgetExceeded{};
    --budget_;
  }

  // Mark for a value: its own, or its key's when the value has none (null values).
  static YAML::Mark where(const Entry& e) {
    auto m = e.value.Mark();
    return (m.is_null() || e.value.IsNull()) ? e.key_mark : m;
  }

  // The entries of a mapping, with "<<" merge keys expanded (explicit keys win, then merged
  // mappings in order) and duplicate keys reported. nullopt (after an error) if not a mapping.
  std::optional<std::vector<Entry>> mapping(const YAML::Node& n, const YAML::Mark& m, const std::string& field,
                                            int depth = 0) {
    spend();
    if (!n.IsMap()) {
      error(m, field, std::string("expected a mapping, got ") + type_word(n));
      return std::nullopt;
    }
    if (depth > 8) {
      error(m, field, "merge keys nested too deeply");
      return std::nullopt;
    }
    std::vector<Entry> explicit_entries;
    std::vector<Entry> merged;
    std::map<std::string, int> seen_line;
    for (auto it = n.begin(); it != n.end(); ++it) {
      spend();
      // Copies: yaml-cpp's iterator yields a temporary proxy, a reference into it would dangle.
      const YAML::Node k = it->first;
      if (!k.IsScalar()) {
        error(k.Mark(), field, std::string("mapping keys must be strings, got ") + type_word(k));
        continue;
      }
      std::string key = k.Scalar();
      if (key == "<<" && k.Tag() == "?") {
        const YAML::Node v = it->second;
        std::vector<YAML::Node> sources;
        if (v.IsSequence()) {
          for (auto s = v.begin(); s != v.end(); ++s) sources.push_back(*s);
        } else {
          sources.push_back(v);
        }
        for (const auto& src : sources) {
          auto sub = mapping(src, src.Mark().is_null() ? k.Mark() : src.Mark(), field + ".<<", depth + 1);
          if (!sub) continue;
          for (auto& e : *sub) merged.push_back(std::move(e));
        }
        continue;
      }
      auto [pos, inserted] = seen_line.emplace(key, k.Mark().line + 1);
      if (!inserted) {
        error(k.Mark(), join(field, key), "duplicate key (first defined on line " + std::to_string(pos->second) + ")");
        continue;
      }
      explicit_entries.push_back({std::move(key), k.Mark(), it->second});
    }
    for (auto& e : merged) {
      if (seen_line.emplace(e.key, e.key_mark.line + 1).second) explicit_entries.push_back(std::move(e));
    }
    return explicit_entries;
  }

  // A scalar as interpolated text. Numbers and booleans are returned as written.
  std::optional<std::string> string(const YAML::Node& n, const YAML::Mark& m, const std::string& field,
                                    bool allow_null = false) {
    spend();
    if (n.IsNull() && allow_null) return std::string();
    if (!n.IsScalar()) {
      error(m, field, std::string("expected a string, got ") + type_word(n));
      return std::nullopt;
    }
    return interpolate_at(n.Scalar(), m, field);
  }

  std::optional<std::string> interpolate_at(const std::string& raw, const YAML::Mark& m, const std::string& field) {
    auto r = interpolate(raw, vars_);
    if (failed(r)) {
      error(m, field, std::get<1>(r));
      return std::nullopt;
    }
    for (const auto& name : std::get<0>(r).unset) {
      if (warned_vars_.insert(name).second) {
        warn(m, field, "variable " + name + " is not set; substituting an empty string");
      }
    }
    return std::move(std::get<0>(r).value);
  }

  std::optional<std::int64_t> integer(const YAML::Node& n, const YAML::Mark& m, const std::string& field,
                                      std::int64_t min, std::int64_t max) {
    auto s = string(n, m, field);
    if (!s) return std::nullopt;
    std::string_view v = *s;
    bool neg = !v.empty() && v.front() == '-';
    if (!v.empty() && (v.front() == '+' || neg)) v.remove_prefix(1);
    if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      error(m, field, "expected an integer, got '" + *s + "'");
      return std::nullopt;
    }
    std::int64_t x = 0;
    for (char c : v) x = x * 10 + (c - '0');
    if (neg) x = -x;
    if (x < min || x > max) {
      error(m, field, std::to_string(x) + " is out of range (" + std::to_string(min) + "-" + std::to_string(max) + ")");
      return std::nullopt;
    }
    return x;
  }

  std::optional<bool> boolean(const YAML::Node& n, const YAML::Mark& m, const std::string& field) {
    auto s = string(n, m, field);
    if (!s) return std::nullopt;
    auto l = lower(*s);
    if (l == "true" || l == "yes" || l == "on") return true;
    if (l == "false" || l == "no" || l == "off") return false;
    error(m, field, "expected true or false, got '" + *s + "'");
    return std::nullopt;
  }

  std::optional<core::Duration> duration(const YAML::Node& n, const YAML::Mark& m, const std::string& field) {
    if (n.IsScalar() && n.Tag() == "?" && !n.Scalar().empty() &&
        std::all_of(n.Scalar().begin(), n.Scalar().end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        n.Scalar() != "0") {
      error(m, field, "expected a duration with a unit (e.g. '" + n.Scalar() + "s'), got the number " + n.Scalar());
      return std::nullopt;
    }
    auto s = string(n, m, field);
    if (!s) return std::nullopt;
    auto d = parse_duration(*s);
    if (failed(d)) {
      error(m, field, std::get<1>(d));
      return std::nullopt;
    }
    return std::get<0>(d);
  }

  // A list of strings, or (when allow_string) a single string. `split` splits a single string
  // into words as a shell would (command, entrypoint).
  std::optional<std::vector<std::string>> strings(const YAML::Node& n, const YAML::Mark& m, const std::string& field,
                                                  bool allow_string, bool split = false) {
    spend();
    std::vector<std::string> out;
    if (n.IsScalar() && allow_string) {
      auto s = string(n, m, field);
      if (!s) return std::nullopt;
      if (!split) return std::vector<std::string>{*s};
      auto words = split_command(*s);
      if (failed(words)) {
        error(m, field, std::get<1>(words));
        return std::nullopt;
      }
      return std::get<0>(words);
    }
    if (!n.IsSequence()) {
      error(m, field, std::string(allow_string ? "expected a string or a list, got " : "expected a list, got ") +
                          type_word(n));
      return std::nullopt;
    }
    int i = 0;
    bool good = true;
    for (auto it = n.begin(); it != n.end(); ++it, ++i) {
      auto s = string(*it, it->Mark(), field + "[" + std::to_string(i) + "]");
      if (!s) {
        good = false;
        continue;
      }
      out.push_back(std::move(*s));
    }
    if (!good) return std::nullopt;
    return out;
  }

  // KEY=VALUE pairs as a mapping or a list ("KEY=VALUE", or "KEY" alone). For list items
  // without '=', `bare` decides: nullopt skips the key, otherwise its value.
  using BareFn = std::function<std::optional<std::string>(const std::string&)>;
  std::optional<std::map<std::string, std::string>> key_values(const YAML::Node& n, const YAML::Mark& m,
                                                               const std::string& field, const BareFn& bare,
                                                               bool reject_duplicates) {
    std::map<std::string, std::string> out;
    bool good = true;
    if (n.IsMap()) {
      auto entries = mapping(n, m, field);
      if (!entries) return std::nullopt;
      for (const auto& e : *entries) {
        std::string f = join(field, e.key);
        if (e.key.empty()) {
          error(e.key_mark, field, "empty key");
          good = false;
          continue;
        }
        if (e.value.IsNull()) {
          auto v = bare(e.key);
          if (v) out[e.key] = *v;
          continue;
        }
        auto v = string(e.value, where(e), f);
        if (!v) {
          good = false;
          continue;
        }
        out[e.key] = std::move(*v);
      }
    } else if (n.IsSequence()) {
      int i = 0;
      for (auto it = n.begin(); it != n.end(); ++it, ++i) {
        std::string f = field + "[" + std::to_string(i) + "]";
        auto s = string(*it, it->Mark(), f);
        if (!s) {
          good = false;
          continue;
        }
        auto eq = s->find('=');
        std::string key = s->substr(0, eq);
        if (key.empty()) {
          error(it->Mark(), f, "empty key in '" + *s + "'");
          good = false;
          continue;
        }
        if (reject_duplicates && out.count(key)) {
          error(it->Mark(), f, "duplicate key '" + key + "'");
          good = false;
          continue;
        }
        if (eq == std::string::npos) {
          auto v = bare(key);
          if (v) out[key] = *v;
        } else {
          out[key] = s->substr(eq + 1);
        }
      }
    } else {
      error(m, field, std::string("expected a mapping or a list, got ") + type_word(n));
      return std::nullopt;
    }
    if (!good) return std::nullopt;
    return out;
  }

  static std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

  const Variables& vars() const { return vars_; }

 private:
  void add(Severity s, const YAML::Mark& m, std::string field, std::string message) {
    Diagnostic d;
    d.severity = s;
    d.file = file_;
    if (!m.is_null()) {
      d.line = m.line + 1;
      d.column = m.column + 1;
    }
    d.field = std::move(field);
    d.message = std::move(message);
    if (s == Severity::Error) ++errors_;
    diags_.push_back(std::move(d));
  }

  std::string file_;
  const Variables& vars_;
  std::vector<Diagnostic>& diags_;
  std::size_t budget_;
  int errors_ = 0;
  std::set<std::string> warned_vars_;
};

// Keys of a compose service Constellation reads.
const std::unordered_set<std::string_view> kServiceKeysUsed = {
    "image", "command", "entrypoint", "environment", "env_file", "working_dir", "user", "hostname",
    "container_name", "ports", "expose", "volumes", "networks", "network_mode", "labels", "healthcheck",
    "restart", "depends_on", "deploy", "scale", "stop_signal", "stop_grace_period", "init", "profiles",
    "x-constellation"};
// Keys of the compose specification Constellation accepts and leaves to the engine or ignores
// without consequence for placement and health.
const std::unordered_set<std::string_view> kServiceKeysAccepted = {
    "annotations", "attach", "blkio_config", "cap_add", "cap_drop", "cgroup", "cgroup_parent", "cpu_count",
    "cpu_percent", "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpus", "cpuset",
    "device_cgroup_rules", "devices", "dns", "dns_opt", "dns_search", "domainname", "extra_hosts", "group_add",
    "ipc", "logging", "mac_address", "mem_limit", "mem_reservation", "mem_swappiness", "memswap_limit",
    "oom_kill_disable", "oom_score_adj", "pid", "pids_limit", "platform", "privileged", "pull_policy", "read_only",
    "security_opt", "shm_size", "stdin_open", "storage_opt", "sysctls", "tmpfs", "tty", "ulimits", "userns_mode",
    "uts", "runtime", "isolation", "gpus", "label_file", "post_start", "pre_stop", "use_api_socket"};
// Keys whose feature Constellation does not provide: a warning says it is ignored.
const std::unordered_set<std::string_view> kServiceKeysUnsupported = {
    "build", "configs", "secrets", "extends", "links", "external_links", "volumes_from", "credential_spec",
    "develop", "provider", "driver_opts"};

class ServiceReader {
 public:
  ServiceReader(Ctx& ctx, const ParseOptions& options, const std::string& project, std::string name,
                const YAML::Mark& mark)
      : c_(ctx), options_(options), field_("services." + name) {
    s_.project = project;
    s_.name = std::move(name);
    s_.file = ctx.file();
    s_.line = mark.line + 1;
  }

  struct Defaults {
    std::optional<Runtime> runtime;
    std::vector<std::string> networks;
  };

  std::optional<ServiceSpec> read(const std::vector<Entry>& entries, const Defaults& defaults,
                                  const std::set<std::string>& declared_networks,
                                  const std::set<std::string>& declared_volumes) {
    const Entry* xc = nullptr;
    const Entry* restart_entry = nullptr;
    const Entry* deploy = nullptr;
    std::map<std::string, std::string> env_from_files;
    std::map<std::string, std::string> env;
    bool has_env = false;
    std::optional<RestartSpec> restart_from_deploy;
    std::map<std::string, std::string> deploy_labels;

    for (const auto& e : entries) {
      const std::string f = field_ + "." + e.key;
      const auto m = Ctx::where(e);
      const auto& v = e.value;
      const std::string& k = e.key;
      if (k == "image") {
        image_written_ = true;
        if (auto x = c_.string(v, m, f)) s_.image = *x;
      } else if (k == "command") {
        if (!v.IsNull()) {
          if (auto x = c_.strings(v, m, f, true, true)) s_.command = *x;
        }
      } else if (k == "entrypoint") {
        if (!v.IsNull()) {
          if (auto x = c_.strings(v, m, f, true, true)) s_.entrypoint = *x;
        }
      } else if (k == "environment") {
        has_env = true;
        auto bare = [&](const std::string& key) -> std::optional<std::string> {
          auto it = c_.vars().find(key);
          if (it == c_.vars().end()) return std::nullopt;
          return it->second;
        };
        if (auto x = c_.key_values(v, m, f, bare, true)) env = *x;
      } else if (k == "env_file") {
        read_env_files(v, m, f, env_from_files);
      } else if (k == "working_dir") {
        if (auto x = c_.string(v, m, f)) s_.working_dir = *x;
      } else if (k == "user") {
        if (auto x = c_.string(v, m, f)) s_.user = *x;
      } else if (k == "hostname") {
        if (auto x = c_.string(v, m, f)) s_.hostname = *x;
      } else if (k == "container_name") {
        if (auto x = c_.string(v, m, f)) s_.container_name = *x;
      } else if (k == "ports") {
        read_ports(v, m, f, s_.ports, false);
      } else if (k == "expose") {
        read_ports(v, m, f, s_.expose, true);
      } else if (k == "volumes") {
        read_volumes(v, m, f, declared_volumes);
      } else if (k == "networks") {
        read_networks(v, m, f, declared_networks);
      } else if (k == "network_mode") {
        if (auto x = c_.string(v, m, f)) s_.network_mode = *x;
      } else if (k == "labels") {
        auto bare = [](const std::string&) -> std::optional<std::string> { return std::string(); };
        if (auto x = c_.key_values(v, m, f, bare, true)) s_.labels = *x;
      } else if (k == "healthcheck") {
        read_healthcheck(v, m, f);
      } else if (k == "restart") {
        restart_entry = &e;
      } else if (k == "depends_on") {
        read_depends_on(v, m, f);
      } else if (k == "deploy") {
        deploy = &e;
      } else if (k == "scale") {
        if (auto x = c_.integer(v, m, f, 0, 1000)) s_.replicas = static_cast<int>(*x);
      } else if (k == "stop_signal") {
        if (auto x = c_.string(v, m, f)) {
          s_.stop_signal = *x;
          if (!valid_signal(*x)) c_.error(m, f, "unknown signal '" + *x + "'");
        }
      } else if (k == "stop_grace_period") {
        if (auto x = c_.duration(v, m, f)) s_.stop_grace_period = *x;
      } else if (k == "init") {
        if (auto x = c_.boolean(v, m, f)) s_.init = *x;
      } else if (k == "profiles") {
        if (auto x = c_.strings(v, m, f, false)) s_.profiles = *x;
      } else if (k == "x-constellation") {
        xc = &e;
      } else if (k.rfind("x-", 0) == 0 || kServiceKeysAccepted.count(k)) {
        // Extensions and engine options: accepted as they are.
      } else if (kServiceKeysUnsupported.count(k)) {
        c_.warn(e.key_mark, f, "not supported by Constellation; ignored");
      } else {
        c_.warn(e.key_mark, f, "unknown key; ignored");
      }
    }

    if (deploy) read_deploy(*deploy, restart_from_deploy, deploy_labels);
    if (restart_entry) {
      read_restart(*restart_entry);
    } else if (restart_from_deploy) {
      s_.restart = *restart_from_deploy;
    }
    for (auto& [key, value] : deploy_labels) {
      auto it = s_.labels.find(key);
      if (it != s_.labels.end() && it->second != value) {
        c_.warn(deploy->key_mark, field_ + ".deploy.labels." + key, "overrides the service label of the same name");
      }
      s_.labels[key] = value;
    }
    s_.environment = std::move(env_from_files);
    for (auto& [key, value] : env) s_.environment[key] = std::move(value);
    (void)has_env;

    // Defaults from the top-level extension, then the service's own extension.
    if (defaults.runtime) s_.runtime = *defaults.runtime;
    s_.cluster_networks = defaults.networks;
    bool explicit_runtime = defaults.runtime.has_value();
    if (xc) explicit_runtime |= read_extension(*xc);
    if (!explicit_runtime) s_.runtime = s_.image.empty() && !s_.command.empty() ? Runtime::Process : Runtime::Docker;
    s_.restart.on_unhealthy = s_.restart.on_unhealthy || (restart_on_unhealthy_default_ &&
                                                          s_.restart.condition != RestartCondition::No);

    if (s_.networks.empty() && s_.network_mode.empty()) s_.networks["default"] = {};
    if (!s_.network_mode.empty() && has_networks_) {
      c_.error(service_mark_, field_ + ".network_mode", "cannot be combined with networks");
    }
    if (s_.runtime == Runtime::Docker && s_.image.empty() && !image_written_) {
      c_.error(service_mark_, field_,
               "missing required field 'image' (the docker runtime runs images; Constellation does not build them — "
               "or set x-constellation.runtime: process with a command)");
    }
    if (s_.runtime == Runtime::Process && s_.command.empty() && s_.entrypoint.empty()) {
      c_.error(service_mark_, field_, "missing required field 'command' (the process runtime runs a command)");
    }
    if (s_.placement.singleton && s_.replicas > 1) {
      c_.error(service_mark_, field_ + ".x-constellation.placement.singleton",
               "a singleton cannot have " + std::to_string(s_.replicas) + " replicas");
    }
    if (s_.placement.singleton && s_.placement.global) {
      c_.error(service_mark_, field_ + ".x-constellation.placement.singleton", "a singleton cannot be global");
    }
    add_healthcheck_as_check();
    return s_;
  }

  void set_service_mark(const YAML::Mark& m) { service_mark_ = m; }

 private:
  static bool valid_signal(std::string_view s) {
    static const std::unordered_set<std::string_view> kSignals = {
        "SIGTERM", "SIGINT", "SIGQUIT", "SIGKILL", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGSTOP",
        "TERM", "INT", "QUIT", "KILL", "HUP", "USR1", "USR2", "WINCH"};
    return kSignals.count(s) > 0;
  }

  void read_env_files(const YAML::Node& v, const YAML::Mark& m, const std::string& f,
                      std::map<std::string, std::string>& env) {
    struct Ref {
      std::string path;
      bool required = true;
      YAML::Mark mark;
      std::string field;
    };
    std::vector<Ref> refs;
    if (v.IsScalar()) {
      if (auto p = c_.string(v, m, f)) refs.push_back({*p, true, m, f});
    } else if (v.IsSequence()) {
      int i = 0;
      for (auto it = v.begin(); it != v.end(); ++it, ++i) {
        std::string fi = f + "[" + std::to_string(i) + "]";
        if (it->IsMap()) {
          auto entries = c_.mapping(*it, it->Mark(), fi);
          if (!entries) continue;
          Ref r{"", true, it->Mark(), fi};
          for (const auto& e : *entries) {
            if (e.key == "path") {
              if (auto p = c_.string(e.value, Ctx::where(e), fi + ".path")) r.path = *p;
            } else if (e.key == "required") {
              if (auto b = c_.boolean(e.value, Ctx::where(e), fi + ".required")) r.required = *b;
            } else if (e.key == "format") {
              // "raw" or the default; both read as KEY=VALUE here.
            } else {
              c_.warn(e.key_mark, fi + "." + e.key, "unknown key; ignored");
            }
          }
          if (r.path.empty()) {
            c_.error(it->Mark(), fi, "missing required field 'path'");
            continue;
          }
          refs.push_back(std::move(r));
        } else if (auto p = c_.string(*it, it->Mark(), fi)) {
          refs.push_back({*p, true, it->Mark(), fi});
        }
      }
    } else {
      c_.error(m, f, std::string("expected a string or a list, got ") + type_word(v));
      return;
    }
    for (const auto& r : refs) {
      s_.env_files.push_back(r.path);
      std::optional<std::string> text;
      if (options_.env_file_reader) text = options_.env_file_reader(r.path);
      if (!text) {
        if (r.required) c_.error(r.mark, r.field, "env file '" + r.path + "' not found");
        continue;
      }
      std::vector<EnvFileIssue> issues;
      auto vars = parse_env_file(*text, issues);
      for (const auto& issue : issues) {
        c_.error(r.mark, r.field, r.path + ":" + std::to_string(issue.line) + ": " + issue.message);
      }
      for (auto& [key, value] : vars) env[key] = std::move(value);
    }
  }

  void read_ports(const YAML::Node& v, const YAML::Mark& m, const std::string& f, std::vector<PortSpec>& out,
                  bool expose) {
    if (!v.IsSequence()) {
      c_.error(m, f, std::string("expected a list, got ") + type_word(v));
      return;
    }
    int i = 0;
    for (auto it = v.begin(); it != v.end(); ++it, ++i) {
      c_.spend();
      std::string fi = f + "[" + std::to_string(i) + "]";
      if (it->IsMap() && !expose) {
        read_port_long(*it, fi, out);
        continue;
      }
      auto s = c_.string(*it, it->Mark(), fi);
      if (!s) continue;
      auto p = parse_port_short(*s);
      if (failed(p)) {
        c_.error(it->Mark(), fi, std::get<1>(p));
        continue;
      }
      auto& port = std::get<0>(p);
      if (expose && (port.published != 0 || !port.host_ip.empty())) {
        c_.error(it->Mark(), fi, "expose takes container ports only, got '" + *s + "'");
        continue;
      }
      out.push_back(std::move(port));
    }
  }

  void read_port_long(const YAML::Node& n, const std::string& f, std::vector<PortSpec>& out) {
    auto entries = c_.mapping(n, n.Mark(), f);
    if (!entries) return;
    PortSpec p;
    bool good = true;
    bool has_target = false;
    for (const auto& e : *entries) {
      std::string fk = f + "." + e.key;
      auto m = Ctx::where(e);
      if (e.key == "target") {
        auto t = c_.integer(e.value, m, fk, 1, 65535);
        if (!t) {
          good = false;
          continue;
        }
        p.target = p.target_end = static_cast<std::uint16_t>(*t);
        has_target = true;
      } else if (e.key == "published") {
        auto s = c_.string(e.value, m, fk);
        if (!s) {
          good = false;
          continue;
        }
        if (s->empty()) continue;
        auto r = parse_port_range(*s);
        if (failed(r)) {
          c_.error(m, fk, std::get<1>(r));
          good = false;
          continue;
        }
        p.published = std::get<0>(r).first;
        p.published_end = std::get<0>(r).second;
      } else if (e.key == "host_ip") {
        auto s = c_.string(e.value, m, fk);
        if (!s || !catalog::is_ip(*s)) {
          if (s) c_.error(m, fk, "invalid IP address '" + *s + "'");
          good = false;
          continue;
        }
        p.host_ip = *s;
      } else if (e.key == "protocol") {
        auto s = c_.string(e.value, m, fk);
        if (!s) {
          good = false;
          continue;
        }
        auto l = lower(*s);
        if (l != "tcp" && l != "udp" && l != "sctp") {
          c_.error(m, fk, "unknown protocol '" + *s + "' (tcp, udp or sctp)");
          good = false;
          continue;
        }
        p.protocol = l;
      } else if (e.key == "mode") {
        auto s = c_.string(e.value, m, fk);
        if (!s) {
          good = false;
          continue;
        }
        if (*s != "host" && *s != "ingress") {
          c_.error(m, fk, "unknown mode '" + *s + "' (host or ingress)");
          good = false;
          continue;
        }
        p.mode = *s;
      } else if (e.key == "name") {
        if (auto s = c_.string(e.value, m, fk)) p.name = *s;
      } else if (e.key == "app_protocol") {
        if (auto s = c_.string(e.value, m, fk)) p.app_protocol = *s;
      } else if (e.key.rfind("x-", 0) != 0) {
        c_.warn(e.key_mark, fk, "unknown key; ignored");
      }
    }
    if (!has_target) {
      c_.error(n.Mark(), f, "missing required field 'target'");
      return;
    }
    if (good) out.push_back(std::move(p));
  }

  void read_volumes(const YAML::Node& v, const YAML::Mark& m, const std::string& f,
                    const std::set<std::string>& declared) {
    if (!v.IsSequence()) {
      c_.error(m, f, std::string("expected a list, got ") + type_word(v));
      return;
    }
    int i = 0;
    for (auto it = v.begin(); it != v.end(); ++it, ++i) {
      c_.spend();
      std::string fi = f + "[" + std::to_string(i) + "]";
      VolumeSpec vol;
      if (it->IsMap()) {
        auto parsed = read_volume_long(*it, fi);
        if (!parsed) continue;
        vol = std::move(*parsed);
      } else {
        auto s = c_.string(*it, it->Mark(), fi);
        if (!s) continue;
        auto p = parse_volume_short(*s);
        if (failed(p)) {
          c_.error(it->Mark(), fi, std::get<1>(p));
          continue;
        }
        vol = std::move(std::get<0>(p));
      }
      if (vol.type == "volume" && !vol.source.empty() && !declared.count(vol.source)) {
        c_.error(it->Mark(), fi, "volume '" + vol.source + "' is not declared under the top-level volumes");
        continue;
      }
      s_.volumes.push_back(std::move(vol));
    }
  }

  std::optional<VolumeSpec> read_volume_long(const YAML::Node& n, const std::string& f) {
    auto entries = c_.mapping(n, n.Mark(), f);
    if (!entries) return std::nullopt;
    VolumeSpec v;
    for (const auto& e : *entries) {
      std::string fk = f + "." + e.key;
      auto m = Ctx::where(e);
      if (e.key == "type") {
        if (auto s = c_.string(e.value, m, fk)) {
          if (*s != "bind" && *s != "volume" && *s != "tmpfs") {
            c_.error(m, fk, "unsupported volume type '" + *s + "' (bind, volume or tmpfs)");
            return std::nullopt;
          }
          v.type = *s;
        }
      } else if (e.key == "source") {
        if (auto s = c_.string(e.value, m, fk)) v.source = *s;
      } else if (e.key == "target") {
        if (auto s = c_.string(e.value, m, fk)) v.target = *s;
      } else if (e.key == "read_only") {
        if (auto b = c_.boolean(e.value, m, fk)) v.read_only = *b;
      } else if (e.key == "bind" || e.key == "volume" || e.key == "tmpfs" || e.key == "consistency" ||
                 e.key == "image" || e.key.rfind("x-", 0) == 0) {
        // Engine options, passed over.
      } else {
        c_.warn(e.key_mark, fk, "unknown key; ignored");
      }
    }
    if (v.type.empty()) {
      c_.error(n.Mark(), f, "missing required field 'type'");
      return std::nullopt;
    }
    if (v.target.empty() || v.target.front() != '/') {
      c_.error(n.Mark(), f, v.target.empty() ? "missing required field 'target'" : "target must be an absolute path");
      return std::nullopt;
    }
    if (v.type == "bind" && v.source.empty()) {
      c_.error(n.Mark(), f, "a bind mount needs a source");
      return std::nullopt;
    }
    return v;
  }

  void read_networks(const YAML::Node& v, const YAML::Mark& m, const std::string& f,
                     const std::set<std::string>& declared) {
    has_networks_ = true;
    auto check = [&](const std::string& name, const YAML::Mark& at, const std::string& fi) {
      if (name != "default" && !declared.count(name)) {
        c_.error(at, fi, "network '" + name + "' is not declared under the top-level networks");
        return false;
      }
      return true;
    };
    if (v.IsSequence()) {
      int i = 0;
      for (auto it = v.begin(); it != v.end(); ++it, ++i) {
        std::string fi = f + "[" + std::to_string(i) + "]";
        auto s = c_.string(*it, it->Mark(), fi);
        if (s && check(*s, it->Mark(), fi)) s_.networks[*s] = {};
      }
      return;
    }
    auto entries = c_.mapping(v, m, f);
    if (!entries) return;
    for (const auto& e : *entries) {
      std::string fk = f + "." + e.key;
      if (!check(e.key, e.key_mark, fk)) continue;
      NetworkAttachment a;
      if (!e.value.IsNull()) {
        auto sub = c_.mapping(e.value, Ctx::where(e), fk);
        if (!sub) continue;
        for (const auto& x : *sub) {
          std::string fx = fk + "." + x.key;
          if (x.key == "aliases") {
            if (auto l = c_.strings(x.value, Ctx::where(x), fx, false)) a.aliases = *l;
          } else if (x.key == "ipv4_address" || x.key == "ipv6_address") {
            auto s = c_.string(x.value, Ctx::where(x), fx);
            if (!s) continue;
            bool valid = x.key == "ipv4_address" ? catalog::parse_ipv4(*s).has_value() : catalog::is_ipv6(*s);
            if (!valid) {
              c_.error(Ctx::where(x), fx, "invalid address '" + *s + "'");
              continue;
            }
            (x.key == "ipv4_address" ? a.ipv4_address : a.ipv6_address) = *s;
          } else if (x.key == "priority" || x.key == "link_local_ips" || x.key == "mac_address" ||
                     x.key == "driver_opts" || x.key == "gw_priority" || x.key.rfind("x-", 0) == 0) {
          } else {
            c_.warn(x.key_mark, fx, "unknown key; ignored");
          }
        }
      }
      s_.networks[e.key] = std::move(a);
    }
  }

  void read_healthcheck(const YAML::Node& v, const YAML::Mark& m, const std::string& f) {
    auto entries = c_.mapping(v, m, f);
    if (!entries) return;
    Healthcheck h;
    bool has_test = false;
    for (const auto& e : *entries) {
      std::string fk = f + "." + e.key;
      auto at = Ctx::where(e);
      if (e.key == "test") {
        has_test = true;
        if (e.value.IsScalar()) {
          auto s = c_.string(e.value, at, fk);
          if (!s) continue;
          if (s->empty()) {
            c_.error(at, fk, "empty test");
            continue;
          }
          h.test = {"CMD-SHELL", *s};
        } else {
          auto l = c_.strings(e.value, at, fk, false);
          if (!l) continue;
          if (l->empty()) {
            c_.error(at, fk, "empty test");
            continue;
          }
          const auto& kind = l->front();
          if (kind == "NONE") {
            h.disabled = true;
          } else if (kind == "CMD") {
            if (l->size() < 2) {
              c_.error(at, fk, "CMD needs a command");
              continue;
            }
            h.test = *l;
          } else if (kind == "CMD-SHELL") {
            if (l->size() != 2) {
              c_.error(at, fk, "CMD-SHELL takes exactly one command string");
              continue;
            }
            h.test = *l;
          } else {
            c_.error(at, fk, "a test list starts with NONE, CMD or CMD-SHELL, got '" + kind + "'");
          }
        }
      } else if (e.key == "interval") {
        if (auto d = c_.duration(e.value, at, fk)) h.interval = *d;
      } else if (e.key == "timeout") {
        if (auto d = c_.duration(e.value, at, fk)) h.timeout = *d;
      } else if (e.key == "start_period") {
        if (auto d = c_.duration(e.value, at, fk)) h.start_period = *d;
      } else if (e.key == "start_interval") {
        if (auto d = c_.duration(e.value, at, fk)) h.start_interval = *d;
      } else if (e.key == "retries") {
        if (auto n = c_.integer(e.value, at, fk, 0, 1000)) h.retries = static_cast<int>(*n);
      } else if (e.key == "disable") {
        if (auto b = c_.boolean(e.value, at, fk)) h.disabled = *b;
      } else if (e.key.rfind("x-", 0) != 0) {
        c_.warn(e.key_mark, fk, "unknown key; ignored");
      }
    }
    if (h.disabled) {
      h.test.clear();
    } else if (!has_test) {
      c_.error(m, f, "missing required field 'test'");
      return;
    }
    if (h.interval <= core::Duration(0)) c_.error(m, f + ".interval", "must be positive");
    if (h.timeout <= core::Duration(0)) c_.error(m, f + ".timeout", "must be positive");
    s_.healthcheck = h;
  }

  void read_restart(const Entry& e) {
    std::string f = field_ + ".restart";
    auto s = c_.string(e.value, Ctx::where(e), f);
    if (!s) return;
    RestartSpec r = s_.restart;
    r.max_attempts = 0;
    if (*s == "no" || *s == "false" || s->empty()) {
      r.condition = RestartCondition::No;
    } else if (*s == "always") {
      r.condition = RestartCondition::Always;
    } else if (*s == "unless-stopped") {
      r.condition = RestartCondition::UnlessStopped;
    } else if (s->rfind("on-failure", 0) == 0) {
      r.condition = RestartCondition::OnFailure;
      auto rest = s->substr(10);
      if (!rest.empty()) {
        bool digits = rest.size() > 1 && rest[0] == ':' &&
                      std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                      rest.size() < 8;
        if (!digits) {
          c_.error(Ctx::where(e), f, "invalid restart policy '" + *s + "' (on-failure[:max-retries])");
          return;
        }
        r.max_attempts = std::stoi(rest.substr(1));
      }
    } else {
      c_.error(Ctx::where(e), f, "invalid restart policy '" + *s + "' (no, always, on-failure[:N], unless-stopped)");
      return;
    }
    s_.restart = r;
  }

  void read_depends_on(const YAML::Node& v, const YAML::Mark& m, const std::string& f) {
    std::set<std::string> seen;
    auto add = [&](Dependency d, const YAML::Mark& at, const std::string& fi) {
      if (d.service == s_.name) {
        c_.error(at, fi, "a service cannot depend on itself");
        return;
      }
      if (!seen.insert(d.service).second) {
        c_.error(at, fi, "duplicate dependency '" + d.service + "'");
        return;
      }
      d.line = at.line + 1;
      d.column = at.column + 1;
      s_.depends_on.push_back(std::move(d));
    };
    if (v.IsSequence()) {
      int i = 0;
      for (auto it = v.begin(); it != v.end(); ++it, ++i) {
        std::string fi = f + "[" + std::to_string(i) + "]";
        if (auto s = c_.string(*it, it->Mark(), fi)) {
          Dependency d;
          d.service = *s;
          add(std::move(d), it->Mark(), fi);
        }
      }
      return;
    }
    auto entries = c_.mapping(v, m, f);
    if (!entries) return;
    for (const auto& e : *entries) {
      std::string fk = f + "." + e.key;
      Dependency d;
      d.service = e.key;
      if (!e.value.IsNull()) {
        auto sub = c_.mapping(e.value, Ctx::where(e), fk);
        if (!sub) continue;
        for (const auto& x : *sub) {
          std::string fx = fk + "." + x.key;
          auto at = Ctx::where(x);
          if (x.key == "condition") {
            auto s = c_.string(x.value, at, fx);
            if (!s) continue;
            if (*s == "service_started") d.condition = DependencyCondition::Started;
            else if (*s == "service_healthy") d.condition = DependencyCondition::Healthy;
            else if (*s == "service_completed_successfully") d.condition = DependencyCondition::CompletedSuccessfully;
            else c_.error(at, fx, "unknown condition '" + *s +
                                      "' (service_started, service_healthy or service_completed_successfully)");
          } else if (x.key == "required") {
            if (auto b = c_.boolean(x.value, at, fx)) d.required = *b;
          } else if (x.key == "restart") {
            if (auto b = c_.boolean(x.value, at, fx)) d.restart = *b;
          } else if (x.key.rfind("x-", 0) != 0) {
            c_.warn(x.key_mark, fx, "unknown key; ignored");
          }
        }
      }
      add(std::move(d), e.key_mark, fk);
    }
  }

  void read_deploy(const Entry& de, std::optional<RestartSpec>& restart, std::map<std::string, std::string>& labels) {
    std::string f = field_ + ".deploy";
    auto entries = c_.mapping(de.value, Ctx::where(de), f);
    if (!entries) return;
    for (const auto& e : *entries) {
      std::string fk = f + "." + e.key;
      auto at = Ctx::where(e);
      if (e.key == "replicas") {
        if (auto n = c_.integer(e.value, at, fk, 0, 1000)) s_.replicas = static_cast<int>(*n);
      } else if (e.key == "mode") {
        auto s = c_.string(e.value, at, fk);
        if (!s) continue;
        if (*s == "global") s_.placement.global = true;
        else if (*s != "replicated") c_.error(at, fk, "unknown mode '" + *s + "' (replicated or global)");
      } else if (e.key == "labels") {
        auto bare = [](const std::string&) -> std::optional<std::string> { return std::string(); };
        if (auto x = c_.key_values(e.value, at, fk, bare, true)) labels = *x;
      } else if (e.key == "restart_policy") {
        auto sub = c_.mapping(e.value, at, fk);
        if (!sub) continue;
        RestartSpec r = s_.restart;
        r.condition = RestartCondition::Always;  // compose's default condition is "any"
        for (const auto& x : *sub) {
          std::string fx = fk + "." + x.key;
          auto ax = Ctx::where(x);
          if (x.key == "condition") {
            auto s = c_.string(x.value, ax, fx);
            if (!s) continue;
            if (*s == "none") r.condition = RestartCondition::No;
            else if (*s == "on-failure") r.condition = RestartCondition::OnFailure;
            else if (*s == "any") r.condition = RestartCondition::Always;
            else c_.error(ax, fx, "unknown condition '" + *s + "' (none, on-failure or any)");
          } else if (x.key == "delay") {
            if (auto d = c_.duration(x.value, ax, fx)) r.backoff = *d;
          } else if (x.key == "max_attempts") {
            if (auto n = c_.integer(x.value, ax, fx, 0, 1000000)) r.max_attempts = static_cast<int>(*n);
          } else if (x.key == "window") {
            if (auto d = c_.duration(x.value, ax, fx)) r.reset_after = *d;
          } else if (x.key.rfind("x-", 0) != 0) {
            c_.warn(x.key_mark, fx, "unknown key; ignored");
          }
        }
        restart = r;
      } else if (e.key == "placement") {
        c_.warn(e.key_mark, fk, "swarm placement is ignored; use x-constellation.placement");
      } else if (e.key == "resources" || e.key == "update_config" || e.key == "rollback_config" ||
                 e.key == "endpoint_mode" || e.key.rfind("x-", 0) == 0) {
        // Engine or swarm options, passed over.
      } else {
        c_.warn(e.key_mark, fk, "unknown key; ignored");
      }
    }
  }

  // Returns true if the extension set the runtime explicitly.
  bool read_extension(const Entry& xe) {
    std::string f = field_ + ".x-constellation";
    auto entries = c_.mapping(xe.value, Ctx::where(xe), f);
    if (!entries) return false;
    bool runtime_set = false;
    for (const auto& e : *entries) {
      std::string fk = f + "." + e.key;
      auto at = Ctx::where(e);
      if (e.key == "runtime") {
        auto s = c_.string(e.value, at, fk);
        if (!s) continue;
        if (*s == "docker") s_.runtime = Runtime::Docker;
        else if (*s == "process") s_.runtime = Runtime::Process;
        else {
          c_.error(at, fk, "unknown runtime '" + *s + "' (docker or process)");
          continue;
        }
        runtime_set = true;
      } else if (e.key == "networks") {
        if (auto l = c_.strings(e.value, at, fk, false)) {
          s_.cluster_networks = *l;
          for (std::size_t i = 0; i < l->size(); ++i) {
            if (!network_name_ok((*l)[i])) {
              c_.error(at, fk + "[" + std::to_string(i) + "]", "invalid network name '" + (*l)[i] + "'");
            }
          }
        }
      } else if (e.key == "placement") {
        read_placement(e, fk);
      } else if (e.key == "checks") {
        read_checks(e, fk);
      } else if (e.key == "restart") {
        read_restart_extension(e, fk);
      } else if (e.key == "logs") {
        auto sub = c_.mapping(e.value, at, fk);
        if (!sub) continue;
        for (const auto& x : *sub) {
          std::string fx = fk + "." + x.key;
          if (x.key == "max_size") {
            auto s = c_.string(x.value, Ctx::where(x), fx);
            if (!s) continue;
            auto b = parse_byte_size(*s);
            if (failed(b)) c_.error(Ctx::where(x), fx, std::get<1>(b));
            else if (std::get<0>(b) < 4096) c_.error(Ctx::where(x), fx, "must be at least 4k");
            else s_.logs.max_bytes = std::get<0>(b);
          } else if (x.key == "max_files") {
            if (auto n = c_.integer(x.value, Ctx::where(x), fx, 1, 100)) s_.logs.max_files = static_cast<int>(*n);
          } else {
            c_.warn(x.key_mark, fx, "unknown key; ignored");
          }
        }
      } else {
        c_.warn(e.key_mark, fk, "unknown key; ignored");
      }
    }
    return runtime_set;
  }

  static bool network_name_ok(std::string_view n) {
    if (n.empty() || n.size() > 64) return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
  }

  void read_placement(const Entry& pe, const std::string& f) {
    auto entries = c_.mapping(pe.value, Ctx::where(pe), f);
    if (!entries) return;
    for (const auto& e : *entries) {
      std::string fk = f + "." + e.key;
      auto at = Ctx::where(e);
      if (e.key == "nodes") {
        if (auto l = c_.strings(e.value, at, fk, true)) s_.placement.nodes = *l;
      } else if (e.key == "tags") {
        if (auto l = c_.strings(e.value, at, fk, true)) s_.placement.tags = *l;
      } else if (e.key == "spread") {
        if (auto b = c_.boolean(e.value, at, fk)) s_.placement.spread = *b;
      } else if (e.key == "singleton") {
        if (auto b = c_.boolean(e.value, at, fk)) s_.placement.singleton = *b;
      } else {
        c_.warn(e.key_mark, fk, "unknown key; ignored");
      }
    }
  }

  void read_checks(const Entry& ce, const std::string& f) {
    const auto& v = ce.value;
    if (!v.IsSequence()) {
      c_.error(Ctx::where(ce), f, std::string("expected a list, got ") + type_word(v));
      return;
    }
    int i = 0;
    std::set<std::string> names;
    for (auto it = v.begin(); it != v.end(); ++it, ++i) {
      std::string fi = f + "[" + std::to_string(i) + "]";
      auto entries = c_.mapping(*it, it->Mark(), fi);
      if (!entries) continue;
      CheckSpec c;
      int kinds = 0;
      bool good = true;
      for (const auto& e : *entries) {
        std::string fk = fi + "." + e.key;
        auto at = Ctx::where(e);
        if (e.key == "name") {
          if (auto s = c_.string(e.value, at, fk)) c.name = *s;
        } else if (e.key == "http") {
          ++kinds;
          c.kind = CheckKind::Http;
          auto s = c_.string(e.value, at, fk);
          if (!s) {
            good = false;
            continue;
          }
          if (s->rfind("http://", 0) != 0 && s->rfind("https://", 0) != 0) {
            c_.error(at, fk, "expected an http:// or https:// URL, got '" + *s + "'");
            good = false;
          }
          c.target = *s;
        } else if (e.key == "tcp") {
          ++kinds;
          c.kind = CheckKind::Tcp;
          auto s = c_.string(e.value, at, fk);
          if (!s) {
            good = false;
            continue;
          }
          auto colon = s->rfind(':');
          bool port_ok = colon != std::string::npos && colon > 0;
          if (port_ok) {
            auto r = parse_port_range(s->substr(colon + 1));
            port_ok = !failed(r) && std::get<0>(r).first == std::get<0>(r).second;
          }
          if (!port_ok) {
            c_.error(at, fk, "expected host:port, got '" + *s + "'");
            good = false;
          }
          c.target = *s;
        } else if (e.key == "exec") {
          ++kinds;
          c.kind = CheckKind::Exec;
          auto l = c_.strings(e.value, at, fk, true, true);
          if (!l || l->empty()) {
            if (l) c_.error(at, fk, "empty command");
            good = false;
            continue;
          }
          c.command = *l;
        } else if (e.key == "container") {
          ++kinds;
          c.kind = CheckKind::Container;
          auto b = c_.boolean(e.value, at, fk);
          if (b && !*b) --kinds;
        } else if (e.key == "method") {
          if (auto s = c_.string(e.value, at, fk)) c.method = *s;
        } else if (e.key == "expect_status") {
          if (auto n = c_.integer(e.value, at, fk, 100, 599)) c.expect_status = static_cast<int>(*n);
        } else if (e.key == "expect_body") {
          if (auto s = c_.string(e.value, at, fk)) c.expect_body = *s;
        } else if (e.key == "interval") {
          if (auto d = c_.duration(e.value, at, fk)) c.interval = *d;
        } else if (e.key == "timeout") {
          if (auto d = c_.duration(e.value, at, fk)) c.timeout = *d;
        } else if (e.key == "start_period") {
          if (auto d = c_.duration(e.value, at, fk)) c.start_period = *d;
        } else if (e.key == "rise") {
          if (auto n = c_.integer(e.value, at, fk, 1, 100)) c.rise = static_cast<int>(*n);
        } else if (e.key == "fall") {
          if (auto n = c_.integer(e.value, at, fk, 1, 100)) c.fall = static_cast<int>(*n);
        } else {
          c_.warn(e.key_mark, fk, "unknown key; ignored");
        }
      }
      if (kinds != 1) {
        c_.error(it->Mark(), fi, kinds == 0 ? "a check needs one of http, tcp, exec or container"
                                            : "a check has exactly one of http, tcp, exec or container");
        continue;
      }
      if (c.interval <= core::Duration(0) || c.timeout <= core::Duration(0)) {
        c_.error(it->Mark(), fi, "interval and timeout must be positive");
        continue;
      }
      if (c.name.empty()) c.name = std::string(check_kind_name(c.kind)) + (i == 0 ? "" : "-" + std::to_string(i));
      if (!names.insert(c.name).second || c.name == "healthcheck") {
        c_.error(it->Mark(), fi + ".name", "duplicate check name '" + c.name + "'");
        continue;
      }
      if (good) s_.checks.push_back(std::move(c));
    }
  }

  void read_restart_extension(const Entry& re, const std::string& f) {
    auto entries = c_.mapping(re.value, Ctx::where(re), f);
    if (!entries) return;
    for (const auto& e : *entries) {
      std::string fk = f + "." + e.key;
      auto at = Ctx::where(e);
      if (e.key == "on_unhealthy") {
        if (auto b = c_.boolean(e.value, at, fk)) {
          s_.restart.on_unhealthy = *b;
          restart_on_unhealthy_default_ = false;
        }
      } else if (e.key == "backoff") {
        if (auto d = c_.duration(e.value, at, fk)) s_.restart.backoff = *d;
      } else if (e.key == "max_backoff") {
        if (auto d = c_.duration(e.value, at, fk)) s_.restart.max_backoff = *d;
      } else if (e.key == "limit") {
        if (auto n = c_.integer(e.value, at, fk, 0, 1000000)) s_.restart.limit = static_cast<int>(*n);
      } else if (e.key == "reset_after") {
        if (auto d = c_.duration(e.value, at, fk)) s_.restart.reset_after = *d;
      } else {
        c_.warn(e.key_mark, fk, "unknown key; ignored");
      }
    }
    if (s_.restart.max_backoff < s_.restart.backoff) {
      c_.error(Ctx::where(re), f + ".max_backoff", "is shorter than backoff");
    }
  }

  // The compose healthcheck becomes the first check: the engine's status for containers, the
  // test command itself for processes.
  void add_healthcheck_as_check() {
    if (!s_.healthcheck || s_.healthcheck->disabled) return;
    const auto& h = *s_.healthcheck;
    CheckSpec c;
    c.name = "healthcheck";
    c.interval = h.interval;
    c.timeout = h.timeout;
    c.start_period = h.start_period;
    c.fall = std::max(1, h.retries);
    c.rise = 1;
    if (s_.runtime == Runtime::Docker) {
      c.kind = CheckKind::Container;
    } else {
      c.kind = CheckKind::Exec;
      if (h.test.front() == "CMD-SHELL") c.command = {"/bin/sh", "-c", h.test[1]};
      else c.command.assign(h.test.begin() + 1, h.test.end());
    }
    s_.checks.insert(s_.checks.begin(), std::move(c));
  }

  Ctx& c_;
  const ParseOptions& options_;
  std::string field_;
  ServiceSpec s_;
  YAML::Mark service_mark_;
  bool has_networks_ = false;
  bool image_written_ = false;
  bool restart_on_unhealthy_default_ = true;
};

std::set<std::string> declared_names(Ctx& c, const YAML::Node& n, const YAML::Mark& m, const std::string& field) {
  std::set<std::string> out;
  if (n.IsNull()) return out;
  auto entries = c.mapping(n, m, field);
  if (!entries) return out;
  for (const auto& e : *entries) {
    if (!e.value.IsNull() && !e.value.IsMap()) {
      c.error(Ctx::where(e), field + "." + e.key, std::string("expected a mapping, got ") + type_word(e.value));
      continue;
    }
    out.insert(e.key);
  }
  return out;
}

void parse_document(Ctx& c, const YAML::Node& root, const ParseOptions& options, Project& project) {
  YAML::Mark top;
  top.line = 0;
  top.column = 0;
  if (root.IsNull() || !root.IsDefined()) {
    c.error(top, "", "the file is empty");
    return;
  }
  auto entries = c.mapping(root, root.Mark(), "");
  if (!entries) return;

  const Entry* services = nullptr;
  std::set<std::string> networks, volumes;
  ServiceReader::Defaults defaults;
  std::string name;
  YAML::Mark name_mark = top;
  for (const auto& e : *entries) {
    auto at = Ctx::where(e);
    if (e.key == "services") {
      services = &e;
    } else if (e.key == "name") {
      if (auto s = c.string(e.value, at, "name")) {
        name = *s;
        name_mark = at;
      }
    } else if (e.key == "version") {
      c.warn(e.key_mark, "version", "is obsolete and ignored");
    } else if (e.key == "networks") {
      networks = declared_names(c, e.value, at, "networks");
    } else if (e.key == "volumes") {
      volumes = declared_names(c, e.value, at, "volumes");
    } else if (e.key == "configs" || e.key == "secrets") {
      // Declarations only matter to services that use them, which are warned about.
    } else if (e.key == "include") {
      c.warn(e.key_mark, "include", "not supported by Constellation; put every file in the directory instead");
    } else if (e.key == "x-constellation") {
      auto sub = c.mapping(e.value, at, "x-constellation");
      if (!sub) continue;
      for (const auto& x : *sub) {
        std::string fx = "x-constellation." + x.key;
        if (x.key == "runtime") {
          auto s = c.string(x.value, Ctx::where(x), fx);
          if (!s) continue;
          if (*s == "docker") defaults.runtime = Runtime::Docker;
          else if (*s == "process") defaults.runtime = Runtime::Process;
          else c.error(Ctx::where(x), fx, "unknown runtime '" + *s + "' (docker or process)");
        } else if (x.key == "networks") {
          if (auto l = c.strings(x.value, Ctx::where(x), fx, false)) defaults.networks = *l;
        } else {
          c.warn(x.key_mark, fx, "unknown key; ignored");
        }
      }
    } else if (e.key.rfind("x-", 0) == 0) {
      // Extension fields (often anchors for reuse): allowed anywhere at the top.
    } else {
      c.warn(e.key_mark, e.key, "unknown top-level key; ignored");
    }
  }

  if (!name.empty()) {
    if (!valid_project_name(name)) {
      c.error(name_mark, "name",
              "invalid project name '" + name + "' (lower-case letters, digits, '-' and '_', starting with a letter or digit)");
    }
    project.name = name;
  } else {
    project.name = normalize_project_name(options.default_project);
    if (project.name.empty()) project.name = "default";
  }
  project.networks.assign(networks.begin(), networks.end());
  project.volumes.assign(volumes.begin(), volumes.end());

  if (!services) {
    c.error(top, "services", "missing required field 'services'");
    return;
  }
  if (services->value.IsNull()) {
    c.error(services->key_mark, "services", "is empty");
    return;
  }
  auto list = c.mapping(services->value, Ctx::where(*services), "services");
  if (!list) return;
  for (const auto& e : *list) {
    std::string field = "services." + e.key;
    if (!valid_service_name(e.key)) {
      c.error(e.key_mark, field,
              "invalid service name '" + e.key + "' (letters, digits, '_', '.' and '-', starting with a letter or digit)");
      continue;
    }
    if (e.value.IsNull()) {
      c.error(e.key_mark, field, "missing required field 'image' (the service is empty)");
      continue;
    }
    auto body = c.mapping(e.value, Ctx::where(e), field);
    if (!body) continue;
    ServiceReader r(c, options, project.name, e.key, e.key_mark);
    r.set_service_mark(e.key_mark);
    if (auto s = r.read(*body, defaults, networks, volumes)) project.services.push_back(std::move(*s));
  }
  std::sort(project.services.begin(), project.services.end(),
            [](const ServiceSpec& a, const ServiceSpec& b) { return a.name < b.name; });
}

}  // namespace

ParseResult parse_compose(std::string_view contents, std::string_view file, const Variables& vars,
                          const ParseOptions& options) {
  ParseResult result;
  Ctx c(file, vars, result.diagnostics, options.max_nodes);
  YAML::Mark top;
  if (contents.size() > options.max_bytes) {
    c.error(top, "", "file is " + std::to_string(contents.size()) + " bytes, more than the limit of " +
                         std::to_string(options.max_bytes));
    return result;
  }
  Project project;
  project.file = std::string(file);
  try {
    YAML::Node root = YAML::Load(std::string(contents));
    parse_document(c, root, options, project);
  } catch (const YAML::Exception& e) {
    c.error(e.mark, "", "invalid YAML: " + e.msg);
  } catch (const BudgetExceeded&) {
    c.error(top, "", "document too complex (more than " + std::to_string(options.max_nodes) +
                         " nodes after expanding aliases)");
  } catch (const std::exception& e) {
    c.error(top, "", std::string("cannot read the file: ") + e.what());
  }
  if (c.ok()) result.project = std::move(project);
  return result;
}

}  // namespace constellation::spec
