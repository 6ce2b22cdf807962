// SPDX-License-Identifier: Apache-2.0
#include "io/store/raft_store.hpp"

#include "core/bytes.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>

namespace constellation::io::store {

using namespace raft;

namespace {

// "CSTR" — identifies our file; a database with another application id is refused.
constexpr int kApplicationId = 0x43535452;
constexpr int kSchemaVersion = 1;

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS entries (
  idx   INTEGER PRIMARY KEY,
  term  INTEGER NOT NULL,
  type  INTEGER NOT NULL,
  ctime INTEGER NOT NULL,
  data  BLOB NOT NULL,
  crc   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS state (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
)sql";

// <data>/snapshots.db: snapshot data, which can be large, kept out of raft.db so that writing it
// neither stalls nor bloats the log's WAL. A rollback journal, not WAL: a new snapshot goes into
// pages freed by the previous one, written once (WAL would write it twice, once on checkpoint).
const char* kSnapshotSchema = R"sql(
CREATE TABLE IF NOT EXISTS snapshots (
  idx   INTEGER PRIMARY KEY,
  data  BLOB NOT NULL
);
)sql";

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

core::Bytes sealed(core::ByteWriter&& w) {
  const std::uint32_t crc = core::crc32c(w.view());
  w.u32be(crc);
  return std::move(w).take();
}

// The body of a sealed record, or nullopt when its checksum fails.
std::optional<core::ByteView> unseal(const void* data, int len) {
  if (len < 4) return std::nullopt;
  const auto* p = static_cast<const std::uint8_t*>(data);
  core::ByteView body(p, static_cast<std::size_t>(len) - 4);
  core::ByteReader r(core::ByteView(p + len - 4, 4));
  if (r.u32be("crc") != core::crc32c(body)) return std::nullopt;
  return body;
}

// One SQLite connection and the helpers every statement goes through.
struct Conn {
  sqlite3* db = nullptr;
  std::string path;

  Error err(const std::string& what) const {
    const int code = sqlite3_extended_errcode(db) & 0xff;
    const std::string msg = what + " on " + path + ": " + sqlite3_errmsg(db);
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
      return Error(Code::Corrupt, msg + " (the Raft log is damaged: restore this node from a backup, or remove its "
                                        "data directory and re-add it to the cluster; see docs/raft.md)");
    }
    return Error(Code::Io, msg);
  }

  Result<void> exec(const char* sql) {
    char* e = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &e) != SQLITE_OK) {
      std::string m = e ? e : "?";
      sqlite3_free(e);
      return err(std::string("\"") + sql + "\" failed: " + m);
    }
    return ok();
  }

  Result<void> prepare(Stmt& st, const char* sql) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st.s, nullptr) != SQLITE_OK) {
      return err(std::string("preparing \"") + sql + "\"");
    }
    return ok();
  }

  Result<void> step_done(Stmt& st, const char* what) {
    const int rc = sqlite3_step(st.s);
    sqlite3_reset(st.s);
    sqlite3_clear_bindings(st.s);
    if (rc != SQLITE_DONE) return err(what);
    return ok();
  }

  // Opens `path` for this process alone, checks it is ours (or new) and undamaged, and creates
  // `schema`. Every commit is fsynced (synchronous=FULL: nothing acknowledged is lost); deleted
  // content is not zeroed on disk (Debian builds SQLite with secure_delete on), so compaction
  // and a replaced snapshot free pages without writing them again.
  Result<void> open(std::string p, const char* journal_mode, const char* schema) {
    path = std::move(p);
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    if (rc != SQLITE_OK) {
      if (!db) return Error(Code::Io, "cannot open " + path + ": out of memory");
      return err("opening");
    }
    sqlite3_extended_result_codes(db, 1);
    // Only this process opens the file (the data directory is locked while the node runs), so
    // the connection keeps its locks (and a WAL index) in its own memory: no lock or
    // shared-memory system calls on each transaction. Must come before the first read.
    CST_TRY(exec("PRAGMA locking_mode=EXCLUSIVE"));
    {
      // A file that is not a database (or a truncated one) fails here with SQLITE_NOTADB/CORRUPT.
      Stmt st;
      CST_TRY(prepare(st, "PRAGMA application_id"));
      if (sqlite3_step(st.s) != SQLITE_ROW) return err("reading the header");
      const int app = sqlite3_column_int(st.s, 0);
      if (app != 0 && app != kApplicationId) {
        return Error(Code::Corrupt,
                     path + " is not a Constellation Raft file (application id " + std::to_string(app) + ")");
      }
    }
    CST_TRY(exec((std::string("PRAGMA journal_mode=") + journal_mode).c_str()));
    CST_TRY(exec("PRAGMA synchronous=FULL"));
    CST_TRY(exec("PRAGMA secure_delete=FAST"));
    CST_TRY(quick_check());
    CST_TRY(exec(schema));
    CST_TRY(exec(("PRAGMA application_id=" + std::to_string(kApplicationId)).c_str()));
    CST_TRY(exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str()));
    return ok();
  }

  // Structural check of every page (cheap for a compacted log): a damaged file is refused
  // before anything is served from it.
  Result<void> quick_check() {
    Stmt st;
    CST_TRY(prepare(st, "PRAGMA quick_check"));
    if (sqlite3_step(st.s) != SQLITE_ROW) return err("checking the database");
    const char* res = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0));
    if (!res || std::strcmp(res, "ok") != 0) {
      return Error(Code::Corrupt, path + " failed SQLite's integrity check: " + std::string(res ? res : "?") +
                                      " (restore this node from a backup, or remove its data directory and re-add it; "
                                      "see docs/raft.md)");
    }
    return ok();
  }
};

}  // namespace

