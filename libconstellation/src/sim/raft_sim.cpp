// SPDX-License-Identifier: Apache-2.0
#include "sim/raft_sim.hpp"

#include "core/assert.hpp"
#include "lease/machine.hpp"
#include "raft/codec.hpp"
#include "raft/raft.hpp"
#include "sim/disk.hpp"
#include "sim/network.hpp"
#include "sim/scheduler.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <memory>
#include <set>

namespace constellation::sim {

using namespace raft;
using namespace std::chrono_literals;

FaultBounds RaftSimOptions::default_bounds() {
  FaultBounds b;
  b.loss = 0.15;
  b.duplicate = 0.05;
  b.reorder = 0.1;
  b.max_latency = 10ms;
  b.max_jitter = 10ms;
  b.crash_rate = 0.3;
  b.partition_rate = 0.3;
  b.stall_rate = 0.2;
  b.max_stall = 2s;
  b.max_drift = 0.001;
  b.torn_write = 0.5;
  return b;
}

std::string raft_sim_reproducer(const RaftSimOptions& o) {
  return "unit_sim -tc='raft simulation*' -- --seed=" + std::to_string(o.seed) + " --voters=" + std::to_string(o.voters) +
         (o.faults ? "" : " --calm") + (o.stale_reads ? " --stale-reads" : "");
}

namespace {


// --- storage: an atomic batch log on the simulated disk (like SQLite's WAL: a batch is all or
// nothing), with a checkpoint ("base") rewritten on compaction. Every record carries a CRC32C.

core::Bytes seal_record(core::ByteWriter&& w) {
  const std::uint32_t crc = core::crc32c(w.view());
  w.u32be(crc);
  return std::move(w).take();
}

std::optional<core::ByteView> open_record(const core::Bytes& b) {
  if (b.size() < 4) return std::nullopt;
  core::ByteView body(b.data(), b.size() - 4);
  core::ByteReader r(core::ByteView(b.data() + b.size() - 4, 4));
  if (r.u32be("crc") != core::crc32c(body)) return std::nullopt;
  return body;
}

void put_entry(core::ByteWriter& w, const Entry& e) {
  w.varint(e.term.value());
  w.varint(e.index.value());
  w.u8(static_cast<std::uint8_t>(e.type));
  w.varint(e.cluster_time);
  w.prefixed(e.data);
  w.u32be(e.crc);
}
Entry get_entry(core::ByteReader& r) {
  Entry e;
  e.term = Term(r.varint("term"));
  e.index = LogIndex(r.varint("index"));
  e.type = static_cast<EntryType>(r.u8("type"));
  e.cluster_time = r.varint("ct");
  auto d = r.prefixed("data", 1 << 26);
  e.data.assign(d.begin(), d.end());
  e.crc = r.u32be("crc");
  return e;
}
void put_snapshot(core::ByteWriter& w, const Snapshot& s) {
  w.varint(s.meta.index.value());
  w.varint(s.meta.term.value());
  w.prefixed(s.meta.conf.encode());
  w.varint(s.meta.cluster_time);
  w.u32be(s.crc);
  w.prefixed(s.data ? core::ByteView(*s.data) : core::ByteView());
}
Snapshot get_snapshot(core::ByteReader& r) {
  Snapshot s;
  s.meta.index = LogIndex(r.varint("snap.index"));
  s.meta.term = Term(r.varint("snap.term"));
  auto c = ConfState::decode(r.prefixed("snap.conf", 1 << 20));
  if (c) s.meta.conf = *c;
  s.meta.cluster_time = r.varint("snap.ct");
  s.crc = r.u32be("snap.crc");
  auto d = r.prefixed("snap.data", 1 << 28);
  s.data = std::make_shared<const core::Bytes>(d.begin(), d.end());
  return s;
}

std::string batch_key(std::uint64_t seq) {
  std::string s = std::to_string(seq);
  return "w/" + std::string(20 - s.size(), '0') + s;
}

// The persisted view a node rebuilds at start.
struct Stored {
  HardState hs;
  Snapshot snap;
  std::vector<Entry> log;
  std::string damage;
  LogIndex damaged_until;
  std::uint64_t next_seq = 1;
};

void apply_batch(Stored& st, core::ByteReader& r) {
  if (r.u8("has_hs")) {
    st.hs.term = Term(r.varint("hs.term"));
    st.hs.vote = r.varint("hs.vote");
    st.hs.commit = LogIndex(r.varint("hs.commit"));
  }
  const auto snap_kind = r.u8("snap_kind");  // 0 none, 1 local compaction, 2 from leader
  if (snap_kind != 0) {
    Snapshot s = get_snapshot(r);
    if (snap_kind == 2) {
      st.log.clear();
    } else {
      std::erase_if(st.log, [&](const Entry& e) { return e.index <= s.meta.index; });
    }
    st.snap = std::move(s);
  }
  const auto n = r.varint_max("entries", 1 << 20);
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    Entry e = get_entry(r);
    if (i == 0) std::erase_if(st.log, [&](const Entry& x) { return x.index >= e.index; });
    st.log.push_back(std::move(e));
  }
}

Stored load(Disk& disk) {
  Stored st;
  std::uint64_t base_seq = 0;
  if (auto b = disk.get("base")) {
    auto body = open_record(*b);
    if (!body) {
      st.damage = "checkpoint record failed its checksum";
      st.damaged_until = LogIndex(~0ull);
    } else {
      core::ByteReader r(*body);
      base_seq = r.varint("seq");
      apply_batch(st, r);
    }
  }
  st.next_seq = base_seq + 1;
  for (const auto& key : disk.keys("w/", "w0")) {
    const std::uint64_t seq = std::stoull(key.substr(2));
    st.next_seq = std::max(st.next_seq, seq + 1);
    if (seq <= base_seq || !st.damage.empty()) continue;
    auto b = disk.get(key);
    auto body = b ? open_record(*b) : std::nullopt;
    if (!body) {
      // Damage: keep what came before, and remember how far the log had reached (the index a
      // leader must restore before this node may vote again).
      st.damage = "write-ahead record " + std::to_string(seq) + " failed its checksum";
      std::uint64_t until = st.log.empty() ? st.snap.meta.index.value() : st.log.back().index.value();
      until = std::max(until, st.hs.commit.value());
      st.damaged_until = LogIndex(until + 1000000);  // conservative: unknown suffix
      continue;
    }
    core::ByteReader r(*body);
    apply_batch(st, r);
  }
  // Entries must be intact and contiguous after the snapshot.
  std::vector<Entry> good;
  LogIndex expect = next(st.snap.meta.index);
  for (auto& e : st.log) {
    if (e.index < expect) continue;
    if (e.index != expect || !e.intact()) {
      if (st.damage.empty()) {
        st.damage = "entry " + std::to_string(e.index.value()) + " failed its checksum";
        st.damaged_until = st.log.back().index;
      }
      break;
    }
    good.push_back(std::move(e));
    expect = next(expect);
  }
  st.log = std::move(good);
  return st;
}

// --- the simulated world ---------------------------------------------------------------------

struct Pending {
  std::function<void(const lease::Response&)> done;
};

struct SimNode {
  PeerId id = 0;
  NodeIndex idx = 0;
  std::unique_ptr<NodeClock> clock;
  std::unique_ptr<Disk> disk;
  std::unique_ptr<Raft> core;
  lease::Machine machine;
  bool up = true;
  Instant paused_until;
  // Readys taken and not yet advanced, in order (the runtime's pipeline: raftnode/runtime.cpp).
  struct Job {
    Ready rd;
    bool write = false;
    bool durable = false;
  };
  std::deque<Job> jobs;
  std::size_t writes_in_flight = 0;
  bool commit_flush_scheduled = false;  // a broadcast_commit() is due on the scheduler
  Instant last_write_done;  // writes finish in order, like one storage thread
  std::uint64_t epoch = 0;
  std::uint64_t next_seq = 1;
  std::uint64_t batches_since_base = 0;
  std::map<std::pair<std::uint64_t, std::uint64_t>, Pending> pending;
  struct Read {
    std::string key;
    std::function<void(bool ok, std::optional<lease::KeyValue>)> done;
  };
  std::map<std::uint64_t, Read> reads;
  std::vector<ReadState> reads_ready;  // waiting for the machine to reach the index
  std::uint64_t read_ctx = 0;
};

class World {
 public:
  explicit World(const RaftSimOptions& o)
      : o_(o), rng_(o.seed), net_rng_(rng_.fork()), disk_rng_(rng_.fork()), net_(sched_, net_rng_) {
    core::Rng prng = rng_.fork();
    profile_ = o.faults ? FaultProfile::draw(prng, o.bounds) : FaultProfile{};
    if (o.faults && prng.chance(0.25)) profile_.disk.corrupt_on_crash = 0.05;
    if (o.trace) o.trace("profile: " + profile_.describe() + " corrupt=" + std::to_string(profile_.disk.corrupt_on_crash));
    net_.set_default_link(profile_.link);
    result_.profile = profile_.describe() + " corrupt=" + std::to_string(profile_.disk.corrupt_on_crash);
    for (std::size_t i = 1; i <= o.voters; ++i) conf_.voters.push_back(i);
    for (std::size_t i = 1; i <= o.voters; ++i) {
      auto n = std::make_unique<SimNode>();
      n->id = i;
      n->idx = static_cast<NodeIndex>(i);
      const double drift = profile_.max_drift > 0 ? (rng_.uniform() * 2 - 1) * profile_.max_drift : 0.0;
      n->clock = std::make_unique<NodeClock>(sched_, 1.0 + drift, Duration(static_cast<std::int64_t>(rng_.below(1000000000))));
      n->disk = std::make_unique<Disk>(disk_rng_, profile_.disk);
      nodes_.push_back(std::move(n));
    }
    for (auto& n : nodes_) boot(*n);
  }

