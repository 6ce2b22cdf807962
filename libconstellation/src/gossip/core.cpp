// SPDX-License-Identifier: Apache-2.0
//
// The SWIM + Lifeguard state machine (see core.hpp for the contract, docs/adr/0060-gossip-core.md
// for the design). Handlers follow the papers: probe (SWIM §3), indirect probe and nack
// (Lifeguard §IV-A), suspicion and refutation by incarnation (SWIM §4.2), dogpile timeouts
// (Lifeguard §IV-B), buddy system (Lifeguard §IV-C), infection-style dissemination (SWIM §4.1),
// push/pull anti-entropy by per-member versions (memberlist push/pull, by digest).
#include "gossip/core.hpp"

#include "core/assert.hpp"
#include "gossip/broadcast_queue.hpp"
#include "gossip/messages.hpp"
#include "gossip/string_table.hpp"
#include "gossip/suspicion.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <set>
#include <unordered_map>

namespace constellation::gossip {

using namespace std::chrono_literals;

Config Config::lan() { return Config{}; }

Config Config::fast() {
  Config c;
  c.probe_interval = 200ms;
  c.probe_timeout = 100ms;
  c.gossip_interval = 50ms;
  c.push_pull_interval = 15s;
  c.gossip_to_dead = 15s;
  c.dead_reclaim = 30s;
  return c;
}

const char* to_string(MemberState s) {
  switch (s) {
    case MemberState::Alive: return "alive";
    case MemberState::Suspect: return "suspect";
    case MemberState::Dead: return "dead";
    case MemberState::Left: return "left";
  }
  return "unknown";
}

const char* to_string(Event::Kind k) {
  switch (k) {
    case Event::Kind::Join: return "join";
    case Event::Kind::Leave: return "leave";
    case Event::Kind::Fail: return "fail";
    case Event::Kind::Recover: return "recover";
    case Event::Kind::Update: return "update";
  }
  return "unknown";
}

namespace {

// Tombstones of erased keys kept per member; deltas from before the oldest forgotten one are
// sent as a full replacement instead.
constexpr std::size_t kMaxTombstones = 256;
// Reclaimed dead members whose last address is still tried now and then (partition healing).
constexpr std::size_t kMaxLost = 256;
// Recently seen user broadcasts (origin, id), to relay each once.
constexpr std::size_t kMaxSeenUser = 4096;
// Names asked for in one batched targeted pull.
constexpr std::size_t kMaxPullNames = 256;

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

int rank(MemberState s) {
  switch (s) {
    case MemberState::Alive: return 0;
    case MemberState::Suspect: return 1;
    case MemberState::Dead:
    case MemberState::Left: return 2;
  }
  return 0;
}

bool gone(MemberState s) { return s == MemberState::Dead || s == MemberState::Left; }

struct Value {
  std::string value;
  std::uint64_t version = 0;
};

// What a member record needs only sometimes, allocated on first use: application state (kept by
// members that publish some) and a running suspicion (rare).
struct NodeExtra {
  std::map<std::string, Value> kv;
  std::map<std::string, std::uint64_t> tombstones;  // erased key -> version
  // Invariant: every tombstone with version > horizon is in `tombstones`.
  std::uint64_t horizon = 0;
  std::unique_ptr<Suspicion> suspicion;  // set while suspect
  Instant suspicion_deadline;
};

// One member as this node knows it. Every node of an N-node cluster holds N of these, so the
// record is 48 bytes: names and addresses are interned (StringTables), the rest is out of line.
struct Node {
  StringTable::Id name = StringTable::kNone;     // in StringTables::names; also the record's index
  StringTable::Id address = StringTable::kNone;  // in StringTables::values
  std::uint64_t incarnation = 0;
  std::uint64_t state_version = 0;
  Instant since;
  std::unique_ptr<NodeExtra> extra;
  std::uint32_t slot = 0;  // index in Impl::order
  MemberState state = MemberState::Alive;
  bool present = false;  // false: no such member (never known, or removed)
};
static_assert(sizeof(Node) <= 48, "a member record is held N^2 times across a cluster: keep it small");

}  // namespace

struct Core::Impl {
  Config cfg;
  core::Rng& rng;
  std::shared_ptr<StringTables> strings;
  // Member records indexed by name id: records[id] is the member named id if it is present.
  // A deque, so records never move (self and the Node pointers handlers hold stay valid).
  std::deque<Node> records;
  // Every known member, self included, by name id, in the order pick() and probing rounds walk:
  // a member is appended when learnt and the last one takes its place when it is removed.
  std::vector<StringTable::Id> order;
  Node* self = nullptr;
  Member self_view;
  std::size_t live = 1;  // members neither dead nor left, self included
  std::set<std::string, std::less<>> gone_names;  // members dead or left (reclaim and reconnect scan only these)
  // View summary (wire::ViewSummary): XOR of fnv1a(name) over live members, self included.
  std::uint64_t view_hash = 0;
  Instant view_changed;   // last change of the live set
  Instant next_view_sync; // rate limit of summary-triggered push/pulls
  BroadcastQueue queue;  // after `strings`: it interns into them
  Awareness awareness;
  Stats stats;
  std::vector<Outgoing> out;
  std::vector<Event> events;
  std::vector<std::string> user_messages;

  // Probing (SWIM §3, randomized round robin). The list holds a reference on each name id, so a
  // member removed and learnt again within a round is probed under its old entry.
  std::vector<StringTable::Id> probe_list;
  std::size_t probe_pos = 0;
  Instant next_probe;
  struct Probe {
    std::uint64_t seq = 0;
    std::string target;
    Instant timeout_at, end_at;
    bool done = true;
    bool indirect = false;
    std::uint32_t expected_nacks = 0, nacks = 0;
  } probe;
  std::uint64_t next_seq = 0;
  struct Relay {
    std::string origin_address;
    std::uint64_t origin_seq = 0;
    bool nack = false;
    Instant nack_at, expire_at;
  };
  std::map<std::uint64_t, Relay> relays;

  std::set<std::pair<Instant, std::string>> suspicion_timers;
  Instant next_gossip, next_push_pull, next_reconnect, next_maintenance;

  // Join.
  std::vector<std::string> seeds;
  bool joining = false;
  bool joined = false;
  Instant next_join = Instant::max();
  Duration join_backoff{0};

  // Leave.
  bool leaving = false;
  Instant leave_done_at = Instant::max();

  // Application state we know we lack: member -> (version seen, not before).
  std::map<std::string, std::pair<std::uint64_t, Instant>, std::less<>> wanted;
  std::unordered_map<std::string, std::uint64_t> delta_base;  // base of the queued "s:<name>" delta
  Instant next_pull;