struct RaftStore::Impl {
  Conn log;  // raft.db: entries, hard state, the current snapshot's metadata (storage thread)
  Stmt begin, commit, rollback, put_state, del_state, del_from, del_upto, del_all, insert, select_all, select_state;
  // Index of the snapshot raft.db refers to (storage thread). The snapshot writer reads the
  // atomic copy to prune older snapshots only once raft.db no longer needs them.
  std::uint64_t snapshot_index = 0;
  std::atomic<std::uint64_t> recorded_index{0};

  std::mutex snap_mu;  // guards the snapshots.db connection (storage thread and snapshot writer)
  Conn snaps;
  Stmt snap_begin, snap_commit, snap_rollback, snap_insert, snap_select, snap_prune, snap_keep;

  // sqlite3_close_v2 defers a close until the statements (members, finalized after this body)
  // are gone.
  ~Impl() {
    sqlite3_close_v2(log.db);
    sqlite3_close_v2(snaps.db);
  }

  Result<void> put_state_blob(const char* key, const core::Bytes& value) {
    sqlite3_bind_text(put_state.s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(put_state.s, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    return log.step_done(put_state, "writing the hard state");
  }

  // Within a raft.db transaction: `s` (whose data is in snapshots.db) becomes the snapshot, and
  // the log entries it covers go (all of them for a snapshot from the leader).
  Result<void> refer_to_snapshot(const Snapshot& s, bool replaces_log) {
    core::ByteWriter w(64);
    w.varint(s.meta.index.value());
    w.varint(s.meta.term.value());
    w.prefixed(s.meta.conf.encode());
    w.varint(s.meta.cluster_time);
    w.u32be(s.crc);
    CST_TRY(put_state_blob("snapshot_ref", sealed(std::move(w))));
    sqlite3_bind_text(del_state.s, 1, "snapshot", -1, SQLITE_STATIC);  // the inline form of earlier builds
    CST_TRY(log.step_done(del_state, "replacing the snapshot record"));
    if (replaces_log) return log.step_done(del_all, "replacing the log with a snapshot");
    sqlite3_bind_int64(del_upto.s, 1, static_cast<sqlite3_int64>(s.meta.index.value()));
    return log.step_done(del_upto, "compacting the log");
  }

  // Writes a snapshot's data into snapshots.db, durable when it returns.
  Result<void> put_snapshot(const Snapshot& s) {
    std::lock_guard<std::mutex> g(snap_mu);
    // Snapshots older than the one raft.db refers to are not needed any more. Freed in a
    // transaction of their own, so that the insert below reuses their pages without journaling
    // them.
    sqlite3_bind_int64(snap_prune.s, 1, static_cast<sqlite3_int64>(recorded_index.load()));
    CST_TRY(snaps.step_done(snap_prune, "removing old snapshots"));
    CST_TRY(snaps.step_done(snap_begin, "beginning a transaction"));
    sqlite3_bind_int64(snap_insert.s, 1, static_cast<sqlite3_int64>(s.meta.index.value()));
    if (!s.data || s.data->empty()) {
      sqlite3_bind_zeroblob(snap_insert.s, 2, 0);
    } else {
      sqlite3_bind_blob64(snap_insert.s, 2, s.data->data(), s.data->size(), SQLITE_STATIC);
    }
    auto r = snaps.step_done(snap_insert, "writing a snapshot");
    if (r) r = snaps.step_done(snap_commit, "committing a snapshot (fsync)");
    // A failed write or commit (disk full) leaves the transaction open: close it, so that the
    // next compaction can try again.
    if (!r && !sqlite3_get_autocommit(snaps.db)) (void)snaps.step_done(snap_rollback, "rolling back");
    return r;
  }
};

RaftStore::RaftStore(std::string path, std::unique_ptr<Impl> impl) : path_(std::move(path)), impl_(std::move(impl)) {}
RaftStore::~RaftStore() = default;

Result<std::unique_ptr<RaftStore>> RaftStore::open(const std::string& dir, RaftStoreOptions options) {
  auto impl = std::make_unique<Impl>();
  Conn& log = impl->log;
  CST_TRY(log.open(dir + "/raft.db", "WAL", kSchema));
  CST_TRY(log.exec(("PRAGMA wal_autocheckpoint=" + std::to_string(options.wal_autocheckpoint_pages)).c_str()));
  CST_TRY(log.exec("PRAGMA journal_size_limit=67108864"));
  CST_TRY(log.prepare(impl->begin, "BEGIN IMMEDIATE"));
  CST_TRY(log.prepare(impl->commit, "COMMIT"));
  CST_TRY(log.prepare(impl->rollback, "ROLLBACK"));
  CST_TRY(log.prepare(impl->put_state, "INSERT OR REPLACE INTO state(key, value) VALUES (?1, ?2)"));
  CST_TRY(log.prepare(impl->del_state, "DELETE FROM state WHERE key = ?1"));
  CST_TRY(log.prepare(impl->del_from, "DELETE FROM entries WHERE idx >= ?1"));
  CST_TRY(log.prepare(impl->del_upto, "DELETE FROM entries WHERE idx <= ?1"));
  CST_TRY(log.prepare(impl->del_all, "DELETE FROM entries"));
  CST_TRY(log.prepare(impl->insert, "INSERT INTO entries(idx, term, type, ctime, data, crc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  CST_TRY(log.prepare(impl->select_all, "SELECT idx, term, type, ctime, data, crc FROM entries ORDER BY idx"));
  CST_TRY(log.prepare(impl->select_state, "SELECT value FROM state WHERE key = ?1"));

  Conn& snaps = impl->snaps;
  CST_TRY(snaps.open(dir + "/snapshots.db", "TRUNCATE", kSnapshotSchema));
  CST_TRY(snaps.prepare(impl->snap_begin, "BEGIN IMMEDIATE"));
  CST_TRY(snaps.prepare(impl->snap_commit, "COMMIT"));
  CST_TRY(snaps.prepare(impl->snap_rollback, "ROLLBACK"));
  CST_TRY(snaps.prepare(impl->snap_insert, "INSERT OR REPLACE INTO snapshots(idx, data) VALUES (?1, ?2)"));
  CST_TRY(snaps.prepare(impl->snap_select, "SELECT data FROM snapshots WHERE idx = ?1"));
  CST_TRY(snaps.prepare(impl->snap_prune, "DELETE FROM snapshots WHERE idx < ?1"));
  CST_TRY(snaps.prepare(impl->snap_keep, "DELETE FROM snapshots WHERE idx != ?1"));
  std::string path = log.path;
  return std::unique_ptr<RaftStore>(new RaftStore(std::move(path), std::move(impl)));
}

Result<InitialState> RaftStore::load(const ConfState& bootstrap) {
  Impl& d = *impl_;
  InitialState init;
  init.bootstrap = bootstrap;
  auto read_state = [&](const char* key) -> Result<std::optional<core::Bytes>> {
    sqlite3_bind_text(d.select_state.s, 1, key, -1, SQLITE_STATIC);
    const int rc = sqlite3_step(d.select_state.s);
    std::optional<core::Bytes> out;
    if (rc == SQLITE_ROW) {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(d.select_state.s, 0));
      out = core::Bytes(p, p + sqlite3_column_bytes(d.select_state.s, 0));
    }
    sqlite3_reset(d.select_state.s);
    sqlite3_clear_bindings(d.select_state.s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return d.log.err("reading state");
    return out;
  };
  std::string damage;
  CST_TRY_ASSIGN(auto hs, read_state("hard_state"));
  if (hs) {
    auto body = unseal(hs->data(), static_cast<int>(hs->size()));
    if (!body) {
      return Error(Code::Corrupt, path_ + ": the hard state (term and vote) failed its checksum; this node cannot "
                                          "know whom it voted for. Remove its data directory and re-add it (docs/raft.md)");
    }
    core::ByteReader r(*body);
    init.hard_state.term = Term(r.varint("term"));
    init.hard_state.vote = r.varint("vote");
    init.hard_state.commit = LogIndex(r.varint("commit"));
    if (!r.finish("hard state")) return Error(Code::Corrupt, path_ + ": the hard state does not decode");
  }
  // The snapshot: metadata in raft.db ("snapshot_ref"), data in snapshots.db. Earlier builds
  // kept both inline in raft.db ("snapshot"); such a file is read as it is and converted by the
  // next compaction (ADR 0063).
  auto decode_meta = [&](core::ByteReader& r) -> bool {
    init.snapshot.meta.index = LogIndex(r.varint("index"));
    init.snapshot.meta.term = Term(r.varint("term"));
    auto conf = ConfState::decode(r.prefixed("conf", 1 << 20));
    init.snapshot.meta.cluster_time = r.varint("ctime");
    init.snapshot.crc = r.u32be("data_crc");
    if (!conf) return false;
    init.snapshot.meta.conf = *conf;
    return true;
  };
  CST_TRY_ASSIGN(auto ref, read_state("snapshot_ref"));
  CST_TRY_ASSIGN(auto inline_snap, ref ? std::optional<core::Bytes>() : read_state("snapshot"));
  if (ref) {
    auto body = unseal(ref->data(), static_cast<int>(ref->size()));
    if (!body) return Error(Code::Corrupt, path_ + ": the snapshot record failed its checksum (docs/raft.md: re-add the node)");
    core::ByteReader r(*body);
    if (!decode_meta(r) || !r.finish("snapshot record")) {
      return Error(Code::Corrupt, path_ + ": the snapshot record does not decode");
    }
    std::lock_guard<std::mutex> g(d.snap_mu);
    sqlite3_bind_int64(d.snap_select.s, 1, static_cast<sqlite3_int64>(init.snapshot.meta.index.value()));
    const int src = sqlite3_step(d.snap_select.s);
    if (src == SQLITE_ROW) {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(d.snap_select.s, 0));
      const auto n = static_cast<std::size_t>(sqlite3_column_bytes(d.snap_select.s, 0));
      init.snapshot.data = std::make_shared<const core::Bytes>(p, p + n);
    }
    sqlite3_reset(d.snap_select.s);
    sqlite3_clear_bindings(d.snap_select.s);
    if (src != SQLITE_ROW && src != SQLITE_DONE) return d.snaps.err("reading the snapshot");
    if (src == SQLITE_DONE) {
      return Error(Code::Corrupt, d.snaps.path + " has no snapshot at index " +
                                      std::to_string(init.snapshot.meta.index.value()) + ", which " + path_ +
                                      " refers to (docs/raft.md: restore both files together, or re-add the node)");
    }
  } else if (inline_snap) {
    auto body = unseal(inline_snap->data(), static_cast<int>(inline_snap->size()));
    if (!body) return Error(Code::Corrupt, path_ + ": the snapshot failed its checksum (docs/raft.md: re-add the node)");
    core::ByteReader r(*body);
    const bool meta_ok = decode_meta(r);
    auto data = r.rest();
    if (!r.ok() || !meta_ok) return Error(Code::Corrupt, path_ + ": the snapshot record does not decode");
    init.snapshot.data = std::make_shared<const core::Bytes>(data.begin(), data.end());
  }
  if (init.snapshot.data && core::crc32c(*init.snapshot.data) != init.snapshot.crc) {
    return Error(Code::Corrupt, path_ + ": the snapshot data failed its checksum (docs/raft.md: re-add the node)");
  }
  d.snapshot_index = init.snapshot.meta.index.value();
  d.recorded_index.store(d.snapshot_index);
  {
    // Snapshots nothing refers to (a compaction cut short by a crash) are dropped.
    std::lock_guard<std::mutex> g(d.snap_mu);
    sqlite3_bind_int64(d.snap_keep.s, 1, static_cast<sqlite3_int64>(ref ? d.snapshot_index : 0));
    CST_TRY(d.snaps.step_done(d.snap_keep, "removing unused snapshots"));
  }
  LogIndex expect = next(init.snapshot.meta.index);
  LogIndex stored_last(0);
  int rc;
  while ((rc = sqlite3_step(d.select_all.s)) == SQLITE_ROW) {
    Entry e;
    e.index = LogIndex(static_cast<std::uint64_t>(sqlite3_column_int64(d.select_all.s, 0)));
    e.term = Term(static_cast<std::uint64_t>(sqlite3_column_int64(d.select_all.s, 1)));
    e.type = static_cast<EntryType>(sqlite3_column_int(d.select_all.s, 2));
    e.cluster_time = static_cast<std::uint64_t>(sqlite3_column_int64(d.select_all.s, 3));
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(d.select_all.s, 4));
    if (p) e.data.assign(p, p + sqlite3_column_bytes(d.select_all.s, 4));
    e.crc = static_cast<std::uint32_t>(sqlite3_column_int64(d.select_all.s, 5));
    stored_last = e.index;
    if (!damage.empty() || e.index < expect) continue;
    if (e.index != expect) {
      damage = "entry " + std::to_string(expect.value()) + " is missing (the log jumps to " + std::to_string(e.index.value()) + ")";
      continue;
    }
    if (!e.intact()) {
      damage = "entry " + std::to_string(e.index.value()) + " failed its checksum (stored " + std::to_string(e.crc) +
               ", computed " + std::to_string(e.compute_crc()) + ")";
      continue;
    }
    init.entries.push_back(std::move(e));
    expect = next(expect);
  }
  sqlite3_reset(d.select_all.s);
  if (rc != SQLITE_DONE) return d.log.err("reading the log");
  if (!damage.empty()) {
    init.damage = path_ + ": " + damage;
    init.damaged_until = std::max(stored_last, init.hard_state.commit);
  }
  return init;
}

Result<void> RaftStore::save(const Ready& rd) { return save(std::vector<const Ready*>{&rd}); }

Result<void> RaftStore::put_snapshot(const Snapshot& s) { return impl_->put_snapshot(s); }

Result<void> RaftStore::save(const std::vector<const Ready*>& readys, const Snapshot* compacted) {
  auto durable = [](const Ready* rd) { return rd->hard_state || rd->snapshot || !rd->entries.empty(); };
  Impl& d = *impl_;
  // A compaction the log already has (or one a snapshot from the leader superseded) is dropped.
  if (compacted && compacted->meta.index.value() <= d.snapshot_index) compacted = nullptr;
  if (!compacted && std::none_of(readys.begin(), readys.end(), durable)) return ok();
  // Snapshot data goes to snapshots.db first, durable before raft.db refers to it.
  std::uint64_t snapshot_index = d.snapshot_index;
  for (const Ready* rd : readys) {
    if (rd->snapshot) {
      CST_TRY(d.put_snapshot(*rd->snapshot));
      snapshot_index = rd->snapshot->meta.index.value();
    }
  }
  if (compacted && compacted->meta.index.value() <= snapshot_index) compacted = nullptr;
  CST_TRY(d.log.step_done(d.begin, "beginning a transaction"));
  auto write = [&](const Ready& rd) -> Result<void> {
    if (rd.snapshot) CST_TRY(d.refer_to_snapshot(*rd.snapshot, rd.snapshot_from_leader));
    if (!rd.entries.empty()) {
      sqlite3_bind_int64(d.del_from.s, 1, static_cast<sqlite3_int64>(rd.entries.front().index.value()));
      CST_TRY(d.log.step_done(d.del_from, "truncating the log"));
      for (const Entry& e : rd.entries) {
        sqlite3_bind_int64(d.insert.s, 1, static_cast<sqlite3_int64>(e.index.value()));
        sqlite3_bind_int64(d.insert.s, 2, static_cast<sqlite3_int64>(e.term.value()));
        sqlite3_bind_int(d.insert.s, 3, static_cast<int>(e.type));
        sqlite3_bind_int64(d.insert.s, 4, static_cast<sqlite3_int64>(e.cluster_time));
        if (e.data.empty()) {
          sqlite3_bind_zeroblob(d.insert.s, 5, 0);  // a null pointer would bind NULL
        } else {
          sqlite3_bind_blob(d.insert.s, 5, e.data.data(), static_cast<int>(e.data.size()), SQLITE_STATIC);
        }
        sqlite3_bind_int64(d.insert.s, 6, static_cast<sqlite3_int64>(e.crc));
        CST_TRY(d.log.step_done(d.insert, "appending to the log"));
      }
    }
    if (rd.hard_state) {
      core::ByteWriter w;
      w.varint(rd.hard_state->term.value());
      w.varint(rd.hard_state->vote);
      w.varint(rd.hard_state->commit.value());
      CST_TRY(d.put_state_blob("hard_state", sealed(std::move(w))));
    }
    return ok();
  };
  auto body = [&]() -> Result<void> {
    for (const Ready* rd : readys) CST_TRY(write(*rd));
    // After the entries: a compaction covers only entries written before it.
    if (compacted) {
      CST_TRY(d.refer_to_snapshot(*compacted, false));
      snapshot_index = compacted->meta.index.value();
    }
    return ok();
  }();
  if (!body) {
    (void)d.log.step_done(d.rollback, "rolling back");
    return body;
  }
  // COMMIT in WAL mode with synchronous=FULL fsyncs the WAL before returning.
  CST_TRY(d.log.step_done(d.commit, "committing (fsync)"));
  commits_++;
  d.snapshot_index = snapshot_index;
  d.recorded_index.store(snapshot_index);
  return ok();
}

Result<LogIndex> RaftStore::force_new_configuration(const ConfState& conf) {
  if (conf.voters.empty()) return Error(Code::InvalidArgument, "the new configuration needs at least one voter");
  CST_TRY_ASSIGN(InitialState st, load(conf));
  if (!st.damage.empty()) {
    return Error(Code::Corrupt, "cannot recover from a damaged log (" + st.damage + "); pick another survivor");
  }
  const LogIndex last = st.entries.empty() ? st.snapshot.meta.index : st.entries.back().index;
  const Term last_term = st.entries.empty() ? st.snapshot.meta.term : st.entries.back().term;
  Entry e;
  e.index = next(last);
  e.term = Term(std::max(st.hard_state.term, last_term).value() + 1);
  e.type = EntryType::Config;
  e.cluster_time = st.entries.empty() ? st.snapshot.meta.cluster_time : st.entries.back().cluster_time;
  e.data = conf.encode();
  e.seal();
  Ready rd;
  rd.entries.push_back(e);
  rd.hard_state = HardState{e.term, kNoPeer, e.index};
  CST_TRY(save(rd));
  return e.index;
}

}  // namespace constellation::io::store
