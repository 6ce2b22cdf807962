// SPDX-License-Identifier: Apache-2.0
#include "core/metrics.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace constellation::core::metrics;

TEST_CASE("counters, gauges and labels render in the text format") {
  Registry r;
  auto& packets = r.counter("cst_packets_total", "Packets sent and received.", {"direction"});
  packets.labels({"out"}).inc();
  packets.labels({"in"}).inc(2);
  packets.labels({"out"}).inc();
  r.gauge("cst_members", "Members.").get().set(3);
  CHECK(r.render() ==
        "# HELP cst_members Members.\n"
        "# TYPE cst_members gauge\n"
        "cst_members 3\n"
        "# HELP cst_packets_total Packets sent and received.\n"
        "# TYPE cst_packets_total counter\n"
        "cst_packets_total{direction=\"in\"} 2\n"
        "cst_packets_total{direction=\"out\"} 2\n");
}

TEST_CASE("label values and help text are escaped") {
  Registry r;
  r.gauge("cst_g", "line one\nback\\slash", {"v"}).labels({"a\"b\\c\nd"}).set(1);
  CHECK(r.render() ==
        "# HELP cst_g line one\\nback\\\\slash\n"
        "# TYPE cst_g gauge\n"
        "cst_g{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST_CASE("histograms are cumulative with le labels, sum and count") {
  Registry r;
  auto& h = r.histogram("cst_rtt_seconds", "Round trips.", {0.25, 0.5, 1}, {"peer"});
  for (double v : {0.125, 0.25, 0.375, 0.75, 4.0}) h.labels({"n1"}).observe(v);
  CHECK(r.render() ==
        "# HELP cst_rtt_seconds Round trips.\n"
        "# TYPE cst_rtt_seconds histogram\n"
        "cst_rtt_seconds_bucket{peer=\"n1\",le=\"0.25\"} 2\n"
        "cst_rtt_seconds_bucket{peer=\"n1\",le=\"0.5\"} 3\n"
        "cst_rtt_seconds_bucket{peer=\"n1\",le=\"1\"} 4\n"
        "cst_rtt_seconds_bucket{peer=\"n1\",le=\"+Inf\"} 5\n"
        "cst_rtt_seconds_sum{peer=\"n1\"} 5.5\n"
        "cst_rtt_seconds_count{peer=\"n1\"} 5\n");
  CHECK(h.labels({"n1"}).count() == 5);
}

TEST_CASE("registering again returns the same family; collectors run at render") {
  Registry r;
  auto& a = r.counter("cst_x_total", "X.");
  auto& b = r.counter("cst_x_total", "X.");
  CHECK(&a == &b);
  a.get().inc(4);
  CHECK(b.get().value() == 4);
  int calls = 0;
  Gauge& g = r.gauge("cst_depth", "Depth.").get();
  r.on_collect([&] {
    ++calls;
    g.set(9);
  });
  CHECK(r.render().find("cst_depth 9\n") != std::string::npos);
  CHECK(calls == 1);
}

TEST_CASE("format_value") {
  CHECK(format_value(3) == "3");
  CHECK(format_value(0.25) == "0.25");
  CHECK(format_value(-1e20) == "-1e+20");
  CHECK(format_value(INFINITY) == "+Inf");
  CHECK(format_value(-INFINITY) == "-Inf");
  CHECK(format_value(std::nan("")) == "NaN");
}
