// SPDX-License-Identifier: Apache-2.0
#include "spec/compose.hpp"
#include "spec/dump.hpp"
#include "spec/service_set.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace constellation;
using namespace constellation::spec;
using namespace std::chrono_literals;

namespace {

ParseResult parse(std::string_view yaml, Variables vars = {}, ParseOptions o = {}) {
  if (o.default_project.empty()) o.default_project = "test";
  return parse_compose(yaml, "compose.yaml", vars, o);
}

ServiceSpec only(const ParseResult& r) {
  for (const auto& d : r.diagnostics) MESSAGE(d.to_string());
  REQUIRE(r.project.has_value());
  REQUIRE(r.project->services.size() == 1);
  return r.project->services[0];
}

std::vector<std::string> messages(const std::vector<Diagnostic>& ds, Severity s = Severity::Error) {
  std::vector<std::string> out;
  for (const auto& d : ds) {
    if (d.severity == s) out.push_back(d.to_string());
  }
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view needle) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

}  // namespace

TEST_CASE("a full service") {
  auto r = parse(R"(
name: shop
services:
  web:
    image: ghcr.io/acme/shop:1.4
    command: ["serve", "--port", "8080"]
    entrypoint: /entry.sh
    environment:
      DATABASE_URL: postgres://db/shop
      WORKERS: 4
      DEBUG: false
      FROM_HOST:
    ports:
      - "8080:8080"
      - target: 9090
        published: "19090"
        protocol: udp
        host_ip: 127.0.0.1
        mode: host
    volumes:
      - ./static:/srv/static:ro
      - uploads:/srv/uploads
      - type: tmpfs
        target: /tmp
    networks: [front]
    labels:
      traefik.enable: true
      traefik.http.routers.shop.rule: Host(`shop.example.com`) && PathPrefix(`/`)
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8080/health"]
      interval: 15s
      timeout: 3s
      retries: 4
      start_period: 20s
    restart: on-failure:5
    depends_on:
      db:
        condition: service_healthy
    deploy:
      replicas: 3
    stop_grace_period: 30s
    x-constellation:
      networks: [backend, tailscale]
      placement:
        tags: [ssd]
        spread: true
      checks:
        - http: http://127.0.0.1:8080/health
          expect_status: 200
          expect_body: ok
          interval: 5s
          rise: 2
  db:
    image: postgres:16
networks:
  front: {}
volumes:
  uploads:
)",
                 {{"FROM_HOST", "yes"}});
  for (const auto& d : r.diagnostics) MESSAGE(d.to_string());
  REQUIRE(r.project);
  CHECK(r.project->name == "shop");
  REQUIRE(r.project->services.size() == 2);
  const auto& s = r.project->services[1];
  CHECK(s.name == "web");
  CHECK(s.line == 4);
  CHECK(s.runtime == Runtime::Docker);
  CHECK(s.command == std::vector<std::string>{"serve", "--port", "8080"});
  CHECK(s.entrypoint == std::vector<std::string>{"/entry.sh"});
  CHECK(s.environment == std::map<std::string, std::string>{
                             {"DATABASE_URL", "postgres://db/shop"}, {"DEBUG", "false"}, {"FROM_HOST", "yes"}, {"WORKERS", "4"}});
  REQUIRE(s.ports.size() == 2);
  CHECK(s.ports[1].protocol == "udp");
  CHECK(s.ports[1].published == 19090);
  CHECK(s.ports[1].mode == "host");
  REQUIRE(s.volumes.size() == 3);
  CHECK(s.volumes[0].read_only);
  CHECK(s.volumes[2].type == "tmpfs");
  CHECK(s.networks.count("front") == 1);
  CHECK(s.labels.at("traefik.enable") == "true");
  CHECK(s.labels.at("traefik.http.routers.shop.rule") == "Host(`shop.example.com`) && PathPrefix(`/`)");
  REQUIRE(s.healthcheck);
  CHECK(s.healthcheck->retries == 4);
  CHECK(s.restart.condition == RestartCondition::OnFailure);
  CHECK(s.restart.max_attempts == 5);
  CHECK(s.restart.on_unhealthy);
  REQUIRE(s.depends_on.size() == 1);
  CHECK(s.depends_on[0].condition == DependencyCondition::Healthy);
  CHECK(s.replicas == 3);
  CHECK(s.stop_grace_period == 30s);
  CHECK(s.cluster_networks == std::vector<std::string>{"backend", "tailscale"});
  CHECK(s.placement.tags == std::vector<std::string>{"ssd"});
  REQUIRE(s.checks.size() == 2);
  CHECK(s.checks[0].name == "healthcheck");
  CHECK(s.checks[0].kind == CheckKind::Container);
  CHECK(s.checks[0].fall == 4);
  CHECK(s.checks[1].kind == CheckKind::Http);
  CHECK(s.checks[1].rise == 2);
  CHECK(s.checks[1].expect_body == "ok");
}

