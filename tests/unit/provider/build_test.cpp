// SPDX-License-Identifier: Apache-2.0
#include "provider/build.hpp"
#include "provider/render.hpp"

#include "fixtures.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>

using namespace constellation;
using namespace constellation::provider;
using namespace constellation::provider::test;
using catalog::Health;
using catalog::NodeStatus;

namespace {

struct Built {
  Config config;
  std::vector<Diagnostic> diagnostics;
  std::string json;

  bool has(Section s, const std::string& name) const { return config[s].count(name) == 1; }
  const Value& at(Section s, const std::string& name) const { return config[s].at(name); }
  std::string diags() const {
    std::string out;
    for (const auto& d : diagnostics) out += to_string(d) + "\n";
    return out;
  }
  bool mentions(std::string_view text) const { return diags().find(text) != std::string::npos; }
};

Built build(const catalog::Snapshot& snap, Options o = {}, TraefikVersion v = TraefikVersion::V3) {
  auto b = Builder::create(o, v);
  REQUIRE_MESSAGE(b, (b ? "" : b.error().message()));
  Built out;
  out.config = b->build(snap, out.diagnostics);
  out.json = emit(out.config, Format::Json);
  return out;
}

std::vector<std::string> urls(const Value& service) {
  std::vector<std::string> out;
  for (const auto& s : service.find("loadBalancer")->find("servers")->as_array()) {
    const Value* u = s.find("url");
    out.push_back(u ? u->as_string() : s.find("address")->as_string());
  }
  return out;
}

}  // namespace

TEST_CASE("an instance with no labels gets Traefik's default service and router") {
  auto b = build(snapshot({node("n1", "10.0.0.1", {instance("web-1", "web", {})})}));
  REQUIRE(b.has(Section::HttpServices, "web-shop"));
  REQUIRE(b.has(Section::HttpRouters, "web-shop"));
  CHECK(b.at(Section::HttpRouters, "web-shop").find("rule")->as_string() == "Host(`web-shop`)");
  CHECK(b.at(Section::HttpRouters, "web-shop").find("service")->as_string() == "web-shop");
  CHECK(urls(b.at(Section::HttpServices, "web-shop")) == std::vector<std::string>{"http://10.0.0.1:8080"});
  CHECK(b.diagnostics.empty());
}

TEST_CASE("exposedByDefault=false routes only instances with traefik.enable=true") {
  Options o;
  o.exposed_by_default = false;
  auto b = build(snapshot({node("n1", "10.0.0.1",
                                {instance("a-1", "a", {}), instance("b-1", "b", {{"traefik.enable", "true"}})})}),
                 o);
  CHECK_FALSE(b.has(Section::HttpServices, "a-shop"));
  CHECK(b.has(Section::HttpServices, "b-shop"));
  auto c = build(snapshot({node("n1", "10.0.0.1", {instance("a-1", "a", {{"traefik.enable", "false"}})})}));
  CHECK(c.config.empty());
  auto d = build(snapshot({node("n1", "10.0.0.1", {instance("a-1", "a", {{"traefik.enable", "maybe"}})})}));
  CHECK(d.config.empty());
  CHECK(d.mentions("label traefik.enable: 'maybe' is not a boolean"));
}

TEST_CASE("labelled routers bind to the single service and keep their options") {
  auto b = build(snapshot({node(
      "n1", "10.0.0.1",
      {instance("web-1", "web",
                {{"traefik.http.routers.app.rule", "Host(`app.example.com`)"},
                 {"traefik.http.routers.app.entrypoints", "websecure, web"},
                 {"traefik.http.routers.app.tls.certresolver", "le"},
                 {"traefik.http.routers.app.priority", "10"},
                 {"traefik.http.services.app.loadbalancer.server.port", "80"},
                 {"traefik.http.services.app.loadbalancer.healthcheck.path", "/health"},
                 {"traefik.http.services.app.loadbalancer.healthcheck.interval", "10"}})})}));
  REQUIRE_MESSAGE(b.has(Section::HttpRouters, "app"), b.diags());
  CHECK(b.json.find(R"("entryPoints": [
          "websecure",
          "web"
        ])") != std::string::npos);
  const Value& r = b.at(Section::HttpRouters, "app");
  CHECK(r.find("service")->as_string() == "app");
  CHECK(r.find("priority")->as_int() == 10);
  CHECK(r.find("tls")->find("certResolver")->as_string() == "le");
  const Value& lb = *b.at(Section::HttpServices, "app").find("loadBalancer");
  CHECK(lb.find("healthCheck")->find("interval")->as_string() == "10s");
  CHECK(urls(b.at(Section::HttpServices, "app")) == std::vector<std::string>{"http://10.0.0.1:8080"});
  CHECK_FALSE(b.has(Section::HttpServices, "web-shop"));
}

