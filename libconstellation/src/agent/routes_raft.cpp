// SPDX-License-Identifier: Apache-2.0
// REST routes for the replicated KV store, leases and Raft itself (docs/api.md).
#include "agent/agent_impl.hpp"
#include "core/bytes.hpp"
#include "core/json.hpp"

#include <charconv>

namespace constellation {

namespace {

namespace json = core::json;
using api::Call;
using api::Role;
using io::http::Response;
using namespace std::chrono_literals;

constexpr auto kMaxWait = std::chrono::minutes(5);

Result<std::uint64_t> uint_param(const io::http::Request& req, const std::string& name, std::uint64_t fallback) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return fallback;
  std::uint64_t v = 0;
  auto r = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (r.ec != std::errc() || r.ptr != it->second.data() + it->second.size()) {
    return Error(Code::InvalidArgument,
                 "query parameter " + name + ": expected a non-negative integer, got '" + it->second + "'");
  }
  return v;
}

// "250ms", "30s", "2m" (a bare number is seconds).
Result<std::chrono::milliseconds> duration_param(const io::http::Request& req, const std::string& name,
                                                 std::chrono::milliseconds fallback) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return fallback;
  const std::string& s = it->second;
  std::uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  std::string_view unit(r.ptr, static_cast<std::size_t>(s.data() + s.size() - r.ptr));
  std::chrono::milliseconds d;
  if (r.ec != std::errc()) unit = "?";
  if (unit.empty() || unit == "s")
    d = std::chrono::seconds(v);
  else if (unit == "ms")
    d = std::chrono::milliseconds(v);
  else if (unit == "m")
    d = std::chrono::minutes(v);
  else
    return Error(Code::InvalidArgument, "query parameter " + name + ": expected a duration like 30s, got '" + s + "'");
  return std::min<std::chrono::milliseconds>(d, kMaxWait);
}

json::Value kv_json(const KvEntry& e) {
  json::Value v;
  v["key"] = e.key;
  if (json::find_invalid_utf8(e.value) == std::string_view::npos) {
    v["value"] = e.value;
  } else {
    v["value_base64"] = core::base64_encode(core::as_bytes(e.value));
  }
  v["create_revision"] = static_cast<unsigned long long>(e.create_revision);
  v["mod_revision"] = static_cast<unsigned long long>(e.mod_revision);
  v["version"] = static_cast<unsigned long long>(e.version);
  return v;
}

json::Value lease_json(const LeaseInfo& l) {
  json::Value v;
  v["name"] = l.name;
  v["holder"] = l.holder;
  v["token"] = static_cast<unsigned long long>(l.token);
  v["expiry_cluster_ns"] = static_cast<unsigned long long>(l.expiry_cluster_ns);
  v["held"] = l.held;
  return v;
}

json::Value grant_json(const LeaseGrant& g) {
  json::Value v;
  v["name"] = g.name;
  v["holder"] = g.holder;
  v["token"] = static_cast<unsigned long long>(g.token);
  v["expiry_cluster_ns"] = static_cast<unsigned long long>(g.expiry_cluster_ns);
  auto left = g.valid_until - std::chrono::steady_clock::now();
  v["valid_for_ms"] = std::max<long long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(left).count());
  return v;
}

Response with_index(Response r, std::uint64_t index) {
  r.headers.emplace_back("X-Constellation-Index", std::to_string(index));
  return r;
}

Result<json::Value> body_object(const Call& call) {
  if (call.request.body.empty()) return json::Value::object();
  CST_TRY_ASSIGN(auto v, json::parse(call.request.body).with_context("request body"));
  if (!v.is_object()) return Error(Code::InvalidArgument, "request body: expected a JSON object");
  return v;
}

}  // namespace