  std::deque<std::pair<std::string, std::string>> lost;  // (name, address) of reclaimed dead members
  std::set<std::pair<std::string, std::uint64_t>> seen_user;
  std::deque<std::pair<std::string, std::uint64_t>> seen_user_order;
  std::uint64_t user_seq = 0;
  std::uint64_t oversized_user = 0;  // user broadcasts refused for not fitting a datagram
  // While handling a packet that carried a ping: where its sender listens (for the buddy system's
  // direct answer to a stale accusation).
  std::string packet_pinger;
  // Accusers already told our current incarnation directly (cleared when it changes).
  std::set<std::string> told;
  std::uint64_t told_incarnation = 0;
  // Members that became suspect and are probed next, out of turn, so the buddy system reaches
  // them within a probe interval rather than a whole round.
  std::deque<std::string> suspects_to_probe;

  Impl(Config c, core::Rng& r, Instant now, std::shared_ptr<StringTables> tables)
      : cfg(std::move(c)),
        rng(r),
        strings(tables ? std::move(tables) : std::make_shared<StringTables>()),
        queue(1u << 16, 1024, strings),
        awareness(cfg.awareness_max) {
    self = &add_node(cfg.name, cfg.advertise, now);
    self->incarnation = cfg.incarnation;
    view_hash = fnv1a(cfg.name);
    view_changed = now;
    next_view_sync = now;
    refresh_self();
    emit(Event::Kind::Join, *self);
    next_probe = now + cfg.probe_interval;
    next_gossip = now + cfg.gossip_interval;
    next_push_pull = cfg.push_pull_interval.count() > 0 ? now + jitter(cfg.push_pull_interval) : Instant::max();
    next_reconnect = now + reconnect_interval();
    next_maintenance = now + cfg.probe_interval;
    next_pull = now;
  }

  // Gives back the references this core holds in its string tables (which may outlive it: the
  // simulator's are shared); the queue gives back its own.
  ~Impl() {
    clear_probe_list();
    for (const StringTable::Id id : order) {
      strings->values.release(at(id).address);
      strings->names.release(id);
    }
  }

  // --- bookkeeping ---------------------------------------------------------------------------