TEST_CASE("the server port label names the container port; the URL uses the published port") {
  auto inst = instance("web-1", "web", {{"traefik.http.services.web.loadbalancer.server.port", "9000"},
                                        {"traefik.http.services.web.loadbalancer.server.scheme", "https"}});
  inst.ports.push_back(catalog::PortBinding{9000, 19000, "tcp", ""});
  auto b = build(snapshot({node("n1", "10.0.0.1", {inst})}));
  CHECK(urls(b.at(Section::HttpServices, "web")) == std::vector<std::string>{"https://10.0.0.1:19000"});

  auto lowest = instance("web-1", "web", {}, 8080, 18080);
  lowest.ports.push_back(catalog::PortBinding{443, 1443, "tcp", ""});
  lowest.ports.push_back(catalog::PortBinding{53, 1053, "udp", ""});
  auto c = build(snapshot({node("n1", "10.0.0.1", {lowest})}));
  CHECK(urls(c.at(Section::HttpServices, "web-shop")) == std::vector<std::string>{"http://10.0.0.1:1443"});
}

TEST_CASE("unpublished, loopback-only and missing ports drop the instance's service with a reason") {
  auto unpublished = instance("web-1", "web", {{"traefik.http.routers.web.rule", "Host(`a`)"}}, 80, 0);
  auto b = build(snapshot({node("n1", "10.0.0.1", {unpublished})}));
  CHECK(b.mentions("port 80/tcp is not published on the node"));
  CHECK_FALSE(b.has(Section::HttpRouters, "web"));
  CHECK(b.mentions("http.routers.web: dropped: the instance's service 'web-shop' was dropped (see its error)"));

  auto loop = instance("web-1", "web", {{"traefik.enable", "true"}});
  loop.ports[0].host_ip = "127.0.0.1";
  CHECK(build(snapshot({node("n1", "10.0.0.1", {loop})})).mentions("published on 127.0.0.1 only"));

  auto wrong = instance("web-1", "web", {{"traefik.http.services.web.loadbalancer.server.port", "81"}});
  auto w = build(snapshot({node("n1", "10.0.0.1", {wrong})}));
  CHECK(w.mentions("label traefik.http.services.web.loadbalancer.server.port: port 81/tcp is not one of the "
                   "instance's ports (80/tcp)"));

  // Exposed by default with no port at all (a database without ports): a warning, not routed.
  auto db = instance("db-1", "db", {}, 0, 0);
  auto d = build(snapshot({node("n1", "10.0.0.1", {db})}));
  CHECK(d.config.empty());
  REQUIRE(d.diagnostics.size() == 1);
  CHECK(d.diagnostics[0].severity == Severity::Warning);
}

TEST_CASE("a specific published host IP is used as is; the network comes from labels or options") {
  auto pinned = instance("web-1", "web", {});
  pinned.ports[0].host_ip = "192.0.2.7";
  CHECK(urls(build(snapshot({node("n1", "10.0.0.1", {pinned})})).at(Section::HttpServices, "web-shop")) ==
        std::vector<std::string>{"http://192.0.2.7:8080"});

  auto two = instance("web-1", "web", {});
  two.networks = {"backend", "tailscale"};
  auto n = node("n1", "10.0.0.1", {two});
  n.entry.node.addresses["tailscale"] = "100.64.0.1";
  auto ambiguous = build(snapshot({n}));
  CHECK(ambiguous.mentions("cannot choose a network (instance networks: backend, tailscale"));
  Options o;
  o.network = "tailscale";
  CHECK(urls(build(snapshot({n}), o).at(Section::HttpServices, "web-shop")) ==
        std::vector<std::string>{"http://100.64.0.1:8080"});
  n.entry.instances[0].labels["traefik.constellation.network"] = "backend";
  CHECK(urls(build(snapshot({n}), o).at(Section::HttpServices, "web-shop")) ==
        std::vector<std::string>{"http://10.0.0.1:8080"});

  auto v6 = node("n1", "fd00::1", {instance("web-1", "web", {})});
  CHECK(urls(build(snapshot({v6})).at(Section::HttpServices, "web-shop")) ==
        std::vector<std::string>{"http://[fd00::1]:8080"});
}

