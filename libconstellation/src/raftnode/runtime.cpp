// SPDX-License-Identifier: Apache-2.0
#include "raftnode/runtime.hpp"

#include "core/assert.hpp"
#include "core/log.hpp"
#include "io/net/endpoint.hpp"
#include "io/net/raft_transport.hpp"
#include "io/os/os.hpp"
#include "io/store/raft_store.hpp"
#include "raft/codec.hpp"
#include "raft/raft.hpp"

#include <asio.hpp>

#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace constellation::raftnode {

using namespace raft;
using core::json::Value;

namespace {

Value u(std::uint64_t v) { return Value(static_cast<std::int64_t>(v)); }

const core::SystemClock& sysclock() { return core::SystemClock::instance(); }

}  // namespace

struct Runtime::Impl : std::enable_shared_from_this<Runtime::Impl> {
  RaftOptions opts;
  std::unique_ptr<core::log::JsonLinesSink> sink;
  core::log::Logger logger;
  std::optional<io::os::DirLock> lock;
  std::unique_ptr<io::store::RaftStore> store;

  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread loop_thread;
  asio::steady_timer tick_timer{io};
  Clock::time_point next_tick;
  // The leader tells followers a new commit index with its next appends; this timer sends it
  // on its own when no append went out within kCommitBroadcastDelay (Config::defer_commit_broadcast).
  asio::steady_timer commit_timer{io};
  bool commit_timer_armed = false;
  static constexpr Clock::duration kCommitBroadcastDelay = std::chrono::milliseconds(2);

  // --- owned by the control loop ---
  core::Rng rng{io::os::random_seed()};
  std::unique_ptr<Raft> core;
  lease::Machine machine;
  std::unique_ptr<io::net::RaftTransport> transport;
  // Readys taken from the core and not yet advanced, in order. A write (must_sync) goes to the
  // storage thread at once; the next Ready is taken while it is being written, so the leader
  // replicates and applies while its disk works (writes pipeline; ADR 0020).
  struct Job {
    std::shared_ptr<Ready> rd;
    bool write = false;
  };
  std::deque<Job> jobs;
  std::size_t writes_in_flight = 0;  // write jobs not yet through persisted() (either thread)
  std::size_t writes_durable = 0;    // durable writes whose jobs wait behind an earlier job
  static constexpr std::size_t kMaxWritesInFlight = 16;  // back-pressure when the disk stalls
  // A write of at most this many entries, while nothing else is being written and at most
  // this many of this node's requests wait, is done on the loop thread itself (write_inline):
  // one client's commit then costs no hand-off to the storage thread and back — on a small VM
  // each wake-up costs tens of microseconds, as much as half the disk's flush. Under load the
  // storage thread writes, so the disk keeps overlapping with replication and with the HTTP
  // front (ADR 0065).
  static constexpr std::size_t kInlineWriteMaxEntries = 4;
  std::optional<HardState> lazy_hard_state;  // a commit index waiting for the next batch
  std::uint64_t log_bytes_since_snapshot = 0;  // payload bytes applied since the last compaction
  std::uint64_t last_snapshot_bytes = 0;
  bool failed = false;
  bool stopping = false;

  struct Waiter {
    std::function<void(Result<lease::Response>)> done;  // called once, on the loop
    core::Bytes command;
    Clock::time_point deadline;
    Clock::time_point next_retry;
  };
  std::map<std::pair<std::uint64_t, std::uint64_t>, Waiter> pending;
  std::vector<core::Bytes> proposals;  // flushed once per loop turn: one append for many callers
  bool flush_posted = false;

  struct ReadReq {
    std::function<void(const lease::Machine&)> serve;
    std::shared_ptr<std::promise<Result<void>>> promise;
    Clock::time_point deadline;
    bool issued = false;
  };
  std::map<std::uint64_t, ReadReq> reads;
  std::vector<ReadState> reads_ready;
  std::uint64_t read_ctx = 0;

  struct Watcher {
    std::string prefix;
    std::uint64_t after;
    std::shared_ptr<std::promise<Result<std::vector<lease::Event>>>> promise;
    Clock::time_point until;
  };
  std::vector<Watcher> watchers;
  std::map<std::uint64_t, std::shared_ptr<std::promise<Result<void>>>> conf_waiters;  // index -> waiter

  // --- storage thread ---
  std::thread storage_thread;
  std::mutex storage_mu;
  std::condition_variable storage_cv;
  std::vector<std::shared_ptr<Ready>> storage_queue;  // written together: one transaction, one fsync
  std::optional<Snapshot> storage_compaction;  // durable in snapshots.db: record it, drop its entries
  bool storage_stop = false;
  bool storage_busy = false;  // a save is running (on the storage thread, or inline on the loop)
  std::atomic<std::uint64_t> saves_on_loop{0};
  std::atomic<std::uint64_t> saves_on_storage_thread{0};

