// SPDX-License-Identifier: Apache-2.0
// The REST API of the agent (docs/api.md). Handlers run on the API server's threads: they read
// the latest published snapshot, or ask the component that owns the state.
#include <constellation/version.hpp>

#include "agent/agent_impl.hpp"
#include "catalog/snapshot_json.hpp"
#include "core/json.hpp"
#include "io/http/static_server.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace constellation {

namespace {

namespace json = core::json;
using api::Call;
using api::Role;
using io::http::Response;

json::Value ports_json(const std::vector<catalog::PortBinding>& ports) {
  json::Value out = json::Value::array();
  for (const auto& p : ports) {
    json::Value v;
    v["target"] = static_cast<int>(p.target);
    v["published"] = static_cast<int>(p.published);
    v["protocol"] = p.protocol;
    if (!p.host_ip.empty()) v["host_ip"] = p.host_ip;
    out.push_back(std::move(v));
  }
  return out;
}

json::Value checks_json(const std::vector<catalog::CheckResult>& checks) {
  json::Value out = json::Value::array();
  for (const auto& c : checks) {
    json::Value v;
    v["name"] = c.name;
    v["status"] = std::string(catalog::health_name(c.status));
    v["output"] = c.output;
    out.push_back(std::move(v));
  }
  return out;
}

json::Value strings_json(const std::vector<std::string>& items) {
  json::Value out = json::Value::array();
  for (const auto& s : items) out.push_back(s);
  return out;
}

json::Value member_json(const catalog::NodeView& view) {
  const auto& n = view.entry.node;
  json::Value v;
  v["id"] = n.id.to_hex();
  v["name"] = n.name;
  v["status"] = std::string(catalog::node_status_name(view.status));
  v["version"] = n.version;
  v["entry_version"] = static_cast<unsigned long long>(view.entry.version);
  v["roles"] = strings_json(n.roles);
  v["tags"] = strings_json(n.tags);
  json::Value addrs = json::Value::object();
  for (const auto& [net, addr] : n.addresses) addrs[net] = addr;
  v["addresses"] = std::move(addrs);
  v["instances"] = static_cast<int>(view.entry.instances.size());
  return v;
}

json::Value instance_json(const catalog::NodeView& view, const catalog::Instance& inst) {
  json::Value v;
  v["id"] = inst.id;
  v["service"] = inst.service;
  v["project"] = inst.project;
  v["node"] = view.entry.node.name;
  v["node_id"] = view.entry.node.id.to_hex();
  v["node_status"] = std::string(catalog::node_status_name(view.status));
  v["runtime"] = inst.runtime;
  v["health"] = std::string(catalog::health_name(inst.health));
  v["ports"] = ports_json(inst.ports);
  v["networks"] = strings_json(inst.networks);
  v["checks"] = checks_json(inst.checks);
  return v;
}

// GET /v1/traefik through the provider's own request handler, so the answer (ETag, 304, 503
// before the view is complete, token) is exactly the dedicated endpoint's.
Response traefik_response(const traefik::ProviderServer& provider, const io::http::Request& req) {
  std::string query;
  for (const auto& [k, v] : req.query) query += (query.empty() ? "" : "&") + k + "=" + v;
  std::string target = req.path + (query.empty() ? "" : "?" + query);
  io::http::StaticRequest sreq;
  sreq.method = req.method;
  sreq.target = target;
  sreq.path = req.path;
  sreq.query = query;
  for (const auto& [k, v] : req.headers) sreq.headers.emplace_back(k, v);
  io::http::StaticResponse sresp;
  provider.handle(sreq, sresp);
  Response r;
  r.status = sresp.status;
  r.content_type.clear();
  std::string_view hs = sresp.headers;
  while (!hs.empty()) {
    auto end = hs.find("\r\n");
    std::string_view line = hs.substr(0, end);
    hs = end == std::string_view::npos ? std::string_view() : hs.substr(end + 2);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    std::string value(line.substr(colon + 1));
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name == "Content-Type")
      r.content_type = value;
    else
      r.headers.emplace_back(std::move(name), std::move(value));
  }
  if (!sresp.no_body) r.body = sresp.body.empty() ? sresp.owned_body : std::string(sresp.body);
  if (r.content_type.empty()) r.content_type = "text/plain";
  return r;
}

}  // namespace

