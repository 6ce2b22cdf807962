// SPDX-License-Identifier: Apache-2.0
#include "sim/network.hpp"

#include "core/assert.hpp"

namespace constellation::sim {

Network::Network(Scheduler& scheduler, core::Rng& rng, LinkModel defaults)
    : sched_(scheduler), rng_(rng), defaults_(defaults) {}

void Network::attach(NodeIndex n, Receiver receiver) {
  receivers_[n] = std::move(receiver);
  epoch_[n] += 1;
}

void Network::detach(NodeIndex n) {
  receivers_.erase(n);
  epoch_[n] += 1;
  stalled_until_.erase(n);
  for (auto it = stream_tail_.begin(); it != stream_tail_.end();) {
    it = (it->first.first == n || it->first.second == n) ? stream_tail_.erase(it) : std::next(it);
  }
}

const LinkModel& Network::link(NodeIndex from, NodeIndex to) const {
  auto it = links_.find({from, to});
  return it == links_.end() ? defaults_ : it->second;
}

bool Network::reachable(NodeIndex from, NodeIndex to) const {
  return receivers_.count(to) > 0 && receivers_.count(from) > 0 && blocked_.count({from, to}) == 0;
}

bool Network::stalled(NodeIndex n) const {
  auto it = stalled_until_.find(n);
  return it != stalled_until_.end() && it->second > sched_.now();
}

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
  auto& ns = node_stats_[from];
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
    auto rl = receive_loss_.find(to);
    double loss = m.loss + (rl == receive_loss_.end() ? 0.0 : rl->second);
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
  const std::uint64_t epoch_to = epoch_[to];
  const std::uint64_t epoch_from = epoch_[from];
  sched_.at(t, [this, from, to, channel, epoch_to, epoch_from, payload = std::move(payload)]() mutable {
    // Dropped if either end crashed since sending (streams die with their connection), or if
    // a partition was put up while the message was in flight.
    if (epoch_[to] != epoch_to || (channel == Channel::Stream && epoch_[from] != epoch_from) ||
        blocked_.count({from, to})) {
      stats_.partitioned += 1;
      return;
    }
    auto st = stalled_until_.find(to);
    if (st != stalled_until_.end() && st->second > sched_.now()) {
      // Paused receiver: hold the message until it resumes (same epoch checks then).
      deliver_at(st->second, from, to, channel, std::move(payload));
      return;
    }
    auto it = receivers_.find(to);
    if (it == receivers_.end()) {
      stats_.partitioned += 1;
      return;
    }
    stats_.delivered += 1;
    auto& ns = node_stats_[to];
    ns.packets_in += 1;
    ns.bytes_in += payload.size();
    it->second(from, channel, std::move(payload));
  });
}

}  // namespace constellation::sim
