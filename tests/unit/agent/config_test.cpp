// SPDX-License-Identifier: Apache-2.0
#include "agent/config.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::agent;

namespace {
Config parse_ok(std::string_view yaml, std::vector<ConfigWarning>* warnings = nullptr) {
  std::vector<ConfigWarning> w;
  auto c = parse_config(yaml, "agent.yaml", w);
  REQUIRE_MESSAGE(c, (c ? "" : c.error().message()));
  if (warnings) *warnings = w;
  return *c;
}

std::string parse_error(std::string_view yaml) {
  std::vector<ConfigWarning> w;
  auto c = parse_config(yaml, "agent.yaml", w);
  REQUIRE_FALSE(c);
  CHECK(c.error().code() == Code::InvalidArgument);
  return c.error().message();
}
}  // namespace

TEST_CASE("an empty file gives the embedded default") {
  Config c = parse_ok("");
  CHECK(c.data_dir == "constellation-data");
  CHECK(c.api_listen == "127.0.0.1:7400");
  CHECK(c.raft_voters.empty());
  CHECK(validate(c).has_value());
}

TEST_CASE("every section is read") {
  Config c = parse_ok(R"(
node:
  name: edge-1
  data_dir: /var/lib/constellation
  roles: [ingress, voter]
  tags: [ssd]
  addresses: {backend: 10.0.0.5, publicnet: "2001:db8::5", tailscale: "iface:tailscale0"}
gossip:
  bind: 0.0.0.0:7946
  join: [10.0.0.6:7946, "[fd00::7]:7946"]
  keys: [a2V5]
  label: prod
  profile: fast
raft:
  voters: [edge-1, edge-2, edge-3]
  key: 0123456789abcdef-raft
  profile: fast
api:
  listen: 0.0.0.0:7400
  tokens:
    - {name: ops, secret: 0123456789abcdef0123, role: admin}
  tls: {cert: /etc/c.pem, key: /etc/k.pem}
  rate_limit: 50.5
services: {dir: /srv/compose, runtime: docker}
traefik: {version: v2, include_warning: true, file: /etc/traefik/dynamic.yaml}
dns:
  enabled: true
  zones: [{name: example.com}]
log: {level: debug}
)");
  CHECK(c.node_name == "edge-1");
  CHECK(c.roles == std::vector<std::string>{"ingress", "voter"});
  CHECK(c.addresses.at("publicnet") == "2001:db8::5");
  CHECK(c.join.size() == 2);
  CHECK(c.gossip_profile == "fast");
  CHECK(c.raft_voters.size() == 3);
  CHECK(c.raft_profile == "fast");
  REQUIRE(c.api_tokens.size() == 1);
  CHECK(c.api_tokens[0].role == Role::Admin);
  CHECK(c.api_tls_cert == "/etc/c.pem");
  CHECK(c.api_rate_limit == 50.5);
  CHECK(c.services_runtime == "docker");
  CHECK(c.traefik_include_warning);
  CHECK(c.dns_enabled);
  CHECK(c.dns_json.find("example.com") != std::string::npos);
  CHECK(c.log_level == "debug");
  CHECK(validate(c).has_value());
}

TEST_CASE("errors name file, line, column and field") {
  CHECK(parse_error("api:\n  max_body_bytes: three\n") ==
        "agent.yaml:2:19: api.max_body_bytes: expected an integer, got 'three'");
  CHECK(parse_error("gossip:\n  join: 10.0.0.1:7946\n") ==
        "agent.yaml:2:9: gossip.join: expected a list, got a scalar");
  CHECK(parse_error("node: [1, 2]\n") == "agent.yaml:1:7: node: expected a mapping, got a list");
  CHECK(parse_error("traefik:\n  include_warning: maybe\n") ==
        "agent.yaml:2:20: traefik.include_warning: expected true or false, got 'maybe'");
  CHECK(parse_error("api:\n  tokens:\n    - {name: x, role: admin}\n")
            .find("api.tokens[0].secret: required field is missing") != std::string::npos);
  CHECK(parse_error("api:\n  tokens: [{name: x, secret: y, role: root}]\n").find("expected read, write or admin") !=
        std::string::npos);
  CHECK(parse_error("node: {name: [unclosed\n").find("agent.yaml:") == 0);
  CHECK(parse_error("node: {name: [unclosed\n").find("invalid YAML") != std::string::npos);
}