Result<std::shared_ptr<const catalog::Snapshot>> Agent::Impl::current_snapshot() const {
  auto s = snapshot.load();
  if (!s) return Error(Code::Unavailable, "the catalog has not been published yet");
  return s;
}

void Agent::Impl::add_routes() {
  api::Router& r = *router;

  // --- liveness, readiness, identity ---------------------------------------------------------------
  r.add("GET", "/v1/health", Role::Read, [this](const Call& call) -> Result<Response> {
    const bool is_ready = ready();
    json::Value v;
    v["status"] = "ok";  // the process answers: it is alive
    v["ready"] = is_ready;
    v["node"] = config.node_name;
    v["uptime_seconds"] = std::chrono::duration<double>(core::SystemClock::instance().now() - started_at).count();
    // ?ready (for load balancers and orchestrators): 503 until the node serves a complete view.
    const bool want_ready = call.request.query.count("ready") > 0;
    return api::json_response(v, want_ready && !is_ready ? 503 : 200);
  });
  r.add("GET", "/v1/version", Role::Read, [this](const Call&) -> Result<Response> {
    json::Value v;
    v["version"] = std::string(version());
    v["version_number"] = version_number();
    v["node"] = config.node_name;
    v["node_id"] = node_id.to_hex();
    return api::json_response(v);
  });
  r.add("GET", "/v1/status", Role::Read, [this](const Call&) -> Result<Response> {
    json::Value v;
    v["node"] = config.node_name;
    v["node_id"] = node_id.to_hex();
    v["version"] = std::string(version());
    v["ready"] = ready();
    v["uptime_seconds"] = std::chrono::duration<double>(core::SystemClock::instance().now() - started_at).count();
    v["services_dir"] = services_dir;
    if (auto s = snapshot.load()) {
      v["catalog"]["generation"] = static_cast<unsigned long long>(s->generation);
      v["catalog"]["complete"] = s->complete;
      v["catalog"]["nodes"] = static_cast<int>(s->nodes.size());
      v["catalog"]["services"] = static_cast<int>(catalog::service_names(*s).size());
    }
    return api::json_response(v);
  });

  // --- cluster state ------------------------------------------------------------------------------
  // Gossip's members (self included): each node's catalog record (member_json, absent until it
  // arrives) plus gossip's address and state and what the node publishes (Raft and API addresses).
  r.add("GET", "/v1/members", Role::Read, [this](const Call&) -> Result<Response> {
    if (!gossip) return Error(Code::Unavailable, "gossip is not running yet");
    std::map<std::string, const catalog::NodeView*> by_name;
    auto snap = snapshot.load();
    if (snap) {
      for (const auto& [id, view] : snap->nodes) by_name[view.entry.node.name] = &view;
    }
    json::Value out = json::Value::array();
    for (const auto& m : gossip->members()) {
      auto it = by_name.find(m.name);
      json::Value v = it != by_name.end() ? member_json(*it->second) : json::Value();
      if (it == by_name.end()) {
        v["name"] = m.name;
        v["status"] = m.state;
        v["instances"] = 0;
      }
      v["gossip_address"] = m.address;
      v["state"] = m.state;
      v["incarnation"] = static_cast<unsigned long long>(m.incarnation);
      v["self"] = m.name == config.node_name;
      auto published = [&m](const char* key) {
        auto p = m.state_map.find(key);
        return p == m.state_map.end() ? std::string() : p->second;
      };
      v["raft_address"] = published("raft");
      v["api"] = published("api");
      out.push_back(std::move(v));
    }
    return api::json_response(out);
  });
  r.add("GET", "/v1/catalog", Role::Read, [this](const Call&) -> Result<Response> {
    CST_TRY_ASSIGN(auto s, current_snapshot());
    return api::json_text(catalog::snapshot_to_json(*s, 0));
  });
  r.add("GET", "/v1/services", Role::Read, [this](const Call&) -> Result<Response> {
    CST_TRY_ASSIGN(auto s, current_snapshot());
    std::map<std::string, json::Value> services;
    for (const auto& [id, view] : s->nodes) {
      for (const auto& inst : view.entry.instances) {
        json::Value& svc = services[inst.service];
        if (svc.is_null()) {
          svc["name"] = inst.service;
          svc["instances"] = json::Value::array();
          svc["passing"] = 0;
        }
        svc["instances"].push_back(instance_json(view, inst));
        if (catalog::routable(view.status, inst.health, {})) svc["passing"] = svc.find("passing")->as_int() + 1;
      }
    }
    json::Value out = json::Value::array();
    for (auto& [name, svc] : services) out.push_back(std::move(svc));
    return api::json_response(out);
  });
  r.add("GET", "/v1/services/*", Role::Read, [this](const Call& call) -> Result<Response> {
    CST_TRY_ASSIGN(auto s, current_snapshot());
    json::Value out;
    out["name"] = call.rest;
    out["instances"] = json::Value::array();
    for (const auto& [id, view] : s->nodes) {
      for (const auto& inst : view.entry.instances) {
        if (inst.service == call.rest) out["instances"].push_back(instance_json(view, inst));
      }
    }
    if (out.find("instances")->as_array().empty()) {
      return Error(Code::NotFound, "no service named '" + call.rest + "' in the cluster");
    }
    return api::json_response(out);
  });
  r.add("GET", "/v1/checks", Role::Read,
        [this](const Call&) -> Result<Response> { return api::json_text(host->status_json()); });
  r.add("POST", "/v1/services/reload", Role::Write, [this](const Call&) -> Result<Response> {
    CST_TRY_ASSIGN(auto set, host->reload());
    json::Value v;
    v["reloaded"] = set.ok();
    json::Value diags = json::Value::array();
    for (const auto& d : set.diagnostics) diags.push_back(d.to_string());
    v["diagnostics"] = std::move(diags);
    return api::json_response(v, set.ok() ? 200 : 400);
  });
  r.add("PUT", "/v1/instances/*", Role::Write, [this](const Call& call) -> Result<Response> {
    // PUT /v1/instances/<id>/maintenance?enable=true|false
    const std::string suffix = "/maintenance";
    if (!call.rest.ends_with(suffix)) return Error(Code::NotFound, "expected /v1/instances/<id>/maintenance");
    std::string id = call.rest.substr(0, call.rest.size() - suffix.size());
    auto it = call.request.query.find("enable");
    if (it == call.request.query.end() || (it->second != "true" && it->second != "false")) {
      return Error(Code::InvalidArgument, "query parameter enable must be true or false");
    }
    CST_TRY(host->set_maintenance(id, it->second == "true"));
    json::Value v;
    v["instance"] = id;
    v["maintenance"] = it->second == "true";
    return api::json_response(v);
  });

  // --- Traefik and metrics ------------------------------------------------------------------------
  auto traefik_handler = [this](const Call& call) -> Result<Response> {
    return traefik_response(*traefik, call.request);
  };
  r.add("GET", "/v1/traefik", Role::Read, traefik_handler);
  r.add("GET", "/v1/traefik/*", Role::Read, traefik_handler);
  add_raft_routes();
  add_cluster_routes();
  add_audit_routes();
  // The snapshot document dnsbot reads (docs/dns.md): 503 until the view is complete.
  r.add("GET", "/v1/dns/snapshot", Role::Read, [this](const Call&) -> Result<Response> {
    CST_TRY_ASSIGN(auto s, current_snapshot());
    if (!s->complete) return Error(Code::Unavailable, "this node does not have a complete cluster view yet");
    return api::json_text(catalog::snapshot_to_json(*s, 0));
  });
  r.add("GET", "/v1/dns", Role::Read, [this](const Call&) -> Result<Response> {
    json::Value v;
    v["enabled"] = config.dns_enabled;
    if (auto* w = dns_ptr.load()) v["worker"] = w->status();
    return api::json_response(v);
  });
  auto metrics_handler = [this](const Call&) -> Result<Response> {
    Response resp;
    resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp.body = metrics.render();
    if (gossip) resp.body += gossip->metrics_text();
    return resp;
  };
  r.add("GET", "/metrics", Role::Read, metrics_handler);  // where Prometheus looks by default
  r.add("GET", "/v1/metrics", Role::Read, metrics_handler);
}

}  // namespace constellation