void Agent::Impl::add_raft_routes() {
  api::Router& r = *router;

  // --- KV -----------------------------------------------------------------------------------------
  // GET /v1/kv?prefix=P[&limit=N][&index=I&wait=30s]: list, or block until something under P
  // changes after revision I.
  r.add("GET", "/v1/kv", Role::Read, [this](const Call& call) -> Result<Response> {
    CST_TRY_ASSIGN(RaftNode * node, raft_node());
    std::string prefix = call.request.query.count("prefix") ? call.request.query.at("prefix") : "";
    CST_TRY_ASSIGN(std::uint64_t limit, uint_param(call.request, "limit", 0));
    CST_TRY_ASSIGN(std::uint64_t index, uint_param(call.request, "index", 0));
    if (call.request.query.count("index")) {
      CST_TRY_ASSIGN(auto wait, duration_param(call.request, "wait", 30s));
      CST_TRY(node->watch(prefix, index, wait));
    }
    CST_TRY_ASSIGN(auto entries, node->list(prefix, static_cast<std::size_t>(limit)));
    json::Value out = json::Value::array();
    for (const auto& e : entries) out.push_back(kv_json(e));
    return with_index(api::json_response(out), node->revision());
  });
  // GET /v1/kv/<key>[?index=I&wait=30s]
  r.add("GET", "/v1/kv/*", Role::Read, [this](const Call& call) -> Result<Response> {
    CST_TRY_ASSIGN(RaftNode * node, raft_node());
    const std::string& key = call.rest;
    if (call.request.query.count("index")) {
      CST_TRY_ASSIGN(std::uint64_t index, uint_param(call.request, "index", 0));
      CST_TRY_ASSIGN(auto wait, duration_param(call.request, "wait", 30s));
      // Watch the key's prefix, then look for the key itself among the events.
      const auto deadline = std::chrono::steady_clock::now() + wait;
      std::uint64_t after = index;
      for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left <= 0ms) break;
        CST_TRY_ASSIGN(auto events, node->watch(key, after, left));
        if (events.empty()) break;
        bool hit = false;
        for (const auto& e : events) {
          hit = hit || e.kv.key == key;
          after = std::max(after, e.revision);
        }
        if (hit) break;
      }
    }
    CST_TRY_ASSIGN(auto entry, node->get(key));
    return with_index(api::json_response(kv_json(entry)), entry.mod_revision);
  });
  // PUT /v1/kv/<key>[?cas=REV] with the value as the body.
  r.add("PUT", "/v1/kv/*", Role::Write, [this](const Call& call) -> Result<Response> {
    CST_TRY_ASSIGN(RaftNode * node, raft_node());
    if (call.rest.empty()) return Error(Code::InvalidArgument, "PUT /v1/kv/<key>: the key is empty");
    std::uint64_t revision = 0;
    if (call.request.query.count("cas")) {
      CST_TRY_ASSIGN(std::uint64_t cas, uint_param(call.request, "cas", 0));
      CST_TRY_ASSIGN(revision, node->compare_and_set(call.rest, call.request.body, cas));
    } else {
      CST_TRY_ASSIGN(revision, node->put(call.rest, call.request.body));
    }
    json::Value v;
    v["key"] = call.rest;
    v["revision"] = static_cast<unsigned long long>(revision);
    return with_index(api::json_response(v), revision);
  });
  r.add("DELETE", "/v1/kv/*", Role::Write, [this](const Call& call) -> Result<Response> {
    CST_TRY_ASSIGN(RaftNode * node, raft_node());
    std::optional<std::uint64_t> cas;
    if (call.request.query.count("cas")) {
      CST_TRY_ASSIGN(cas, uint_param(call.request, "cas", 0));
    }
    CST_TRY_ASSIGN(std::uint64_t revision, node->erase(call.rest, cas));
    json::Value v;
    v["key"] = call.rest;
    v["revision"] = static_cast<unsigned long long>(revision);
    return with_index(api::json_response(v), revision);
  });

  // --- leases -------------------------------------------------------------------------------------
  r.add("GET", "/v1/leases", Role::Read, [this](const Call& call) -> Result<Response> {
    CST_TRY_ASSIGN(RaftNode * node, raft_node());
    std::string prefix = call.request.query.count("prefix") ? call.request.query.at("prefix") : "";
    CST_TRY_ASSIGN(auto leases, node->leases(prefix));
    json::Value out = json::Value::array();
    for (const auto& l : leases) out.push_back(lease_json(l));
    return api::json_response(out);
  });
  // GET /v1/leases/<name>; POST /v1/leases/<name>/{acquire,renew,release}.
  r.add("GET", "/v1/leases/*", Role::Read, [this](const Call& call) -> Result<Response> {
    CST_TRY_ASSIGN(RaftNode * node, raft_node());
    CST_TRY_ASSIGN(auto l, node->lease(call.rest));
    return api::json_response(lease_json(l));
  });
  r.add("POST", "/v1/leases/*", Role::Write, [this](const Call& call) -> Result<Response> {
    CST_TRY_ASSIGN(RaftNode * node, raft_node());
    auto slash = call.rest.rfind('/');
    if (slash == std::string::npos || slash == 0) {
      return Error(Code::NotFound, "expected /v1/leases/<name>/acquire, /renew or /release");
    }
    const std::string name = call.rest.substr(0, slash);
    const std::string verb = call.rest.substr(slash + 1);
    if (verb != "acquire" && verb != "renew" && verb != "release") {
      return Error(Code::NotFound, "unknown lease action '" + verb + "' (acquire, renew, release)");
    }
    CST_TRY_ASSIGN(auto body, body_object(call));
    CST_TRY_ASSIGN(std::string holder, json::get_string_or(body, "holder", "body", call.principal.name));
    if (verb == "acquire") {
      CST_TRY_ASSIGN(std::int64_t ttl, json::get_int_or(body, "ttl_ms", "body", 10000));
      CST_TRY_ASSIGN(std::int64_t delay, json::get_int_or(body, "lock_delay_ms", "body", 0));
      if (ttl <= 0 || delay < 0)
        return Error(Code::InvalidArgument, "body.ttl_ms must be positive, lock_delay_ms not negative");
      CST_TRY_ASSIGN(auto g,
                     node->acquire(name, holder, std::chrono::milliseconds(ttl), std::chrono::milliseconds(delay)));
      return api::json_response(grant_json(g));
    }
    CST_TRY_ASSIGN(std::int64_t token, json::get_int(body, "token", "body"));
    if (verb == "renew") {
      CST_TRY_ASSIGN(auto g, node->renew(name, holder, static_cast<std::uint64_t>(token)));
      return api::json_response(grant_json(g));
    }
    if (verb == "release") {
      CST_TRY(node->release(name, holder, static_cast<std::uint64_t>(token)));
      json::Value v;
      v["name"] = name;
      v["released"] = true;
      return api::json_response(v);
    }
    return Error(Code::NotFound, "unknown lease action '" + verb + "' (acquire, renew, release)");
  });

  // --- Raft ---------------------------------------------------------------------------------------
  r.add("GET", "/v1/raft", Role::Read, [this](const Call&) -> Result<Response> {
    CST_TRY_ASSIGN(RaftNode * node, raft_node());
    RaftStatus s = node->status();
    json::Value v;
    v["id"] = std::to_string(s.id);
    v["node"] = config.node_name;
    v["role"] = s.role;
    v["leader"] = std::to_string(s.leader);
    v["term"] = static_cast<unsigned long long>(s.term);
    v["commit_index"] = static_cast<unsigned long long>(s.commit_index);
    v["applied_index"] = static_cast<unsigned long long>(s.applied_index);
    v["last_index"] = static_cast<unsigned long long>(s.last_index);
    v["cluster_time_ns"] = static_cast<unsigned long long>(s.cluster_time);
    json::Value voters = json::Value::array(), learners = json::Value::array();
    for (auto id : s.voters) voters.push_back(std::to_string(id));
    for (auto id : s.learners) learners.push_back(std::to_string(id));
    v["voters"] = std::move(voters);
    v["learners"] = std::move(learners);
    if (!s.damage.empty()) v["damage"] = s.damage;
    return api::json_response(v);
  });
  r.add("POST", "/v1/raft/transfer-leader", Role::Admin, [this](const Call& call) -> Result<Response> {
    CST_TRY_ASSIGN(RaftNode * node, raft_node());
    CST_TRY_ASSIGN(auto body, body_object(call));
    std::uint64_t target = 0;
    if (const auto* to = body.find("to"); to && to->is_string() && !to->as_string().empty()) {
      // A node name or a numeric Raft id.
      const std::string& s = to->as_string();
      auto r2 = std::from_chars(s.data(), s.data() + s.size(), target);
      if (r2.ec != std::errc() || r2.ptr != s.data() + s.size()) target = raft_id_for(s);
    }
    CST_TRY(node->transfer_leadership(target));
    RaftStatus s = node->status();
    json::Value v;
    v["leader"] = std::to_string(s.leader);
    return api::json_response(v);
  });
}

}  // namespace constellation
