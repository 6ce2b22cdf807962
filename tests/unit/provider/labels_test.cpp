// SPDX-License-Identifier: Apache-2.0
#include "provider/labels.hpp"

#include "core/json.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::provider;

namespace {

DecodedLabels decode(std::map<std::string, std::string> labels, TraefikVersion v = TraefikVersion::V3) {
  return decode_labels(labels, v);
}

std::string body(const DecodedLabels& d, Section s, const std::string& name) {
  auto it = d.config[s].find(name);
  if (it == d.config[s].end()) return "(absent)";
  return core::json::serialize(it->second, {.sort_keys = true});
}

std::string issues(const DecodedLabels& d) {
  std::string out;
  for (const auto& i : d.issues) out += std::string(severity_name(i.severity)) + " " + i.label + " [" + i.resource + "] " + i.message + "\n";
  return out;
}

}  // namespace

TEST_CASE("names are matched case-insensitively and emitted in canonical camelCase") {
  auto d = decode({{"traefik.http.routers.Web.EntryPoints", "web"},
                   {"traefik.HTTP.Routers.Web.TLS.CertResolver", "le"},
                   {"traefik.http.services.Web.LoadBalancer.PassHostHeader", "false"},
                   {"traefik.http.services.Web.loadbalancer.responseforwarding.flushinterval", "250ms"}});
  CHECK(issues(d).empty());
  CHECK(body(d, Section::HttpRouters, "Web") == R"({"entryPoints":["web"],"tls":{"certResolver":"le"}})");
  CHECK(body(d, Section::HttpServices, "Web") ==
        R"({"loadBalancer":{"passHostHeader":false,"responseForwarding":{"flushInterval":"250ms"}}})");
}

TEST_CASE("values are typed by the field") {
  auto d = decode({{"traefik.http.middlewares.rl.ratelimit.average", "100"},
                   {"traefik.http.middlewares.rl.ratelimit.period", "1m"},
                   {"traefik.http.middlewares.rl.ratelimit.burst", "+50"},
                   {"traefik.http.middlewares.h.headers.customrequestheaders.X-Script-Name", "test"},
                   {"traefik.http.middlewares.h.headers.stsseconds", "31536000"},
                   {"traefik.http.middlewares.h.headers.framedeny", "T"},
                   {"traefik.http.middlewares.h.headers.accesscontrolallowmethods", "GET, OPTIONS,PUT"},
                   {"traefik.http.middlewares.p.plugin.example.headers.Foo", "Bar"}});
  CHECK(issues(d).empty());
  CHECK(body(d, Section::HttpMiddlewares, "rl") == R"({"rateLimit":{"average":100,"burst":50,"period":"1m"}})");
  CHECK(body(d, Section::HttpMiddlewares, "h") ==
        R"({"headers":{"accessControlAllowMethods":["GET","OPTIONS","PUT"],"customRequestHeaders":{"X-Script-Name":"test"},"frameDeny":true,"stsSeconds":31536000}})");
  CHECK(body(d, Section::HttpMiddlewares, "p") == R"({"plugin":{"example":{"headers":{"Foo":"Bar"}}}})");
}

TEST_CASE("allowEmpty sections: true creates them, false disables them with their fields") {
  auto d = decode({{"traefik.http.routers.a.tls", "true"},
                   {"traefik.http.routers.b.tls", "false"},
                   {"traefik.http.routers.b.tls.certresolver", "le"},
                   {"traefik.http.routers.b.rule", "Host(`b`)"},
                   {"traefik.http.middlewares.gz.compress", "true"},
                   {"traefik.http.services.s.loadbalancer.sticky.cookie", "true"}});
  CHECK(issues(d).empty());
  CHECK(body(d, Section::HttpRouters, "a") == R"({"tls":{}})");
  CHECK(body(d, Section::HttpRouters, "b") == R"j({"rule":"Host(`b`)"})j");
  CHECK(body(d, Section::HttpMiddlewares, "gz") == R"({"compress":{}})");
  CHECK(body(d, Section::HttpServices, "s") == R"({"loadBalancer":{"sticky":{"cookie":{}}}})");
}

TEST_CASE("indexed lists and the server slot") {
  auto d = decode({{"traefik.http.routers.r.tls.domains[1].main", "b.example.com"},
                   {"traefik.http.routers.r.tls.domains[0].main", "a.example.com"},
                   {"traefik.http.routers.r.tls.domains[0].sans", "*.a.example.com"},
                   {"traefik.http.services.s.loadbalancer.server.port", "8080"},
                   {"traefik.http.services.s.loadbalancer.server.scheme", "h2c"},
                   {"traefik.http.services.s.loadbalancer.server.weight", "3"}});
  CHECK(issues(d).empty());
  CHECK(body(d, Section::HttpRouters, "r") ==
        R"({"tls":{"domains":[{"main":"a.example.com","sans":["*.a.example.com"]},{"main":"b.example.com"}]}})");
  CHECK(body(d, Section::HttpServices, "s") == R"({"loadBalancer":{"server":{"port":8080,"scheme":"h2c","weight":3}}})");
}

