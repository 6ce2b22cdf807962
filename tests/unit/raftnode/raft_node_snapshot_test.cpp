// SPDX-License-Identifier: Apache-2.0
// Compaction through a running RaftNode: snapshots are written to snapshots.db off the write
// path, the log on disk shrinks once they are durable, a node restarts from them, and a follower
// that fell behind a compaction catches up from the leader's snapshot.
#include <constellation/raft.hpp>
#include "cst_test/files.hpp"
#include "cst_test/raft.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>

using namespace constellation;
using namespace std::chrono_literals;

namespace {

using cst_test::TempDir;

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string value_of(int i) { return "value-" + std::to_string(i) + std::string(100, 'x'); }

}  // namespace

TEST_CASE("a single voter compacts into snapshots.db, shrinks its log and restarts from the snapshot") {
  TempDir dir;
  RaftOptions o = cst_test::single_voter_options(dir.path);
  o.snapshot_entries = 100;
  constexpr int kKeys = 1500;
  {
    auto node = RaftNode::open(o);
    REQUIRE(node.has_value());
    REQUIRE((*node)->wait_for_leader(5000ms).has_value());
    for (int i = 0; i < kKeys; ++i) REQUIRE((*node)->put("k" + std::to_string(i), value_of(i)).has_value());
    (*node)->stop();
  }
  // Compactions were recorded: raft.db kept only the tail of the log, and refers to a snapshot.
  const auto entries = cst_test::sqlite_int(dir.path + "/raft.db", "SELECT COUNT(*) FROM entries");
  CHECK(entries < kKeys);
  CHECK(cst_test::sqlite_int(dir.path + "/raft.db", "SELECT COUNT(*) FROM state WHERE key = 'snapshot_ref'") == 1);
  CHECK(cst_test::sqlite_int(dir.path + "/snapshots.db", "SELECT COUNT(*) FROM snapshots") >= 1);
  {
    auto node = RaftNode::open(o);
    REQUIRE(node.has_value());
    REQUIRE((*node)->wait_for_leader(5000ms).has_value());
    for (int i = 0; i < kKeys; i += 7) {
      auto kv = (*node)->get("k" + std::to_string(i));
      REQUIRE(kv.has_value());
      CHECK(kv->value == value_of(i));
    }
    CHECK((*node)->list("k").value().size() == kKeys);
    (*node)->stop();
  }
  // Opening dropped any snapshot raft.db does not refer to (one cut short by the stop).
  CHECK(cst_test::sqlite_int(dir.path + "/snapshots.db", "SELECT COUNT(*) FROM snapshots") == 1);
}

TEST_CASE("a follower behind a compaction catches up from the leader's snapshot and restarts from its own copy") {
  TempDir dir;
  std::map<std::uint64_t, std::string> voters;
  for (std::uint64_t id = 1; id <= 3; ++id) voters[id] = "127.0.0.1:" + std::to_string(free_port());
  auto options = [&](std::uint64_t id) {
    RaftOptions o;
    o.id = id;
    o.data_dir = dir.path + "/n" + std::to_string(id);
    o.voters = voters;
    o.cluster_key = "snapshot-test-cluster-key";
    o.tick = 10ms;
    o.log_level = "off";
    o.snapshot_entries = 50;
    return o;
  };
  std::map<std::uint64_t, std::unique_ptr<RaftNode>> nodes;
  for (std::uint64_t id = 1; id <= 3; ++id) {
    auto n = RaftNode::open(options(id));
    REQUIRE(n.has_value());
    nodes[id] = std::move(*n);
  }
  auto leader = nodes[1]->wait_for_leader(10s);
  REQUIRE(leader.has_value());
  const std::uint64_t lagging = *leader == 3 ? 2 : 3;
  REQUIRE(nodes[*leader]->put("first", "1").has_value());
  nodes[lagging]->stop();
  nodes.erase(lagging);
  constexpr int kKeys = 600;
  for (int i = 0; i < kKeys; ++i) REQUIRE(nodes[*leader]->put("k" + std::to_string(i), value_of(i)).has_value());
  const std::uint64_t last = nodes[*leader]->revision();

  auto caught_up = [&](RaftNode& n) {
    for (auto until = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < until;) {
      if (n.status().applied_index >= last) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  };
  for (int round = 0; round < 2; ++round) {
    // Round 0: it needs the leader's snapshot. Round 1: it restarts from what it stored.
    auto n = RaftNode::open(options(lagging));
    REQUIRE(n.has_value());
    REQUIRE(caught_up(**n));
    for (int i = 0; i < kKeys; i += 11) {
      auto kv = (*n)->get("k" + std::to_string(i));
      REQUIRE(kv.has_value());
      CHECK(kv->value == value_of(i));
    }
    CHECK((*n)->get("first").value().value == "1");
    (*n)->stop();
  }
  const std::string lag_dir = dir.path + "/n" + std::to_string(lagging);
  CHECK(cst_test::sqlite_int(lag_dir + "/raft.db", "SELECT COUNT(*) FROM state WHERE key = 'snapshot_ref'") == 1);
  CHECK(cst_test::sqlite_int(lag_dir + "/raft.db", "SELECT COUNT(*) FROM entries") < kKeys);
  for (auto& [id, n] : nodes) n->stop();
}
