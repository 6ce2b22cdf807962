// SPDX-License-Identifier: Apache-2.0
//
// Swarm testing: each seed draws its own fault parameters (TigerBeetle's VOPR, FoundationDB's
// simulation), so a thousand seeds explore a thousand differently hostile worlds.
#pragma once

#include "core/rng.hpp"
#include "sim/disk.hpp"
#include "sim/network.hpp"

#include <string>

namespace constellation::sim {

/// Upper bounds the swarm draws from; each field's drawn value lies in [0, bound].
struct FaultBounds {
  double loss = 0.2;
  double duplicate = 0.05;
  double reorder = 0.1;
  Duration max_latency = std::chrono::milliseconds(20);
  Duration max_jitter = std::chrono::milliseconds(20);
  /// Mean events per simulated second, each drawn in [0, bound].
  double crash_rate = 0.05;
  double partition_rate = 0.05;
  double stall_rate = 0.05;
  Duration max_stall = std::chrono::seconds(3);
  /// Clock drift drawn in [-max_drift, +max_drift] (0.001 = 1,000 ppm).
  double max_drift = 0.001;
  double torn_write = 0.5;
};

/// One world's fault parameters.
struct FaultProfile {
  LinkModel link;
  double crash_rate = 0;
  double partition_rate = 0;
  double stall_rate = 0;
  Duration max_stall{0};
  double max_drift = 0;
  DiskFaults disk;

  /// Draws a profile from rng within bounds (a quarter of seeds get a calm network, so liveness
  /// is exercised too).
  static FaultProfile draw(core::Rng& rng, const FaultBounds& bounds = {});
  /// One line for failure reports.
  std::string describe() const;
};

}  // namespace constellation::sim