  Duration jitter(Duration d) { return Duration(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(std::max<std::int64_t>(d.count(), 1))))) + d / 2; }
  Duration reconnect_interval() const { return cfg.probe_interval * 10; }

  std::string_view name(const Node& n) const { return strings->names.view(n.name); }
  std::string_view address(const Node& n) const { return strings->values.view(n.address); }

  static const NodeExtra& extra(const Node& n) {
    static const NodeExtra none;
    return n.extra ? *n.extra : none;
  }
  static NodeExtra& mutable_extra(Node& n) {
    if (!n.extra) n.extra = std::make_unique<NodeExtra>();
    return *n.extra;
  }
  static bool suspected(const Node& n) { return n.extra && n.extra->suspicion; }

  void set_address(Node& n, std::string_view address) {
    const StringTable::Id id = strings->values.acquire(address);
    strings->values.release(n.address);
    n.address = id;
  }

  Node& add_node(std::string_view member, std::string_view addr, Instant now) {
    const StringTable::Id id = strings->names.acquire(member);
    if (id >= records.size()) records.resize(id + 1);
    Node& n = records[id];
    CST_ASSERT(!n.present);
    n.name = id;
    n.address = strings->values.acquire(addr);
    n.since = now;
    n.present = true;
    n.slot = static_cast<std::uint32_t>(order.size());
    order.push_back(id);
    // New members enter the probe order at a random place (memberlist does the same).
    if (probe_list.size() > probe_pos) {
      auto pos = probe_pos + rng.below(probe_list.size() - probe_pos + 1);
      strings->names.retain(id);
      probe_list.insert(probe_list.begin() + static_cast<std::ptrdiff_t>(pos), id);
    }
    return n;
  }

  void remove_node(Node& n) {
    const std::uint32_t slot = n.slot;
    CST_ASSERT(order[slot] == n.name);
    if (slot + 1 != order.size()) {
      order[slot] = order.back();
      records[order[slot]].slot = slot;
    }
    order.pop_back();
    const std::string member(name(n));
    if (suspected(n)) suspicion_timers.erase({n.extra->suspicion_deadline, member});
    delta_base.erase(member);
    wanted.erase(member);
    gone_names.erase(member);
    strings->values.release(n.address);
    strings->names.release(n.name);
    n = Node{};
  }

  Node* find(std::string_view member) {
    const StringTable::Id id = strings->names.find(member);
    return id < records.size() && records[id].present ? &records[id] : nullptr;
  }
  const Node* find_const(std::string_view member) const {
    const StringTable::Id id = strings->names.find(member);
    return id < records.size() && records[id].present ? &records[id] : nullptr;
  }
  Node& at(StringTable::Id id) { return records[id]; }

  Member view(const Node& n) const {
    Member m;
    m.name = name(n);
    m.address = address(n);
    m.incarnation = n.incarnation;
    m.state = n.state;
    for (const auto& [k, v] : extra(n).kv) m.state_map.emplace(k, v.value);
    m.state_version = n.state_version;
    m.since = n.since;
    return m;
  }

  void refresh_self() { self_view = view(*self); }

  void emit(Event::Kind k, const Node& n) { events.push_back(Event{k, view(n)}); }

  void set_state(Node& n, MemberState s, Instant now) {
    if (gone(n.state) != gone(s)) {
      view_hash ^= fnv1a(name(n));
      view_changed = now;
    }
    if (gone(n.state) && !gone(s)) {
      ++live;
      gone_names.erase(std::string(name(n)));
    }
    if (!gone(n.state) && gone(s)) {
      --live;
      if (&n != self) gone_names.emplace(name(n));
    }
    n.state = s;
    n.since = now;
    if (s != MemberState::Suspect && suspected(n)) {
      suspicion_timers.erase({n.extra->suspicion_deadline, std::string(name(n))});
      n.extra->suspicion.reset();
    }
  }

  std::uint32_t retransmit_limit() const {
    const double n = static_cast<double>(order.size());
    return cfg.retransmit_mult * static_cast<std::uint32_t>(std::ceil(std::log10(n + 1.0)));
  }

  Duration suspicion_min() const {
    const double n = static_cast<double>(std::max<std::size_t>(live, 1));
    const double f = static_cast<double>(cfg.suspicion_mult) * std::max(1.0, std::log10(n));
    return Duration(static_cast<std::int64_t>(f * static_cast<double>(cfg.probe_interval.count())));
  }

  Duration push_pull_interval() const {
    const double n = static_cast<double>(live);
    if (n <= 32) return cfg.push_pull_interval;
    const double mult = std::ceil(std::log2(n) - std::log2(32.0)) + 1.0;
    return Duration(static_cast<std::int64_t>(mult * static_cast<double>(cfg.push_pull_interval.count())));
  }

  // Random members satisfying pred (never self), at most k.
  template <class Pred>
  std::vector<Node*> pick(std::size_t k, Pred pred) {
    std::vector<Node*> chosen;
    if (k == 0 || order.size() <= 1) return chosen;
    if (order.size() <= 4 * k + 32) {
      for (const StringTable::Id id : order) {
        Node& n = at(id);
        if (&n != self && pred(n)) chosen.push_back(&n);
      }
      rng.shuffle(std::span<Node*>(chosen));
      if (chosen.size() > k) chosen.resize(k);
      return chosen;
    }
    for (std::size_t attempt = 0; attempt < 8 * k && chosen.size() < k; ++attempt) {
      Node& n = at(order[rng.below(order.size())]);
      if (&n == self || !pred(n) || std::find(chosen.begin(), chosen.end(), &n) != chosen.end()) continue;
      chosen.push_back(&n);
    }
    return chosen;
  }

  static bool reachable(const Node& n) { return !gone(n.state); }

  // --- sending -------------------------------------------------------------------------------

  void send_parts(std::string_view to, std::vector<core::Bytes> parts, bool piggyback = true) {
    std::size_t used = 1;
    for (const auto& p : parts) used += p.size();
    const std::size_t mandatory = parts.size();
    if (piggyback && used < cfg.max_datagram) queue.fill(cfg.max_datagram - used, retransmit_limit(), parts);
    if (parts.empty()) return;
    auto payload = wire::encode_packet(parts);
    CST_ASSERT(payload.size() <= cfg.max_datagram || mandatory == parts.size());
    stats.messages_out += parts.size();
    stats.bytes_out += payload.size();
    out.push_back(Outgoing{std::string(to), Channel::Datagram, std::move(payload)});
  }

  void send_stream_parts(std::string_view to, const std::vector<core::Bytes>& parts) {
    auto payload = wire::encode_stream_packet(parts, cfg.compress_threshold);
    stats.messages_out += parts.size();
    stats.bytes_out += payload.size();
    out.push_back(Outgoing{std::string(to), Channel::Stream, std::move(payload)});
  }

  // A push/pull frame larger than max_stream is split into several frames of the same type, each
  // with part of the records (the digest rides with the first): merging records is idempotent
  // and order-free, so the receiver needs no reassembly. A single record larger than max_stream
  // (one member's state above 32 MiB by default) cannot be sent and is skipped.
  void send_stream(std::string_view to, const wire::PushPull& p) {
    auto payload = wire::encode_stream(p, cfg.compress_threshold);
    if (payload.size() > cfg.max_stream) {
      if (p.records.size() < 2) return;
      const auto half = static_cast<std::ptrdiff_t>(p.records.size() / 2);
      wire::PushPull a = p, b = p;
      a.records.assign(p.records.begin(), p.records.begin() + half);
      b.records.assign(p.records.begin() + half, p.records.end());
      b.digest.clear();
      send_stream(to, a);
      send_stream(to, b);
      return;
    }
    stats.messages_out += 1;
    stats.bytes_out += payload.size();
    out.push_back(Outgoing{std::string(to), Channel::Stream, std::move(payload)});
  }

  // Broadcast queue keys: news about a member's membership ("m:") replaces older news about it,
  // and so does news about its application state ("s:").
  static std::string membership_key(std::string_view member) { return std::string("m:").append(member); }
  static std::string state_key(std::string_view member) { return std::string("s:").append(member); }

  void gossip_membership(std::string_view about, const wire::Message& m) {
    queue.push(BroadcastQueue::Lane::Membership, membership_key(about), wire::encode_part(m));
    stats.broadcasts_queued += 1;
  }

  wire::Alive alive_msg(const Node& n) const {
    return wire::Alive{n.incarnation, std::string(name(n)), std::string(address(n)), n.state_version};
  }
  // What we relay of an alive we accepted: the state version it claims, even before we hold
  // that state, so that receivers also know what to pull.
  wire::Alive relay_alive(const Node& n, const wire::Alive& a) const {
    return wire::Alive{n.incarnation, std::string(name(n)), std::string(address(n)),
                       std::max(n.state_version, a.state_version)};
  }

  // --- application state ---------------------------------------------------------------------

  wire::StateDelta make_delta(const Node& n, std::uint64_t base) const {
    const NodeExtra& e = extra(n);
    wire::StateDelta d;
    d.node = name(n);
    d.version = n.state_version;
    if (base > n.state_version) base = n.state_version;
    d.base_version = base;
    d.replace = base == 0 || base < e.horizon;
    if (d.replace) d.base_version = 0;
    for (const auto& [k, v] : e.kv) {
      if (d.replace || v.version > base) d.entries.push_back(wire::StateEntry{k, v.version, v.value});
    }
    if (!d.replace) {
      for (const auto& [k, ver] : e.tombstones) {
        if (ver > base) d.entries.push_back(wire::StateEntry{k, ver, std::nullopt});
      }
    }
    return d;
  }

  static void add_tombstone(Node& n, const std::string& key, std::uint64_t version) {
    NodeExtra& x = mutable_extra(n);
    x.tombstones[key] = version;
    while (x.tombstones.size() > kMaxTombstones) {
      auto oldest = std::min_element(x.tombstones.begin(), x.tombstones.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; });
      x.horizon = std::max(x.horizon, oldest->second);
      x.tombstones.erase(oldest);
    }
  }

  // Applies a delta the caller checked is applicable.
  void apply_delta(Node& n, const wire::StateDelta& d) {
    NodeExtra& x = mutable_extra(n);
    if (d.replace) {
      x.kv.clear();
      x.tombstones.clear();
      x.horizon = d.version;
    }
    for (const auto& e : d.entries) {
      if (!d.replace && e.version <= n.state_version) continue;
      if (e.value) {
        x.kv[e.key] = Value{*e.value, e.version};
        x.tombstones.erase(e.key);
      } else {
        x.kv.erase(e.key);
        if (!d.replace) add_tombstone(n, e.key, e.version);
      }
    }
    n.state_version = d.version;
    auto w = wanted.find(name(n));
    if (w != wanted.end() && w->second.first <= n.state_version) wanted.erase(w);
  }

  // Queues the state of n for piggybacking: a delta when it fits a datagram, else an announce
  // (an Alive carrying the new state_version) that makes receivers pull it.
  void gossip_state(Node& n, std::uint64_t base) {
    const std::string member(name(n));
    const std::string key = state_key(member);
    auto b = delta_base.find(member);
    if (b != delta_base.end() && queue.contains(key)) base = std::min(base, b->second);
    auto delta = make_delta(n, base);
    auto part = wire::encode_part(delta);
    if (part.size() + 1 + 128 > cfg.max_datagram) {
      part = wire::encode_part(alive_msg(n));
      delta_base.erase(member);
    } else {
      delta_base[member] = delta.base_version;
    }
    queue.push(BroadcastQueue::Lane::Membership, key, std::move(part));
    stats.broadcasts_queued += 1;
  }

  void want(const Node& n, std::uint64_t version, Instant now, Duration grace) {
    if (&n == self || gone(n.state) || version <= n.state_version) return;
    auto w = wanted.find(name(n));
    if (w == wanted.end()) w = wanted.emplace(name(n), std::pair<std::uint64_t, Instant>{}).first;
    if (version > w->second.first) w->second = {version, now + grace};
  }

  // Someone holds a newer version of our own state than we do (our previous life, before a
  // restart): jump past it and send everything as a replacement.
  void overtake_own_state(std::uint64_t seen) {
    if (seen < self->state_version) return;
    self->state_version = seen + 1;
    NodeExtra& x = mutable_extra(*self);
    for (auto& [k, v] : x.kv) v.version = self->state_version;
    x.tombstones.clear();
    x.horizon = self->state_version;
    refresh_self();
    gossip_state(*self, 0);
  }

  // --- membership handlers -------------------------------------------------------------------

  void refute(std::uint64_t accused_incarnation) {
    self->incarnation = std::max(self->incarnation, accused_incarnation) + 1;
    awareness.apply(1);
    stats.refutations += 1;
    refresh_self();
    gossip_membership(cfg.name, alive_msg(*self));
  }

  void on_alive(const wire::Alive& a, Instant now) {
    if (a.node == cfg.name) {
      if (leaving) return;
      if (a.incarnation > self->incarnation || (a.incarnation == self->incarnation && a.address != address(*self)))
        refute(a.incarnation);
      if (a.state_version > self->state_version) overtake_own_state(a.state_version);
      return;
    }
    Node* n = find(a.node);
    if (!n) {
      n = &add_node(a.node, a.address, now);
      n->incarnation = a.incarnation;
      ++live;
      view_hash ^= fnv1a(a.node);
      view_changed = now;
      emit(Event::Kind::Join, *n);
      gossip_membership(a.node, relay_alive(*n, a));
      want(*n, a.state_version, now, cfg.probe_interval);
      joined = true;
      return;
    }
    if (a.incarnation <= n->incarnation) {
      if (!gone(n->state)) want(*n, a.state_version, now, cfg.probe_interval);
      return;
    }
    const MemberState prev = n->state;
    const bool moved = address(*n) != a.address;
    n->incarnation = a.incarnation;
    if (moved) set_address(*n, a.address);
    if (prev != MemberState::Alive) set_state(*n, MemberState::Alive, now);
    if (prev == MemberState::Dead) {
      emit(Event::Kind::Recover, *n);
    } else if (prev == MemberState::Left) {
      emit(Event::Kind::Join, *n);
    } else if (moved) {
      emit(Event::Kind::Update, *n);
    }
    joined = true;
    gossip_membership(a.node, relay_alive(*n, a));
    want(*n, a.state_version, now, cfg.probe_interval);
  }

  // Someone still accuses an incarnation we already refuted: it missed our alive. Tell the
  // prober directly (buddy system: the accusation rode on its ping) and spread our alive again.
  void repeat_refutation() {
    if (leaving) return;
    if (!packet_pinger.empty()) send_parts(packet_pinger, {wire::encode_part(alive_msg(*self))});
    if (!queue.contains(membership_key(cfg.name))) gossip_membership(cfg.name, alive_msg(*self));
  }

  // Our refutation also goes straight to each accuser (once per incarnation): an epidemic can
  // miss one node, and the accuser is the one node that must not miss it.
  void tell_accuser(const std::string& accuser) {
    if (leaving || accuser.empty() || accuser == cfg.name) return;
    if (told_incarnation != self->incarnation) {
      told.clear();
      told_incarnation = self->incarnation;
    }
    const Node* a = find_const(accuser);
    if (!a || gone(a->state) || !told.insert(accuser).second) return;
    send_parts(address(*a), {wire::encode_part(alive_msg(*self))});
  }

  void on_suspect(const wire::Suspect& s, Instant now) {
    if (s.node == cfg.name) {
      if (leaving) return;
      if (s.incarnation >= self->incarnation) {
        refute(s.incarnation);
      } else {
        repeat_refutation();
      }
      tell_accuser(s.from);
      return;
    }
    Node* n = find(s.node);
    if (!n || s.incarnation < n->incarnation || gone(n->state)) return;
    if (n->state == MemberState::Suspect) {
      if (s.incarnation > n->incarnation) n->incarnation = s.incarnation;
      if (suspected(*n) && n->extra->suspicion->confirm(s.from)) {
        NodeExtra& x = *n->extra;
        suspicion_timers.erase({x.suspicion_deadline, s.node});
        x.suspicion_deadline = x.suspicion->deadline();
        suspicion_timers.insert({x.suspicion_deadline, s.node});
        gossip_membership(s.node, s);  // each new confirmation spreads (Lifeguard §IV-B)
      }
      return;
    }
    n->incarnation = s.incarnation;
    set_state(*n, MemberState::Suspect, now);
    const std::size_t k = cfg.suspicion_mult > 2 && live >= cfg.suspicion_mult ? cfg.suspicion_mult - 2 : 0;
    const Duration min = suspicion_min();
    NodeExtra& x = mutable_extra(*n);
    x.suspicion = std::make_unique<Suspicion>(s.from, k, min, min * cfg.suspicion_max_mult, now);
    x.suspicion_deadline = x.suspicion->deadline();
    suspicion_timers.insert({x.suspicion_deadline, s.node});
    stats.suspicions += 1;
    gossip_membership(s.node, s);
    // Bounded: during a large partition round-robin probing must go on.
    if (s.from != cfg.name && suspects_to_probe.size() < 4) suspects_to_probe.push_back(s.node);
  }

  void on_dead(const wire::Dead& d, Instant now) {
    const bool left = d.from == d.node;
    if (d.node == cfg.name) {
      if (leaving) return;
      if (d.incarnation >= self->incarnation) {
        refute(d.incarnation);
      } else {
        repeat_refutation();
      }
      tell_accuser(d.from);
      return;
    }
    Node* n = find(d.node);
    if (!n || d.incarnation < n->incarnation) return;
    if (gone(n->state)) {
      // A graceful leave upgrades a death we inferred (the node says it meant it).
      if (left && n->state == MemberState::Dead) {
        n->state = MemberState::Left;
        gossip_membership(d.node, wire::Leave{d.incarnation, d.node});
      }
      return;
    }
    n->incarnation = d.incarnation;
    set_state(*n, left ? MemberState::Left : MemberState::Dead, now);
    emit(left ? Event::Kind::Leave : Event::Kind::Fail, *n);
    if (left) {
      gossip_membership(d.node, wire::Leave{d.incarnation, d.node});
    } else {
      gossip_membership(d.node, d);
    }
  }

  void on_delta(const wire::StateDelta& d, Instant now) {
    if (d.node == cfg.name) {
      if (d.version > self->state_version) overtake_own_state(d.version);
      return;
    }
    Node* n = find(d.node);
    if (!n || d.version <= n->state_version) return;
    if (d.replace || d.base_version <= n->state_version) {
      const std::uint64_t base = n->state_version;
      apply_delta(*n, d);
      if (!gone(n->state)) emit(Event::Kind::Update, *n);
      gossip_state(*n, std::min(base, d.base_version));
    } else {
      want(*n, d.version, now, Duration(0));
    }
  }

  void on_user(const wire::User& u) {
    if (u.origin == cfg.name) return;
    if (!seen_user.insert({u.origin, u.id}).second) return;
    seen_user_order.push_back({u.origin, u.id});
    if (seen_user_order.size() > kMaxSeenUser) {
      seen_user.erase(seen_user_order.front());
      seen_user_order.pop_front();
    }
    user_messages.push_back(u.payload);
    queue.push(BroadcastQueue::Lane::User, "u:" + u.origin + ":" + std::to_string(u.id), wire::encode_part(u));
  }

  // --- probing -------------------------------------------------------------------------------

  Node* next_probe_target() {
    while (!suspects_to_probe.empty()) {
      Node* n = find(suspects_to_probe.front());
      suspects_to_probe.pop_front();
      if (n && n->state == MemberState::Suspect) return n;
    }
    for (std::size_t tries = 0; tries <= order.size(); ++tries) {
      if (probe_pos >= probe_list.size()) {
        clear_probe_list();
        for (const StringTable::Id id : order) {
          if (id == self->name) continue;
          strings->names.retain(id);
          probe_list.push_back(id);
        }
        rng.shuffle(std::span<StringTable::Id>(probe_list));
        probe_pos = 0;
        if (probe_list.empty()) return nullptr;
      }
      Node& n = at(probe_list[probe_pos++]);
      if (n.present && &n != self && !gone(n.state)) return &n;
    }
    return nullptr;
  }

  void clear_probe_list() {
    for (const StringTable::Id id : probe_list) strings->names.release(id);
    probe_list.clear();
  }

  void start_probe(Instant now) {
    next_probe = now + awareness.scale(cfg.probe_interval);
    if (leaving) return;
    Node* t = next_probe_target();
    if (!t) return;
    probe = Probe{};
    probe.seq = ++next_seq;
    probe.target = name(*t);
    probe.timeout_at = now + awareness.scale(cfg.probe_timeout);
    probe.end_at = next_probe;
    probe.done = false;
    std::vector<core::Bytes> parts{
        wire::encode_part(wire::Ping{probe.seq, probe.target, cfg.name, std::string(address(*self)), view()})};
    // Buddy system: tell a suspect directly, so it can refute at once.
    if (t->state == MemberState::Suspect)
      parts.push_back(wire::encode_part(wire::Suspect{t->incarnation, probe.target, cfg.name}));
    stats.probes += 1;
    send_parts(address(*t), std::move(parts));
  }

  void probe_timed_out(Instant now) {
    probe.indirect = true;
    Node* t = find(probe.target);
    if (!t || gone(t->state)) {
      probe.done = true;
      return;
    }
    auto helpers = pick(cfg.indirect_checks, [&t](const Node& n) { return &n != t && n.state == MemberState::Alive; });
    const std::string target_address(address(*t));
    const std::string self_address(address(*self));
    for (Node* h : helpers) {
      send_parts(address(*h), {wire::encode_part(wire::PingReq{probe.seq, probe.target, target_address, cfg.name,
                                                              self_address, true})});
    }
    probe.expected_nacks = static_cast<std::uint32_t>(helpers.size());
    stats.indirect_probes += helpers.size();
    // TCP fallback probe (memberlist's protocol 3): reaches nodes whose UDP is lossy or blocked.
    send_stream_parts(target_address,
                      {wire::encode_part(wire::Ping{probe.seq, probe.target, cfg.name, self_address, {}})});
    stats.stream_probes += 1;
    (void)now;
  }

  void probe_failed(Instant now) {
    probe.done = true;
    // Lifeguard: missing nacks mean our own links or CPU are the problem (no helpers: +1 flat).
    const int delta = probe.expected_nacks > 0 ? static_cast<int>(probe.expected_nacks - std::min(probe.nacks, probe.expected_nacks)) : 1;
    awareness.apply(delta);
    Node* t = find(probe.target);
    if (!t || gone(t->state)) return;
    on_suspect(wire::Suspect{t->incarnation, probe.target, cfg.name}, now);
  }

  wire::ViewSummary view() const { return wire::ViewSummary{live, view_hash}; }

  // A peer whose view differs from ours while ours has been quiet for a while missed something
  // (or we did): anti-entropy with it now instead of waiting for the periodic push/pull. Two
  // probe intervals of quiet tell a missed broadcast from news still spreading (a join storm
  // settles within about one); each node syncs this way at most once per ten intervals.
  void compare_view(const wire::ViewSummary& v, std::string_view peer_address, Instant now) {
    if (v.members == 0 || leaving || peer_address.empty()) return;
    if (v.members == live && v.hash == view_hash) return;
    if (now - view_changed < cfg.probe_interval * 2 || now < next_view_sync) return;
    next_view_sync = now + cfg.probe_interval * 10;
    send_push_pull(peer_address, false);
  }

  void on_ack(const wire::Ack& a, Instant now) {
    auto r = relays.find(a.seq);
    if (r != relays.end()) {
      send_parts(r->second.origin_address, {wire::encode_part(wire::Ack{r->second.origin_seq, a.source, {}})});
      relays.erase(r);
      return;
    }
    if (probe.done || a.seq != probe.seq) return;
    probe.done = true;
    if (const Node* t = find(probe.target); t && !probe.indirect) compare_view(a.view, address(*t), now);
    stats.acks += 1;
    awareness.apply(-1);  // any ack, direct, relayed or over a stream (memberlist does the same)
  }

  void on_nack(const wire::Nack& n) {
    if (probe.done || n.seq != probe.seq) return;
    stats.nacks += 1;
    probe.nacks += 1;
  }

  void on_ping(const wire::Ping& p, const std::string& from, Channel channel, Instant now) {
    if (!p.target.empty() && p.target != cfg.name) return;  // meant for a previous owner of this address
    const std::string& to = p.source_address.empty() ? from : p.source_address;
    auto ack = wire::encode_part(wire::Ack{p.seq, cfg.name, view()});
    compare_view(p.view, p.source_address, now);
    if (channel == Channel::Stream) {
      send_stream_parts(to, {ack});
    } else {
      send_parts(to, {std::move(ack)});
    }
  }

  void on_ping_req(const wire::PingReq& p, const std::string& from, Instant now) {
    const std::uint64_t seq = ++next_seq;
    Relay r;
    r.origin_address = p.source_address.empty() ? from : p.source_address;
    r.origin_seq = p.seq;
    r.nack = p.nack;
    // 80 % of a probe timeout, so the nack reaches the prober before its probe interval ends
    // (it sent us the request one probe timeout into that interval).
    r.nack_at = now + cfg.probe_timeout * 4 / 5;
    r.expire_at = now + cfg.probe_interval * 2;
    relays[seq] = std::move(r);
    send_parts(p.target_address,
               {wire::encode_part(wire::Ping{seq, p.target, cfg.name, std::string(address(*self)), {}})});
  }

  // --- push/pull -----------------------------------------------------------------------------

  wire::MemberRecord record(const Node& n, std::uint64_t peer_version) const {
    wire::MemberRecord r;
    r.address = address(n);
    r.incarnation = n.incarnation;
    r.state = n.state;
    r.delta = make_delta(n, peer_version);
    if (peer_version >= n.state_version) {
      r.delta.entries.clear();
      r.delta.replace = false;
      r.delta.base_version = n.state_version;
    }
    return r;
  }

  wire::DigestEntry digest(const Node& n) const {
    return wire::DigestEntry{std::string(name(n)), n.incarnation, n.state, n.state_version};
  }

  void send_push_pull(std::string_view to, bool join_flag) {
    wire::PushPull p;
    p.type = wire::StreamType::PushPullRequest;
    p.join = join_flag;
    p.source = cfg.name;
    p.source_address = address(*self);
    p.records.push_back(record(*self, 0));
    p.digest.reserve(order.size());
    for (const StringTable::Id id : order) {
      const Node& n = at(id);
      if (&n != self) p.digest.push_back(digest(n));
    }
    stats.push_pulls += 1;
    send_stream(to, p);
  }

  void send_pull(std::string_view to, const std::vector<std::string>& which) {
    wire::PushPull p;
    p.type = wire::StreamType::PushPullRequest;
    p.targeted = true;
    p.source = cfg.name;
    p.source_address = address(*self);
    p.records.push_back(record(*self, 0));
    for (const auto& member : which) {
      if (const Node* n = find_const(member)) p.digest.push_back(digest(*n));
    }
    send_stream(to, p);
  }

  static bool newer(std::uint64_t inc_a, MemberState st_a, std::uint64_t inc_b, MemberState st_b) {
    return inc_a > inc_b || (inc_a == inc_b && rank(st_a) > rank(st_b));
  }

  void apply_record(const wire::MemberRecord& r, const std::string& source, Instant now) {
    const std::string& member = r.delta.node;
    if (member.empty() || r.address.empty()) {
      stats.malformed += 1;
      return;
    }
    if (member == cfg.name) {
      // Refute what is wrong about us: a suspicion or death, a newer life (before our restart),
      // or our old address (we moved).
      if (!leaving && (r.incarnation > self->incarnation ||
                       (r.incarnation == self->incarnation &&
                        (r.state != MemberState::Alive || r.address != address(*self)))))
        refute(r.incarnation);
      if (r.delta.version > self->state_version) overtake_own_state(r.delta.version);
      return;
    }
    Node* n = find(member);
    switch (r.state) {
      case MemberState::Alive:
        on_alive(wire::Alive{r.incarnation, member, r.address, r.delta.version}, now);
        break;
      case MemberState::Suspect:
        if (!n) on_alive(wire::Alive{r.incarnation, member, r.address, r.delta.version}, now);
        on_suspect(wire::Suspect{r.incarnation, member, source}, now);
        break;
      case MemberState::Dead:
        // One peer's verdict is only a suspicion here (memberlist does the same): we let our
        // own timers confirm it, which gives the accused time to refute.
        if (n) on_suspect(wire::Suspect{r.incarnation, member, source}, now);
        break;
      case MemberState::Left:
        if (n) on_dead(wire::Dead{r.incarnation, member, member}, now);
        break;
    }
    n = find(member);
    if (!n) return;
    const auto& d = r.delta;
    if (d.version > n->state_version) {
      if (d.replace || d.base_version <= n->state_version) {
        const std::uint64_t base = n->state_version;
        apply_delta(*n, d);
        if (!gone(n->state)) emit(Event::Kind::Update, *n);
        gossip_state(*n, base);
      } else {
        want(*n, d.version, now, Duration(0));
      }
    }
  }

  void on_push_pull(const wire::PushPull& p, const std::string& from, Instant now) {
    const std::string& reply_to = p.source_address.empty() ? from : p.source_address;
    for (const auto& r : p.records) apply_record(r, p.source, now);
    if (p.type == wire::StreamType::PushPullPush) return;
    if (p.type == wire::StreamType::PushPullResponse) {
      joined = true;
      if (p.digest.empty()) return;
      wire::PushPull push;
      push.type = wire::StreamType::PushPullPush;
      push.source = cfg.name;
      push.source_address = address(*self);
      for (const auto& want_entry : p.digest) {
        if (const Node* n = find_const(want_entry.name)) push.records.push_back(record(*n, want_entry.state_version));
      }
      if (!push.records.empty()) send_stream(reply_to, push);
      return;
    }
    // A request: answer with what the peer lacks, and ask for what we lack.
    wire::PushPull resp;
    resp.type = wire::StreamType::PushPullResponse;
    resp.join = p.join;
    resp.source = cfg.name;
    resp.source_address = address(*self);
    // Members the requester named (its digest and itself), by name id: compared one by one below;
    // the others it does not know of at all.
    std::vector<bool> mentioned(records.size());
    if (const Node* src = p.source.empty() ? nullptr : find_const(p.source)) mentioned[src->name] = true;
    auto compare = [&](const Node& mine, const wire::DigestEntry* theirs) {
      if (!theirs) {
        if (!gone(mine.state)) resp.records.push_back(record(mine, 0));
        return;
      }
      const bool mine_newer = newer(mine.incarnation, mine.state, theirs->incarnation, theirs->state);
      if (mine_newer || mine.state_version > theirs->state_version) {
        resp.records.push_back(record(mine, theirs->state_version));
      }
      if (&mine != self && (newer(theirs->incarnation, theirs->state, mine.incarnation, mine.state) ||
                            theirs->state_version > mine.state_version)) {
        resp.digest.push_back(digest(mine));
      }
    };
    for (const auto& d : p.digest) {
      if (const Node* mine = find_const(d.name)) {
        mentioned[mine->name] = true;
        compare(*mine, &d);
      } else if (!gone(d.state) && d.name != cfg.name) {
        resp.digest.push_back(wire::DigestEntry{d.name, 0, MemberState::Dead, 0});
      }
    }
    // The requester's own entry: it sent its record; answer if we hold it dead (so it refutes).
    if (const Node* src = find_const(p.source)) {
      if (!p.records.empty() && p.records.front().delta.node == p.source) {
        const auto& rec = p.records.front();
        wire::DigestEntry theirs{p.source, rec.incarnation, rec.state, rec.delta.version};
        // Also when we hold a newer version of its state (its life before a restart): it jumps
        // past it (overtake_own_state).
        if (newer(src->incarnation, src->state, theirs.incarnation, theirs.state) || src->state_version > theirs.state_version)
          resp.records.push_back(record(*src, theirs.state_version));
      }
    }
    if (!p.targeted) {
      for (const StringTable::Id id : order) {
        if (!mentioned[id]) compare(at(id), nullptr);
      }
    }
    send_stream(reply_to, resp);
  }

  // --- timers --------------------------------------------------------------------------------

  void pull_wanted(Instant now) {
    if (wanted.empty() || now < next_pull) return;
    next_pull = now + cfg.gossip_interval;
    // One targeted pull from the owner of a random wanted member, and a batch from a random peer.
    std::vector<std::string> ready;
    for (auto it = wanted.begin(); it != wanted.end();) {
      Node* n = find(it->first);
      if (!n || gone(n->state) || n->state_version >= it->second.first) {
        it = wanted.erase(it);
        continue;
      }
      if (it->second.second <= now && ready.size() < kMaxPullNames) ready.push_back(it->first);
      ++it;
    }
    if (ready.empty()) return;
    const std::string& one = ready[rng.below(ready.size())];
    send_pull(address(*find(one)), {one});
    wanted[one].second = now + cfg.probe_interval * 2;
    if (ready.size() > 1) {
      auto peers = pick(1, [](const Node& n) { return n.state == MemberState::Alive; });
      if (!peers.empty()) {
        send_pull(address(*peers.front()), ready);
        for (const auto& member : ready) wanted[member].second = now + cfg.probe_interval * 2;
      }
    }
  }

  void gossip(Instant now) {
    next_gossip = now + cfg.gossip_interval;
    pull_wanted(now);
    if (queue.size() == 0) return;
    auto targets = pick(cfg.gossip_fanout, [&](const Node& n) {
      return !gone(n.state) || (n.state == MemberState::Dead && now - n.since < cfg.gossip_to_dead);
    });
    for (Node* t : targets) {
      if (queue.size() == 0) break;
      send_parts(address(*t), {});
    }
  }

  void reconnect(Instant now) {
    next_reconnect = now + reconnect_interval();
    if (leaving) return;
    // Partition healing: try one dead member's (or forgotten member's) last address; when nobody
    // else is alive, also the seeds. A healed peer answers and both sides refute.
    std::vector<std::string> candidates;
    for (const auto& member : gone_names) {
      const Node& n = *find(member);
      if (n.state == MemberState::Dead) candidates.emplace_back(address(n));
    }
    for (const auto& l : lost) candidates.push_back(l.second);
    if (live <= 1) {
      for (const auto& s : seeds) {
        if (s != address(*self)) candidates.push_back(s);
      }
    }
    if (candidates.empty()) return;
    send_push_pull(candidates[rng.below(candidates.size())], false);
  }

  void maintenance(Instant now) {
    next_maintenance = now + cfg.probe_interval;
    std::vector<std::string> reclaim;
    for (const auto& member : gone_names) {
      if (now - find(member)->since >= cfg.dead_reclaim) reclaim.push_back(member);
    }
    for (const auto& member : reclaim) {
      Node& n = *find(member);
      if (n.state == MemberState::Dead) {
        lost.emplace_back(member, address(n));
        if (lost.size() > kMaxLost) lost.pop_front();
      }
      remove_node(n);
    }
    // A member heard of again is no longer lost.
    for (auto it = lost.begin(); it != lost.end();) it = find(it->first) ? lost.erase(it) : std::next(it);
    for (auto it = relays.begin(); it != relays.end();) it = it->second.expire_at <= now ? relays.erase(it) : std::next(it);
  }

  void send_join() {
    for (const auto& s : seeds) {
      if (s != address(*self)) send_push_pull(s, true);
    }
  }

  void declare_dead(const std::string& member, Instant now) {
    Node* n = find(member);
    if (!n || n->state != MemberState::Suspect) return;
    stats.deaths += 1;
    on_dead(wire::Dead{n->incarnation, member, cfg.name}, now);
  }

  void tick(Instant now) {
    for (auto& [seq, r] : relays) {
      if (r.nack && r.nack_at <= now) {
        r.nack = false;
        send_parts(r.origin_address, {wire::encode_part(wire::Nack{r.origin_seq})});
      }
    }
    if (!probe.done && !probe.indirect && now >= probe.timeout_at) probe_timed_out(now);
    if (!probe.done && now >= probe.end_at) probe_failed(now);
    while (!suspicion_timers.empty() && suspicion_timers.begin()->first <= now) {
      const std::string member = suspicion_timers.begin()->second;
      suspicion_timers.erase(suspicion_timers.begin());
      if (Node* n = find(member); n && n->extra) n->extra->suspicion.reset();
      declare_dead(member, now);
    }
    if (now >= next_probe) start_probe(now);
    if (now >= next_gossip) gossip(now);
    if (now >= next_push_pull) {
      next_push_pull = now + push_pull_interval();
      if (!leaving) {
        auto peers = pick(1, [](const Node& n) { return n.state == MemberState::Alive; });
        if (!peers.empty()) send_push_pull(address(*peers.front()), false);
      }
    }
    if (joining && !joined && now >= next_join) {
      send_join();
      join_backoff = std::min<Duration>(join_backoff * 2, 30s);
      next_join = now + join_backoff;
    }
    if (now >= next_reconnect) reconnect(now);
    if (now >= next_maintenance) maintenance(now);
    stats.queue_depth = queue.size();
    stats.awareness = awareness.score();
    stats.broadcasts_dropped = queue.dropped() + oversized_user;
  }

  Instant next_deadline() const {
    Instant t = std::min({next_probe, next_push_pull, next_reconnect, next_maintenance});
    // A gossip round with nothing queued and nothing wanted sends nothing: no wake-up for it
    // (most of an idle node's wake-ups). Once something is queued the round is due at once if
    // its time has passed, so news leaves no later than on the fixed grid.
    if (queue.size() > 0 || !wanted.empty()) t = std::min(t, next_gossip);
    if (!probe.done) t = std::min(t, probe.indirect ? probe.end_at : probe.timeout_at);
    if (!suspicion_timers.empty()) t = std::min(t, suspicion_timers.begin()->first);
    if (joining && !joined) t = std::min(t, next_join);
    for (const auto& [seq, r] : relays) {
      if (r.nack) t = std::min(t, r.nack_at);
    }
    return t;
  }

  // Membership messages must name a member (and alive ones an address); anything else is malformed.
  static bool well_formed(const wire::Message& m) {
    return std::visit(
        [](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, wire::Alive>) {
            return !x.node.empty() && !x.address.empty();
          } else if constexpr (std::is_same_v<T, wire::Suspect> || std::is_same_v<T, wire::Dead> ||
                               std::is_same_v<T, wire::Leave> || std::is_same_v<T, wire::StateDelta>) {
            return !x.node.empty();
          } else if constexpr (std::is_same_v<T, wire::PingReq>) {
            return !x.target_address.empty();
          } else {
            return true;
          }
        },
        m);
  }

  void handle(const wire::Message& m, const std::string& from, Channel channel, Instant now) {
    stats.messages_in += 1;
    if (!well_formed(m)) {
      stats.malformed += 1;
      return;
    }
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, wire::Ping>) {
            on_ping(x, from, channel, now);
          } else if constexpr (std::is_same_v<T, wire::PingReq>) {
            on_ping_req(x, from, now);
          } else if constexpr (std::is_same_v<T, wire::Ack>) {
            on_ack(x, now);
          } else if constexpr (std::is_same_v<T, wire::Nack>) {
            on_nack(x);
          } else if constexpr (std::is_same_v<T, wire::Suspect>) {
            on_suspect(x, now);
          } else if constexpr (std::is_same_v<T, wire::Alive>) {
            on_alive(x, now);
          } else if constexpr (std::is_same_v<T, wire::Dead>) {
            on_dead(x, now);
          } else if constexpr (std::is_same_v<T, wire::Leave>) {
            on_dead(wire::Dead{x.incarnation, x.node, x.node}, now);
          } else if constexpr (std::is_same_v<T, wire::StateDelta>) {
            on_delta(x, now);
          } else {
            static_assert(std::is_same_v<T, wire::User>);
            on_user(x);
          }
        },
        m);
  }
};

