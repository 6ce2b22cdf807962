// SPDX-License-Identifier: Apache-2.0
// The catalog at fleet size: 50 nodes × 40 services. Merging a round of new entries, publishing
// the immutable snapshot readers get, the healthy-instances query, and the wire codec.
//   build/dev/bench/bench_catalog --benchmark_min_time=0.2
#include "catalog/catalog.hpp"
#include "catalog/codec.hpp"
#include "core/rng.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

using namespace constellation;
using namespace constellation::catalog;

namespace {

constexpr int kNodes = 50;
constexpr int kServices = 40;

NodeEntry make_entry(int node, std::uint64_t version, core::Rng& rng) {
  NodeEntry e;
  std::array<std::uint8_t, 16> id{};
  id[0] = 0x42;
  id[14] = static_cast<std::uint8_t>(node >> 8);
  id[15] = static_cast<std::uint8_t>(node);
  e.node.id = core::NodeId(id);
  e.node.name = "node-" + std::to_string(node);
  e.node.roles = {"worker"};
  e.node.tags = {"ssd", "eu"};
  e.node.version = "0.1.0";
  e.node.addresses = {{"backend", "10.0." + std::to_string(node / 256) + "." + std::to_string(node % 256)},
                      {"tailscale", "100.64.0." + std::to_string(node % 256)}};
  e.version = version;
  for (int s = 0; s < kServices; ++s) {
    Instance in;
    in.service = "svc" + std::to_string(s);
    in.id = in.service + "-1";
    in.project = "fleet";
    in.runtime = "docker";
    in.runtime_id = std::string(64, 'a');
    in.labels["traefik.enable"] = "true";
    in.labels["traefik.http.routers." + in.service + ".rule"] = "Host(`" + in.service + ".example.com`)";
    in.labels["traefik.http.services." + in.service + ".loadbalancer.server.port"] = "8080";
    in.ports.push_back({8080, static_cast<std::uint16_t>(20000 + s), "tcp", ""});
    in.networks = {"backend"};
    in.health = rng.chance(0.9) ? Health::Passing : Health::Critical;
    in.checks.push_back({"http", in.health, "HTTP 200"});
    e.instances.push_back(std::move(in));
  }
  std::sort(e.instances.begin(), e.instances.end(), [](const Instance& a, const Instance& b) { return a.id < b.id; });
  return e;
}

std::vector<NodeEntry> fleet(std::uint64_t version, std::uint64_t seed) {
  core::Rng rng(seed);
  std::vector<NodeEntry> out;
  for (int n = 1; n <= kNodes; ++n) out.push_back(make_entry(n, version, rng));
  return out;
}

}  // namespace

// Every node sends a new version (a full gossip round of changes), then one publish.
static void BM_CatalogMergeRoundAndPublish(benchmark::State& state) {
  Catalog c;
  for (auto& e : fleet(1, 1)) c.merge(e);
  c.publish();
  std::vector<std::vector<NodeEntry>> rounds;
  for (std::uint64_t v = 2; v < 10; ++v) rounds.push_back(fleet(v, v));
  std::uint64_t version = 10;
  std::size_t r = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = rounds[r++ % rounds.size()];
    for (auto& e : batch) e.version = version;
    ++version;
    state.ResumeTiming();
    for (auto& e : batch) benchmark::DoNotOptimize(c.merge(std::move(e)));
    benchmark::DoNotOptimize(c.publish());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kNodes);
  state.counters["instances"] = kNodes * kServices;
}
BENCHMARK(BM_CatalogMergeRoundAndPublish)->Unit(benchmark::kMicrosecond);

// One node's health changes: one merge and the snapshot publish readers wait for.
static void BM_CatalogOneChangeAndPublish(benchmark::State& state) {
  Catalog c;
  for (auto& e : fleet(1, 1)) c.merge(e);
  c.publish();
  core::Rng rng(5);
  auto e = make_entry(7, 2, rng);
  for (auto _ : state) {
    state.PauseTiming();
    ++e.version;
    e.instances[e.version % kServices].health =
        e.instances[e.version % kServices].health == Health::Passing ? Health::Critical : Health::Passing;
    auto copy = e;
    state.ResumeTiming();
    c.merge(std::move(copy));
    benchmark::DoNotOptimize(c.publish());
  }
}
BENCHMARK(BM_CatalogOneChangeAndPublish)->Unit(benchmark::kMicrosecond);

// Merges that change nothing (duplicates from gossip redundancy) must be cheap.
static void BM_CatalogMergeDuplicate(benchmark::State& state) {
  Catalog c;
  auto entries = fleet(1, 1);
  for (auto& e : entries) c.merge(e);
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(c.merge(entries[i++ % entries.size()]));
}
BENCHMARK(BM_CatalogMergeDuplicate);

static void BM_CatalogHealthyQuery(benchmark::State& state) {
  Catalog c;
  for (auto& e : fleet(1, 1)) c.merge(e);
  auto s = c.publish();
  QueryOptions q;
  q.network = state.range(0) ? "backend" : "";
  for (auto _ : state) benchmark::DoNotOptimize(healthy_instances(*s, "svc17", q));
}
BENCHMARK(BM_CatalogHealthyQuery)->Arg(0)->Arg(1);

static void BM_EntryEncode(benchmark::State& state) {
  core::Rng rng(1);
  auto e = make_entry(1, 1, rng);
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto b = encode(e);
    bytes = b.size();
    benchmark::DoNotOptimize(b);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["entry_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EntryEncode);

static void BM_EntryDecode(benchmark::State& state) {
  core::Rng rng(1);
  auto bytes = encode(make_entry(1, 1, rng));
  for (auto _ : state) benchmark::DoNotOptimize(decode(bytes));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_EntryDecode);