  RaftSimResult run();

 private:
  SimNode& node(PeerId id) { return *nodes_.at(id - 1); }
  void fail(const std::string& what) {
    if (!result_.ok) return;
    result_.ok = false;
    result_.failure = what + " at t=" + core::format_duration(sched_.now() - start_) + " (seed " +
                      std::to_string(o_.seed) + "; faults: " + result_.profile + ")";
  }

  void boot(SimNode& n);
  void schedule_tick(SimNode& n);
  void crash(SimNode& n);
  void pump(SimNode& n);
  void persist(SimNode& n, const Ready& rd);
  void write_done(SimNode& n, std::uint64_t epoch);
  void complete_jobs(SimNode& n);
  void apply(SimNode& n, const Ready& rd);
  void serve_reads(SimNode& n);
  void send(SimNode& n, const Message& m);
  void receive(SimNode& n, NodeIndex from, core::Bytes payload);
  bool paused(const SimNode& n) const { return n.paused_until > sched_.now(); }

  // invariants
  void on_leader(SimNode& n);
  void check_log_matching_full();

  // faults
  void schedule_faults();
  void fault_event();
  void heal_all();

  // clients
  struct Client;
  void client_next(Client& c);
  void client_issue(Client& c);
  void client_attempt(Client& c);
  void client_done(Client& c, const lease::Response* resp, bool read_ok, const std::optional<lease::KeyValue>& kv);
  void submit(SimNode& n, const lease::Command& cmd, std::function<void(const lease::Response&)> done);

