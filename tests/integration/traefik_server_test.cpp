// SPDX-License-Identifier: Apache-2.0
// traefik::ProviderServer as the agent will use it: catalog snapshots published from another
// thread, the endpoint on loopback, the file output, metrics and status.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "catalog/snapshot_json.hpp"
#include "core/metrics.hpp"
#include "cst_test/files.hpp"
#include "io/http/server.hpp"
#include "io/os/os.hpp"
#include "traefik/provider_server.hpp"

#include <filesystem>
#include <string>
#include <unistd.h>

using namespace constellation;

namespace {

std::shared_ptr<const catalog::Snapshot> make(bool complete, catalog::Health health, std::uint64_t version) {
  catalog::Snapshot s;
  s.generation = version;
  s.complete = complete;
  catalog::NodeView v;
  v.entry.node.name = "n1";
  v.entry.node.id = catalog::node_id_from_name("n1");
  v.entry.node.addresses["backend"] = "10.0.0.1";
  v.entry.version = version;
  catalog::Instance i;
  i.id = "web-1";
  i.service = "web";
  i.project = "shop";
  i.labels["traefik.http.routers.web.rule"] = "Host(`web.example.com`)";
  i.labels["traefik.http.routers.bad.rulee"] = "x";
  i.ports.push_back({80, 8080, "tcp", ""});
  i.networks = {"backend"};
  i.health = health;
  v.entry.instances.push_back(i);
  s.nodes.emplace(v.entry.node.id, v);
  return std::make_shared<const catalog::Snapshot>(std::move(s));
}

using cst_test::TempDir;

}  // namespace

TEST_CASE("ProviderServer: 503 until complete, then cached bytes, file output, metrics") {
  TempDir dir;
  core::metrics::Registry metrics;
  traefik::ServeOptions serve;
  serve.file_output = (dir.fs() / "dynamic.yml").string();
  serve.default_format = provider::Format::Json;
  auto server = traefik::ProviderServer::start({}, serve, &metrics);
  REQUIRE_MESSAGE(server, (server ? "" : server.error().message()));
  auto& s = **server;
  const int port = s.port();
  REQUIRE(port > 0);

  auto get = [&](const std::string& path) {
    auto r = io::http::request("GET", "127.0.0.1", port, path);
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message()));
    return *r;
  };
  CHECK(get("/v1/traefik").status == 503);
  s.publish(make(false, catalog::Health::Passing, 1));
  s.sync();
  CHECK(get("/v1/traefik").status == 503);
  CHECK_FALSE(std::filesystem::exists(serve.file_output));

  s.publish(make(true, catalog::Health::Passing, 2));
  s.sync();
  auto ok = get("/v1/traefik");
  CHECK(ok.status == 200);
  CHECK(ok.body.find("\"url\": \"http://10.0.0.1:8080\"") != std::string::npos);
  const std::string etag = ok.headers["etag"];
  CHECK(etag.size() == 18);
  CHECK(ok.headers["x-constellation-generation"] == "2");
  auto file = io::os::read_file(serve.file_output);
  REQUIRE(file);
  CHECK(*file == s.current()->body(provider::TraefikVersion::V3, provider::Format::Yaml)->bytes);
  CHECK(s.status().file_writes == 1);

  // The same cluster again (a new generation, equal content): same bytes, same ETag, no rewrite.
  auto same = std::make_shared<catalog::Snapshot>(*make(true, catalog::Health::Passing, 2));
  same->generation = 3;
  s.publish(same);
  s.sync();
  CHECK(get("/v1/traefik").headers["etag"] == etag);
  CHECK(s.status().file_writes == 1);

  // A health change: new bytes and ETag, file rewritten.
  s.publish(make(true, catalog::Health::Critical, 4));
  s.sync();
  auto changed = get("/v1/traefik");
  CHECK(changed.headers["etag"] != etag);
  CHECK(changed.body.find("\"servers\": []") != std::string::npos);
  CHECK(s.status().file_writes == 2);

  auto diags = get("/v1/traefik/diagnostics");
  CHECK(diags.body.find("traefik.http.routers.bad.rulee") != std::string::npos);

  std::string text = metrics.render();
  CHECK(text.find("constellation_traefik_ready 1") != std::string::npos);
  CHECK(text.find("constellation_traefik_routers{version=\"v3\"} 1") != std::string::npos);
  INFO(text);
  CHECK(text.find("constellation_traefik_diagnostics{version=\"v3\",severity=\"error\"} 1") != std::string::npos);
  CHECK(text.find("constellation_traefik_requests_total{code=\"503\"} 2") != std::string::npos);
  CHECK(text.find("constellation_traefik_file_writes_total 2") != std::string::npos);
  s.stop();
  s.stop();
}

TEST_CASE("ProviderServer: a failing file output is reported and retried") {
  TempDir dir;
  traefik::ServeOptions serve;
  serve.serve_http = false;
  serve.file_output = (dir.fs() / "missing-dir" / "dynamic.yml").string();
  auto server = traefik::ProviderServer::start({}, serve);
  REQUIRE(server);
  auto& s = **server;
  CHECK(s.port() == 0);
  s.publish(make(true, catalog::Health::Passing, 1));
  s.sync();
  CHECK_FALSE(s.status().file_error.empty());
  CHECK(s.status().file_writes == 0);
  // Once the directory exists the next retry (within about a second) succeeds.
  std::filesystem::create_directory(dir.fs() / "missing-dir");
  for (int i = 0; i < 300 && s.status().file_writes == 0; ++i) ::usleep(10000);
  CHECK(s.status().file_writes == 1);
  CHECK(s.status().file_error.empty());
}

TEST_CASE("ProviderServer: option errors") {
  traefik::ServeOptions serve;
  serve.versions = {provider::TraefikVersion::V2};
  CHECK_FALSE(traefik::ProviderServer::start({}, serve));  // default version v3 is not rendered
  // No HTTP listener and no file is valid: a host server mounts the endpoint through handle().
  traefik::ServeOptions mounted;
  mounted.serve_http = false;
  auto embedded = traefik::ProviderServer::start({}, mounted);
  REQUIRE(embedded);
  CHECK((*embedded)->port() == 0);
  io::http::StaticRequest req;
  req.method = "GET";
  req.target = req.path = "/v1/traefik";
  io::http::StaticResponse resp;
  (*embedded)->handle(req, resp);
  CHECK(resp.status == 503);  // nothing published yet
  traefik::ServeOptions token;
  token.token = "x";
  token.token_header.clear();
  CHECK_FALSE(traefik::ProviderServer::start({}, token));
  provider::Options bad;
  bad.default_rule = "{{";
  CHECK_FALSE(traefik::ProviderServer::start(bad, {}));
}
