// SPDX-License-Identifier: Apache-2.0
//
// The real-world driver of a gossip core: UDP datagrams and TCP streams on one port (IPv4 or
// IPv6), every payload wrapped in the gossip envelope (gossip/security.hpp, docs/protocol.md §1),
// TCP frames length-prefixed and bounded by Config::max_stream. It feeds the core what arrives
// (Core::receive, Core::stream_failed), runs its timers (Core::tick on a timer armed at
// Core::next_deadline) and sends what it produces (Core::take_outgoing).
//
// Threads: everything runs on the io_context it is given (one thread: the gossip loop); no locks.
// The core is borrowed and must only be touched on that thread while the transport lives.
#pragma once

#include <constellation/result.hpp>

#include "core/bytes.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "gossip/core.hpp"
#include "gossip/security.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace asio {
class io_context;
}

namespace constellation::io::net {

struct GossipTransportOptions {
  /// "host:port" to bind UDP and TCP to: "0.0.0.0:7946", "[::]:7946", "127.0.0.1:0" (0 = any free
  /// port, the same for both).
  std::string bind = "127.0.0.1:7946";
  /// Connecting a stream, and writing one frame, must finish within this. Default 10 s (LAN).
  core::Duration stream_timeout = std::chrono::seconds(10);
  /// An idle stream (in either direction) is closed after this.
  core::Duration stream_idle = std::chrono::seconds(30);
  /// Frames queued per outgoing stream before new ones fail (stream_failed).
  std::size_t max_stream_queue = 64;
  /// TEST ONLY: drop this fraction of outgoing datagrams (the benchmark's loss model; 0 = none).
  double drop_outgoing_datagrams = 0.0;
  /// Seed of the drop decisions.
  std::uint64_t drop_seed = 1;
  core::log::Logger logger;
  /// Where to register this transport's metrics (gossip_*), or null. Must outlive the transport.
  core::metrics::Registry* metrics = nullptr;
  /// Constant labels for every series (e.g. {{"node", name}}); names only, values below.
  std::vector<std::string> metric_label_names;
  std::vector<std::string> metric_label_values;
};

struct GossipTransportStats {
  std::uint64_t packets_in = 0, packets_out = 0, bytes_in = 0, bytes_out = 0;
  std::uint64_t streams_in = 0, streams_out = 0, frames_in = 0, frames_out = 0;
  std::uint64_t stream_bytes_in = 0, stream_bytes_out = 0;
  std::uint64_t rejected = 0, send_errors = 0, stream_failures = 0, dropped_by_test_hook = 0;
};

/// Stream framing: u32 big-endian length of the envelope, then the envelope.
inline constexpr std::size_t kStreamLengthBytes = 4;

class GossipTransport {
 public:
  /// Called after every batch of work the core did (a receive, a tick, a public call), on the loop
  /// thread: the place to drain Core::take_events().
  using AfterStep = std::function<void()>;

  /// Binds UDP and TCP on options.bind (nothing is read until run()), so the owner learns the
  /// port before it builds the core. Errors: InvalidArgument (bad bind address), Io (bind failed,
  /// e.g. port in use).
  static Result<std::unique_ptr<GossipTransport>> open(asio::io_context& io, GossipTransportOptions options);
  /// Starts driving `core` (borrowed: it must outlive the transport or stop()): reads, ticks,
  /// sends. Loop thread only; once.
  void run(gossip::Core& core, gossip::Envelope envelope, AfterStep after_step);
  ~GossipTransport();
  GossipTransport(const GossipTransport&) = delete;
  GossipTransport& operator=(const GossipTransport&) = delete;

  /// The bound port (UDP and TCP).
  std::uint16_t port() const;
  /// Call after changing the core from outside a transport callback (set_state, join, leave...):
  /// sends what it produced, re-arms the timer, runs after_step. Loop thread only.
  void kick();
  /// The envelope (keyring changes take effect for the next packet). Loop thread only.
  gossip::Envelope& envelope();
  /// Closes sockets and cancels the timer; no callbacks after it returns. Loop thread only.
  void stop();
  /// Loop thread only.
  const GossipTransportStats& stats() const;
  /// TEST ONLY: changes GossipTransportOptions::drop_outgoing_datagrams. Loop thread only.
  void set_test_drop(double fraction);
  /// Publishes core and transport counters into the registry (loop thread only; the node calls
  /// it before rendering).
  void publish_metrics();

  struct Impl;

 private:
  explicit GossipTransport(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace constellation::io::net