Core::Core(Config config, core::Rng& rng, Instant now, std::shared_ptr<StringTables> strings)
    : impl_(std::make_unique<Impl>(std::move(config), rng, now, std::move(strings))) {}
Core::~Core() = default;

void Core::join(const std::vector<std::string>& seeds, Instant now) {
  auto& s = *impl_;
  s.seeds = seeds;
  s.joining = true;
  s.joined = std::all_of(seeds.begin(), seeds.end(), [&s](const std::string& a) { return a == s.address(*s.self); });
  s.join_backoff = std::max<Duration>(s.cfg.probe_interval, 100ms);
  s.next_join = now + s.join_backoff;
  s.send_join();
  // Our own state spreads as soon as anyone hears of us.
  if (s.self->state_version > 0) s.gossip_state(*s.self, 0);
}

void Core::leave(Instant now) {
  auto& s = *impl_;
  if (s.leaving) return;
  s.leaving = true;
  s.set_state(*s.self, MemberState::Left, now);
  s.refresh_self();
  const wire::Leave msg{s.self->incarnation, s.cfg.name};
  s.gossip_membership(s.cfg.name, msg);
  auto targets = s.pick(s.cfg.gossip_fanout, [](const Node& n) { return n.state == MemberState::Alive; });
  for (Node* t : targets) s.send_parts(s.address(*t), {wire::encode_part(msg)});
  s.leave_done_at = targets.empty() ? now : now + s.cfg.gossip_interval * 2;
}