  RaftSimOptions o_;
  Scheduler sched_;
  core::Rng rng_;
  core::Rng net_rng_;
  core::Rng disk_rng_;
  Network net_;
  FaultProfile profile_;
  ConfState conf_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  Instant start_ = sched_.now();
  bool faults_on_ = true;
  RaftSimResult result_;
  std::array<std::uint64_t, 17> sent_by_type_{};
  std::uint64_t sent_total_ = 0;

  // invariant state
  std::map<std::uint64_t, PeerId> leaders_;                        // term -> leader
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint32_t> entry_crc_;  // (index, term) -> crc
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint32_t>> applied_;   // index -> (term, crc)
  std::map<std::pair<std::uint64_t, std::uint64_t>, lease::Response> responses_;  // (session, seq)
  struct Holding {
    std::string holder;
    std::uint64_t token = 0;
    std::uint64_t end = 0;
  };
  std::map<std::string, Holding> holding_;  // lease name -> latest grant (cluster time)
  struct Belief {
    std::uint64_t client;
    std::uint64_t token;
    Instant from, to;
  };
  std::map<std::string, std::vector<Belief>> beliefs_;

  struct Client {
    std::uint64_t id = 0;
    std::uint64_t session = 0;
    std::uint64_t seq = 0;
    std::unique_ptr<NodeClock> clock;
    std::size_t op = 0;  // index into history, valid while busy
    bool busy = false;
    int attempts = 0;
    std::uint64_t attempt_id = 0;
    Instant call_local;
    lease::Command cmd;
    bool is_read = false;
    std::map<std::string, std::uint64_t> tokens;  // leases this client believes it holds
    std::map<std::string, std::size_t> belief_idx;
    std::map<std::string, std::uint64_t> last_rev;
  };
  std::vector<std::unique_ptr<Client>> clients_;
  std::uint64_t next_session_ = 1;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> op_ids_;  // history index -> (session, seq)
};

void World::boot(SimNode& n) {
  Stored st = load(*n.disk);
  n.next_seq = st.next_seq;
  n.batches_since_base = 0;
  Config c;
  c.id = n.id;
  c.election_tick = 20;
  c.heartbeat_tick = 2;
  c.max_size_per_msg = 64 << 10;
  c.snapshot_chunk_bytes = 256;
  c.defer_commit_broadcast = true;  // as the node runtime runs it
  InitialState init;
  init.hard_state = st.hs;
  init.snapshot = st.snap;
  init.entries = st.log;
  init.bootstrap = conf_;
  init.damage = st.damage;
  init.damaged_until = st.damaged_until;
  auto r = Raft::create(c, rng_, init);
  if (!r) {
    fail("node " + std::to_string(n.id) + " failed to start: " + r.error().to_string());
    return;
  }
  n.core = std::make_unique<Raft>(std::move(*r));
  n.machine = lease::Machine();
  if (!st.snap.empty() && st.snap.data && !st.snap.data->empty()) {
    auto rr = n.machine.restore(*st.snap.data);
    if (!rr) fail("node " + std::to_string(n.id) + " cannot restore its snapshot: " + rr.error().message());
  }
  n.up = true;
  n.jobs.clear();
  n.writes_in_flight = 0;
  n.commit_flush_scheduled = false;
  n.pending.clear();
  n.reads.clear();
  n.reads_ready.clear();
  net_.attach(n.idx, [this, &n](NodeIndex from, Channel, core::Bytes payload) { receive(n, from, std::move(payload)); });
  schedule_tick(n);
}

void World::schedule_tick(SimNode& n) {
  const std::uint64_t epoch = n.epoch;
  const Instant at = n.clock->to_global(n.clock->now() + o_.tick);
  sched_.at(at, [this, &n, epoch] {
    if (n.epoch != epoch || !n.up) return;
    if (!paused(n)) {
      n.core->set_now(n.clock->now());
      n.core->tick();
      pump(n);
    }
    schedule_tick(n);
  });
}

void World::crash(SimNode& n) {
  if (!n.up) return;
  n.epoch++;
  n.up = false;
  n.disk->crash();
  net_.detach(n.idx);
  n.pending.clear();
  n.reads.clear();
  result_.crashes++;
}

void World::send(SimNode& n, const Message& m) {
  if (m.to == 0 || m.to > nodes_.size()) return;
  if (o_.trace) {
    sent_by_type_[static_cast<std::size_t>(m.type)]++;
    if (++sent_total_ % 100000 == 0) {
      std::string line = "t=" + core::format_duration(sched_.now() - start_) + " messages sent:";
      for (std::size_t t = 0; t < sent_by_type_.size(); ++t) {
        if (sent_by_type_[t]) line += std::string(" ") + msg_type_name(static_cast<MsgType>(t)) + "=" + std::to_string(sent_by_type_[t]);
      }
      o_.trace(line);
    }
  }
  net_.send(n.idx, static_cast<NodeIndex>(m.to), encode(m), Channel::Datagram);
}

void World::receive(SimNode& n, NodeIndex, core::Bytes payload) {
  if (!n.up) return;
  auto m = decode_message(payload);
  if (!m) {
    fail("a node sent a message that does not decode: " + m.error().message());
    return;
  }
  n.core->set_now(n.clock->now());
  (void)n.core->step(*m);
  pump(n);
}

void World::pump(SimNode& n) {
  constexpr std::size_t kMaxWritesInFlight = 16;
  while (n.up && result_.ok && n.writes_in_flight < kMaxWritesInFlight && n.core->has_ready()) {
    SimNode::Job job{n.core->ready()};
    Ready& rd = job.rd;
    if (rd.soft_state && rd.soft_state->role == Role::Leader) on_leader(n);
    for (const auto& m : rd.messages) send(n, m);
    // Committed entries are applied as the Ready is taken, before this node's own write.
    apply(n, rd);
    serve_reads(n);
    job.write = rd.must_sync;
    if (job.write) {
      persist(n, rd);
      n.writes_in_flight++;
      // The storage thread: one fsync per write, 50 µs – 1 ms, in order.
      const Duration fsync(50000 + static_cast<std::int64_t>(rng_.below(950000)));
      n.last_write_done = std::max(n.last_write_done, sched_.now()) + fsync;
      const std::uint64_t epoch = n.epoch;
      sched_.at(n.last_write_done, [this, &n, epoch] { write_done(n, epoch); });
    }
    n.jobs.push_back(std::move(job));
    complete_jobs(n);
  }
  // The runtime's deferred commit broadcast: within 2 ms unless an append carried it first.
  if (n.up && n.core->commit_broadcast_due() && !n.commit_flush_scheduled) {
    n.commit_flush_scheduled = true;
    const std::uint64_t epoch = n.epoch;
    sched_.at(sched_.now() + Duration(2000000), [this, &n, epoch] {
      if (n.epoch != epoch) return;  // crashed meanwhile: boot() cleared the flag
      n.commit_flush_scheduled = false;
      if (!n.up || paused(n)) return;
      n.core->set_now(n.clock->now());
      n.core->broadcast_commit();
      pump(n);
    });
  }
  // Compaction.
  const std::uint64_t applied = n.machine.applied_index();
  if (n.up && applied >= n.core->snapshot().meta.index.value() + o_.compact_every &&
      applied == n.core->applied_index().value()) {
    (void)n.core->compact(LogIndex(applied), std::make_shared<const core::Bytes>(n.machine.snapshot()));
  }
}

void World::persist(SimNode& n, const Ready& rd) {
  for (const auto& e : rd.entries) {
    auto [it, fresh] = entry_crc_.try_emplace({e.index.value(), e.term.value()}, e.crc);
    if (!fresh && it->second != e.crc) fail("log matching: two different entries at index " + std::to_string(e.index.value()) + " term " + std::to_string(e.term.value()));
  }
  if (!rd.hard_state && !rd.snapshot && rd.entries.empty()) return;
  core::ByteWriter w;
  w.u8(rd.hard_state ? 1 : 0);
  if (rd.hard_state) {
    w.varint(rd.hard_state->term.value());
    w.varint(rd.hard_state->vote);
    w.varint(rd.hard_state->commit.value());
  }
  w.u8(rd.snapshot ? (rd.snapshot_from_leader ? 2 : 1) : 0);
  if (rd.snapshot) put_snapshot(w, *rd.snapshot);
  w.varint(rd.entries.size());
  for (const auto& e : rd.entries) put_entry(w, e);
  n.disk->put(batch_key(n.next_seq++), seal_record(std::move(w)));
  // Checkpoint now and then: the whole state as one record, then drop older batches.
  if (++n.batches_since_base > 64) {
    n.batches_since_base = 0;
    const Status st = n.core->status();
    core::ByteWriter b;
    const std::uint64_t seq = n.next_seq - 1;
    b.varint(seq);
    b.u8(1);
    b.varint(st.term.value());
    b.varint(st.vote);
    b.varint(rd.hard_state ? rd.hard_state->commit.value() : 0);
    const Snapshot& snap = n.core->snapshot();
    b.u8(snap.empty() ? 0 : 2);
    if (!snap.empty()) put_snapshot(b, snap);
    // Everything the core holds is either durable already or in this very batch.
    auto es = n.core->entries(LogIndex(0), n.core->last_index());
    b.varint(es.size());
    for (const auto& e : es) put_entry(b, e);
    n.disk->put("base", seal_record(std::move(b)));
    n.disk->erase_range("w/", batch_key(seq + 1));
  }
}

void World::write_done(SimNode& n, std::uint64_t epoch) {
  if (n.epoch != epoch || !n.up) return;
  if (paused(n)) {
    sched_.at(n.paused_until, [this, &n, epoch] { write_done(n, epoch); });
    return;
  }
  n.disk->sync();
  n.writes_in_flight--;
  for (auto& j : n.jobs) {
    if (j.write && !j.durable) {
      j.durable = true;
      break;
    }
  }
  complete_jobs(n);
  pump(n);
}

// Acknowledges, in order, every Ready whose write (and every earlier one's) is durable.
void World::complete_jobs(SimNode& n) {
  while (!n.jobs.empty() && (!n.jobs.front().write || n.jobs.front().durable)) {
    const Ready& rd = n.jobs.front().rd;
    for (const auto& m : rd.messages_after_persist) send(n, m);
    n.core->advance(rd);
    n.core->check_invariants();
    n.jobs.pop_front();
  }
}

void World::apply(SimNode& n, const Ready& rd) {
  if (rd.snapshot && rd.snapshot_from_leader) {
    auto r = n.machine.restore(*rd.snapshot->data);
    if (!r) fail("snapshot from leader does not restore: " + r.error().message());
    result_.snapshots_installed++;
  }
  for (const auto& e : rd.committed_entries) {
    // State machine safety: every node applies the same entry at an index.
    auto [it, fresh] = applied_.try_emplace(e.index.value(), e.term.value(), e.crc);
    if (!fresh && (it->second.first != e.term.value() || it->second.second != e.crc)) {
      fail("state machine safety: node " + std::to_string(n.id) + " applied a different entry at index " +
           std::to_string(e.index.value()));
    }
    if (fresh) result_.entries_committed++;
    if (e.type != EntryType::Normal) {
      n.machine.tick(e.index.value(), e.cluster_time);
      continue;
    }
    const auto cmd = lease::Command::decode(e.data);
    lease::Response resp = n.machine.apply(e.index.value(), e.cluster_time, cmd);
    if (fresh) {
      // At most one holder at any instant of cluster time; tokens strictly increase per name.
      for (const auto& t : n.machine.last_transitions()) {
        auto& h = holding_[t.name];
        switch (t.kind) {
          case lease::LeaseTransition::Kind::Granted:
            if (h.token != 0 && t.at < h.end) {
              fail("two lease holders: '" + t.name + "' granted to " + t.holder + " at " + std::to_string(t.at) +
                   " while " + h.holder + " holds it until " + std::to_string(h.end));
            }
            if (t.token <= h.token) fail("fencing token did not increase for '" + t.name + "'");
            h = Holding{t.holder, t.token, t.expiry};
            result_.lease_grants++;
            break;
          case lease::LeaseTransition::Kind::Renewed:
            if (t.token != h.token) fail("renewed a lease that is not the current grant");
            h.end = t.expiry;
            break;
          case lease::LeaseTransition::Kind::Released:
            h.end = t.at;
            break;
        }
      }
      if (cmd && cmd->session != 0) responses_.try_emplace({cmd->session, cmd->seq}, resp);
    }
    if (o_.trace && cmd) {
      o_.trace("t=" + core::format_duration(sched_.now() - start_) + " node " + std::to_string(n.id) + " applies " +
               std::to_string(e.index.value()) + " session " + std::to_string(cmd->session) + " seq " +
               std::to_string(cmd->seq) + " key " + cmd->key + " value " + cmd->value + " -> code " +
               std::to_string(resp.code) + " rev " + std::to_string(resp.revision));
    }
    if (cmd && cmd->session != 0) {
      auto p = n.pending.find({cmd->session, cmd->seq});
      if (p != n.pending.end()) {
        auto done = std::move(p->second.done);
        n.pending.erase(p);
        done(resp);
      }
    }
  }
  for (const auto& rs : rd.read_states) n.reads_ready.push_back(rs);
  for (const auto& d : rd.dropped_reads) {
    auto it = n.reads.find(d.context);
    if (it != n.reads.end()) {
      auto done = std::move(it->second.done);
      n.reads.erase(it);
      done(false, std::nullopt);
    }
  }
}

void World::serve_reads(SimNode& n) {
  for (auto it = n.reads_ready.begin(); it != n.reads_ready.end();) {
    if (it->index.value() > n.machine.applied_index()) {
      ++it;
      continue;
    }
    auto r = n.reads.find(it->context);
    if (r != n.reads.end()) {
      auto done = std::move(r->second.done);
      auto kv = n.machine.get(r->second.key);
      n.reads.erase(r);
      done(true, kv);
    }
    it = n.reads_ready.erase(it);
  }
}

void World::on_leader(SimNode& n) {
  result_.elections++;
  const std::uint64_t term = n.core->term().value();
  auto [it, fresh] = leaders_.try_emplace(term, n.id);
  if (!fresh && it->second != n.id) {
    fail("election safety: nodes " + std::to_string(it->second) + " and " + std::to_string(n.id) + " both lead term " +
         std::to_string(term));
  }
  // Leader completeness: every entry applied anywhere (committed) of an earlier or equal term.
  const std::uint64_t snap = n.core->snapshot().meta.index.value();
  for (const auto& [index, tc] : applied_) {
    if (index <= snap || tc.first > term) continue;
    auto t = n.core->term_at(LogIndex(index));
    if (!t || t->value() != tc.first) {
      fail("leader completeness: leader " + std::to_string(n.id) + " of term " + std::to_string(term) +
           " lacks committed entry " + std::to_string(index));
      return;
    }
  }
}

void World::check_log_matching_full() {
  for (std::size_t a = 0; a < nodes_.size(); ++a) {
    for (std::size_t b = a + 1; b < nodes_.size(); ++b) {
      if (!nodes_[a]->up || !nodes_[b]->up) continue;
      Raft& x = *nodes_[a]->core;
      Raft& y = *nodes_[b]->core;
      LogIndex lo = std::max(next(x.snapshot().meta.index), next(y.snapshot().meta.index));
      LogIndex hi = std::min(x.last_index(), y.last_index());
      bool matched = false;
      for (LogIndex i = hi; i >= lo && i.value() > 0; i = prev(i)) {
        if (!matched && x.term_at(i) == y.term_at(i)) matched = true;
        if (matched) {
          auto ex = x.entries(i, i), ey = y.entries(i, i);
          if (ex.size() != 1 || ey.size() != 1 || !(ex[0] == ey[0])) {
            fail("log matching: logs agree at a later index but differ at " + std::to_string(i.value()));
            return;
          }
        }
      }
    }
  }
}

// --- faults ----------------------------------------------------------------------------------

void World::schedule_faults() {
  const double rate = profile_.crash_rate + profile_.partition_rate + profile_.stall_rate;
  if (rate <= 0) return;
  const double mean_s = 1.0 / rate;
  const auto gap = Duration(static_cast<std::int64_t>(rng_.uniform() * 2 * mean_s * 1e9));
  sched_.after(gap, [this] {
    if (!faults_on_) return;
    fault_event();
    schedule_faults();
  });
}

void World::fault_event() {
  const double total = profile_.crash_rate + profile_.partition_rate + profile_.stall_rate;
  double x = rng_.uniform() * total;
  SimNode& n = *nodes_[rng_.below(nodes_.size())];
  if (x < profile_.crash_rate) {
    crash(n);
    const Duration down = Duration(static_cast<std::int64_t>(100e6 + rng_.uniform() * 2e9));
    sched_.after(down, [this, &n] {
      if (!n.up && result_.ok) boot(n);
    });
    return;
  }
  x -= profile_.crash_rate;
  if (x < profile_.partition_rate) {
    const Duration len = Duration(static_cast<std::int64_t>(200e6 + rng_.uniform() * 3e9));
    if (rng_.chance(0.3)) {
      // Asymmetric: one direction of one link.
      SimNode& m = *nodes_[rng_.below(nodes_.size())];
      if (m.idx == n.idx) return;
      net_.block(n.idx, m.idx);
      sched_.after(len, [this, a = n.idx, b = m.idx] { net_.unblock(a, b); });
    } else {
      std::vector<NodeIndex> a, b;
      for (auto& m : nodes_) (rng_.chance(0.5) ? a : b).push_back(m->idx);
      net_.partition({a, b});
      sched_.after(len, [this] { net_.heal(); });
    }
    return;
  }
  if (profile_.max_stall.count() > 0 && n.up) {
    const Duration len = Duration(static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(profile_.max_stall.count()) + 1)));
    n.paused_until = sched_.now() + len;
    net_.stall(n.idx, n.paused_until);
  }
}