TEST_CASE("list forms of environment, labels and depends_on") {
  const auto& s = only(parse(R"(
services:
  worker:
    image: busybox
    environment:
      - QUEUE=jobs
      - EMPTY=
      - FROM_HOST
      - NOT_SET
    labels:
      - "traefik.enable=false"
      - "com.example.flag"
    depends_on: [redis]
    command: ./worker
    x-constellation:
      runtime: process
)",
                             {{"FROM_HOST", "h"}}));
  CHECK(s.environment == std::map<std::string, std::string>{{"EMPTY", ""}, {"FROM_HOST", "h"}, {"QUEUE", "jobs"}});
  CHECK(s.labels == std::map<std::string, std::string>{{"com.example.flag", ""}, {"traefik.enable", "false"}});
  REQUIRE(s.depends_on.size() == 1);
  CHECK(s.depends_on[0].service == "redis");
  CHECK(s.depends_on[0].condition == DependencyCondition::Started);
  CHECK(s.runtime == Runtime::Process);
}

TEST_CASE("process runtime: command string, compose healthcheck becomes an exec check") {
  const auto& s = only(parse(R"(
services:
  api:
    command: python3 -m http.server 8081 --bind 127.0.0.1
    working_dir: ./www
    healthcheck:
      test: curl -fsS http://127.0.0.1:8081/health
      interval: 2s
      retries: 2
    restart: always
)"));
  CHECK(s.runtime == Runtime::Process);  // no image, a command
  CHECK(s.command.size() == 6);
  REQUIRE(s.checks.size() == 1);
  CHECK(s.checks[0].kind == CheckKind::Exec);
  CHECK(s.checks[0].command == std::vector<std::string>{"/bin/sh", "-c", "curl -fsS http://127.0.0.1:8081/health"});
  CHECK(s.checks[0].fall == 2);
  CHECK(s.healthcheck->test[0] == "CMD-SHELL");
}

TEST_CASE("healthcheck NONE and disable") {
  auto s = only(parse("services:\n  a:\n    image: x\n    healthcheck:\n      test: [\"NONE\"]\n"));
  CHECK(s.healthcheck->disabled);
  CHECK(s.checks.empty());
  s = only(parse("services:\n  a:\n    image: x\n    healthcheck:\n      disable: true\n"));
  CHECK(s.healthcheck->disabled);
}

TEST_CASE("interpolation in values, .env variables and warnings for unset ones") {
  auto r = parse(R"(
services:
  web:
    image: "nginx:${NGINX_TAG:-1.25}"
    labels:
      traefik.http.routers.web.rule: Host(`${DOMAIN}`)
      traefik.http.middlewares.auth.basicauth.users: "admin:$$apr1$$xyz"
    environment:
      UNSET: ${NOT_THERE}
)",
                 {{"DOMAIN", "example.org"}});
  const auto& s = only(r);
  CHECK(s.image == "nginx:1.25");
  CHECK(s.labels.at("traefik.http.routers.web.rule") == "Host(`example.org`)");
  CHECK(s.labels.at("traefik.http.middlewares.auth.basicauth.users") == "admin:$apr1$xyz");
  CHECK(s.environment.at("UNSET") == "");
  auto warnings = messages(r.diagnostics, Severity::Warning);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "compose.yaml:9:14: warning: services.web.environment.UNSET: variable NOT_THERE is not set; "
                       "substituting an empty string");
}

TEST_CASE("merge keys and anchors are expanded") {
  const auto& r = parse(R"(
x-common: &common
  image: busybox
  restart: always
  labels:
    team: core
services:
  a:
    <<: *common
    restart: "no"
)");
  const auto& s = only(r);
  CHECK(s.image == "busybox");
  CHECK(s.restart.condition == RestartCondition::No);
  CHECK(s.labels.at("team") == "core");
}

TEST_CASE("unknown and unsupported keys are warnings, not errors") {
  auto r = parse(R"(
version: "3.9"
services:
  a:
    image: busybox
    build: .
    frobnicate: 1
    cap_add: [NET_ADMIN]
    x-whatever: 1
    x-constellation:
      colour: blue
wat: 1
)");
  REQUIRE(r.project);
  auto w = messages(r.diagnostics, Severity::Warning);
  CHECK(contains(w, "compose.yaml:2:1: warning: version: is obsolete"));
  CHECK(contains(w, "compose.yaml:6:5: warning: services.a.build: not supported"));
  CHECK(contains(w, "compose.yaml:7:5: warning: services.a.frobnicate: unknown key"));
  CHECK(contains(w, "services.a.x-constellation.colour: unknown key"));
  CHECK(contains(w, "compose.yaml:12:1: warning: wat: unknown top-level key"));
  CHECK(w.size() == 5);
}