  // --- snapshot thread ---
  // A compaction's snapshot (the whole state: megabytes) is written here, so the storage thread
  // keeps appending entries meanwhile; once it is durable the storage thread records it and
  // deletes the entries it covers in its next transaction (ADR 0063). Until then the log on
  // disk still holds those entries, so a crash loses nothing.
  std::thread snapshot_thread;
  std::mutex snapshot_mu;
  std::condition_variable snapshot_cv;
  std::optional<Snapshot> snapshot_to_write;  // a newer compaction replaces one not yet started
  bool snapshot_stop = false;

  // --- shared with callers ---
  mutable std::mutex status_mu;
  RaftStatus published;
  std::uint64_t published_revision = 0;
  std::mutex session_mu;
  std::uint64_t session = 0;
  std::uint64_t next_seq = 0;
  std::set<std::uint64_t> outstanding;
  std::atomic<bool> stopped{false};
  // Requests from callers' threads reach the loop through post(). Once stop() has joined the
  // loop it closes this door and runs what is still queued on its own thread, so a request that
  // raced the shutdown is answered (Unavailable) rather than dropped with the queue.
  std::mutex post_mu;
  bool closed = false;
  int port = 0;  // the bound Raft port, fixed at start (readable from any thread)

  Clock::duration election_timeout() const { return opts.tick * opts.election_ticks; }

  // ---------------------------------------------------------------------------------------------

  // Publishes what other threads may read. Cheap: no Status copy (that clones the progress
  // map); the configuration is copied only when it changed.
  void publish() {
    std::lock_guard<std::mutex> g(status_mu);
    published.id = opts.id;
    published.role = role_name(core->role());
    published.leader = core->leader();
    published.term = core->term().value();
    published.commit_index = core->commit_index().value();
    published.applied_index = core->applied_index().value();
    published.last_index = core->last_index().value();
    published.cluster_time = machine.cluster_time();
    if (published.voters != core->conf().voters) published.voters = core->conf().voters;
    if (published.learners != core->conf().learners) published.learners = core->conf().learners;
    if (published.damage != core->damage()) published.damage = core->damage();
    published_revision = machine.revision();
  }

  void send(const Message& m) {
    if (m.to == opts.id) return;
    transport->send(m.to, encode(m));
  }

  void on_message(std::uint64_t from, core::ByteView payload) {
    auto m = decode_message(payload);
    if (!m) {
      logger.warn("dropping an undecodable raft message", {{"from", u(from)}, {"reason", Value(m.error().message())}});
      return;
    }
    if (m->from != from) {
      logger.warn("dropping a raft message whose sender does not match its connection", {{"from", u(from)}});
      return;
    }
    core->set_now(sysclock().now());
    (void)core->step(*m);
    // pump() runs once the whole read is delivered (transport's on_received).
  }

  void tick() {
    if (stopping || failed) return;  // a node that cannot write its log stays silent
    core->set_now(sysclock().now());
    core->tick();
    sweep();
    pump();
    next_tick += opts.tick;
    const auto now = Clock::now();
    if (next_tick < now) next_tick = now + opts.tick;  // fell behind (paused): do not burst
    tick_timer.expires_at(next_tick);
    tick_timer.async_wait([this](std::error_code ec) {
      if (!ec) tick();
    });
  }

  // Retries proposals and reads that got no answer, fails those past their deadline.
  void sweep() {
    const auto now = Clock::now();
    for (auto it = pending.begin(); it != pending.end();) {
      Waiter& w = it->second;
      if (now >= w.deadline) {
        w.done(Error(Code::Timeout, "the write did not commit in time (it may still apply)"));
        it = pending.erase(it);
        continue;
      }
      if (now >= w.next_retry) {
        // Same session and sequence: the state machine applies it at most once.
        w.next_retry = now + election_timeout() * 2;
        enqueue(w.command);
      }
      ++it;
    }
    for (auto it = reads.begin(); it != reads.end();) {
      if (now >= it->second.deadline) {
        it->second.promise->set_value(Error(Code::Timeout, "the read could not be confirmed in time"));
        it = reads.erase(it);
        continue;
      }
      if (!it->second.issued) issue_read(it->first);
      ++it;
    }
    for (auto it = watchers.begin(); it != watchers.end();) {
      if (now >= it->until) {
        it->promise->set_value(std::vector<lease::Event>{});
        it = watchers.erase(it);
      } else {
        ++it;
      }
    }
  }

  void enqueue(core::Bytes command) {
    proposals.push_back(std::move(command));
    if (!flush_posted) {
      flush_posted = true;
      asio::post(io, [this] { flush(); });
    }
  }

