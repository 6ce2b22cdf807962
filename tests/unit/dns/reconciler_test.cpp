// SPDX-License-Identifier: Apache-2.0
#include "dns/reconciler.hpp"
#include "fixtures.hpp"

#include <doctest/doctest.h>

#include <memory>

using namespace constellation;
using namespace constellation::dns;
using namespace dnstest;
using namespace std::chrono_literals;

namespace {

struct FakeLease final : LeasePort {
  std::optional<std::uint64_t> token;
  core::Instant valid_until = core::Instant::max();
  int calls = 0;
  LeaseStatus status(core::Instant) override {
    ++calls;
    return {token, valid_until};
  }
};

std::shared_ptr<const catalog::Snapshot> snapshot_with(int hosts, std::uint64_t gen = 1) {
  SnapshotBuilder b;
  b.snap.generation = gen;
  b.node(1, {"ingress"}, "198.51.100.1");
  for (int i = 0; i < hosts; ++i) b.instance(1, "s" + std::to_string(i), rule("Host(`h" + std::to_string(i) + ".example.com`)"));
  return std::make_shared<const catalog::Snapshot>(b.snap);
}

ReconcilerOptions small_batches() {
  ReconcilerOptions o;
  o.max_batch_changes = 1;
  o.request_timeout = 5s;
  return o;
}

}  // namespace

TEST_CASE("reconciler: a non-holder never lists or writes") {
  FakeLease lease;
  Reconciler r(config(), small_batches(), lease);
  r.set_snapshot(snapshot_with(3));
  core::Instant now = core::Instant::from_nanos(0);
  for (int i = 0; i < 10; ++i) {
    auto s = r.poll(now);
    CHECK(s.kind == Step::Kind::Idle);
    now += 30s;
  }
}

TEST_CASE("reconciler: list, plan, one fencing check per batch, then idle until the next cycle") {
  FakeLease lease;
  lease.token = 7;
  Reconciler r(config(), small_batches(), lease);
  r.set_snapshot(snapshot_with(3));
  core::Instant now = core::Instant::from_nanos(0);
  auto s = r.poll(now);
  REQUIRE(s.kind == Step::Kind::List);
  CHECK(s.zone == "example.com");
  CHECK(r.poll(now).kind == Step::Kind::Idle);  // one outstanding operation at a time
  r.on_listed("example.com", std::vector<ObservedRecord>{}, now);
  int applied = 0;
  for (;;) {
    const int before = lease.calls;
    s = r.poll(now);
    if (s.kind != Step::Kind::Apply) break;
    CHECK(lease.calls == before + 1);  // the fence is checked before each batch
    CHECK(s.batch.token == 7);
    CHECK(s.batch.changes.size() == 1);
    CHECK(s.batch.deadline == now + 5s);
    r.on_applied(s.batch.id, ok(), now);
    ++applied;
  }
  CHECK(applied == 3);
  CHECK(r.state() == Reconciler::State::Idle);
  CHECK(s.wake_at == now + 60s);
  CHECK(r.stats().changes_applied == 3);
  // A new snapshot generation starts a cycle at once.
  r.set_snapshot(snapshot_with(3, 2));
  CHECK(r.poll(now).kind == Step::Kind::List);
}

TEST_CASE("reconciler: losing the lease mid-plan stops before the next batch") {
  FakeLease lease;
  lease.token = 3;
  Reconciler r(config(), small_batches(), lease);
  r.set_snapshot(snapshot_with(5));
  core::Instant now = core::Instant::from_nanos(0);
  auto s = r.poll(now);
  r.on_listed(s.zone, std::vector<ObservedRecord>{}, now);
  s = r.poll(now);
  REQUIRE(s.kind == Step::Kind::Apply);
  r.on_applied(s.batch.id, ok(), now);
  s = r.poll(now);
  REQUIRE(s.kind == Step::Kind::Apply);
  lease.token.reset();  // lease lost while the second batch is in flight
  r.on_applied(s.batch.id, ok(), now);
  s = r.poll(now);
  CHECK(s.kind == Step::Kind::Idle);
  CHECK(r.stats().plans_aborted_lease == 1);
  CHECK(r.stats().batches_applied == 2);
  for (int i = 0; i < 5; ++i) CHECK(r.poll(now += 30s).kind == Step::Kind::Idle);
}