TEST_CASE("errors name the label and resource; only that resource is dropped") {
  auto d = decode({{"traefik.http.routers.a.rule", "Host(`a`)"},
                   {"traefik.http.routers.b.rule", "Host(`b`)"},
                   {"traefik.http.routers.b.priority", "high"},
                   {"traefik.http.routers.c.entrypionts", "web"},
                   {"traefik.http.services.s.loadbalancer.server.port", "70000"},
                   {"traefik.http.services.t.loadbalancer.healthcheck.interval", "soon"},
                   {"traefik.http.routers.d.tls", "yes"},
                   {"traefik.http.routers.e", "x"},
                   {"traefik.http.routers.f.tls.domains.main", "x"},
                   {"traefik.http.routers.g.rule.x", "y"},
                   {"traefik.http.widgets.w.x", "y"}});
  CHECK(body(d, Section::HttpRouters, "a") == R"j({"rule":"Host(`a`)"})j");
  for (const char* gone : {"b", "c", "d", "f", "g"}) CHECK(body(d, Section::HttpRouters, gone) == "(absent)");
  CHECK(body(d, Section::HttpServices, "s") == "(absent)");
  std::string all = issues(d);
  CHECK(all.find("error traefik.http.routers.b.priority [http.routers.b] 'high' is not an integer") != std::string::npos);
  CHECK(all.find("error traefik.http.routers.c.entrypionts [http.routers.c] unknown field 'entrypionts' in http "
                 "router (did you mean 'entryPoints'?)") != std::string::npos);
  CHECK(all.find("[http.services.s] 70000 is out of range (must be between 1 and 65535)") != std::string::npos);
  CHECK(all.find("[http.services.t] 'soon' is not a duration") != std::string::npos);
  CHECK(all.find("[http.routers.d] 'tls' takes true (enable with defaults) or false, got 'yes'") != std::string::npos);
  CHECK(all.find("traefik.http.routers.e [] incomplete label") != std::string::npos);
  CHECK(all.find("[http.routers.f] 'domains' is a list: write domains[0].main") != std::string::npos);
  CHECK(all.find("[http.routers.g] 'rule' is a string and has no field 'x'") != std::string::npos);
  CHECK(all.find("unknown http section 'widgets' (known: routers, services, middlewares, serversTransports)") !=
        std::string::npos);
}

TEST_CASE("a service or middleware is exactly one kind") {
  auto d = decode({{"traefik.http.middlewares.m.stripprefix.prefixes", "/a"},
                   {"traefik.http.middlewares.m.addprefix.prefix", "/b"},
                   {"traefik.http.services.s.weighted.services[0].name", "a"},
                   {"traefik.http.services.s.loadbalancer.passhostheader", "true"}});
  CHECK(d.config[Section::HttpMiddlewares].empty());
  CHECK(d.config[Section::HttpServices].empty());
  CHECK(issues(d).find("[http.middlewares.m] sets several kinds (addPrefix, stripPrefix); it must be exactly one "
                       "of them") != std::string::npos);
}

TEST_CASE("provider-level labels and labels Traefik ignores") {
  auto d = decode({{"traefik.enable", "true"},
                   {"traefik.constellation.network", "tailscale"},
                   {"traefik.docker.network", "proxy"},
                   {"traefik.frontend.rule", "Host:a"},
                   {"traefik.tls.options.x.minversion", "VersionTLS12"},
                   {"traefik.tls.stores.default.defaultgeneratedcert.resolver", "le"},
                   {"com.docker.compose.project", "shop"}});
  CHECK(d.enable == true);
  CHECK(d.network == "tailscale");
  CHECK(body(d, Section::TlsStores, "default") == R"({"defaultGeneratedCert":{"resolver":"le"}})");
  std::string all = issues(d);
  CHECK(all.find("warning traefik.frontend.rule [] ignored: not a Traefik v2/v3 label") != std::string::npos);
  CHECK(all.find("warning traefik.tls.options.x.minversion [] ignored") != std::string::npos);
  CHECK(all.find("docker") == std::string::npos);
}

TEST_CASE("version-specific fields and sections") {
  auto v2 = decode({{"traefik.tcp.serverstransports.t.dialtimeout", "5s"},
                    {"traefik.http.services.s.loadbalancer.strategy", "p2c"},
                    {"traefik.http.middlewares.h.headers.sslredirect", "true"}},
                   TraefikVersion::V2);
  std::string all = issues(v2);
  CHECK(all.find("tcp.serversTransports is a Traefik v3 section (the target is v2)") != std::string::npos);
  CHECK(all.find("'strategy' is a Traefik v3 option (the target is v2)") != std::string::npos);
  CHECK(body(v2, Section::HttpMiddlewares, "h") == R"({"headers":{"sslRedirect":true}})");
}

TEST_CASE("Go booleans and durations") {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) CHECK(parse_go_bool(t) == true);
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) CHECK(parse_go_bool(f) == false);
  CHECK_FALSE(parse_go_bool("yes"));
  CHECK_FALSE(parse_go_bool(" true"));
  CHECK(parse_go_duration("30") == "30s");
  CHECK(parse_go_duration("0") == "0s");
  CHECK(parse_go_duration("1h30m") == "1h30m");
  CHECK(parse_go_duration("1.5s") == "1.5s");
  CHECK(parse_go_duration("-250ms") == "-250ms");
  CHECK(parse_go_duration(".5us") == ".5us");
  CHECK(parse_go_duration("10\xC2\xB5s") == "10\xC2\xB5s");
  CHECK_FALSE(parse_go_duration("10"  "x"));
  CHECK_FALSE(parse_go_duration("s"));
  CHECK_FALSE(parse_go_duration("1 s"));
  CHECK_FALSE(parse_go_duration(""));
  CHECK_FALSE(parse_go_duration("."));
}