  void flush() {
    flush_posted = false;
    if (proposals.empty() || stopping) return;
    core->set_now(sysclock().now());
    auto r = core->propose_batch(std::move(proposals));
    proposals.clear();
    if (!r) {
      // No leader yet, or a transfer is in progress: retry soon (the sweep re-enqueues).
      const auto soon = Clock::now() + opts.tick;
      for (auto& [key, w] : pending) w.next_retry = std::min(w.next_retry, soon);
    }
    pump();
  }

  void issue_read(std::uint64_t ctx) {
    auto r = core->read_index(ctx);
    reads.at(ctx).issued = r.has_value();
  }

  void pump() {
    while (!failed && !stopping && writes_in_flight < kMaxWritesInFlight && core->has_ready()) {
      auto rd = std::make_shared<Ready>(core->ready());
      if (rd->snapshot && !rd->snapshot_from_leader) {
        // This node's own compaction: written off the write path. The entries it covers were
        // handed to the storage thread in this or earlier Readys, so advancing the Ready
        // without it claims nothing that is not durable.
        {
          std::lock_guard<std::mutex> g(snapshot_mu);
          snapshot_to_write = std::move(rd->snapshot);
        }
        rd->snapshot.reset();
        snapshot_cv.notify_one();
      }
      if (rd->soft_state && rd->soft_state->leader != kNoPeer) {
        // A new leader: resend what is waiting now rather than after the retry interval (the
        // old leader may have dropped it; sessions make the resend harmless).
        for (auto& [key, w] : pending) {
          w.next_retry = Clock::now() + election_timeout() * 2;
          proposals.push_back(w.command);
        }
        if (!proposals.empty() && !flush_posted) {
          flush_posted = true;
          asio::post(io, [this] { flush(); });
        }
      }
      for (const auto& m : rd->messages) send(m);
      if (!apply(*rd)) return;
      Job job{rd, rd->must_sync};
      if (job.write) {
        if (!rd->hard_state && lazy_hard_state) rd->hard_state = lazy_hard_state;
        lazy_hard_state.reset();
        ++writes_in_flight;
        if (!write_inline(rd)) {
          {
            std::lock_guard<std::mutex> g(storage_mu);
            storage_queue.push_back(rd);
          }
          storage_cv.notify_one();
        }
      } else if (rd->hard_state) {
        // Only the commit index moved (term and vote did not; no entries or snapshot): it need
        // not be durable — after a crash the leader re-establishes it — so it rides along with
        // the next write instead of costing an fsync of its own.
        lazy_hard_state = rd->hard_state;
      }
      if (!job.write && jobs.empty()) {
        complete(*rd);  // nothing to wait for
      } else {
        jobs.push_back(std::move(job));  // its acknowledgements wait for every earlier write
      }
    }
    maybe_compact();
    if (core->commit_broadcast_due() && !commit_timer_armed && !stopping) {
      commit_timer_armed = true;
      commit_timer.expires_after(kCommitBroadcastDelay);
      commit_timer.async_wait([this](std::error_code ec) {
        commit_timer_armed = false;
        if (ec || stopping || failed) return;
        core->broadcast_commit();
        pump();
      });
    }
    publish();
  }

  // Writes a small Ready on the loop thread when the storage thread is idle (see
  // kInlineWriteMaxEntries). This Ready's messages leave before the disk wait; the result is
  // handled as the storage thread's would be, by persisted() after this handler returns.
  bool write_inline(const std::shared_ptr<Ready>& rd) {
    // Few entries, no snapshot, and few of this node's own clients waiting (a leader under load
    // has many: its loop should keep serving them rather than wait on the disk).
    if (writes_in_flight != 1 || rd->entries.size() > kInlineWriteMaxEntries || rd->snapshot ||
        pending.size() > kInlineWriteMaxEntries) {
      return false;
    }
    {
      std::lock_guard<std::mutex> g(storage_mu);
      if (storage_busy || !storage_queue.empty() || storage_compaction) return false;
      storage_busy = true;
    }
    // What callers can read (role, leader, indexes) is published before this turn's messages
    // leave: a peer that hears from us must not find our status older than its own view of us.
    publish();
    transport->flush();
    auto r = store->save(*rd);
    saves_on_loop.fetch_add(1, std::memory_order_relaxed);
    bool compaction_due = false;
    {
      std::lock_guard<std::mutex> g(storage_mu);
      storage_busy = false;
      compaction_due = storage_compaction.has_value();  // arrived while we wrote
    }
    if (compaction_due) storage_cv.notify_one();
    asio::post(io, [self = shared_from_this(), r = std::move(r)]() mutable { self->persisted(1, std::move(r)); });
    return true;
  }

