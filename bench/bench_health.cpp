// SPDX-License-Identifier: Apache-2.0
// Health scheduler overhead: 1,000 checks at a 1 s interval driven on virtual time (the checks
// themselves answer instantly), so the figure is the monitor's own CPU cost: scheduling, the
// timer queue, rise/fall and damping bookkeeping, events.
//   build/dev/bench/bench_health --benchmark_min_time=0.2
// cpu_per_check_second is CPU seconds spent per check per second of checking; multiply by
// 1,000 checks to get the share of one core.
#include "health/monitor.hpp"

#include <benchmark/benchmark.h>

#include <string>

using namespace constellation;
using namespace constellation::health;
using namespace std::chrono_literals;

static void BM_HealthScheduler(benchmark::State& state) {
  const int checks = static_cast<int>(state.range(0));
  const bool flapping = state.range(1) != 0;
  constexpr int kVirtualSeconds = 10;
  Monitor m;
  core::Rng rng(1);
  core::Instant now = core::Instant::from_nanos(0);
  for (int i = 0; i < checks; ++i) {
    InstanceConfig c;
    CheckConfig k;
    k.name = "http";
    k.interval = 1s;
    k.timeout = 500ms;
    k.thresholds = {1, 3, 0s};
    c.checks.push_back(k);
    c.restart.on_unhealthy = false;
    m.add("svc-" + std::to_string(i), std::move(c), now, rng);
  }
  std::int64_t runs = 0;
  for (auto _ : state) {
    auto end = now + std::chrono::seconds(kVirtualSeconds);
    while (m.next_deadline() <= end) {
      now = m.next_deadline();
      for (const auto& r : m.poll(now, rng)) {
        auto outcome = flapping && (r.run_id % 7 == 0) ? Outcome::Fail : Outcome::Pass;
        m.report(r.run_id, outcome, "HTTP 200", now, rng);
        ++runs;
      }
      benchmark::DoNotOptimize(m.take_events());
    }
    now = end;
  }
  state.SetItemsProcessed(runs);
  state.counters["check_runs_per_iter"] = static_cast<double>(runs) / static_cast<double>(state.iterations());
  state.counters["cpu_per_check_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * checks * kVirtualSeconds, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_HealthScheduler)->Args({1000, 0})->Args({1000, 1})->Unit(benchmark::kMillisecond);
