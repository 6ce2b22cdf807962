// SPDX-License-Identifier: Apache-2.0
#include "sim/network.hpp"

#include "core/assert.hpp"

namespace constellation::sim {

Network::Network(Scheduler& scheduler, core::Rng& rng, LinkModel defaults)
    : sched_(scheduler), rng_(rng), defaults_(defaults) {}

Network::Node& Network::node(NodeIndex n) {
  if (n >= nodes_.size()) nodes_.resize(static_cast<std::size_t>(n) + 1);
  return nodes_[n];
}

void Network::attach(NodeIndex n, Receiver receiver) {
  Node& x = node(n);
  x.receiver = std::move(receiver);
  x.epoch += 1;
}

void Network::detach(NodeIndex n) {
  Node& x = node(n);
  x.receiver = nullptr;
  x.epoch += 1;
  x.stalled_until = kNotStalled;
  for (auto it = stream_tail_.begin(); it != stream_tail_.end();) {
    it = (it->first.first == n || it->first.second == n) ? stream_tail_.erase(it) : std::next(it);
  }
}

const LinkModel& Network::link(NodeIndex from, NodeIndex to) const {
  if (links_.empty()) return defaults_;
  auto it = links_.find({from, to});
  return it == links_.end() ? defaults_ : it->second;
}

bool Network::reachable(NodeIndex from, NodeIndex to) const {
  return attached(to) && attached(from) && blocked_.count({from, to}) == 0;
}

bool Network::stalled(NodeIndex n) const { return n < nodes_.size() && nodes_[n].stalled_until > sched_.now(); }

void Network::partition(const std::vector<std::vector<NodeIndex>>& groups) {
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (std::size_t h = 0; h < groups.size(); ++h) {
      if (g == h) continue;
      for (NodeIndex a : groups[g]) {
        for (NodeIndex b : groups[h]) blocked_.insert({a, b});
      }
    }
  }
}

bool Network::send(NodeIndex from, NodeIndex to, core::Bytes payload, Channel channel) {
  stats_.sent += 1;
  stats_.bytes_sent += payload.size();
  auto& ns = node(from).stats;
  ns.packets_out += 1;
  ns.bytes_out += payload.size();
  if (!reachable(from, to)) {
    stats_.partitioned += 1;
    return channel == Channel::Datagram;
  }
  const LinkModel& m = link(from, to);
  Duration delay = m.latency;
  if (m.jitter.count() > 0)
    delay += Duration(static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(m.jitter.count()) + 1)));
  if (channel == Channel::Datagram) {
    const double loss = m.loss + nodes_[to].receive_loss;
    if (loss > 0 && rng_.chance(loss)) {
      stats_.lost += 1;
      return true;
    }
    if (m.reorder > 0 && rng_.chance(m.reorder)) delay += m.reorder_delay;
    if (m.duplicate > 0 && rng_.chance(m.duplicate)) {
      stats_.duplicated += 1;
      Duration extra =
          m.jitter.count() > 0
              ? Duration(static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(m.jitter.count()) + 1)))
              : Duration(0);
      deliver_at(sched_.now() + delay + extra, from, to, channel, payload);
    }
    deliver_at(sched_.now() + delay, from, to, channel, std::move(payload));
    return true;
  }
  // Streams are FIFO per direction: never deliver before the previous message on the stream.
  Instant t = sched_.now() + delay;
  auto& tail = stream_tail_[{from, to}];
  if (t < tail) t = tail;
  tail = t;
  deliver_at(t, from, to, channel, std::move(payload));
  return true;
}

void Network::deliver_at(Instant t, NodeIndex from, NodeIndex to, Channel channel, core::Bytes payload) {
  const std::uint64_t epoch_to = node(to).epoch;
  const std::uint64_t epoch_from = node(from).epoch;
  sched_.at(t, [this, from, to, channel, epoch_to, epoch_from, payload = std::move(payload)]() mutable {
    Node& receiver = nodes_[to];
    // Dropped if either end crashed since sending (streams die with their connection), or if
    // a partition was put up while the message was in flight.
    if (receiver.epoch != epoch_to || (channel == Channel::Stream && nodes_[from].epoch != epoch_from) ||
        blocked_.count({from, to})) {
      stats_.partitioned += 1;
      return;
    }
    if (receiver.stalled_until > sched_.now()) {
      // Paused receiver: hold the message until it resumes (same epoch checks then).
      deliver_at(receiver.stalled_until, from, to, channel, std::move(payload));
      return;
    }
    if (!receiver.receiver) {
      stats_.partitioned += 1;
      return;
    }
    stats_.delivered += 1;
    receiver.stats.packets_in += 1;
    receiver.stats.bytes_in += payload.size();
    receiver.receiver(from, channel, std::move(payload));
  });
}

}  // namespace constellation::sim
