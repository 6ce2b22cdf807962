// SPDX-License-Identifier: Apache-2.0
#include "spec/dump.hpp"

namespace constellation::spec {

namespace {

using core::json::Writer;

std::string dur(core::Duration d) { return core::format_duration(d); }

void strings(Writer& w, std::string_view key, const std::vector<std::string>& v) {
  w.key(key).begin_array();
  for (const auto& s : v) w.value(s);
  w.end_array();
}

void string_map(Writer& w, std::string_view key, const std::map<std::string, std::string>& m) {
  w.key(key).begin_object();
  for (const auto& [k, v] : m) w.key(k).value(v);
  w.end_object();
}

void port(Writer& w, const PortSpec& p) {
  w.begin_object();
  w.key("target").value(static_cast<unsigned>(p.target));
  if (p.target_end != p.target) w.key("target_end").value(static_cast<unsigned>(p.target_end));
  w.key("published").value(static_cast<unsigned>(p.published));
  if (p.published_end != p.published) w.key("published_end").value(static_cast<unsigned>(p.published_end));
  w.key("protocol").value(p.protocol);
  if (!p.host_ip.empty()) w.key("host_ip").value(p.host_ip);
  if (!p.mode.empty()) w.key("mode").value(p.mode);
  if (!p.name.empty()) w.key("name").value(p.name);
  if (!p.app_protocol.empty()) w.key("app_protocol").value(p.app_protocol);
  w.end_object();
}

void runtime_identity(Writer& w, const ServiceSpec& s) {
  w.key("runtime").value(runtime_name(s.runtime));
  w.key("image").value(s.image);
  strings(w, "entrypoint", s.entrypoint);
  strings(w, "command", s.command);
  string_map(w, "environment", s.environment);
  w.key("working_dir").value(s.working_dir);
  w.key("user").value(s.user);
  w.key("hostname").value(s.hostname);
  w.key("ports").begin_array();
  for (const auto& p : s.ports) port(w, p);
  w.end_array();
  w.key("volumes").begin_array();
  for (const auto& v : s.volumes) {
    w.begin_object().key("type").value(v.type).key("source").value(v.source).key("target").value(v.target);
    w.key("read_only").value(v.read_only);
    if (!v.mode.empty()) w.key("mode").value(v.mode);
    w.end_object();
  }
  w.end_array();
  w.key("networks").begin_object();
  for (const auto& [name, a] : s.networks) {
    w.key(name).begin_object();
    strings(w, "aliases", a.aliases);
    if (!a.ipv4_address.empty()) w.key("ipv4_address").value(a.ipv4_address);
    if (!a.ipv6_address.empty()) w.key("ipv6_address").value(a.ipv6_address);
    w.end_object();
  }
  w.end_object();
  if (!s.network_mode.empty()) w.key("network_mode").value(s.network_mode);
  if (s.healthcheck) {
    const auto& h = *s.healthcheck;
    w.key("healthcheck").begin_object();
    w.key("disabled").value(h.disabled);
    strings(w, "test", h.test);
    w.key("interval").value(dur(h.interval)).key("timeout").value(dur(h.timeout));
    w.key("start_period").value(dur(h.start_period)).key("start_interval").value(dur(h.start_interval));
    w.key("retries").value(h.retries);
    w.end_object();
  }
  w.key("init").value(s.init);
  w.key("stop_signal").value(s.stop_signal);
}

}  // namespace

void write_service(Writer& w, const ServiceSpec& s) {
  w.begin_object();
  w.key("name").value(s.name);
  w.key("project").value(s.project);
  w.key("defined_at").value(s.file + ":" + std::to_string(s.line));
  runtime_identity(w, s);
  strings(w, "env_files", s.env_files);
  if (!s.container_name.empty()) w.key("container_name").value(s.container_name);
  w.key("expose").begin_array();
  for (const auto& p : s.expose) port(w, p);
  w.end_array();
  string_map(w, "labels", s.labels);
  w.key("checks").begin_array();
  for (const auto& c : s.checks) {
    w.begin_object();
    w.key("name").value(c.name).key("kind").value(check_kind_name(c.kind));
    if (!c.target.empty()) w.key("target").value(c.target);
    if (!c.command.empty()) strings(w, "command", c.command);
    if (c.kind == CheckKind::Http) {
      w.key("method").value(c.method);
      w.key("expect_status").value(c.expect_status);
      if (!c.expect_body.empty()) w.key("expect_body").value(c.expect_body);
    }
    w.key("interval").value(dur(c.interval)).key("timeout").value(dur(c.timeout));
    w.key("start_period").value(dur(c.start_period));
    w.key("rise").value(c.rise).key("fall").value(c.fall);
    w.end_object();
  }
  w.end_array();
  const auto& r = s.restart;
  w.key("restart").begin_object();
  w.key("condition").value(restart_condition_name(r.condition));
  w.key("max_attempts").value(r.max_attempts);
  w.key("on_unhealthy").value(r.on_unhealthy);
  w.key("backoff").value(dur(r.backoff)).key("max_backoff").value(dur(r.max_backoff));
  w.key("limit").value(r.limit).key("reset_after").value(dur(r.reset_after));
  w.end_object();
  w.key("depends_on").begin_array();
  for (const auto& d : s.depends_on) {
    w.begin_object().key("service").value(d.service).key("condition").value(dependency_condition_name(d.condition));
    w.key("required").value(d.required).key("restart").value(d.restart).end_object();
  }
  w.end_array();
  w.key("replicas").value(s.replicas);
  const auto& p = s.placement;
  w.key("placement").begin_object();
  strings(w, "nodes", p.nodes);
  strings(w, "tags", p.tags);
  w.key("spread").value(p.spread).key("singleton").value(p.singleton).key("global").value(p.global);
  w.end_object();
  strings(w, "cluster_networks", s.cluster_networks);
  w.key("stop_grace_period").value(dur(s.stop_grace_period));
  strings(w, "profiles", s.profiles);
  w.key("logs").begin_object().key("max_bytes").value(s.logs.max_bytes).key("max_files").value(s.logs.max_files);
  w.end_object();
  w.key("spec_hash").value(spec_hash(s));
  w.end_object();
}

void write_project(Writer& w, const Project& p) {
  w.begin_object();
  w.key("name").value(p.name);
  w.key("file").value(p.file);
  strings(w, "networks", p.networks);
  strings(w, "volumes", p.volumes);
  w.key("services").begin_array();
  for (const auto& s : p.services) write_service(w, s);
  w.end_array();
  w.end_object();
}

void write_diagnostic(Writer& w, const Diagnostic& d) {
  w.begin_object();
  w.key("severity").value(d.severity == Severity::Error ? "error" : "warning");
  w.key("file").value(d.file).key("line").value(d.line).key("column").value(d.column);
  w.key("field").value(d.field).key("message").value(d.message);
  w.end_object();
}

std::string to_json(const Project& p) {
  core::json::WriteOptions o;
  o.indent = 2;
  Writer w(o);
  write_project(w, p);
  return std::move(w).take() + "\n";
}

std::string spec_hash(const ServiceSpec& s) {
  Writer w;
  w.begin_object();
  runtime_identity(w, s);
  w.end_object();
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : w.str()) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  static const char* kHex = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[h & 0xf];
    h >>= 4;
  }
  return out;
}

}  // namespace constellation::spec