bool Core::done_leaving(Instant now) const { return impl_->leaving && now >= impl_->leave_done_at; }

void Core::receive(const std::string& from, Channel channel, core::ByteView payload, Instant now) {
  auto& s = *impl_;
  s.stats.bytes_in += payload.size();
  if (channel == Channel::Datagram) {
    if (payload.size() > s.cfg.max_datagram * 4) {
      s.stats.malformed += 1;
      return;
    }
    auto pkt = wire::decode_packet(payload);
    if (!pkt) {
      s.stats.malformed += 1;
      return;
    }
    s.packet_pinger.clear();
    for (const auto& m : pkt->messages) {
      if (const auto* ping = std::get_if<wire::Ping>(&m); ping && ping->target == s.cfg.name)
        s.packet_pinger = ping->source_address;
    }
    for (const auto& m : pkt->messages) s.handle(m, from, channel, now);
    s.packet_pinger.clear();
    return;
  }
  auto frame = wire::decode_stream(payload, s.cfg.max_stream);
  if (!frame) {
    s.stats.malformed += 1;
    return;
  }
  if (auto* pp = std::get_if<wire::PushPull>(&frame->body)) {
    s.stats.messages_in += 1;
    s.on_push_pull(*pp, from, now);
  } else {
    for (const auto& m : std::get<wire::DecodedPacket>(frame->body).messages) s.handle(m, from, channel, now);
  }
}

