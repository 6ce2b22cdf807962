// SPDX-License-Identifier: Apache-2.0
// Prints a registry exercising every feature of the exposition writer (labels that need escaping,
// histograms, on-collect gauges), for `promtool check metrics` in test_metrics.py.
#include "core/metrics.hpp"

#include <cmath>
#include <cstdio>

int main() {
  using namespace constellation::core::metrics;
  Registry r;
  r.counter("constellation_packets_total", "Packets by direction.\nSecond line with a \\ backslash.",
            {"direction", "kind"})
      .labels({"in", "ping"})
      .inc(42);
  r.counter("constellation_packets_total", "", {"direction", "kind"})
      .labels({"out", "quote\"and\\slash\nnewline"})
      .inc();
  r.gauge("constellation_members", "Members by state.", {"state"}).labels({"alive"}).set(5);
  r.gauge("constellation_members", "", {"state"}).labels({"suspect"}).set(0);
  r.gauge("constellation_nan_value", "A NaN value.").get().set(std::nan(""));
  r.gauge("constellation_negative_infinity", "An infinite value.").get().set(-INFINITY);
  auto& h = r.histogram("constellation_probe_rtt_seconds", "Probe round trips.", default_latency_buckets(), {"peer"});
  for (double v : {0.0001, 0.003, 0.02, 0.2, 3.0, 30.0}) h.labels({"node-1"}).observe(v);
  r.histogram("constellation_empty_seconds", "A histogram with no observations.", {0.1, 1}).get();
  Gauge& on_demand = r.gauge("constellation_queue_depth", "Set at collection time.").get();
  r.on_collect([&] { on_demand.set(7); });
  std::fputs(r.render().c_str(), stdout);
  return 0;
}