  void storage_loop() {
    for (;;) {
      std::vector<std::shared_ptr<Ready>> batch;
      std::optional<Snapshot> compaction;
      {
        std::unique_lock<std::mutex> g(storage_mu);
        storage_cv.wait(
            g, [this] { return storage_stop || (!storage_busy && (!storage_queue.empty() || storage_compaction)); });
        if (storage_stop) return;
        batch.swap(storage_queue);
        compaction.swap(storage_compaction);
        storage_busy = true;
      }
      // Group commit: every Ready queued while the previous fsync ran shares this one.
      std::vector<const Ready*> readys;
      readys.reserve(batch.size());
      for (const auto& rd : batch) readys.push_back(rd.get());
      auto r = store->save(readys, compaction ? &*compaction : nullptr);
      saves_on_storage_thread.fetch_add(1, std::memory_order_relaxed);
      {
        std::lock_guard<std::mutex> g(storage_mu);
        storage_busy = false;
      }
      if (batch.empty() && r) continue;  // a compaction alone: nothing on the loop waits for it
      asio::post(io, [self = shared_from_this(), n = batch.size(), r = std::move(r)]() mutable {
        self->persisted(n, std::move(r));
      });
    }
  }

  void snapshot_loop() {
    for (;;) {
      Snapshot s;
      {
        std::unique_lock<std::mutex> g(snapshot_mu);
        snapshot_cv.wait(g, [this] { return snapshot_stop || snapshot_to_write; });
        if (snapshot_stop) return;
        s = std::move(*snapshot_to_write);
        snapshot_to_write.reset();
      }
      auto r = store->put_snapshot(s);
      if (!r) {
        // The log still holds every entry the snapshot covers: nothing is lost, and the next
        // compaction tries again. (A disk that keeps failing stops the node at its next append.)
        logger.warn("writing a snapshot failed; the log is kept whole",
                    {{"index", u(s.meta.index.value())}, {"reason", Value(r.error().message())}});
        continue;
      }
      s.data.reset();  // recorded by metadata only; the core keeps the data for followers
      {
        std::lock_guard<std::mutex> g(storage_mu);
        if (!storage_compaction || storage_compaction->meta.index < s.meta.index) storage_compaction = std::move(s);
      }
      storage_cv.notify_one();
    }
  }

  void persisted(std::size_t writes, Result<void> r) {
    writes_in_flight -= writes;
    if (!r) {
      // Nothing in this batch may be acknowledged; the node cannot continue safely.
      logger.error("raft log write failed; stopping this node", {{"reason", Value(r.error().message())}});
      failed = true;
      fail_all(Error(Code::Io, "the raft log cannot be written: " + r.error().message()));
      return;
    }
    writes_durable += writes;
    while (!jobs.empty()) {
      Job& j = jobs.front();
      if (j.write) {
        if (writes_durable == 0) break;
        --writes_durable;
      }
      complete(*j.rd);
      jobs.pop_front();
    }
    pump();
  }

  // Step 1 of a Ready (raft/types.hpp): the state machine takes the committed entries at once —
  // they are durable on a majority — so clients hear back without waiting for this node's fsync.
  bool apply(const Ready& rd) {
    if (rd.snapshot && rd.snapshot_from_leader) {
      last_snapshot_bytes = rd.snapshot->data->size();
      log_bytes_since_snapshot = 0;
      auto r = machine.restore(*rd.snapshot->data);
      if (!r) {
        logger.error("snapshot from the leader does not restore", {{"reason", Value(r.error().message())}});
        failed = true;
        fail_all(Error(Code::Corrupt, "a snapshot from the leader does not restore: " + r.error().message()));
        return false;
      }
    }
    for (const auto& e : rd.committed_entries) {
      log_bytes_since_snapshot += e.data.size();
      if (e.type != EntryType::Normal) {
        machine.tick(e.index.value(), e.cluster_time);
        auto w = conf_waiters.find(e.index.value());
        if (w != conf_waiters.end()) {
          w->second->set_value(ok());
          conf_waiters.erase(w);
        }
        continue;
      }
      const auto cmd = lease::Command::decode(e.data);
      lease::Response resp = machine.apply(e.index.value(), e.cluster_time, cmd);
      if (cmd && cmd->session == session) {
        auto it = pending.find({cmd->session, cmd->seq});
        if (it != pending.end()) {
          auto done = std::move(it->second.done);
          pending.erase(it);
          done(std::move(resp));
        }
      }
    }
    for (const auto& rs : rd.read_states) reads_ready.push_back(rs);
    for (const auto& d : rd.dropped_reads) {
      auto it = reads.find(d.context);
      if (it != reads.end()) it->second.issued = false;  // retried at the next tick
    }
    serve_reads();
    if (!rd.committed_entries.empty()) notify_watchers();
    return true;
  }