void Core::stream_failed(const std::string& to, Instant now) {
  (void)to;
  (void)now;  // joins retry on their timer; probes and pulls need nothing
}

void Core::tick(Instant now) { impl_->tick(now); }
Instant Core::next_deadline() const { return impl_->next_deadline(); }

void Core::set_state(const std::string& key, std::string value, Instant now) {
  (void)now;
  auto& s = *impl_;
  Node& me = *s.self;
  NodeExtra& x = Impl::mutable_extra(me);
  auto it = x.kv.find(key);
  if (it != x.kv.end() && it->second.value == value) return;
  const std::uint64_t base = me.state_version;
  me.state_version += 1;
  x.kv[key] = Value{std::move(value), me.state_version};
  x.tombstones.erase(key);
  s.refresh_self();
  s.gossip_state(me, base);
}

void Core::erase_state(const std::string& key, Instant now) {
  (void)now;
  auto& s = *impl_;
  Node& me = *s.self;
  if (!me.extra || me.extra->kv.erase(key) == 0) return;
  const std::uint64_t base = me.state_version;
  me.state_version += 1;
  s.add_tombstone(me, key, me.state_version);
  s.refresh_self();
  s.gossip_state(me, base);
}

void Core::set_advertise(const std::string& address, Instant now) {
  (void)now;
  auto& s = *impl_;
  if (s.address(*s.self) == address) return;
  s.set_address(*s.self, address);
  s.self->incarnation += 1;
  s.refresh_self();
  s.gossip_membership(s.cfg.name, s.alive_msg(*s.self));
}

