// SPDX-License-Identifier: Apache-2.0
// The SQLite Raft log: round trips, truncation and compaction, and damage detected with a clear
// error (a flipped entry, a truncated file, a file that is not ours).
#include "io/store/raft_store.hpp"
#include "cst_test/files.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace constellation;
using namespace constellation::raft;
using constellation::io::store::RaftStore;

namespace {
using cst_test::TempDir;

Entry entry(std::uint64_t term, std::uint64_t index, std::string data) {
  Entry e;
  e.term = Term(term);
  e.index = LogIndex(index);
  e.cluster_time = index * 10;
  e.data.assign(data.begin(), data.end());
  e.seal();
  return e;
}

ConfState three() {
  ConfState c;
  c.voters = {1, 2, 3};
  return c;
}

}  // namespace

TEST_CASE("a Ready batch round-trips: entries, truncation, hard state, compaction, leader snapshot") {
  TempDir dir;
  {
    auto s = RaftStore::open(dir.path);
    REQUIRE(s.has_value());
    Ready rd;
    rd.hard_state = HardState{Term(2), 1, LogIndex(2)};
    for (int i = 1; i <= 5; ++i) rd.entries.push_back(entry(1, i, i == 1 ? "" : "e" + std::to_string(i)));
    REQUIRE((*s)->save(rd).has_value());
    Ready rd2;  // a new leader overwrites 4..5
    rd2.entries = {entry(2, 4, "x4")};
    REQUIRE((*s)->save(rd2).has_value());
    CHECK((*s)->commits() == 2);
  }
  {
    auto s = RaftStore::open(dir.path);
    REQUIRE(s.has_value());
    auto st = (*s)->load(three());
    REQUIRE(st.has_value());
    CHECK(st->damage.empty());
    CHECK(st->hard_state == HardState{Term(2), 1, LogIndex(2)});
    REQUIRE(st->entries.size() == 4);
    CHECK(st->entries.back() == entry(2, 4, "x4"));
    CHECK(st->bootstrap == three());
    // Compaction keeps what follows the snapshot.
    Ready rd;
    Snapshot snap;
    snap.meta = SnapshotMeta{LogIndex(3), Term(1), three(), 30};
    snap.data = std::make_shared<const core::Bytes>(core::Bytes{1, 2, 3});
    snap.crc = core::crc32c(*snap.data);
    rd.snapshot = snap;
    REQUIRE((*s)->save(rd).has_value());
    st = (*s)->load(three());
    REQUIRE(st.has_value());
    CHECK(st->snapshot.meta == snap.meta);
    CHECK(*st->snapshot.data == *snap.data);
    REQUIRE(st->entries.size() == 1);
    CHECK(st->entries[0].index == LogIndex(4));
    // A snapshot from the leader replaces the whole log.
    Ready rl;
    snap.meta.index = LogIndex(9);
    rl.snapshot = snap;
    rl.snapshot_from_leader = true;
    REQUIRE((*s)->save(rl).has_value());
    st = (*s)->load(three());
    CHECK(st->entries.empty());
    CHECK(st->snapshot.meta.index == LogIndex(9));
  }
}

TEST_CASE("an entry whose bytes changed on disk is reported as damage, and the log is cut there") {
  TempDir dir;
  {
    auto s = RaftStore::open(dir.path);
    Ready rd;
    for (int i = 1; i <= 4; ++i) rd.entries.push_back(entry(1, i, "e" + std::to_string(i)));
    rd.hard_state = HardState{Term(1), 1, LogIndex(4)};
    REQUIRE((*s)->save(rd).has_value());
  }
  cst_test::sqlite_exec(dir.path + "/raft.db", "UPDATE entries SET data = X'6578' WHERE idx = 3");
  auto s = RaftStore::open(dir.path);
  REQUIRE(s.has_value());
  auto st = (*s)->load(three());
  REQUIRE(st.has_value());
  CHECK(st->damage.find("entry 3 failed its checksum") != std::string::npos);
  CHECK(st->damage.find("raft.db") != std::string::npos);
  CHECK(st->entries.size() == 2);
  CHECK(st->damaged_until == LogIndex(4));
}