TEST_CASE("errors name file, line, column and field") {
  auto r = parse(R"(services:
  web:
    image: nginx
    ports:
      - "80:80:80:80"
      - 70000
    replicas: 2
    deploy:
      replicas: many
    healthcheck:
      interval: 10
      test: ["WHAT"]
    restart: sometimes
    depends_on:
      - web
    environment: [1, [2]]
  worker:
    command: [run]
    x-constellation:
      runtime: docker
  "bad name":
    image: x
)");
  CHECK_FALSE(r.project);
  auto e = messages(r.diagnostics);
  CHECK(contains(e, "compose.yaml:5:9: error: services.web.ports[0]: too many ':'"));
  CHECK(contains(e, "compose.yaml:6:9: error: services.web.ports[1]: port 70000 is out of range"));
  CHECK(contains(e, "compose.yaml:9:17: error: services.web.deploy.replicas: expected an integer, got 'many'"));
  CHECK(contains(e, "compose.yaml:11:17: error: services.web.healthcheck.interval: expected a duration with a unit"));
  CHECK(contains(e, "compose.yaml:12:13: error: services.web.healthcheck.test: a test list starts with NONE, CMD"));
  CHECK(contains(e, "compose.yaml:13:14: error: services.web.restart: invalid restart policy 'sometimes'"));
  CHECK(contains(e, "compose.yaml:15:9: error: services.web.depends_on[0]: a service cannot depend on itself"));
  CHECK(contains(e, "compose.yaml:16:22: error: services.web.environment[1]: expected a string, got a list"));
  CHECK(contains(e, "compose.yaml:17:3: error: services.worker: missing required field 'image'"));
  CHECK(contains(e, "compose.yaml:21:3: error: services.bad name: invalid service name"));
  auto w = messages(r.diagnostics, Severity::Warning);
  CHECK(contains(w, "compose.yaml:7:5: warning: services.web.replicas: unknown key"));
}

TEST_CASE("structural errors") {
  CHECK(contains(messages(parse("").diagnostics), "the file is empty"));
  CHECK(contains(messages(parse("services: [a, b]").diagnostics), "services: expected a mapping, got a list"));
  CHECK(contains(messages(parse("name: x\n").diagnostics), "missing required field 'services'"));
  CHECK(contains(messages(parse("services:\n  a: {image: x\n").diagnostics), "invalid YAML"));
  CHECK(contains(messages(parse("services:\n  a:\n    image: x\n  a:\n    image: y\n").diagnostics),
                 "compose.yaml:4:3: error: services.a: duplicate key (first defined on line 2)"));
  CHECK(contains(messages(parse("name: Bad_Name\nservices:\n  a:\n    image: x\n").diagnostics), "invalid project name"));
  CHECK(contains(messages(parse("services:\n  a:\n    image: x\n    networks: [nope]\n").diagnostics),
                 "network 'nope' is not declared"));
  CHECK(contains(messages(parse("services:\n  a:\n    image: x\n    volumes: [data:/data]\n").diagnostics),
                 "volume 'data' is not declared"));
  CHECK(contains(messages(parse("services:\n  a:\n    image: x\n    network_mode: host\n    networks: [default]\n")
                              .diagnostics),
                 "cannot be combined with networks"));
  CHECK(contains(messages(parse("services:\n  a:\n    image: ${NEED:?please}\n").diagnostics),
                 "required variable NEED is not set: please"));
  CHECK(contains(messages(parse("services:\n  a:\n    image: x\n    x-constellation:\n      placement: {singleton: true}\n"
                                "    deploy: {replicas: 2}\n")
                              .diagnostics),
                 "a singleton cannot have 2 replicas"));
  CHECK(contains(messages(parse("services:\n  a:\n    image: x\n    x-constellation:\n      checks:\n        - tcp: nohost\n")
                              .diagnostics),
                 "expected host:port"));
  CHECK(contains(messages(parse("services:\n  a:\n    image: x\n    x-constellation:\n      checks:\n        - interval: 1s\n")
                              .diagnostics),
                 "a check needs one of http, tcp, exec or container"));
}

TEST_CASE("billion laughs stays within the node budget") {
  std::string y = "x-a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'k'; ++c) {
    y += "x-" + std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) y += std::string(i ? ", " : "") + "*" + prev;
    y += "]\n";
    prev = c;
  }
  y += "services:\n  s:\n    image: x\n    command: *k\n";
  auto r = parse(y);
  CHECK_FALSE(r.project);
  CHECK(contains(messages(r.diagnostics), "expected a string"));
  ParseOptions small;
  small.max_nodes = 20;
  auto r2 = parse(y, {}, small);
  CHECK(contains(messages(r2.diagnostics), "document too complex"));
}