  // Steps 3 and 4, once this Ready and every earlier one are durable.
  void complete(const Ready& rd) {
    for (const auto& m : rd.messages_after_persist) send(m);
    core->advance(rd);
  }

  void serve_reads() {
    for (auto it = reads_ready.begin(); it != reads_ready.end();) {
      if (it->index.value() > machine.applied_index()) {
        ++it;
        continue;
      }
      auto r = reads.find(it->context);
      if (r != reads.end()) {
        r->second.serve(machine);
        r->second.promise->set_value(ok());
        reads.erase(r);
      }
      it = reads_ready.erase(it);
    }
  }

  void notify_watchers() {
    for (auto it = watchers.begin(); it != watchers.end();) {
      auto ev = machine.events_since(it->prefix, it->after);
      if (!ev || !ev->empty()) {
        it->promise->set_value(std::move(ev));
        it = watchers.erase(it);
      } else {
        ++it;
      }
    }
  }

  // A snapshot costs the whole state (serialised on this loop, then written), while the log it
  // replaces may be small next to it: compact once snapshot_entries entries were applied *and*
  // their bytes reach half the last snapshot's size, so snapshot bytes stay within about twice
  // the log bytes written (or, whatever the sizes, after 8 x snapshot_entries).
  void maybe_compact() {
    const std::uint64_t applied = machine.applied_index();
    const std::uint64_t since = applied - std::min(applied, core->snapshot().meta.index.value());
    if (failed || since < opts.snapshot_entries) return;
    if (log_bytes_since_snapshot < last_snapshot_bytes / 2 && since < 8 * opts.snapshot_entries) return;
    if (applied != core->applied_index().value()) return;
    auto data = std::make_shared<const core::Bytes>(machine.snapshot());
    const std::size_t size = data->size();
    auto r = core->compact(LogIndex(applied), std::move(data));
    if (!r) return;
    last_snapshot_bytes = size;
    log_bytes_since_snapshot = 0;
    logger.info("compacted the raft log", {{"index", u(applied)}, {"snapshot_bytes", u(size)}});
  }

  void fail_all(const Error& e) {
    auto writes = std::move(pending);
    pending.clear();
    for (auto& [k, w] : writes) w.done(e);
    for (auto& [k, r] : reads) r.promise->set_value(e);
    reads.clear();
    for (auto& w : watchers) w.promise->set_value(e);
    watchers.clear();
    for (auto& [k, w] : conf_waiters) w->set_value(e);
    conf_waiters.clear();
  }

  // Queues fn on the loop for a caller's request; false once the node has stopped (the caller
  // answers the request itself then).
  template <class F>
  bool post(F&& fn) {
    std::lock_guard<std::mutex> g(post_mu);
    if (closed) return false;
    asio::post(io, std::forward<F>(fn));
    return true;
  }

  // Runs fn on the loop (or, during stop(), on the stopping thread) and waits for its result,
  // for control operations; `gone` when the node has already stopped.
  template <class T, class F>
  T on_loop(F&& fn, T gone) {
    auto p = std::make_shared<std::promise<T>>();
    auto f = p->get_future();
    if (!post([p, fn = std::forward<F>(fn)]() mutable { p->set_value(fn()); })) return gone;
    return f.get();
  }
};

