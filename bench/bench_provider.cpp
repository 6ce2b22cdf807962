// SPDX-License-Identifier: Apache-2.0
// Render time of the Traefik provider for 50 nodes x 200 routed services per node:
//   replicated: 200 services, each on all 50 nodes (200 routers, 200 load balancers of 50 servers)
//   distinct:   10,000 services, one instance each (10,000 routers and load balancers)
// Every instance carries six labels (rule, entry points, TLS resolver, middleware, port, health
// check). Each benchmark reports the time of one whole render (decode every label, build, merge,
// finalize) and of the emitters alone; the Renderer benchmark renders v2 and v3 in both formats,
// as the endpoint does on every catalog change.
//
//   build/dev/bench/bench_provider --benchmark_min_time=1
#include "provider/build.hpp"
#include "provider/render.hpp"

#include <benchmark/benchmark.h>

#include <string>

using namespace constellation;
using namespace constellation::provider;

namespace {

constexpr int kNodes = 50;
constexpr int kPerNode = 200;

catalog::Snapshot make_snapshot(bool replicated) {
  catalog::Snapshot s;
  s.generation = 1;
  s.complete = true;
  for (int n = 0; n < kNodes; ++n) {
    catalog::NodeView view;
    std::array<std::uint8_t, 16> id{};
    id[0] = static_cast<std::uint8_t>(n);
    id[15] = 1;
    view.entry.node.id = core::NodeId(id);
    view.entry.node.name = "node-" + std::to_string(n);
    view.entry.version = 1;
    view.entry.node.addresses["backend"] = "10.0." + std::to_string(n / 250) + "." + std::to_string(n % 250 + 1);
    for (int i = 0; i < kPerNode; ++i) {
      std::string svc = replicated ? "svc" + std::to_string(i) : "svc" + std::to_string(n) + "x" + std::to_string(i);
      catalog::Instance inst;
      inst.id = svc + "-" + std::to_string(n);
      inst.service = svc;
      inst.project = "bench";
      inst.runtime = "docker";
      inst.labels = {
          {"traefik.http.routers." + svc + ".rule", "Host(`" + svc + ".example.com`) && PathPrefix(`/`)"},
          {"traefik.http.routers." + svc + ".entrypoints", "websecure"},
          {"traefik.http.routers." + svc + ".tls.certresolver", "le"},
          {"traefik.http.routers." + svc + ".middlewares", "secure@file"},
          {"traefik.http.services." + svc + ".loadbalancer.server.port", "8080"},
          {"traefik.http.services." + svc + ".loadbalancer.healthcheck.path", "/health"},
      };
      inst.ports = {{8080, static_cast<std::uint16_t>(20000 + i), "tcp", ""}};
      inst.networks = {"backend"};
      inst.health = catalog::Health::Passing;
      view.entry.instances.push_back(std::move(inst));
    }
    s.nodes.emplace(view.entry.node.id, std::move(view));
  }
  return s;
}

const catalog::Snapshot& snapshot(bool replicated) {
  static const catalog::Snapshot r = make_snapshot(true);
  static const catalog::Snapshot d = make_snapshot(false);
  return replicated ? r : d;
}

void BM_Build(benchmark::State& state) {
  const auto& snap = snapshot(state.range(0) == 1);
  auto builder = Builder::create({}, TraefikVersion::V3);
  std::size_t routers = 0;
  for (auto _ : state) {
    std::vector<Diagnostic> diags;
    Config c = builder->build(snap, diags);
    routers = c[Section::HttpRouters].size();
    benchmark::DoNotOptimize(c);
  }
  state.counters["routers"] = static_cast<double>(routers);
  state.counters["instances"] = kNodes * kPerNode;
}

void BM_Emit(benchmark::State& state) {
  const auto& snap = snapshot(state.range(0) == 1);
  auto builder = Builder::create({}, TraefikVersion::V3);
  std::vector<Diagnostic> diags;
  Config c = builder->build(snap, diags);
  const Format f = state.range(1) == 0 ? Format::Json : Format::Yaml;
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string out = emit(c, f);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

void BM_RenderYaml(benchmark::State& state) {
  const auto& snap = snapshot(state.range(0) == 1);
  for (auto _ : state) {
    auto r = render(snap, {}, TraefikVersion::V3, Format::Yaml);
    benchmark::DoNotOptimize(r);
  }
}

// What the endpoint does per catalog change: v2 and v3, JSON and YAML, hashes.
void BM_RendererAllVariants(benchmark::State& state) {
  // Two snapshots differing only in generation, offered in turn, so every offer renders.
  auto a = std::make_shared<catalog::Snapshot>(snapshot(state.range(0) == 1));
  auto b = std::make_shared<catalog::Snapshot>(*a);
  b->generation = a->generation + 1;
  auto renderer = Renderer::create({});
  bool flip = false;
  for (auto _ : state) {
    renderer->offer(flip ? a : b, core::Instant{});
    flip = !flip;
    renderer->flush();
  }
  state.counters["renders"] = static_cast<double>(renderer->renders());
}

}  // namespace

BENCHMARK(BM_Build)->Arg(1)->Arg(0)->ArgNames({"replicated"})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Emit)->Args({1, 0})->Args({1, 1})->Args({0, 0})->Args({0, 1})->ArgNames({"replicated", "yaml"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RenderYaml)->Arg(1)->Arg(0)->ArgNames({"replicated"})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RendererAllVariants)->Arg(1)->Arg(0)->ArgNames({"replicated"})->Unit(benchmark::kMillisecond);
