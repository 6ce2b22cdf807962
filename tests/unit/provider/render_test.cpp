// SPDX-License-Identifier: Apache-2.0
#include "provider/build.hpp"
#include "provider/render.hpp"
#include "catalog/snapshot_json.hpp"
#include "provider/yaml.hpp"

#include "fixtures.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::provider;
using catalog::node_id_from_name;
using catalog::snapshot_from_json;
using catalog::snapshot_to_json;
using namespace constellation::provider::test;
using core::json::Value;
using namespace std::chrono_literals;

namespace {

Value parse(std::string_view text) {
  auto v = core::json::parse(text);
  REQUIRE_MESSAGE(v, (v ? "" : v.error().message()));
  return *v;
}

core::Instant at_ms(int ms) { return core::Instant::from_nanos(std::int64_t{ms} * 1'000'000); }

}  // namespace

TEST_CASE("YAML: block style, sorted keys, safe plain scalars, quoted everything else") {
  Value v = parse(R"j({"b":{"z":[1,true,null],"a":"web-shop"},"a":[{"url":"http://10.0.0.1:80","w":2},{"k":[]}],
                       "e":{},"s":["yes","No","on","","1.5","Host(`x`)","line\nbreak","tab\tq\"\\","a: b","-x"]})j");
  CHECK(to_yaml(v) ==
        "a:\n"
        "  - url: \"http://10.0.0.1:80\"\n"
        "    w: 2\n"
        "  - k: []\n"
        "b:\n"
        "  a: web-shop\n"
        "  z:\n"
        "    - 1\n"
        "    - true\n"
        "    - null\n"
        "e: {}\n"
        "s:\n"
        "  - \"yes\"\n"
        "  - \"No\"\n"
        "  - \"on\"\n"
        "  - \"\"\n"
        "  - \"1.5\"\n"
        "  - \"Host(`x`)\"\n"
        "  - \"line\\nbreak\"\n"
        "  - \"tab\\tq\\\"\\\\\"\n"
        "  - \"a: b\"\n"
        "  - \"-x\"\n");
  CHECK(to_yaml(Value::object()) == "{}\n");
  CHECK(to_yaml(parse(R"([[1,2],[]])")) == "-\n  - 1\n  - 2\n- []\n");
}

TEST_CASE("YAML escapes what YAML cannot carry raw and replaces invalid UTF-8") {
  std::string s = "a\x01\x7f\xC2\x85\xE2\x80\xA8\xEF\xBB\xBF\xC3\xA9\xF0\x9F\x98\x80\xFF";
  CHECK(to_yaml(Value(s)) == "\"a\\x01\\x7F\\u0085\\u2028\\uFEFF\xC3\xA9\xF0\x9F\x98\x80\xEF\xBF\xBD\"\n");
}

TEST_CASE("state JSON round-trips and reports precise errors") {
  auto inst = instance("web-1", "web", {{"traefik.http.routers.web.rule", "Host(`a`)"}});
  inst.checks.push_back(catalog::CheckResult{"http", catalog::Health::Passing, "200 OK"});
  auto snap = snapshot({node("n1", "10.0.0.1", {inst}), node("n2", "10.0.0.2", {}, catalog::NodeStatus::Suspect)});
  snap.generation = 42;
  std::string text = snapshot_to_json(snap);
  auto back = snapshot_from_json(text);
  REQUIRE_MESSAGE(back, (back ? "" : back.error().message()));
  CHECK(*back == snap);
  CHECK(snapshot_to_json(*back) == text);

  auto minimal = snapshot_from_json(R"({"nodes":[{"name":"a","instances":[{"id":"x"}]}]})");
  REQUIRE(minimal);
  CHECK(minimal->complete);
  CHECK(minimal->nodes.begin()->second.entry.node.id == node_id_from_name("a"));
  CHECK(minimal->nodes.begin()->second.entry.instances[0].health == catalog::Health::Passing);

  auto error = [](std::string_view doc) {
    auto r = snapshot_from_json(doc);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Code::InvalidArgument);
    return r.error().message();
  };
  CHECK(error(R"({"nodes":[{"name":"a","instances":[{"id":"x","ports":[{"target":80,"published":"8080"}]}]}]})") ==
        "nodes[0].instances[0].ports[0].published: expected integer, got string");
  CHECK(error(R"({"nodes":[{"name":"a","adresses":{}}]})").find("nodes[0]: unknown key 'adresses'") == 0);
  CHECK(error(R"({"nodes":[{"name":"a","status":"dead"}]})") ==
        "nodes[0].status: unknown status 'dead' (alive, suspect, failed, left)");
  CHECK(error(R"({"nodes":[{"name":"a"},{"name":"a"}]})") == "nodes[1].name: duplicate node name 'a'");
  CHECK(error(R"({"nodes":[{"name":"a","instances":[{"id":"x"},{"id":"x"}]}]})") ==
        "nodes[0].instances[1].id: duplicate instance id 'x'");
  CHECK(error(R"({"nodes":[{"name":"a","instances":[{"id":"x","ports":[{"target":0}]}]}]})") ==
        "nodes[0].instances[0].ports[0].target: 0 is not a port number");
  CHECK(error("[1]") == "state: expected a JSON object at the top");
  CHECK(error("{").find("state: ") == 0);
}