TEST_CASE("unknown keys are warnings with their position") {
  std::vector<ConfigWarning> w;
  parse_ok("node:\n  nmae: x\nfrobs: 1\n", &w);
  REQUIRE(w.size() == 2);
  CHECK(w[0].where == "agent.yaml:2:3");
  CHECK(w[0].message == "unknown key 'node.nmae' (ignored)");
  CHECK(w[1].message == "unknown key 'frobs' (ignored)");
}

TEST_CASE("environment overrides the file") {
  Config c = parse_ok("node: {name: from-file}\n");
  std::vector<ConfigWarning> w;
  auto r = apply_environment(c,
                             {{"CONSTELLATION_NODE_NAME", "from-env"},
                              {"CONSTELLATION_GOSSIP_JOIN", "a:1,b:2"},
                              {"CONSTELLATION_NODE_ADDRESSES", "backend=10.0.0.1,publicnet=1.2.3.4"},
                              {"CONSTELLATION_RAFT_VOTERS", "a,b,c"},
                              {"CONSTELLATION_BOGUS", "1"},
                              {"HOME", "/root"}},
                             w);
  REQUIRE(r);
  CHECK(c.node_name == "from-env");
  CHECK(c.join == std::vector<std::string>{"a:1", "b:2"});
  CHECK(c.addresses.at("publicnet") == "1.2.3.4");
  CHECK(c.raft_voters == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(w.size() == 1);
  CHECK(w[0].message == "unknown variable CONSTELLATION_BOGUS (ignored)");
  auto bad = apply_environment(c, {{"CONSTELLATION_API_MAX_BODY_BYTES", "lots"}}, w);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() ==
        "environment variable CONSTELLATION_API_MAX_BODY_BYTES: expected an integer, got 'lots'");
}

TEST_CASE("validation catches cross-field mistakes") {
  auto invalid = [](std::string_view yaml) {
    std::vector<ConfigWarning> w;
    auto c = parse_config(yaml, "f", w);
    REQUIRE(c);
    auto v = validate(*c);
    REQUIRE_FALSE(v);
    return v.error().message();
  };
  CHECK(invalid("api: {listen: 0.0.0.0:7400}\n").find("api.tokens: an API listening on 0.0.0.0:7400") == 0);
  CHECK(invalid("api: {tls: {cert: /c.pem}}\n").find("api.tls.key") == 0);
  CHECK(invalid("gossip: {join: ['[fd00::1]:99999']}\n").find("gossip.join[0]") == 0);
  CHECK(invalid("gossip: {bind: nowhere}\n").find("gossip.bind: missing port") == 0);
  CHECK(invalid("node: {addresses: {backend: 10.0.0.999}}\n").find("node.addresses.backend") == 0);
  CHECK(invalid("api: {tokens: [{name: a, secret: short, role: read}]}\n").find("at least 16 characters") !=
        std::string::npos);
  CHECK(invalid("api: {tokens: [{name: a, secret: 'sha256:abc', role: read}]}\n").find("64 lower-case hex") !=
        std::string::npos);
  CHECK(invalid("services: {runtime: lxc}\n") == "services.runtime: expected process or docker, got 'lxc'");
  CHECK(invalid("raft: {voters: [a, b, c]}\n").find("raft.key") == 0);
  CHECK(invalid("raft: {voters: [a, a]}\n").find("raft.voters[1]: 'a' is listed twice") == 0);
  CHECK(invalid("raft: {profile: slow}\n") == "raft.profile: expected default or fast, got 'slow'");
}

TEST_CASE("the dns section becomes the engine's JSON document") {
  Config c = parse_ok(R"(
dns:
  enabled: true
  interval_seconds: 30
  owner: prod
  zones:
    - {name: example.com, provider: cf, ttl: 300, proxied: false, note: "300"}
  providers:
    cf: {type: cloudflare, api_token_file: /run/secrets/cf}
)");
  CHECK(c.dns_enabled);
  CHECK(c.dns_interval_seconds == 30);
  const std::string* j = &c.dns_json;
  CHECK(*j ==
        R"({"owner":"prod","zones":[{"name":"example.com","provider":"cf","ttl":300,"proxied":false,"note":"300"}],)"
        R"("providers":{"cf":{"type":"cloudflare","api_token_file":"/run/secrets/cf"}}})");
  CHECK(parse_error("dns: {interval_seconds: 1}\n").find("dns.interval_seconds: expected an integer of at least 5") !=
        std::string::npos);
}
