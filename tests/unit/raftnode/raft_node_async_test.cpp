// SPDX-License-Identifier: Apache-2.0
// RaftNode's asynchronous forms (put_async, acquire_async, renew_async) on a single voter: each
// answers exactly once with what its blocking form returns.
#include <constellation/raft.hpp>
#include "cst_test/files.hpp"
#include "cst_test/raft.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <random>
#include <string>

using namespace constellation;
using namespace std::chrono_literals;

namespace {

using cst_test::TempDir;

std::unique_ptr<RaftNode> single_voter(const TempDir& dir) {
  RaftOptions o = cst_test::single_voter_options(dir.path);
  auto node = RaftNode::open(o);
  REQUIRE(node.has_value());
  REQUIRE((*node)->wait_for_leader(5000ms).has_value());
  return std::move(*node);
}

template <class T>
T wait(std::future<T>& f) {
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  return f.get();
}

}  // namespace

TEST_CASE("put_async answers with the revision, and the value is there") {
  TempDir dir;
  auto node = single_voter(dir);
  std::promise<Result<std::uint64_t>> p;
  auto f = p.get_future();
  node->put_async("a", "1", [&p](Result<std::uint64_t> r) { p.set_value(std::move(r)); });
  auto r = wait(f);
  REQUIRE(r.has_value());
  CHECK(*r > 0);
  auto kv = node->get("a");
  REQUIRE(kv.has_value());
  CHECK(kv->value == "1");
  CHECK(kv->mod_revision == *r);
}

TEST_CASE("put_async with an empty key answers InvalidArgument at once") {
  TempDir dir;
  auto node = single_voter(dir);
  bool called = false;
  node->put_async("", "x", [&](Result<std::uint64_t> r) {
    called = true;
    CHECK(r.error().code() == Code::InvalidArgument);
  });
  CHECK(called);
}

TEST_CASE("acquire_async grants a fencing token, renew_async keeps it, a rival gets Conflict") {
  TempDir dir;
  auto node = single_voter(dir);
  std::promise<Result<LeaseGrant>> p1, p2, p3;
  auto f1 = p1.get_future(), f2 = p2.get_future(), f3 = p3.get_future();
  node->acquire_async("job", "alice", 5000ms, 0ms, [&](Result<LeaseGrant> r) { p1.set_value(std::move(r)); });
  auto g = wait(f1);
  REQUIRE(g.has_value());
  CHECK(g->token > 0);
  CHECK(g->holder == "alice");
  node->renew_async("job", "alice", g->token, [&](Result<LeaseGrant> r) { p2.set_value(std::move(r)); });
  auto renewed = wait(f2);
  REQUIRE(renewed.has_value());
  CHECK(renewed->token == g->token);
  CHECK(renewed->expiry_cluster_ns >= g->expiry_cluster_ns);
  node->acquire_async("job", "bob", 5000ms, 0ms, [&](Result<LeaseGrant> r) { p3.set_value(std::move(r)); });
  auto rival = wait(f3);
  REQUIRE_FALSE(rival.has_value());
  CHECK(rival.error().code() == Code::Conflict);
}

TEST_CASE("requests to a stopped node answer Unavailable") {
  TempDir dir;
  auto node = single_voter(dir);
  node->stop();
  bool called = false;
  node->acquire_async("job", "alice", 5000ms, 0ms, [&](Result<LeaseGrant> r) {
    called = true;
    CHECK(r.error().code() == Code::Unavailable);
  });
  CHECK(called);
}