TEST_CASE("rendering twice gives identical bytes and hashes; JSON and YAML describe the same value") {
  auto snap = snapshot({node("n1", "10.0.0.1",
                             {instance("web-1", "web",
                                       {{"traefik.http.routers.web.rule", "Host(`web.example.com`)"},
                                        {"traefik.http.routers.web.middlewares", "auth"},
                                        {"traefik.http.middlewares.auth.basicauth.users", "u:$apr1$x"}})})});
  auto a = render(snap, {}, TraefikVersion::V3, Format::Json);
  auto b = render(snap, {}, TraefikVersion::V3, Format::Json);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->body == b->body);
  CHECK(a->hash == b->hash);
  CHECK(a->hash == content_hash(a->body));
  CHECK(content_hash("") != content_hash(std::string(1, '\0')));
  CHECK(content_hash("abcdefgh") != content_hash("abcdefgi"));
  CHECK(content_hash("abcdefghi") != content_hash("abcdefgh"));
  auto y = render(snap, {}, TraefikVersion::V3, Format::Yaml);
  REQUIRE(y);
  CHECK(y->body.find("    web:\n      middlewares:\n        - auth\n") != std::string::npos);
  CHECK(etag_of(0x0123456789abcdefULL) == "\"0123456789abcdef\"");
  CHECK(fnv1a_64("") == 14695981039346656037ULL);
  CHECK(fnv1a_64("a") == 0xaf63dc4c8601ec8cULL);

  auto incomplete = render(snapshot({}, false), {}, TraefikVersion::V3, Format::Json);
  REQUIRE(incomplete);
  CHECK(incomplete->body == "{}\n");
  REQUIRE(incomplete->diagnostics.size() == 1);
  CHECK(incomplete->diagnostics[0].message.find("answers 503") != std::string::npos);
}