void World::heal_all() {
  faults_on_ = false;
  net_.heal();
  LinkModel calm = profile_.link;
  calm.loss = 0;
  calm.duplicate = 0;
  net_.set_default_link(calm);
  for (auto& n : nodes_) {
    n->paused_until = sched_.now();
    if (!n->up) boot(*n);
  }
}

// --- clients ---------------------------------------------------------------------------------

void World::submit(SimNode& n, const lease::Command& cmd, std::function<void(const lease::Response&)> done) {
  if (!n.up) return;  // the client will time out
  n.core->set_now(n.clock->now());
  auto r = n.core->propose(cmd.encode());
  if (!r) {
    lease::Response refused;
    refused.code = static_cast<int>(r.error().code());
    refused.message = r.error().message();
    done(refused);
    return;
  }
  n.pending[{cmd.session, cmd.seq}] = Pending{std::move(done)};
  pump(n);
}

void World::client_next(Client& c) {
  const Duration think = Duration(static_cast<std::int64_t>(rng_.below(30000000)));
  sched_.after(think, [this, &c] {
    if (faults_on_ || sched_.now() < start_ + o_.fault_phase + o_.settle_phase - 2s) client_issue(c);
  });
}

void World::client_issue(Client& c) {
  HistoryOp op;
  op.client = c.id;
  op.call = static_cast<std::uint64_t>(sched_.now().nanos());
  c.cmd = lease::Command();
  c.cmd.session = c.session;
  c.cmd.seq = ++c.seq;
  c.cmd.first_outstanding = c.seq;
  c.is_read = false;
  c.call_local = c.clock->now();
  const std::uint64_t pick = rng_.below(100);
  const std::string key = "k" + std::to_string(rng_.below(3));
  const std::string lease_name = "L" + std::to_string(rng_.below(2));
  const std::string holder = "c" + std::to_string(c.id);
  if (pick < 30) {
    op.kind = HistoryOp::Kind::Put;
    op.key = key;
    op.value = "v" + std::to_string(c.id) + "." + std::to_string(c.seq);
    c.cmd.op = lease::Op::Put;
    c.cmd.key = key;
    c.cmd.value = op.value;
  } else if (pick < 42) {
    op.kind = HistoryOp::Kind::Cas;
    op.key = key;
    op.value = "cas" + std::to_string(c.id) + "." + std::to_string(c.seq);
    op.expected = c.last_rev[key];
    c.cmd.op = lease::Op::Put;
    c.cmd.key = key;
    c.cmd.value = op.value;
    c.cmd.has_expected = true;
    c.cmd.expected_revision = op.expected;
  } else if (pick < 70) {
    op.kind = HistoryOp::Kind::Get;
    op.key = key;
    c.is_read = true;
  } else {
    op.key = lease_name;
    op.value = holder;
    c.cmd.key = lease_name;
    c.cmd.holder = holder;
    auto held = c.tokens.find(lease_name);
    if (held != c.tokens.end() && pick < 88) {
      op.kind = pick < 82 ? HistoryOp::Kind::Renew : HistoryOp::Kind::Release;
      op.token = held->second;
      c.cmd.op = pick < 82 ? lease::Op::Renew : lease::Op::Release;
      c.cmd.token = held->second;
      if (op.kind == HistoryOp::Kind::Release) {
        // From the moment it asks to release, the client stops acting as holder.
        auto bi = c.belief_idx.find(lease_name);
        if (bi != c.belief_idx.end()) {
          auto& b = beliefs_[lease_name][bi->second];
          b.to = std::min(b.to, sched_.now());
        }
        c.tokens.erase(lease_name);
      }
    } else {
      op.kind = HistoryOp::Kind::Acquire;
      op.ttl = 1500000000ull;
      op.lock_delay = 300000000ull;
      c.cmd.op = lease::Op::Acquire;
      c.cmd.ttl_ns = op.ttl;
      c.cmd.lock_delay_ns = op.lock_delay;
    }
  }
  result_.history.push_back(op);
  op_ids_.emplace_back(c.is_read ? 0 : c.cmd.session, c.cmd.seq);
  c.op = result_.history.size() - 1;
  c.busy = true;
  c.attempts = 0;
  client_attempt(c);
}

