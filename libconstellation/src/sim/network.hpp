// SPDX-License-Identifier: Apache-2.0
//
// A simulated network between numbered nodes on virtual time: per-link delay and jitter, loss,
// duplication, reordering, symmetric and asymmetric partitions, stalled receivers, crashed nodes.
// Every random choice comes from the Rng given at construction.
#pragma once

#include "core/bytes.hpp"
#include "core/rng.hpp"
#include "sim/scheduler.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <utility>
#include <vector>

namespace constellation::sim {

using NodeIndex = std::uint32_t;

/// How a link behaves. Delivery delay = latency + uniform(0, jitter), plus reorder_delay with
/// probability `reorder` (which lets later packets overtake).
struct LinkModel {
  Duration latency = std::chrono::microseconds(200);
  Duration jitter = std::chrono::microseconds(100);
  /// Probability a datagram is lost.
  double loss = 0.0;
  /// Probability a datagram is delivered twice.
  double duplicate = 0.0;
  /// Probability a datagram is held back by reorder_delay.
  double reorder = 0.0;
  Duration reorder_delay = std::chrono::milliseconds(5);
};

/// What a message travels as. Datagrams suffer every fault of the link; streams model a TCP
/// connection: no loss, duplication or reordering (FIFO per direction), but they cannot cross a
/// partition and die with a crashed node.
enum class Channel { Datagram, Stream };

struct NetworkStats {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;         // dropped by the loss model
  std::uint64_t partitioned = 0;  // dropped by a partition or a detached receiver
  std::uint64_t duplicated = 0;
  std::uint64_t bytes_sent = 0;
};

class Network {
 public:
  using Receiver = std::function<void(NodeIndex from, Channel channel, core::Bytes payload)>;

  Network(Scheduler& scheduler, core::Rng& rng, LinkModel defaults = {});

  /// Connects node n: messages to it are handed to `receiver` at delivery time.
  void attach(NodeIndex n, Receiver receiver);
  /// Disconnects node n (a crash): messages in flight to it are dropped, and so is everything
  /// sent to it until it is attached again.
  void detach(NodeIndex n);
  bool attached(NodeIndex n) const { return n < nodes_.size() && nodes_[n].receiver != nullptr; }

  /// Sends payload from `from` to `to`. For streams, returns false (nothing is sent) when the
  /// receiver is unreachable — the connection attempt fails; datagrams always "succeed".
  bool send(NodeIndex from, NodeIndex to, core::Bytes payload, Channel channel = Channel::Datagram);

  /// Whether a message from `from` could currently reach `to`.
  bool reachable(NodeIndex from, NodeIndex to) const;

  // --- faults ----------------------------------------------------------------------------------
  void set_default_link(const LinkModel& m) { defaults_ = m; }
  /// Overrides the model of one direction of one link.
  void set_link(NodeIndex from, NodeIndex to, const LinkModel& m) { links_[{from, to}] = m; }
  /// Extra loss applied to everything node n receives (e.g. 0.1 for 10 %).
  void set_receive_loss(NodeIndex n, double loss) { node(n).receive_loss = loss; }
  /// Drops every message from `from` to `to` (one direction: an asymmetric partition).
  void block(NodeIndex from, NodeIndex to) { blocked_.insert({from, to}); }
  void unblock(NodeIndex from, NodeIndex to) { blocked_.erase({from, to}); }
  /// Splits the given nodes into groups that cannot talk to each other (both directions).
  /// Nodes not listed keep talking to everyone.
  void partition(const std::vector<std::vector<NodeIndex>>& groups);
  /// Removes every block and partition (link models and losses stay).
  void heal() { blocked_.clear(); }
  /// Node n's process is paused until `until`: messages to it queue up and are delivered, in
  /// order, when it resumes. (Its own timers are the harness's business.)
  void stall(NodeIndex n, Instant until) { node(n).stalled_until = until; }
  bool stalled(NodeIndex n) const;

  const NetworkStats& stats() const { return stats_; }
  /// Per-node counters of datagrams and bytes sent and received.
  struct NodeStats {
    std::uint64_t packets_out = 0, packets_in = 0, bytes_out = 0, bytes_in = 0;
  };
  const NodeStats& node_stats(NodeIndex n) { return node(n).stats; }

 private:
  static constexpr Instant kNotStalled = Instant::from_nanos(std::numeric_limits<std::int64_t>::min());
  // Per-node state, indexed by node: every message looks both ends up.
  struct Node {
    Receiver receiver;        // empty while detached
    std::uint64_t epoch = 0;  // bumped on attach and detach: messages in flight die
    double receive_loss = 0.0;
    Instant stalled_until = kNotStalled;
    NodeStats stats;
  };
  Node& node(NodeIndex n);
  const LinkModel& link(NodeIndex from, NodeIndex to) const;
  void deliver_at(Instant t, NodeIndex from, NodeIndex to, Channel channel, core::Bytes payload);

  Scheduler& sched_;
  core::Rng& rng_;
  LinkModel defaults_;
  std::deque<Node> nodes_;  // a deque: a receiver may attach a node while it runs
  std::map<std::pair<NodeIndex, NodeIndex>, LinkModel> links_;
  std::set<std::pair<NodeIndex, NodeIndex>> blocked_;
  std::map<std::pair<NodeIndex, NodeIndex>, Instant> stream_tail_;  // FIFO per stream direction
  NetworkStats stats_;
};

}  // namespace constellation::sim