TEST_CASE("the renderer debounces bursts, caps the delay, and keeps ETags for unchanged bytes") {
  Renderer::Settings settings;
  settings.quiet = 20ms;
  settings.max_delay = 100ms;
  auto r = Renderer::create(settings);
  REQUIRE(r);
  CHECK(r->deadline() == core::Instant::max());
  CHECK_FALSE(r->poll(at_ms(0)));
  CHECK(r->latest() == nullptr);

  auto snap = std::make_shared<catalog::Snapshot>(snapshot({node("n1", "10.0.0.1", {instance("web-1", "web", {})})}));
  r->offer(snap, at_ms(0));
  CHECK(r->deadline() == at_ms(20));
  CHECK_FALSE(r->poll(at_ms(19)));
  // A burst: every change pushes the render out by `quiet`, up to max_delay after the first.
  for (int t = 10; t <= 90; t += 10) {
    auto next = std::make_shared<catalog::Snapshot>(*snap);
    next->generation = static_cast<std::uint64_t>(t);
    r->offer(next, at_ms(t));
  }
  CHECK(r->deadline() == at_ms(100));
  CHECK_FALSE(r->poll(at_ms(99)));
  CHECK(r->poll(at_ms(100)));
  CHECK(r->renders() == 1);
  auto first = r->latest();
  REQUIRE(first);
  CHECK(first->generation == 90);
  REQUIRE(first->body(TraefikVersion::V3, Format::Yaml));
  REQUIRE(first->body(TraefikVersion::V2, Format::Json));
  CHECK(first->version(TraefikVersion::V3)->routers == 1);

  // Same generation again: nothing to do.
  auto same = std::make_shared<catalog::Snapshot>(*snap);
  same->generation = 90;
  r->offer(same, at_ms(200));
  CHECK(r->deadline() == core::Instant::max());

  // A new generation with identical content renders the same bytes: not a change, same ETag.
  auto relabel = std::make_shared<catalog::Snapshot>(*snap);
  relabel->generation = 91;
  r->offer(relabel, at_ms(300));
  CHECK_FALSE(r->poll(at_ms(320)));
  CHECK(r->renders() == 2);
  CHECK(r->latest()->body(TraefikVersion::V3, Format::Yaml)->etag == first->body(TraefikVersion::V3, Format::Yaml)->etag);

  // A real change.
  auto changed = std::make_shared<catalog::Snapshot>(*snap);
  changed->generation = 92;
  changed->nodes.begin()->second.entry.instances[0].health = catalog::Health::Critical;
  ++changed->nodes.begin()->second.entry.version;  // the owner bumps its version on every change
  r->offer(changed, at_ms(400));
  CHECK(r->flush());
  CHECK(r->latest()->body(TraefikVersion::V3, Format::Yaml)->etag != first->body(TraefikVersion::V3, Format::Yaml)->etag);

  // An incomplete view renders nothing to serve.
  auto partial = std::make_shared<catalog::Snapshot>(*snap);
  partial->generation = 93;
  partial->complete = false;
  r->offer(partial, at_ms(500));
  CHECK(r->flush());
  CHECK_FALSE(r->latest()->complete);
  CHECK(r->latest()->body(TraefikVersion::V3, Format::Yaml) == nullptr);
}

TEST_CASE("renderer settings are validated") {
  Renderer::Settings s;
  s.versions.clear();
  CHECK_FALSE(Renderer::create(s));
  Renderer::Settings t;
  t.quiet = 1s;
  t.max_delay = 10ms;
  CHECK_FALSE(Renderer::create(t));
  Renderer::Settings u;
  u.options.default_rule = "{{";
  CHECK_FALSE(Renderer::create(u));
  Renderer::Settings only_v3;
  only_v3.versions = {TraefikVersion::V3, TraefikVersion::V3};
  auto r = Renderer::create(only_v3);
  REQUIRE(r);
  r->offer(std::make_shared<catalog::Snapshot>(snapshot({})), at_ms(0));
  r->flush();
  CHECK(r->latest()->body(TraefikVersion::V2, Format::Json) == nullptr);
  CHECK(r->latest()->body(TraefikVersion::V3, Format::Json)->bytes == "{}\n");
}

TEST_CASE("the instance cache reuses unchanged instances and gives the same result as no cache") {
  auto builder = Builder::create({}, TraefikVersion::V3);
  REQUIRE(builder);
  InstanceCache cache;
  auto snap = snapshot({node("n1", "10.0.0.1", {instance("a-1", "a", {}), instance("b-1", "b", {})}),
                        node("n2", "10.0.0.2", {instance("a-2", "a", {})})});
  std::vector<Diagnostic> d1, d2;
  Config cold = builder->build(snap, d1);
  CHECK(builder->build(snap, d2, &cache) == cold);
  CHECK(cache.misses() == 3);
  CHECK(cache.size() == 3);
  CHECK(builder->build(snap, d2, &cache) == cold);
  CHECK(cache.hits() == 3);
  CHECK(cache.misses() == 0);

  // A change with a new entry version is rebuilt; the same version is trusted.
  auto& n1 = snap.nodes.at(node_id_from_name("n1")).entry;
  n1.instances[0].health = catalog::Health::Critical;
  ++n1.version;
  std::vector<Diagnostic> d3;
  Config changed = builder->build(snap, d3, &cache);
  CHECK(cache.misses() == 1);  // n1 changed version: its other instance is compared and reused
  CHECK(changed == builder->build(snap, d3));
  CHECK(changed != cold);

  // Version 0 (state files that do not track versions): compared field by field.
  n1.version = 0;
  builder->build(snap, d3, &cache);
  n1.instances[0].health = catalog::Health::Passing;
  CHECK(builder->build(snap, d3, &cache) == cold);
  CHECK(cache.misses() == 1);

  // Removed instances leave the cache.
  n1.instances.pop_back();
  builder->build(snap, d3, &cache);
  CHECK(cache.size() == 2);
}