TEST_CASE("a truncated or foreign file is refused with an error naming it") {
  TempDir dir;
  {
    auto s = RaftStore::open(dir.path);
    Ready rd;
    for (int i = 1; i <= 300; ++i) rd.entries.push_back(entry(1, i, std::string(200, 'x')));
    REQUIRE((*s)->save(rd).has_value());
  }
  // Fold the WAL into the main file, then cut the file in the middle of a page.
  cst_test::sqlite_exec(dir.path + "/raft.db", "PRAGMA wal_checkpoint(TRUNCATE)");
  const auto size = std::filesystem::file_size(dir.path + "/raft.db");
  std::filesystem::resize_file(dir.path + "/raft.db", size / 2 + 100);
  auto s = RaftStore::open(dir.path);
  if (s.has_value()) {
    auto st = (*s)->load(three());
    REQUIRE(!st.has_value());
    CHECK(st.error().code() == Code::Corrupt);
  } else {
    CHECK(s.error().code() == Code::Corrupt);
    CHECK(s.error().message().find("raft.db") != std::string::npos);
  }

  TempDir other;
  std::ofstream(other.path + "/raft.db") << std::string(8192, 'z');
  auto bad = RaftStore::open(other.path);
  REQUIRE(!bad.has_value());
  CHECK(bad.error().code() == Code::Corrupt);
  CHECK(bad.error().message().find("raft.db") != std::string::npos);
}

TEST_CASE("force_new_configuration appends a committed configuration with a higher term") {
  TempDir dir;
  auto s = RaftStore::open(dir.path);
  Ready rd;
  rd.entries = {entry(3, 1, "a"), entry(3, 2, "b")};
  rd.hard_state = HardState{Term(4), 2, LogIndex(1)};
  REQUIRE((*s)->save(rd).has_value());
  ConfState solo;
  solo.voters = {1};
  auto idx = (*s)->force_new_configuration(solo);
  REQUIRE(idx.has_value());
  CHECK(*idx == LogIndex(3));
  auto st = (*s)->load(three());
  REQUIRE(st->entries.size() == 3);
  CHECK(st->entries[2].type == EntryType::Config);
  CHECK(st->entries[2].term == Term(5));
  CHECK(st->hard_state.commit == LogIndex(3));
  CHECK(st->hard_state.vote == kNoPeer);
}

namespace {
Snapshot snapshot_at(std::uint64_t index, core::Bytes data) {
  Snapshot s;
  s.meta = SnapshotMeta{LogIndex(index), Term(1), three(), index * 10};
  s.data = std::make_shared<const core::Bytes>(std::move(data));
  s.crc = core::crc32c(*s.data);
  return s;
}

}  // namespace

TEST_CASE("a compaction written with put_snapshot is recorded by the next save, after its entries") {
  TempDir dir;
  // (The store holds its files exclusively: they are inspected between openings.)
  {
    auto s = RaftStore::open(dir.path);
    REQUIRE(s.has_value());
    Ready rd;
    for (int i = 1; i <= 6; ++i) rd.entries.push_back(entry(1, i, "e" + std::to_string(i)));
    REQUIRE((*s)->save(rd).has_value());
    // Written (as a snapshot thread would), then the node stops before recording it.
    REQUIRE((*s)->put_snapshot(snapshot_at(4, core::Bytes(100000, 7))).has_value());
  }
  CHECK(cst_test::sqlite_int(dir.path + "/snapshots.db", "SELECT COUNT(*) FROM snapshots") == 1);
  {
    auto s = RaftStore::open(dir.path);
    auto st = (*s)->load(three());
    REQUIRE(st.has_value());
    CHECK(st->snapshot.empty());  // the log is whole
    CHECK(st->entries.size() == 6);
    // Written again, and recorded with the next batch, which appends 7 in the same transaction.
    const Snapshot snap = snapshot_at(4, core::Bytes(100000, 7));
    REQUIRE((*s)->put_snapshot(snap).has_value());
    Ready more;
    more.entries = {entry(1, 7, "e7")};
    REQUIRE((*s)->save({&more}, &snap).has_value());
  }
  CHECK(cst_test::sqlite_int(dir.path + "/snapshots.db", "SELECT COUNT(*) FROM snapshots") ==
        1);  // loading dropped the orphan
  CHECK(cst_test::sqlite_int(dir.path + "/raft.db", "SELECT COUNT(*) FROM entries") == 3);
  {
    auto s = RaftStore::open(dir.path);
    REQUIRE((*s)->load(three()).has_value());
    // An older compaction arriving late is ignored; a save with only a compaction commits it.
    const Snapshot old = snapshot_at(2, core::Bytes{1});
    REQUIRE((*s)->put_snapshot(old).has_value());
    REQUIRE((*s)->save({}, &old).has_value());
    const Snapshot newer = snapshot_at(5, core::Bytes(5000, 9));
    REQUIRE((*s)->put_snapshot(newer).has_value());
    REQUIRE((*s)->save({}, &newer).has_value());
    // The next snapshot write prunes those older than the recorded one (2 and 4).
    REQUIRE((*s)->put_snapshot(snapshot_at(6, core::Bytes{6})).has_value());
  }
  CHECK(cst_test::sqlite_int(dir.path + "/raft.db", "SELECT COUNT(*) FROM entries") == 2);
  CHECK(cst_test::sqlite_int(dir.path + "/snapshots.db", "SELECT COUNT(*) FROM snapshots") == 2);
  {
    auto s = RaftStore::open(dir.path);
    auto st = (*s)->load(three());
    REQUIRE(st.has_value());
    CHECK(st->damage.empty());
    CHECK(st->snapshot.meta == snapshot_at(5, {}).meta);
    CHECK(*st->snapshot.data == core::Bytes(5000, 9));
    REQUIRE(st->entries.size() == 2);
    CHECK(st->entries[0].index == LogIndex(6));
  }
  CHECK(cst_test::sqlite_int(dir.path + "/snapshots.db", "SELECT COUNT(*) FROM snapshots") == 1);
  CHECK(cst_test::sqlite_int(dir.path + "/snapshots.db", "SELECT idx FROM snapshots") == 5);
}