TEST_CASE("env_file is read through the injected reader and environment wins") {
  ParseOptions o;
  o.env_file_reader = [](std::string_view path) -> std::optional<std::string> {
    if (path == "app.env") return std::string("A=from-file\nB=from-file\n");
    if (path == "bad.env") return std::string("oops\n");
    return std::nullopt;
  };
  auto r = parse("services:\n  a:\n    image: x\n    env_file: app.env\n    environment: {B: inline}\n", {}, o);
  const auto& s = only(r);
  CHECK(s.environment == std::map<std::string, std::string>{{"A", "from-file"}, {"B", "inline"}});
  CHECK(s.env_files == std::vector<std::string>{"app.env"});
  auto missing = parse("services:\n  a:\n    image: x\n    env_file: [missing.env, {path: opt.env, required: false}]\n",
                       {}, o);
  auto e = messages(missing.diagnostics);
  REQUIRE(e.size() == 1);
  CHECK(contains(e, "compose.yaml:4:16: error: services.a.env_file[0]: env file 'missing.env' not found"));
  CHECK(contains(messages(parse("services:\n  a:\n    image: x\n    env_file: bad.env\n", {}, o).diagnostics),
                 "bad.env:1: expected KEY=VALUE"));
}

TEST_CASE("deploy labels merge into labels; deploy restart_policy applies without restart") {
  auto r = parse(R"(
services:
  a:
    image: x
    labels: {one: "1"}
    deploy:
      mode: global
      labels: {two: "2"}
      restart_policy:
        condition: on-failure
        delay: 5s
        max_attempts: 3
)");
  const auto& s = only(r);
  CHECK(s.labels == std::map<std::string, std::string>{{"one", "1"}, {"two", "2"}});
  CHECK(s.placement.global);
  CHECK(s.restart.condition == RestartCondition::OnFailure);
  CHECK(s.restart.backoff == 5s);
  CHECK(s.restart.max_attempts == 3);
}

TEST_CASE("directory: duplicates across files, unknown dependencies and cycles") {
  std::vector<SourceFile> files{
      {"a.yaml", "services:\n  web:\n    image: x\n    depends_on: [api]\n  api:\n    image: x\n    depends_on: [db]\n"},
      {"b.yaml", "services:\n  db:\n    image: x\n    depends_on:\n      web: {condition: service_started}\n"
                 "      cache: {required: false}\n"},
      {"c.yaml", "services:\n  web:\n    image: y\n"},
      {"d.yaml", "services:\n  lonely:\n    image: x\n    depends_on: [ghost]\n"},
  };
  auto set = load_service_set(files, {}, "dir");
  CHECK_FALSE(set.ok());
  auto e = messages(set.diagnostics);
  CHECK(contains(e, "c.yaml:2: error: services.web: duplicate service name (also defined in a.yaml:2)"));
  CHECK(contains(e, "a.yaml:4:18: error: services.web.depends_on: dependency cycle: api -> db -> web -> api"));
  CHECK(contains(e, "d.yaml:4:18: error: services.lonely.depends_on: depends on unknown service 'ghost'"));
  CHECK(e.size() == 3);
  auto w = messages(set.diagnostics, Severity::Warning);
  CHECK(contains(w, "b.yaml:6:7: warning: services.db.depends_on: depends on unknown service 'cache' (not required"));
  CHECK(set.projects.size() == 4);
  CHECK(set.projects[0].name == "a");
  CHECK(set.find("web")->file == "a.yaml");
}

TEST_CASE("start order puts dependencies first") {
  std::vector<SourceFile> files{
      {"compose.yaml",
       "services:\n  web:\n    image: x\n    depends_on: [api, cache]\n  api:\n    image: x\n    depends_on: [db]\n"
       "  db:\n    image: x\n  cache:\n    image: x\n"},
  };
  auto set = load_service_set(files, {}, "shop");
  REQUIRE(set.ok());
  CHECK(set.projects[0].name == "shop");
  std::vector<std::string> order;
  for (auto* s : start_order(set)) order.push_back(s->name);
  CHECK(order == std::vector<std::string>{"db", "api", "cache", "web"});
}

TEST_CASE("the spec hash ignores labels and checks but not the command") {
  auto a = only(parse("services:\n  a:\n    image: x\n    labels: {l: '1'}\n"));
  auto b = only(parse("services:\n  a:\n    image: x\n    labels: {l: '2'}\n    x-constellation:\n      checks: [{tcp: "
                      "'127.0.0.1:1'}]\n"));
  auto c = only(parse("services:\n  a:\n    image: x\n    command: run\n"));
  CHECK(spec_hash(a) == spec_hash(b));
  CHECK(spec_hash(a) != spec_hash(c));
  CHECK(spec_hash(a).size() == 16);
}