TEST_CASE("an explicit server.url is used as written, and conflicts with port/scheme") {
  auto b = build(snapshot({node("n1", "10.0.0.1",
                                {instance("ext-1", "ext",
                                          {{"traefik.http.services.ext.loadbalancer.server.url",
                                            "https://backend.internal:8443/api"}})})}));
  CHECK(urls(b.at(Section::HttpServices, "ext")) == std::vector<std::string>{"https://backend.internal:8443/api"});
  auto c = build(snapshot({node("n1", "10.0.0.1",
                                {instance("ext-1", "ext",
                                          {{"traefik.http.services.ext.loadbalancer.server.url", "http://x:1"},
                                           {"traefik.http.services.ext.loadbalancer.server.port", "80"}})})}));
  CHECK(c.mentions("server.url is set together with server.port"));
  CHECK_FALSE(c.has(Section::HttpServices, "ext"));
}

TEST_CASE("replicas on several nodes become one load balancer, servers sorted") {
  std::map<std::string, std::string> labels{{"traefik.http.routers.web.rule", "Host(`web.example.com`)"}};
  auto b = build(snapshot({node("n3", "10.0.0.3", {instance("web-3", "web", labels)}),
                           node("n1", "10.0.0.1", {instance("web-1", "web", labels)}),
                           node("n2", "10.0.0.2", {instance("web-2", "web", labels)})}));
  CHECK(urls(b.at(Section::HttpServices, "web-shop")) ==
        std::vector<std::string>{"http://10.0.0.1:8080", "http://10.0.0.2:8080", "http://10.0.0.3:8080"});
  CHECK(b.diagnostics.empty());
}

TEST_CASE("unhealthy instances and dead nodes contribute no server; empty services per policy") {
  std::map<std::string, std::string> labels{{"traefik.http.routers.web.rule", "Host(`web.example.com`)"}};
  auto snap = snapshot({node("n1", "10.0.0.1", {instance("web-1", "web", labels, 80, 8080, Health::Critical)}),
                        node("n2", "10.0.0.2", {instance("web-2", "web", labels, 80, 8080, Health::Warning)}),
                        node("n3", "10.0.0.3", {instance("web-3", "web", labels)}, NodeStatus::Failed)});
  auto strict = build(snap);
  REQUIRE(strict.has(Section::HttpServices, "web-shop"));
  CHECK(urls(strict.at(Section::HttpServices, "web-shop")).empty());
  CHECK(strict.has(Section::HttpRouters, "web"));
  CHECK(strict.mentions("no routable server: kept with an empty server list"));

  Options lenient;
  lenient.health = HealthPolicy::PassingOrWarning;
  CHECK(urls(build(snap, lenient).at(Section::HttpServices, "web-shop")) ==
        std::vector<std::string>{"http://10.0.0.2:8080"});

  Options drop;
  drop.empty_services = EmptyServices::Drop;
  auto dropped = build(snap, drop);
  CHECK(dropped.config.empty());
  CHECK(dropped.mentions("http.routers.web: dropped: its service 'web-shop' has no routable server"));

  auto suspect = snapshot({node("n1", "10.0.0.1", {instance("web-1", "web", labels)}, NodeStatus::Suspect)});
  CHECK(urls(build(suspect).at(Section::HttpServices, "web-shop")).size() == 1);
}

TEST_CASE("conflicting definitions are reported with their difference and dropped, never mixed") {
  auto a = instance("web-1", "web", {{"traefik.http.services.web.loadbalancer.healthcheck.path", "/health"},
                                     {"traefik.http.routers.web.rule", "Host(`a.example.com`)"}});
  auto b = instance("web-2", "web", {{"traefik.http.services.web.loadbalancer.healthcheck.path", "/healthz"},
                                     {"traefik.http.routers.web.rule", "Host(`a.example.com`)"}});
  auto ok = instance("api-1", "api", {{"traefik.http.routers.api.rule", "Host(`api.example.com`)"}});
  auto built = build(snapshot({node("n1", "10.0.0.1", {a, ok}), node("n2", "10.0.0.2", {b})}));
  CHECK_FALSE(built.has(Section::HttpServices, "web"));
  CHECK_FALSE(built.has(Section::HttpRouters, "web"));
  CHECK(built.has(Section::HttpRouters, "api"));
  CHECK(built.mentions("http.services.web: defined differently by 2 groups of instances (n1/web-1 | n2/web-2); "
                       "first difference: loadBalancer.healthCheck.path: \"/health\" vs \"/healthz\""));
  CHECK(built.mentions("http.routers.web: dropped: its service 'web' was dropped (conflicting definitions)"));
}