TEST_CASE("reconciler: a changed token (lease lost and regained) abandons the plan and starts fresh") {
  FakeLease lease;
  lease.token = 3;
  Reconciler r(config(), small_batches(), lease);
  r.set_snapshot(snapshot_with(4));
  core::Instant now = core::Instant::from_nanos(0);
  auto s = r.poll(now);
  r.on_listed(s.zone, std::vector<ObservedRecord>{}, now);
  s = r.poll(now);
  REQUIRE(s.kind == Step::Kind::Apply);
  r.on_applied(s.batch.id, ok(), now);
  lease.token = 9;
  s = r.poll(now);
  CHECK(s.kind == Step::Kind::List);  // re-list under the new token, never write under the old plan
  CHECK(r.stats().plans_aborted_lease == 1);
  CHECK(r.token() == 9u);
}

TEST_CASE("reconciler: a lease about to expire does not start a batch") {
  FakeLease lease;
  lease.token = 1;
  core::Instant now = core::Instant::from_nanos(0);
  lease.valid_until = now + 4s;  // less than the 5 s request timeout
  Reconciler r(config(), small_batches(), lease);
  r.set_snapshot(snapshot_with(2));
  auto s = r.poll(now);
  r.on_listed(s.zone, std::vector<ObservedRecord>{}, now);
  CHECK(r.poll(now).kind == Step::Kind::Idle);
  CHECK(r.stats().plans_aborted_lease == 1);
  CHECK(r.stats().batches_applied == 0);
}

TEST_CASE("reconciler: errors back off, retry-after wins, conflicts re-list after the shortest backoff") {
  FakeLease lease;
  lease.token = 1;
  Reconciler r(config(), small_batches(), lease);
  r.set_snapshot(snapshot_with(2));
  core::Instant now = core::Instant::from_nanos(0);
  auto s = r.poll(now);
  r.on_listed(s.zone, Error(Code::Unavailable, "HTTP 503"), now);
  s = r.poll(now);
  CHECK(s.kind == Step::Kind::Idle);
  CHECK(s.wake_at == now + 2s);
  s = r.poll(now + 2s);
  REQUIRE(s.kind == Step::Kind::List);
  now += 2s;
  r.on_listed(s.zone, std::vector<ObservedRecord>{}, now);
  s = r.poll(now);
  REQUIRE(s.kind == Step::Kind::Apply);
  r.on_applied(s.batch.id, Error(Code::Unavailable, "rate limited"), now, 300s);
  s = r.poll(now);
  CHECK(s.wake_at == now + 300s);
  CHECK(r.poll(now + 299s).kind == Step::Kind::Idle);
  s = r.poll(now + 300s);
  REQUIRE(s.kind == Step::Kind::List);
  now += 300s;
  r.on_listed(s.zone, std::vector<ObservedRecord>{}, now);
  s = r.poll(now);
  REQUIRE(s.kind == Step::Kind::Apply);
  r.on_applied(s.batch.id, Error(Code::Conflict, "81053"), now);
  CHECK(r.poll(now).kind == Step::Kind::Idle);
  CHECK(r.poll(now + 2s).kind == Step::Kind::List);  // the shortest backoff, then a fresh listing
}

TEST_CASE("split_batches: a name's changes stay together, deletes first") {
  std::vector<Change> cs;
  auto rec = [](std::string n, std::string ip) { return Record{n, RecordType::A, ip, 60, false, {}, {}}; };
  cs.push_back({ChangeKind::Create, std::nullopt, rec("a", "192.0.2.1"), ""});
  cs.push_back({ChangeKind::Create, std::nullopt, rec("a", "192.0.2.2"), ""});
  cs.push_back({ChangeKind::Delete, ObservedRecord{rec("b", "192.0.2.3"), "x", true}, std::nullopt, ""});
  cs.push_back({ChangeKind::Create, std::nullopt, rec("b", "192.0.2.4"), ""});
  auto batches = split_batches(cs, 1);
  REQUIRE(batches.size() == 2);
  CHECK(batches[0].size() == 2);
  CHECK(batches[1][0].kind == ChangeKind::Delete);
  CHECK(split_batches(cs, 200).size() == 1);
}
