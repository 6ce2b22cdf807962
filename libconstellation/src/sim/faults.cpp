// SPDX-License-Identifier: Apache-2.0
#include "sim/faults.hpp"

#include <charconv>

namespace constellation::sim {

namespace {
Duration draw_duration(core::Rng& rng, Duration max) {
  if (max.count() <= 0) return Duration(0);
  return Duration(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(max.count()) + 1)));
}
}  // namespace

FaultProfile FaultProfile::draw(core::Rng& rng, const FaultBounds& b) {
  FaultProfile p;
  const bool calm = rng.chance(0.25);
  p.link.latency = std::chrono::microseconds(100) + draw_duration(rng, b.max_latency);
  p.link.jitter = draw_duration(rng, b.max_jitter);
  if (!calm) {
    p.link.loss = rng.uniform() * b.loss;
    p.link.duplicate = rng.uniform() * b.duplicate;
    p.link.reorder = rng.uniform() * b.reorder;
    p.link.reorder_delay = p.link.latency + draw_duration(rng, b.max_jitter);
    p.crash_rate = rng.uniform() * b.crash_rate;
    p.partition_rate = rng.uniform() * b.partition_rate;
    p.stall_rate = rng.uniform() * b.stall_rate;
    p.max_stall = draw_duration(rng, b.max_stall);
    p.max_drift = rng.uniform() * b.max_drift;
    p.disk.torn_on_crash = rng.uniform() * b.torn_write;
  }
  return p;
}

std::string FaultProfile::describe() const {
  auto num = [](double v) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 4);
    return std::string(buf, r.ptr);
  };
  std::string s;
  s += "latency=" + core::format_duration(link.latency);
  s += " jitter=" + core::format_duration(link.jitter);
  s += " loss=" + num(link.loss) + " dup=" + num(link.duplicate) + " reorder=" + num(link.reorder);
  s += " crash/s=" + num(crash_rate) + " partition/s=" + num(partition_rate) + " stall/s=" + num(stall_rate);
  s += " max_stall=" + core::format_duration(max_stall) + " drift=" + num(max_drift);
  s += " torn=" + num(disk.torn_on_crash);
  return s;
}

}  // namespace constellation::sim
