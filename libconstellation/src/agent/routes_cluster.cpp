// SPDX-License-Identifier: Apache-2.0
// REST routes of the gossip keyring (docs/api.md).
#include "agent/agent_impl.hpp"
#include "core/json.hpp"

#include <map>

namespace constellation {

namespace {

namespace json = core::json;
using api::Call;
using api::Role;
using io::http::Response;

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    std::size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

void Agent::Impl::add_cluster_routes() {
  api::Router& r = *router;

  // The keyring of this node: key fingerprints (never the keys), which one encrypts, and how many
  // alive members hold each — rotation is complete when every node holds the new key.
  r.add("GET", "/v1/keyring", Role::Read, [this](const Call&) -> Result<Response> {
    if (!gossip) return Error(Code::Unavailable, "gossip is not running yet");
    std::map<std::string, int> holders;
    for (const auto& m : gossip->members()) {
      if (m.state != "alive" && m.state != "suspect") continue;
      auto it = m.state_map.find("keys");
      if (it == m.state_map.end()) continue;
      for (const auto& fp : split_commas(it->second)) holders[fp] += 1;
    }
    json::Value out = json::Value::array();
    bool first = true;
    for (const auto& k : gossip->list_keys()) {
      json::Value v;
      const std::string fp = agent::key_fingerprint(k);
      v["id"] = fp;
      v["primary"] = first;
      v["nodes"] = holders[fp];
      first = false;
      out.push_back(std::move(v));
    }
    return api::json_response(out);
  });
  // POST /v1/keyring/{install,use,remove} {"key": "<base64>"}: on this node (run it on every
  // node: install everywhere, then use everywhere, then remove the old key everywhere).
  auto keyring_op = [this](const std::string& op) {
    return [this, op](const Call& call) -> Result<Response> {
      if (!gossip) return Error(Code::Unavailable, "gossip is not running yet");
      CST_TRY_ASSIGN(auto body, json::parse(call.request.body).with_context("request body"));
      const json::Value* key = body.is_object() ? body.find("key") : nullptr;
      if (!key || !key->is_string() || key->as_string().empty()) {
        return Error(Code::InvalidArgument, "request body: expected {\"key\": \"<base64 AES-256 key>\"}");
      }
      Result<void> done = op == "install" ? gossip->install_key(key->as_string())
                          : op == "use"   ? gossip->use_key(key->as_string())
                                          : gossip->remove_key(key->as_string());
      if (!done) return done.error().with_context("keyring " + op);
      cluster->publish_keys();
      json::Value v;
      v["ok"] = true;
      v["key"] = agent::key_fingerprint(key->as_string());
      return api::json_response(v);
    };
  };
  r.add("POST", "/v1/keyring/install", Role::Admin, keyring_op("install"));
  r.add("POST", "/v1/keyring/use", Role::Admin, keyring_op("use"));
  r.add("POST", "/v1/keyring/remove", Role::Admin, keyring_op("remove"));
}

}  // namespace constellation