TEST_CASE("merging does not depend on the order of nodes, instances or labels") {
  std::vector<catalog::NodeView> nodes;
  for (int n = 0; n < 5; ++n) {
    std::vector<catalog::Instance> insts;
    for (int i = 0; i < 4; ++i) {
      std::string svc = "svc" + std::to_string(i);
      insts.push_back(instance(svc + "-" + std::to_string(n), svc,
                               {{"traefik.http.routers." + svc + ".rule", "Host(`" + svc + ".example.com`)"},
                                {"traefik.http.routers." + svc + ".middlewares", "strip"},
                                {"traefik.http.middlewares.strip.stripprefix.prefixes", "/api"}}));
    }
    // one conflicting replica
    if (n == 3) insts[1].labels["traefik.http.routers.svc1.priority"] = "5";
    nodes.push_back(node("node-" + std::to_string(n), "10.0.0." + std::to_string(n + 1), insts));
  }
  auto reference = build(snapshot(nodes));
  std::vector<Contribution> contributions;
  auto builder = Builder::create({}, TraefikVersion::V3);
  REQUIRE(builder);
  std::vector<Diagnostic> ignored;
  for (const auto& n : nodes) {
    for (const auto& inst : n.entry.instances) {
      contributions.push_back({n.entry.node.name, inst.id,
                               std::make_shared<const Config>(builder->build_instance(n, inst, ignored))});
    }
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::shuffle(contributions.begin(), contributions.end(), rng);
    std::vector<Diagnostic> diags;
    MergeResult merged = merge(contributions, diags);
    finalize(merged, {}, diags);
    normalize(diags);
    CHECK(emit(merged.config, Format::Json) == reference.json);
    CHECK(emit(merged.config, Format::Yaml) == emit(reference.config, Format::Yaml));
  }
}

TEST_CASE("tcp and udp labels build their own services and routers only") {
  auto pg = instance("pg-1", "pg",
                     {{"traefik.tcp.routers.pg.rule", "HostSNI(`*`)"},
                      {"traefik.tcp.routers.pg.entrypoints", "postgres"},
                      {"traefik.tcp.services.pg.loadbalancer.server.port", "5432"}},
                     5432, 15432);
  auto dns = instance("dns-1", "dns", {{"traefik.udp.routers.dns.entrypoints", "dns"}}, 0, 0);
  dns.ports.push_back(catalog::PortBinding{53, 1053, "udp", ""});
  auto b = build(snapshot({node("n1", "10.0.0.1", {pg, dns})}));
  CHECK(b.diagnostics.empty());
  CHECK(b.config[Section::HttpRouters].empty());
  CHECK(b.config[Section::HttpServices].empty());
  CHECK(urls(b.at(Section::TcpServices, "pg")) == std::vector<std::string>{"10.0.0.1:15432"});
  CHECK(b.at(Section::TcpRouters, "pg").find("service")->as_string() == "pg");
  CHECK(urls(b.at(Section::UdpServices, "dns-shop")) == std::vector<std::string>{"10.0.0.1:1053"});
  CHECK(b.at(Section::UdpRouters, "dns").find("service")->as_string() == "dns-shop");

  auto norule = instance("pg-1", "pg", {{"traefik.tcp.routers.pg.entrypoints", "postgres"}}, 5432, 15432);
  CHECK(build(snapshot({node("n1", "10.0.0.1", {norule})})).mentions("has no rule (a TCP router needs one"));
}

TEST_CASE("routers referring to missing middlewares are dropped; foreign references are kept") {
  auto b = build(snapshot({node(
      "n1", "10.0.0.1",
      {instance("web-1", "web",
                {{"traefik.http.routers.a.rule", "Host(`a`)"},
                 {"traefik.http.routers.a.middlewares", "auth@file,gzip"},
                 {"traefik.http.middlewares.gzip.compress", "true"},
                 {"traefik.http.routers.b.rule", "Host(`b`)"},
                 {"traefik.http.routers.b.middlewares", "missing"},
                 {"traefik.http.routers.a.service", "web-shop"},
                 {"traefik.http.routers.b.service", "web-shop"}})})}));
  CHECK(b.has(Section::HttpRouters, "a"));
  CHECK(b.at(Section::HttpMiddlewares, "gzip").find("compress")->as_object().empty());
  CHECK_FALSE(b.has(Section::HttpRouters, "b"));
  CHECK(b.mentions("http.routers.b: dropped: its middleware 'missing' is not defined"));
}

