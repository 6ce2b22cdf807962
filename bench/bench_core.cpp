// SPDX-License-Identifier: Apache-2.0
// Core building blocks on hot paths: checksums, varints, JSON in and out, metric updates.
#include "core/bytes.hpp"
#include "core/json.hpp"
#include "core/metrics.hpp"
#include "core/rng.hpp"

#include <benchmark/benchmark.h>

#include <string>

using namespace constellation::core;

static void BM_Crc32c(benchmark::State& state) {
  std::string data(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(crc32c(as_bytes(data)));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32c)->Arg(256)->Arg(4096)->Arg(1 << 20);

static void BM_VarintRoundTrip(benchmark::State& state) {
  Rng rng(1);
  std::vector<std::uint64_t> values(1024);
  for (auto& v : values) v = rng.next() >> rng.below(64);
  ByteWriter w(16 * 1024);
  for (auto _ : state) {
    w.clear();
    for (auto v : values) w.varint(v);
    ByteReader r(w.view());
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < values.size(); ++i) sum += r.varint("v");
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 1024);
}
BENCHMARK(BM_VarintRoundTrip);

namespace {
std::string sample_document(int services) {
  json::Value routers = json::Value::object();
  json::Value svcs = json::Value::object();
  for (int i = 0; i < services; ++i) {
    std::string name = "svc-" + std::to_string(i);
    json::Value r;
    r["rule"] = "Host(`" + name + ".example.com`)";
    r["service"] = name;
    r["entryPoints"].push_back("websecure");
    routers[name] = r;
    json::Value lb;
    for (int n = 0; n < 3; ++n) {
      json::Value server;
      server["url"] = "http://10.0.0." + std::to_string(n + 1) + ":" + std::to_string(8000 + i);
      lb["servers"].push_back(server);
    }
    svcs[name]["loadBalancer"] = lb;
  }
  json::Value doc;
  doc["http"]["routers"] = routers;
  doc["http"]["services"] = svcs;
  return json::serialize(doc);
}
}  // namespace

static void BM_JsonParse(benchmark::State& state) {
  std::string doc = sample_document(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto v = json::parse(doc);
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * doc.size()));
}
BENCHMARK(BM_JsonParse)->Arg(10)->Arg(200);

static void BM_JsonSerializeSorted(benchmark::State& state) {
  auto v = *json::parse(sample_document(static_cast<int>(state.range(0))));
  json::WriteOptions o;
  o.sort_keys = true;
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string s = json::serialize(v, o);
    bytes = s.size();
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_JsonSerializeSorted)->Arg(10)->Arg(200);

static void BM_CounterInc(benchmark::State& state) {
  metrics::Registry r;
  auto& c = r.counter("bench_total", "Bench.", {"kind"}).labels({"x"});
  for (auto _ : state) c.inc();
  benchmark::DoNotOptimize(c.value());
}
BENCHMARK(BM_CounterInc);