Runtime::Runtime(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Runtime>> Runtime::open(const RaftOptions& o) {
  if (o.id == 0) return Error(Code::InvalidArgument, "raft: id must be non-zero");
  if (!o.join && o.voters.count(o.id) == 0) {
    return Error(Code::InvalidArgument, "raft: voters must include this node's id " + std::to_string(o.id));
  }
  if (o.voters.size() > 1 && o.cluster_key.size() < 16) {
    return Error(Code::InvalidArgument, "raft: cluster_key must be at least 16 bytes with more than one voter");
  }
  if (o.tick.count() <= 0 || o.heartbeat_ticks <= 0 || o.election_ticks <= o.heartbeat_ticks) {
    return Error(Code::InvalidArgument, "raft: need tick > 0 and election_ticks > heartbeat_ticks > 0");
  }
  auto impl = std::make_shared<Impl>();
  impl->opts = o;
  if (o.log_level != "off") {
    auto lvl = core::log::parse_level(o.log_level);
    if (!lvl) return Error(Code::InvalidArgument, "raft: log_level: " + lvl.error().message());
    impl->sink = std::make_unique<core::log::JsonLinesSink>(2);
    impl->logger = core::log::Logger(*impl->sink, sysclock(), "raft", *lvl);
  }
  CST_TRY(io::os::make_dirs(o.data_dir));
  CST_TRY_ASSIGN(auto lock, io::os::DirLock::acquire(o.data_dir));
  impl->lock.emplace(std::move(lock));
  CST_TRY_ASSIGN(impl->store, io::store::RaftStore::open(o.data_dir));
  ConfState bootstrap;
  if (!o.join) {
    for (const auto& [id, addr] : o.voters) bootstrap.voters.push_back(id);
  }
  CST_TRY_ASSIGN(InitialState init, impl->store->load(bootstrap));
  Config c;
  c.id = o.id;
  c.election_tick = o.election_ticks;
  c.heartbeat_tick = o.heartbeat_ticks;
  c.logger = impl->logger.child("core");
  c.defer_commit_broadcast = true;
  CST_TRY_ASSIGN(Raft r, Raft::create(c, impl->rng, std::move(init)));
  impl->core = std::make_unique<Raft>(std::move(r));
  impl->core->set_now(sysclock().now());
  const Snapshot& snap = impl->core->snapshot();
  if (!snap.empty() && snap.data && !snap.data->empty()) {
    impl->last_snapshot_bytes = snap.data->size();
    auto rr = impl->machine.restore(*snap.data);
    if (!rr) return Error(Code::Corrupt, impl->store->path() + ": snapshot does not restore: " + rr.error().message());
  }
  io::net::RaftTransportOptions t;
  t.self = o.id;
  t.listen = o.listen_address.empty() ? (o.voters.count(o.id) ? o.voters.at(o.id) : "127.0.0.1:0") : o.listen_address;
  for (const auto& [id, addr] : o.voters) {
    if (id != o.id) t.peers[id] = addr;
  }
  t.cluster_key = o.cluster_key;
  t.logger = impl->logger.child("transport");
  t.on_received = [raw = impl.get()] { raw->pump(); };
  Impl* raw = impl.get();
  CST_TRY_ASSIGN(impl->transport, io::net::RaftTransport::start(
                                      impl->io, std::move(t),
                                      [raw](std::uint64_t from, core::ByteView p) { raw->on_message(from, p); },
                                      [raw](std::uint64_t peer) { raw->core->report_unreachable(peer); }));
  {
    std::uint64_t s = 0;
    while (s == 0) s = io::os::random_seed();
    impl->session = s;
  }
  impl->port = impl->transport->port();
  impl->publish();
  impl->work.emplace(asio::make_work_guard(impl->io));
  impl->storage_thread = std::thread([raw] { raw->storage_loop(); });
  impl->snapshot_thread = std::thread([raw] { raw->snapshot_loop(); });
  impl->next_tick = Clock::now() + o.tick;
  impl->tick_timer.expires_at(impl->next_tick);
  impl->tick_timer.async_wait([raw](std::error_code ec) {
    if (!ec) raw->tick();
  });
  // A single voter (the embedded default) elects itself at once instead of waiting a timeout.
  if (!o.join && o.voters.size() == 1) {
    asio::post(impl->io, [raw] {
      // Cluster time is stamped from `now`: set it before anything can make this node leader.
      raw->core->set_now(sysclock().now());
      if (raw->core->role() != Role::Leader && raw->core->conf().voters.size() == 1) raw->core->campaign();
      raw->pump();
    });
  }
  impl->loop_thread = std::thread([raw] { raw->io.run(); });
  impl->logger.info("raft node started", {{"id", u(o.id)}, {"port", u(impl->transport->port())}});
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

Runtime::~Runtime() { stop(); }

void Runtime::stop() {
  Impl& d = *impl_;
  if (d.stopped.exchange(true)) return;
  // Graceful: a leader hands over first (dissertation §3.10), so the group does not wait for an
  // election timeout.
  const auto deadline = Clock::now() + d.election_timeout() * 2;
  bool transferring = d.on_loop<bool>(
      [&d] {
        if (d.failed || d.core->role() != Role::Leader || d.core->conf().voters.size() < 2) return false;
        const Status st = d.core->status();
        PeerId best = 0;
        LogIndex best_match(0);
        for (const auto& [id, pr] : st.progress) {
          if (id != d.opts.id && st.conf.is_voter(id) && (best == 0 || pr.match > best_match)) {
            best = id;
            best_match = pr.match;
          }
        }
        if (best == 0) return false;
        (void)d.core->transfer_leadership(best);
        d.pump();
        return true;
      },
      false);
  while (transferring && Clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> g(d.status_mu);
      if (d.published.role != "leader") break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (transferring) {
    // Let TimeoutNow and the last appends reach the wire before the sockets close.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  d.on_loop<int>(
      [&d] {
        d.stopping = true;
        d.tick_timer.cancel();
        d.commit_timer.cancel();
        d.fail_all(Error(Code::Unavailable, "the raft node is stopping"));
        d.transport->stop();
        return 0;
      },
      0);
  {
    std::lock_guard<std::mutex> g(d.snapshot_mu);
    d.snapshot_stop = true;
  }
  d.snapshot_cv.notify_one();
  if (d.snapshot_thread.joinable()) d.snapshot_thread.join();
  {
    std::lock_guard<std::mutex> g(d.storage_mu);
    d.storage_stop = true;
  }
  d.storage_cv.notify_one();
  if (d.storage_thread.joinable()) d.storage_thread.join();
  d.work.reset();
  d.io.stop();
  if (d.loop_thread.joinable()) d.loop_thread.join();
  // Requests posted after fail_all() ran but before the loop stopped are still queued: run
  // them here (each finds the node stopping and answers Unavailable), then accept no more.
  {
    std::lock_guard<std::mutex> g(d.post_mu);
    d.closed = true;
  }
  d.io.restart();
  d.io.poll();
  d.transport.reset();
  d.store.reset();
  d.lock.reset();
}

void Runtime::submit(lease::Command cmd, Clock::time_point deadline, std::function<void(Result<lease::Response>)> done) {
  Impl& d = *impl_;
  if (d.stopped) {
    done(Error(Code::Unavailable, "the raft node is stopped"));
    return;
  }
  {
    std::lock_guard<std::mutex> g(d.session_mu);
    cmd.session = d.session;
    cmd.seq = ++d.next_seq;
    d.outstanding.insert(cmd.seq);
    cmd.first_outstanding = *d.outstanding.begin();
  }
  // The session's window of outstanding commands closes when the answer is handed out.
  auto finish = std::make_shared<std::function<void(Result<lease::Response>)>>(
      [&d, seq = cmd.seq, done = std::move(done)](Result<lease::Response> r) {
        {
          std::lock_guard<std::mutex> g(d.session_mu);
          d.outstanding.erase(seq);
        }
        done(std::move(r));
      });
  core::Bytes bytes = cmd.encode();
  const auto key = std::make_pair(cmd.session, cmd.seq);
  const bool queued = d.post([&d, finish, bytes = std::move(bytes), key, deadline]() mutable {
    if (d.stopping || d.failed) {
      (*finish)(Error(Code::Unavailable, "the raft node is stopping"));
      return;
    }
    d.pending.emplace(key, Impl::Waiter{std::move(*finish), bytes, deadline, Clock::now() + d.election_timeout() * 2});
    d.enqueue(std::move(bytes));
  });
  if (!queued) (*finish)(Error(Code::Unavailable, "the raft node is stopped"));
}

Result<lease::Response> Runtime::execute(lease::Command cmd, Clock::time_point deadline) {
  auto promise = std::make_shared<std::promise<Result<lease::Response>>>();
  auto future = promise->get_future();
  submit(std::move(cmd), deadline, [promise](Result<lease::Response> r) { promise->set_value(std::move(r)); });
  // The loop fails the request at its deadline; the extra second covers a loop that is stuck.
  if (future.wait_until(deadline + std::chrono::seconds(1)) != std::future_status::ready) {
    return Error(Code::Timeout, "no answer from the raft node");
  }
  return future.get();
}

Result<void> Runtime::read(std::function<void(const lease::Machine&)> serve, Clock::time_point deadline) {
  Impl& d = *impl_;
  if (d.stopped) return Error(Code::Unavailable, "the raft node is stopped");
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto future = promise->get_future();
  const bool queued = d.post([&d, promise, serve = std::move(serve), deadline]() mutable {
    if (d.stopping || d.failed) {
      promise->set_value(Error(Code::Unavailable, "the raft node is stopping"));
      return;
    }
    const std::uint64_t ctx = ++d.read_ctx;
    d.reads.emplace(ctx, Impl::ReadReq{std::move(serve), promise, deadline, false});
    d.issue_read(ctx);
    d.pump();
  });
  if (!queued) return Error(Code::Unavailable, "the raft node is stopped");
  if (future.wait_until(deadline + std::chrono::seconds(1)) != std::future_status::ready) {
    return Error(Code::Timeout, "no answer from the raft node");
  }
  return future.get();
}

Result<std::vector<lease::Event>> Runtime::watch(const std::string& prefix, std::uint64_t after, Clock::time_point until) {
  Impl& d = *impl_;
  if (d.stopped) return Error(Code::Unavailable, "the raft node is stopped");
  // First make sure this node is current (a linearizable starting point), then wait.
  std::optional<Result<std::vector<lease::Event>>> now;
  CST_TRY(read([&](const lease::Machine& m) {
    auto ev = m.events_since(prefix, after);
    if (!ev || !ev->empty()) now = std::move(ev);
  }, std::min(until, Clock::now() + d.opts.request_timeout)));
  if (now) return std::move(*now);
  auto promise = std::make_shared<std::promise<Result<std::vector<lease::Event>>>>();
  auto future = promise->get_future();
  const bool queued = d.post([&d, promise, prefix, after, until] {
    if (d.stopping || d.failed) {
      promise->set_value(Error(Code::Unavailable, "the raft node is stopping"));
      return;
    }
    auto ev = d.machine.events_since(prefix, after);
    if (!ev || !ev->empty()) {
      promise->set_value(std::move(ev));
      return;
    }
    d.watchers.push_back(Impl::Watcher{prefix, after, promise, until});
  });
  if (!queued) return Error(Code::Unavailable, "the raft node is stopped");
  if (future.wait_until(until + std::chrono::seconds(1)) != std::future_status::ready) {
    return std::vector<lease::Event>{};
  }
  return future.get();
}

Result<void> Runtime::transfer(std::uint64_t target, Clock::time_point deadline) {
  Impl& d = *impl_;
  if (d.stopped) return Error(Code::Unavailable, "the raft node is stopped");
  auto chosen = d.on_loop<Result<PeerId>>(
      [&d, target]() -> Result<PeerId> {
        if (d.stopping || d.failed) return Error(Code::Unavailable, "the raft node is stopping");
        if (d.core->role() != Role::Leader) {
          return Error(Code::NotLeader,
                       "leadership transfer starts on the leader (" + std::to_string(d.core->leader()) + ")");
        }
        const Status st = d.core->status();
        PeerId t = target;
        if (t == 0) {
          LogIndex best(0);
          for (const auto& [id, pr] : st.progress) {
            if (id != d.opts.id && st.conf.is_voter(id) && (t == 0 || pr.match > best)) {
              t = id;
              best = pr.match;
            }
          }
          if (t == 0) return Error(Code::InvalidArgument, "no other voter to hand leadership to");
        }
        if (t == d.opts.id) return t;
        CST_TRY(d.core->transfer_leadership(t));
        d.pump();
        return t;
      },
      Result<PeerId>(Error(Code::Unavailable, "the raft node is stopped")));
  if (!chosen) return std::move(chosen).error();
  while (Clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> g(d.status_mu);
      if (d.published.leader == *chosen) return ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Error(Code::Timeout, "leadership did not move to " + std::to_string(*chosen) + " in time");
}

Result<void> Runtime::change(ConfChange cc, const std::string& address, Clock::time_point deadline) {
  Impl& d = *impl_;
  if (d.stopped) return Error(Code::Unavailable, "the raft node is stopped");
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto future = promise->get_future();
  const bool queued = d.post([&d, promise, cc, address] {
    if (d.stopping || d.failed) {
      promise->set_value(Error(Code::Unavailable, "the raft node is stopping"));
      return;
    }
    if (!address.empty()) d.transport->set_peer(cc.peer, address);
    auto r = d.core->propose_conf_change(cc);
    if (!r) {
      promise->set_value(std::move(r).error());
      return;
    }
    d.conf_waiters[r->value()] = promise;
    d.pump();
  });
  if (!queued) return Error(Code::Unavailable, "the raft node is stopped");
  if (future.wait_until(deadline) != std::future_status::ready) {
    return Error(Code::Timeout, "the membership change did not commit in time (it may still)");
  }
  return future.get();
}

Result<std::uint64_t> Runtime::wait_for_leader(Clock::time_point deadline) {
  Impl& d = *impl_;
  for (;;) {
    {
      std::lock_guard<std::mutex> g(d.status_mu);
      if (d.published.leader != 0) return d.published.leader;
    }
    if (Clock::now() >= deadline) return Error(Code::Timeout, "no leader elected in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

RaftStatus Runtime::status() const {
  std::lock_guard<std::mutex> g(impl_->status_mu);
  return impl_->published;
}

Runtime::WriteCounts Runtime::write_counts() const {
  return {impl_->saves_on_loop.load(std::memory_order_relaxed),
          impl_->saves_on_storage_thread.load(std::memory_order_relaxed)};
}

std::uint64_t Runtime::revision() const {
  std::lock_guard<std::mutex> g(impl_->status_mu);
  return impl_->published_revision;
}

int Runtime::raft_port() const { return impl_->port; }

void Runtime::set_peer_address(std::uint64_t id, const std::string& address) {
  Impl& d = *impl_;
  if (d.stopped || id == d.opts.id || address.empty()) return;
  (void)d.post([&d, id, address] {
    if (!d.stopping) d.transport->set_peer(id, address);
  });
}
const RaftOptions& Runtime::options() const { return impl_->opts; }

}  // namespace constellation::raftnode
