// SPDX-License-Identifier: Apache-2.0
// Large gossip clusters in the simulator: N nodes (fast profile, 1 ms ± 2 ms links) start at once,
// all join through node 0, and we measure the simulated time until every node sees all N alive,
// then crash one node and measure the simulated time until every node marks it dead. One
// iteration each; wall time is what the benchmark reports.
//   build/dev/bench/bench_gossip_sim                      # N = 1,000 and 2,000
//   CST_GOSSIP_SIM_N=5000 build/dev/bench/bench_gossip_sim --benchmark_filter=/5000
// Memory grows as N^2 (each node holds every member): about 0.65 KiB per (node, member) pair, so
// N = 3,000 takes 6 GB and N = 10,000 would take ~65 GB.
#include "sim/gossip_harness.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>

using namespace constellation;
using namespace constellation::sim;
using namespace std::chrono_literals;

namespace {

void converge(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    GossipHarnessOptions o;
    o.seed = 42;
    o.nodes = n;
    o.link.latency = 1ms;
    o.link.jitter = 2ms;
    GossipHarness h(o);
    const Instant start = h.now();
    h.start_all_and_join();
    const bool ok = h.run_until([&h] { return h.converged_counts(); }, 600s, 100ms);
    const double converge_s = std::chrono::duration<double>(h.now() - start).count();
    h.crash(static_cast<NodeIndex>(n / 2));
    const Instant crashed = h.now();
    const bool detected = h.run_until([&h, n] { return h.all_see_dead(static_cast<NodeIndex>(n / 2)); }, 120s, 100ms);
    const auto s = h.total_stats();
    state.counters["converged"] = ok ? 1 : 0;
    state.counters["sim_s_converge"] = converge_s;
    state.counters["sim_s_all_dead"] = detected ? std::chrono::duration<double>(h.now() - crashed).count() : -1;
    state.counters["false_deaths"] = static_cast<double>(h.violations().size());
    state.counters["msgs_per_node"] = static_cast<double>(s.messages_out) / static_cast<double>(n);
    state.counters["kib_out_per_node"] = static_cast<double>(s.bytes_out) / 1024.0 / static_cast<double>(n);
  }
}

BENCHMARK(converge)->Arg(1000)->Arg(2000)->Iterations(1)->Unit(benchmark::kSecond);

[[maybe_unused]] const bool kExtra = [] {
  if (const char* v = std::getenv("CST_GOSSIP_SIM_N"); v && *v) {
    benchmark::RegisterBenchmark("converge", converge)->Arg(std::atol(v))->Iterations(1)->Unit(benchmark::kSecond);
  }
  return true;
}();

}  // namespace