void World::client_attempt(Client& c) {
  const std::uint64_t attempt = ++c.attempt_id;
  SimNode& n = *nodes_[rng_.below(nodes_.size())];
  c.attempts++;
  if (c.is_read) {
    if (n.up) {
      const std::string key = result_.history[c.op].key;
      auto done = [this, &c, attempt](bool ok, std::optional<lease::KeyValue> kv) {
        if (c.attempt_id != attempt || !c.busy) return;
        client_done(c, nullptr, ok, kv);
      };
      if (o_.stale_reads) {
        // The deliberate bug: answer from whatever this node has applied.
        auto kv = n.machine.get(key);
        sched_.after(Duration(1000), [done, kv] { done(true, kv); });
      } else if (!paused(n)) {
        const std::uint64_t ctx = ++n.read_ctx;
        n.reads[ctx] = SimNode::Read{key, done};
        auto r = n.core->read_index(ctx);
        if (!r) {
          n.reads.erase(ctx);
          sched_.after(Duration(1000), [done] { done(false, std::nullopt); });
        } else {
          pump(n);
        }
      }
    }
  } else {
    submit(n, c.cmd, [this, &c, attempt](const lease::Response& resp) {
      if (c.attempt_id != attempt || !c.busy) return;
      client_done(c, &resp, false, std::nullopt);
    });
  }
  // Timeout: retry elsewhere with the same (session, seq) — applied at most once — then give up.
  sched_.after(1s, [this, &c, attempt] {
    if (c.attempt_id != attempt || !c.busy) return;
    if (c.attempts < 3) {
      client_attempt(c);
      return;
    }
    HistoryOp& op = result_.history[c.op];
    op.known = false;
    result_.ops_unknown++;
    c.busy = false;
    c.session = next_session_++;  // a fresh process, as Jepsen does after an indeterminate op
    c.seq = 0;
    c.tokens.erase(op.key);
    client_next(c);
  });
}