void Core::broadcast(std::string user_payload, Instant now) {
  (void)now;
  auto& s = *impl_;
  wire::User u{s.cfg.name, ++s.user_seq, std::move(user_payload)};
  auto part = wire::encode_part(u);
  // Must fit a datagram next to a ping and an ack.
  if (part.size() + 1 + 128 > s.cfg.max_datagram || u.payload.size() > wire::kMaxUser) {
    s.oversized_user += 1;
    s.stats.broadcasts_dropped = s.queue.dropped() + s.oversized_user;
    return;
  }
  s.queue.push(BroadcastQueue::Lane::User, "u:" + u.origin + ":" + std::to_string(u.id), std::move(part));
  s.stats.broadcasts_queued += 1;
}

std::vector<Outgoing> Core::take_outgoing() { return std::exchange(impl_->out, {}); }
std::vector<Event> Core::take_events() { return std::exchange(impl_->events, {}); }
std::vector<std::string> Core::take_user_messages() { return std::exchange(impl_->user_messages, {}); }

const Member& Core::self() const { return impl_->self_view; }

std::vector<Member> Core::members() const {
  std::vector<Member> all;
  all.reserve(impl_->order.size());
  for (const StringTable::Id id : impl_->order) all.push_back(impl_->view(impl_->at(id)));
  std::sort(all.begin(), all.end(), [](const Member& a, const Member& b) { return a.name < b.name; });
  return all;
}

std::optional<Member> Core::member(const std::string& name) const {
  const Node* n = impl_->find_const(name);
  if (!n) return std::nullopt;
  return impl_->view(*n);
}

std::size_t Core::alive_count() const { return impl_->live; }

const Stats& Core::stats() const {
  impl_->stats.queue_depth = impl_->queue.size();
  impl_->stats.awareness = impl_->awareness.score();
  return impl_->stats;
}

const Config& Core::config() const { return impl_->cfg; }

}  // namespace constellation::gossip