TEST_CASE("a snapshot record whose data is missing from snapshots.db is refused, naming both files") {
  TempDir dir;
  {
    auto s = RaftStore::open(dir.path);
    Ready rd;
    rd.snapshot = snapshot_at(3, core::Bytes{1, 2, 3});
    REQUIRE((*s)->save(rd).has_value());
  }
  cst_test::sqlite_exec(dir.path + "/snapshots.db", "DELETE FROM snapshots");
  auto s = RaftStore::open(dir.path);
  REQUIRE(s.has_value());
  auto st = (*s)->load(three());
  REQUIRE(!st.has_value());
  CHECK(st.error().code() == Code::Corrupt);
  CHECK(st.error().message().find("snapshots.db has no snapshot at index 3") != std::string::npos);
  CHECK(st.error().message().find("raft.db") != std::string::npos);
  // Damaged data fails its checksum.
  s->reset();
  {
    auto w = RaftStore::open(dir.path);
    REQUIRE((*w)->put_snapshot(snapshot_at(3, core::Bytes{1, 2, 4})).has_value());
  }
  auto again = RaftStore::open(dir.path);
  auto st2 = (*again)->load(three());
  REQUIRE(!st2.has_value());
  CHECK(st2.error().message().find("snapshot data failed its checksum") != std::string::npos);
}

TEST_CASE("a snapshot stored inline in raft.db by an earlier build still loads, and the next compaction moves it") {
  TempDir dir;
  {
    auto s = RaftStore::open(dir.path);
    Ready rd;
    for (int i = 1; i <= 5; ++i) rd.entries.push_back(entry(1, i, "e" + std::to_string(i)));
    REQUIRE((*s)->save(rd).has_value());
  }
  // The record as earlier builds wrote it: metadata, data CRC and data, sealed.
  const Snapshot old = snapshot_at(2, core::Bytes{4, 5, 6});
  core::ByteWriter w;
  w.varint(old.meta.index.value());
  w.varint(old.meta.term.value());
  w.prefixed(old.meta.conf.encode());
  w.varint(old.meta.cluster_time);
  w.u32be(old.crc);
  w.raw(*old.data);
  w.u32be(core::crc32c(w.view()));
  std::string hex;
  for (auto b : w.bytes()) {
    char h[3];
    std::snprintf(h, sizeof h, "%02x", b);
    hex += h;
  }
  cst_test::sqlite_exec(dir.path + "/raft.db", "INSERT INTO state(key, value) VALUES ('snapshot', X'" + hex + "')");
  {
    auto s = RaftStore::open(dir.path);
    auto st = (*s)->load(three());
    REQUIRE(st.has_value());
    CHECK(st->snapshot.meta == old.meta);
    CHECK(*st->snapshot.data == *old.data);
    CHECK(st->entries.size() == 3);
    const Snapshot next = snapshot_at(4, core::Bytes{7});
    REQUIRE((*s)->put_snapshot(next).has_value());
    REQUIRE((*s)->save({}, &next).has_value());
  }
  CHECK(cst_test::sqlite_int(dir.path + "/raft.db", "SELECT COUNT(*) FROM state WHERE key = 'snapshot'") == 0);
  auto s = RaftStore::open(dir.path);
  auto st = (*s)->load(three());
  REQUIRE(st.has_value());
  CHECK(st->snapshot.meta == snapshot_at(4, {}).meta);
  CHECK(st->entries.size() == 1);
}