void World::client_done(Client& c, const lease::Response* resp, bool read_ok, const std::optional<lease::KeyValue>& kv) {
  HistoryOp& op = result_.history[c.op];
  if (resp && (resp->code == static_cast<int>(Code::NotLeader) || resp->code == static_cast<int>(Code::Unavailable))) {
    // Not applied anywhere: try another node shortly (same session and seq).
    const std::uint64_t attempt = ++c.attempt_id;
    sched_.after(20ms, [this, &c, attempt] {
      if (c.attempt_id == attempt && c.busy) client_attempt(c);
    });
    return;
  }
  c.busy = false;
  c.attempt_id++;
  op.ret = static_cast<std::uint64_t>(sched_.now().nanos());
  result_.ops_completed++;
  if (op.kind == HistoryOp::Kind::Get) {
    op.ok = read_ok;
    op.found = kv.has_value();
    if (kv) {
      op.out_value = kv->value;
      op.revision = kv->mod_revision;
      c.last_rev[op.key] = kv->mod_revision;
    } else if (read_ok) {
      c.last_rev[op.key] = 0;
    }
  } else {
    op.ok = resp->ok();
    op.revision = resp->revision;
    op.applied_at = resp->applied_at;
    op.expiry = resp->expiry;
    if (op.ok && (op.kind == HistoryOp::Kind::Put || op.kind == HistoryOp::Kind::Cas)) c.last_rev[op.key] = op.revision;
    if (op.kind == HistoryOp::Kind::Acquire || op.kind == HistoryOp::Kind::Renew) {
      if (op.ok) {
        c.tokens[op.key] = op.revision;
        // The holder acts until its own (drifting) clock says ttl, shortened by the drift bound,
        // has passed since it *sent* the request.
        const std::uint64_t ttl = op.kind == HistoryOp::Kind::Acquire ? op.ttl : op.expiry - op.applied_at;
        const double safe = static_cast<double>(ttl) * (1.0 - 2.0 * o_.bounds.max_drift) - 10e6;
        const Instant local_until = c.call_local + Duration(static_cast<std::int64_t>(safe));
        // (to_global clamps past instants to now: a deadline already passed ends now, not later.)
        const Instant until = local_until <= c.clock->now() ? sched_.now() : c.clock->to_global(local_until);
        auto& list = beliefs_[op.key];
        auto bi = c.belief_idx.find(op.key);
        if (until <= sched_.now()) {
          // The answer came too late to act on.
        } else if (bi != c.belief_idx.end() && list[bi->second].token == op.revision) {
          list[bi->second].to = std::max(list[bi->second].to, until);
        } else {
          if (until > sched_.now()) {
            list.push_back(Belief{c.id, op.revision, sched_.now(), until});
            c.belief_idx[op.key] = list.size() - 1;
          }
        }
      } else {
        c.tokens.erase(op.key);
      }
    }
  }
  client_next(c);
}