TEST_CASE("the entry point filter keeps routers on the given entry points and those on all") {
  auto b = build(snapshot({node("n1", "10.0.0.1",
                                {instance("a-1", "a", {{"traefik.http.routers.a.entrypoints", "internal"}}),
                                 instance("b-1", "b", {{"traefik.http.routers.b.entrypoints", "web,websecure"}}),
                                 instance("c-1", "c", {})})}),
                 [] {
                   Options o;
                   o.entry_points = {"websecure"};
                   return o;
                 }());
  CHECK_FALSE(b.has(Section::HttpRouters, "a"));
  CHECK(b.has(Section::HttpRouters, "b"));
  CHECK(b.has(Section::HttpRouters, "c-shop"));
}

TEST_CASE("a bad label drops only its resource; the rest of the configuration stays") {
  auto b = build(snapshot({node(
      "n1", "10.0.0.1",
      {instance("web-1", "web",
                {{"traefik.http.routers.web.rule", "Host(`web.example.com`)"},
                 {"traefik.http.routers.bad.rule", "Host(`x`"},
                 {"traefik.http.routers.typo.rulee", "Host(`y`)"},
                 {"traefik.http.services.web.loadbalancer.server.port", "eighty"}}),
       instance("api-1", "api", {{"traefik.http.routers.api.rule", "Host(`api.example.com`)"}})})}));
  CHECK(b.has(Section::HttpRouters, "api"));
  CHECK_FALSE(b.has(Section::HttpRouters, "bad"));
  CHECK_FALSE(b.has(Section::HttpRouters, "typo"));
  CHECK(b.mentions("label traefik.http.routers.bad.rule: rule 'Host(`x`': at offset 8: expected ',' or ')'"));
  CHECK(b.mentions("label traefik.http.routers.typo.rulee: unknown field 'rulee' in http router (did you mean "
                   "'rule'?)"));
  CHECK(b.mentions("label traefik.http.services.web.loadbalancer.server.port: 'eighty' is not an integer"));
}

TEST_CASE("v2 and v3 differ in rule syntax and field availability") {
  auto inst = instance("web-1", "web", {{"traefik.http.routers.web.rule", "Host(`a.example.com`, `b.example.com`)"}});
  auto v3 = build(snapshot({node("n1", "10.0.0.1", {inst})}));
  CHECK_FALSE(v3.has(Section::HttpRouters, "web"));
  CHECK(v3.mentions("v3 matchers take one value"));
  auto v2 = build(snapshot({node("n1", "10.0.0.1", {inst})}), {}, TraefikVersion::V2);
  CHECK(v2.has(Section::HttpRouters, "web"));

  inst.labels["traefik.http.routers.web.rulesyntax"] = "v2";
  CHECK(build(snapshot({node("n1", "10.0.0.1", {inst})})).has(Section::HttpRouters, "web"));
  auto v2b = build(snapshot({node("n1", "10.0.0.1", {inst})}), {}, TraefikVersion::V2);
  CHECK(v2b.mentions("'ruleSyntax' is a Traefik v3 option (the target is v2)"));

  auto headers = instance("web-1", "web", {{"traefik.http.middlewares.h.headers.sslredirect", "true"}});
  CHECK(build(snapshot({node("n1", "10.0.0.1", {headers})})).mentions("'sslRedirect' was removed in Traefik v3"));
  CHECK_FALSE(build(snapshot({node("n1", "10.0.0.1", {headers})}), {}, TraefikVersion::V2)
                  .mentions("sslRedirect"));
}

TEST_CASE("the default rule template is configurable") {
  Options o;
  o.default_rule = "Host(`{{ .Name }}.example.com`) || Host(`{{ index .Labels \"alias\" }}.example.com`)";
  auto b = build(snapshot({node("n1", "10.0.0.1", {instance("web-1", "web", {{"alias", "www"}})})}), o);
  CHECK(b.at(Section::HttpRouters, "web-shop").find("rule")->as_string() ==
        "Host(`web-shop.example.com`) || Host(`www.example.com`)");
  o.default_rule = "{{ if .Name }}x{{ end }}";
  CHECK_FALSE(Builder::create(o, TraefikVersion::V3));
}
