// SPDX-License-Identifier: Apache-2.0
#include "sim/gossip_harness.hpp"

#include "core/assert.hpp"

namespace constellation::sim {

namespace {
std::string make_address(NodeIndex i, bool ipv6) {
  if (ipv6) return "[fd00::1:" + std::to_string(i) + "]:7946";
  return "10." + std::to_string((i >> 16) & 0xff) + "." + std::to_string((i >> 8) & 0xff) + "." +
         std::to_string(i & 0xff) + ":7946";
}

gossip::Channel to_gossip(Channel c) { return c == Channel::Stream ? gossip::Channel::Stream : gossip::Channel::Datagram; }
Channel to_sim(gossip::Channel c) { return c == gossip::Channel::Stream ? Channel::Stream : Channel::Datagram; }
}  // namespace

GossipHarness::GossipHarness(GossipHarnessOptions options)
    : opts_(std::move(options)), rng_(opts_.seed), net_(sched_, rng_, opts_.link) {
  nodes_.reserve(opts_.nodes);
  for (NodeIndex i = 0; i < opts_.nodes; ++i) {
    const double rate = opts_.max_drift > 0 ? 1.0 + (rng_.uniform() * 2 - 1) * opts_.max_drift : 1.0;
    auto n = std::make_unique<SimNode>(sched_, rate);
    n->index = i;
    n->name = "node-" + std::to_string(i);
    n->address = make_address(i, opts_.ipv6);
    n->rng = rng_.fork();
    by_address_[n->address] = i;
    by_name_[n->name] = i;
    nodes_.push_back(std::move(n));
  }
}

GossipHarness::~GossipHarness() = default;

void GossipHarness::start(NodeIndex i) {
  SimNode& n = *nodes_.at(i);
  if (n.core) return;
  gossip::Config c = opts_.config;
  c.name = n.name;
  c.advertise = n.address;
  c.incarnation = n.incarnation;
  n.core = std::make_unique<gossip::Core>(std::move(c), n.rng, n.clock.now(),
                                          opts_.share_strings ? strings_ : nullptr);
  net_.attach(i, [this, i](NodeIndex from, Channel channel, core::Bytes payload) {
    on_receive(i, from, channel, std::move(payload));
  });
  flush(i);
}

void GossipHarness::join(NodeIndex i, const std::vector<NodeIndex>& seeds) {
  SimNode& n = *nodes_.at(i);
  CST_ASSERT(n.core);
  std::vector<std::string> addrs;
  for (NodeIndex s : seeds) addrs.push_back(nodes_.at(s)->address);
  n.core->join(addrs, n.clock.now());
  flush(i);
}

void GossipHarness::start_all_and_join() {
  for (NodeIndex i = 0; i < nodes_.size(); ++i) start(i);
  for (NodeIndex i = 0; i < nodes_.size(); ++i) join(i, {0});
}

void GossipHarness::crash(NodeIndex i) {
  SimNode& n = *nodes_.at(i);
  if (!n.core) return;
  n.incarnation = n.core->self().incarnation;  // what a real node persists
  n.core.reset();
  if (n.timer) sched_.cancel(n.timer);
  n.timer = 0;
  n.timer_at = Instant::max();
  n.healthy = false;
  net_.detach(i);
}

void GossipHarness::restart(NodeIndex i, const std::vector<NodeIndex>& seeds, std::optional<std::string> new_address) {
  SimNode& n = *nodes_.at(i);
  crash(i);
  if (new_address) {
    by_address_.erase(n.address);
    n.address = *new_address;
    by_address_[n.address] = i;
  }
  start(i);
  join(i, seeds);
}

void GossipHarness::stall(NodeIndex i, Duration d) {
  SimNode& n = *nodes_.at(i);
  n.stalled_until = sched_.now() + d;
  if (d > opts_.stall_grace) n.healthy = false;
  net_.stall(i, n.stalled_until);
}

void GossipHarness::partition(const std::vector<std::vector<NodeIndex>>& groups) {
  for (const auto& g : groups) {
    for (NodeIndex i : g) nodes_.at(i)->healthy = false;
  }
  net_.partition(groups);
}

void GossipHarness::on_receive(NodeIndex to, NodeIndex from, Channel channel, core::Bytes payload) {
  SimNode& n = *nodes_.at(to);
  if (!n.core) return;
  n.core->receive(nodes_.at(from)->address, to_gossip(channel), payload, n.clock.now());
  flush(to);
}

void GossipHarness::on_timer(NodeIndex i) {
  SimNode& n = *nodes_.at(i);
  n.timer = 0;
  n.timer_at = Instant::max();
  if (!n.core) return;
  if (n.stalled_until > sched_.now()) {
    // A paused process runs no timers: everything due fires when it resumes.
    n.timer_at = n.stalled_until;
    n.timer = sched_.at(n.stalled_until, [this, i] { on_timer(i); });
    return;
  }
  n.core->tick(n.clock.now());
  flush(i);
}

void GossipHarness::arm(NodeIndex i) {
  SimNode& n = *nodes_.at(i);
  const Instant local = n.core->next_deadline();
  Instant global = local == Instant::max() ? Instant::max() : n.clock.to_global(local);
  if (n.stalled_until > global) global = n.stalled_until;
  if (global == n.timer_at && n.timer) return;
  if (n.timer) sched_.cancel(n.timer);
  n.timer = 0;
  n.timer_at = global;
  if (global != Instant::max()) n.timer = sched_.at(global, [this, i] { on_timer(i); });
}

void GossipHarness::flush(NodeIndex i) {
  SimNode& n = *nodes_.at(i);
  if (!n.core) return;
  for (auto& o : n.core->take_outgoing()) {
    auto it = by_address_.find(o.to);
    if (it == by_address_.end()) {
      if (o.channel == gossip::Channel::Stream) n.core->stream_failed(o.to, n.clock.now());
      continue;
    }
    CST_ASSERT(o.channel == gossip::Channel::Stream || o.payload.size() <= opts_.config.max_datagram);
    const bool sent = net_.send(i, it->second, std::move(o.payload), to_sim(o.channel));
    if (!sent) n.core->stream_failed(o.to, n.clock.now());
  }
  for (const auto& e : n.core->take_events()) {
    if (e.kind != gossip::Event::Kind::Fail) continue;
    ++fail_events_;
    auto v = by_name_.find(e.member.name);
    if (v != by_name_.end() && nodes_.at(v->second)->healthy && n.healthy) {
      violations_.push_back(GossipViolation{sched_.now(), n.name, e.member.name, "healthy node declared dead"});
    }
  }
  n.core->take_user_messages();
  arm(i);
}

bool GossipHarness::run_until(const std::function<bool()>& pred, Duration limit, Duration step) {
  const Instant deadline = sched_.now() + limit;
  while (!pred()) {
    if (sched_.now() >= deadline) return false;
    sched_.run_until(std::min(deadline, sched_.now() + step));
  }
  return true;
}

bool GossipHarness::converged_counts() const {
  std::size_t up = 0;
  for (const auto& n : nodes_) up += n->core ? 1 : 0;
  for (const auto& n : nodes_) {
    if (n->core && n->core->alive_count() != up) return false;
  }
  return true;
}

bool GossipHarness::converged() const {
  if (!converged_counts()) return false;
  for (const auto& n : nodes_) {
    if (!n->core) continue;
    for (const auto& m : nodes_) {
      if (!m->core) continue;
      const auto& truth = m->core->self();
      auto seen = n->core->member(m->name);
      if (!seen || seen->state != gossip::MemberState::Alive || seen->address != truth.address ||
          seen->state_version != truth.state_version || seen->state_map != truth.state_map)
        return false;
    }
  }
  return true;
}

std::string GossipHarness::divergence() const {
  std::size_t up = 0;
  for (const auto& n : nodes_) up += n->core ? 1 : 0;
  for (const auto& n : nodes_) {
    if (!n->core) continue;
    for (const auto& m : nodes_) {
      if (!m->core) continue;
      const auto& truth = m->core->self();
      auto seen = n->core->member(m->name);
      if (!seen) return n->name + " does not know " + m->name;
      if (seen->state != gossip::MemberState::Alive)
        return n->name + " holds " + m->name + " " + gossip::to_string(seen->state) + " at incarnation " +
               std::to_string(seen->incarnation) + " (it is at " + std::to_string(truth.incarnation) + ")";
      if (seen->address != truth.address) return n->name + " holds " + m->name + " at " + seen->address + ", not " + truth.address;
      if (seen->state_version != truth.state_version || seen->state_map != truth.state_map)
        return n->name + " holds " + m->name + "'s state version " + std::to_string(seen->state_version) + ", not " +
               std::to_string(truth.state_version);
    }
    if (n->core->alive_count() != up)
      return n->name + " counts " + std::to_string(n->core->alive_count()) + " live members, not " + std::to_string(up);
  }
  return "";
}

std::size_t GossipHarness::count_seeing_dead(NodeIndex victim) const {
  std::size_t c = 0;
  for (const auto& n : nodes_) {
    if (!n->core || n->index == victim) continue;
    auto m = n->core->member(nodes_.at(victim)->name);
    if (!m || m->state == gossip::MemberState::Dead || m->state == gossip::MemberState::Left) ++c;
  }
  return c;
}

bool GossipHarness::all_see_dead(NodeIndex victim) const {
  std::size_t up = 0;
  for (const auto& n : nodes_) up += (n->core && n->index != victim) ? 1 : 0;
  return count_seeing_dead(victim) == up;
}

gossip::Stats GossipHarness::total_stats() const {
  gossip::Stats t;
  for (const auto& n : nodes_) {
    if (!n->core) continue;
    const auto& s = n->core->stats();
    t.probes += s.probes;
    t.indirect_probes += s.indirect_probes;
    t.stream_probes += s.stream_probes;
    t.acks += s.acks;
    t.nacks += s.nacks;
    t.suspicions += s.suspicions;
    t.refutations += s.refutations;
    t.deaths += s.deaths;
    t.push_pulls += s.push_pulls;
    t.broadcasts_queued += s.broadcasts_queued;
    t.broadcasts_dropped += s.broadcasts_dropped;
    t.messages_in += s.messages_in;
    t.messages_out += s.messages_out;
    t.bytes_in += s.bytes_in;
    t.bytes_out += s.bytes_out;
    t.malformed += s.malformed;
    t.awareness = std::max(t.awareness, s.awareness);
    t.queue_depth = std::max(t.queue_depth, s.queue_depth);
  }
  return t;
}

}  // namespace constellation::sim