RaftSimResult World::run() {
  for (std::size_t i = 0; i < o_.clients; ++i) {
    auto c = std::make_unique<Client>();
    c->id = i + 1;
    c->session = next_session_++;
    const double drift = profile_.max_drift > 0 ? (rng_.uniform() * 2 - 1) * profile_.max_drift : 0.0;
    c->clock = std::make_unique<NodeClock>(sched_, 1.0 + drift);
    clients_.push_back(std::move(c));
  }
  for (auto& c : clients_) client_next(*c);
  if (o_.faults) schedule_faults();
  const Instant heal_at = start_ + o_.fault_phase;
  const Instant end = heal_at + o_.settle_phase;
  sched_.run_until([this] { return !result_.ok; }, heal_at);
  if (result_.ok) {
    heal_all();
    sched_.run_until([this] { return !result_.ok; }, end);
  }
  if (!result_.ok) return result_;
  check_log_matching_full();
  // Liveness: healed and calm, the cluster has a leader and every live node caught up.
  std::size_t damaged = 0;
  for (auto& n : nodes_) damaged += n->core && !n->core->damage().empty();
  if (damaged * 2 < nodes_.size() && result_.ok) {
    PeerId leader = 0;
    for (auto& n : nodes_) {
      if (n->up && n->core->role() == Role::Leader) leader = n->id;
    }
    if (leader == 0) {
      fail("liveness: no leader " + core::format_duration(o_.settle_phase) + " after healing");
    } else {
      const LogIndex c = node(leader).core->commit_index();
      for (auto& n : nodes_) {
        if (n->core->damage().empty() && n->core->applied_index() < c) {
          const Status ls = node(leader).core->status();
          const Status ns = n->core->status();
          std::string detail;
          auto pit = ls.progress.find(n->id);
          if (pit != ls.progress.end()) {
            detail = " (leader " + std::to_string(leader) + " sees match=" + std::to_string(pit->second.match.value()) +
                     " next=" + std::to_string(pit->second.next.value()) + " " + progress_state_name(pit->second.state) +
                     " snap_sent=" + std::to_string(pit->second.snap_sent) + " acked=" + std::to_string(pit->second.snap_acked) +
                     "; node: term=" + std::to_string(ns.term.value()) + " last=" + std::to_string(ns.last_index.value()) +
                     " commit=" + std::to_string(ns.commit.value()) + " snap=" + std::to_string(ns.snapshot_index.value()) +
                     " role=" + role_name(ns.role) + " lead=" + std::to_string(ns.leader) +
                     " leader snap=" + std::to_string(ls.snapshot_index.value()) + " up=" + std::to_string(n->up) +
                     " writes=" + std::to_string(n->writes_in_flight) + ")";
          }
          fail("liveness: node " + std::to_string(n->id) + " applied " +
               std::to_string(n->core->applied_index().value()) + " of " + std::to_string(c.value()) + " after healing" + detail);
        }
      }
    }
  }
  // Clients: no two believed holders of one lease at the same real instant.
  for (const auto& [name, list] : beliefs_) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      for (std::size_t j = i + 1; j < list.size(); ++j) {
        const Belief& a = list[i];
        const Belief& b = list[j];
        if (a.client == b.client && a.token == b.token) continue;
        if (a.from < b.to && b.from < a.to) {
          std::string ops;
          for (const auto& op : result_.history) {
            if (op.key == name) {
              ops += "\n  c" + std::to_string(op.client) + " kind=" + std::to_string(static_cast<int>(op.kind)) +
                     " call=" + std::to_string((op.call - start_.nanos()) / 1000000) + "ms ret=" +
                     (op.ret == kNever ? std::string("?") : std::to_string((op.ret - start_.nanos()) / 1000000)) +
                     "ms ok=" + std::to_string(op.ok) + " tok=" + std::to_string(op.revision) +
                     " at=" + std::to_string(op.applied_at / 1000000) + " exp=" + std::to_string(op.expiry / 1000000);
            }
          }
          fail("two clients acted as holders of '" + name + "' at once (client " + std::to_string(a.client) + " token " +
               std::to_string(a.token) + " [" + std::to_string((a.from - start_).count() / 1000000) + "ms, " +
               std::to_string((a.to - start_).count() / 1000000) + "ms) and client " + std::to_string(b.client) +
               " token " + std::to_string(b.token) + " [" + std::to_string((b.from - start_).count() / 1000000) +
               "ms, " + std::to_string((b.to - start_).count() / 1000000) + "ms))" + ops);
        }
      }
    }
  }
  if (!result_.ok) return result_;
  for (auto& c : clients_) {
    if (c->busy) result_.history[c->op].known = false;
  }
  // Resolve unknown outcomes from the log (the simulator sees what was applied): an op that
  // applied keeps its true outputs but may linearize anywhere after its call (return = +inf);
  // one that never applied, and any unanswered read, had no effect and is dropped.
  std::vector<HistoryOp> resolved;
  for (std::size_t i = 0; i < result_.history.size(); ++i) {
    HistoryOp op = result_.history[i];
    if (!op.known) {
      op.ret = kNever;
      if (op.kind == HistoryOp::Kind::Get || op_ids_[i].first == 0) continue;
      auto it = responses_.find(op_ids_[i]);
      if (it == responses_.end()) continue;
      const lease::Response& resp = it->second;
      op.known = true;
      op.ok = resp.ok();
      op.revision = resp.revision;
      op.applied_at = resp.applied_at;
      op.expiry = resp.expiry;
    }
    resolved.push_back(std::move(op));
  }
  result_.history = std::move(resolved);
  return result_;
}

}  // namespace

RaftSimResult run_raft_sim(const RaftSimOptions& options) {
  World w(options);
  RaftSimResult r = w.run();
  if (!r.ok) return r;
  CheckResult c = check_linearizable(r.history);
  if (!c.linearizable) {
    r.ok = false;
    r.failure = "not linearizable on " + c.key + " (seed " + std::to_string(options.seed) + "): " + c.explanation;
  }
  return r;
}

}  // namespace constellation::sim
