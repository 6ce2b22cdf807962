// SPDX-License-Identifier: Apache-2.0
// The SQLite Raft log: round trips, truncation and compaction, and damage detected with a clear
// error (a flipped entry, a truncated file, a file that is not ours).
#include "io/store/raft_store.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace constellation;
using namespace constellation::raft;
using constellation::io::store::RaftStore;

namespace {
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/cst-raftstore-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

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

void exec(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  REQUIRE(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(h);
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
  exec(dir.path + "/raft.db", "UPDATE entries SET data = X'6578' WHERE idx = 3");
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
  exec(dir.path + "/raft.db", "PRAGMA wal_checkpoint(TRUNCATE)");
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
