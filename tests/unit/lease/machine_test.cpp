// SPDX-License-Identifier: Apache-2.0
#include "lease/machine.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::lease;

namespace {
constexpr std::uint64_t kSec = 1000000000ull;

struct Driver {
  Machine m;
  std::uint64_t index = 0;
  Response run(Command c, ClusterTime t) { return m.apply(++index, t, c.encode()); }
  Response acquire(const std::string& name, const std::string& holder, std::uint64_t ttl_s, ClusterTime t,
                   std::uint64_t lock_delay_s = 0) {
    Command c;
    c.op = Op::Acquire;
    c.key = name;
    c.holder = holder;
    c.ttl_ns = ttl_s * kSec;
    c.lock_delay_ns = lock_delay_s * kSec;
    return run(c, t);
  }
  Response lease_op(Op op, const std::string& name, const std::string& holder, std::uint64_t token, ClusterTime t) {
    Command c;
    c.op = op;
    c.key = name;
    c.holder = holder;
    c.token = token;
    return run(c, t);
  }
  Response put(const std::string& k, const std::string& v, ClusterTime t, std::optional<std::uint64_t> expect = {}) {
    Command c;
    c.op = Op::Put;
    c.key = k;
    c.value = v;
    if (expect) {
      c.has_expected = true;
      c.expected_revision = *expect;
    }
    return run(c, t);
  }
};
}  // namespace

TEST_CASE("acquire returns a fencing token that strictly increases per name and is never reused") {
  Driver d;
  auto a = d.acquire("dns", "n1", 10, 0);
  REQUIRE(a.ok());
  CHECK(a.revision == 1);
  CHECK(a.expiry == 10 * kSec);
  auto b = d.acquire("dns", "n2", 10, 5 * kSec);
  CHECK(b.code == static_cast<int>(Code::Conflict));
  CHECK(b.message.find("held by 'n1'") != std::string::npos);
  auto c = d.acquire("dns", "n2", 10, 10 * kSec);  // expired at exactly 10 s
  REQUIRE(c.ok());
  CHECK(c.revision > a.revision);
  REQUIRE(d.m.last_transitions().size() == 1);
  CHECK(d.m.last_transitions()[0].kind == LeaseTransition::Kind::Granted);
}

TEST_CASE("renew extends in cluster time; a stale token is refused") {
  Driver d;
  auto a = d.acquire("x", "h", 10, 0);
  auto r = d.lease_op(Op::Renew, "x", "h", a.revision, 8 * kSec);
  REQUIRE(r.ok());
  CHECK(r.expiry == 18 * kSec);
  CHECK(r.revision == a.revision);
  CHECK(!d.lease_op(Op::Renew, "x", "h", a.revision + 1, 9 * kSec).ok());
  CHECK(!d.lease_op(Op::Renew, "x", "h", a.revision, 18 * kSec).ok());  // expired
}

TEST_CASE("release frees at once; expiry imposes the lock-delay") {
  Driver d;
  auto a = d.acquire("x", "h", 10, 0, 5);
  REQUIRE(d.lease_op(Op::Release, "x", "h", a.revision, 1 * kSec).ok());
  auto b = d.acquire("x", "g", 10, 2 * kSec, 5);
  REQUIRE(b.ok());
  // b expires at 12 s; lock-delay keeps everyone off until 17 s.
  auto c = d.acquire("x", "k", 10, 13 * kSec);
  CHECK(c.code == static_cast<int>(Code::Conflict));
  CHECK(c.message.find("lock-delay") != std::string::npos);
  CHECK(d.acquire("x", "k", 10, 17 * kSec).ok());
}

TEST_CASE("KV: put, compare-and-set on revision, delete, prefix list") {
  Driver d;
  auto p = d.put("app/a", "1", 0);
  REQUIRE(p.ok());
  CHECK(d.put("app/a", "2", 0, 0).code == static_cast<int>(Code::Conflict));  // must not exist
  CHECK(d.put("app/a", "2", 0, p.revision).ok());
  CHECK(d.put("app/a", "3", 0, p.revision).code == static_cast<int>(Code::Conflict));
  CHECK(d.put("app/b", "x", 0, 0).ok());
  CHECK(d.put("other", "y", 0).ok());
  auto l = d.m.list("app/");
  REQUIRE(l.size() == 2);
  CHECK(l[0].value == "2");
  CHECK(l[0].version == 2);
  Command del;
  del.op = Op::Delete;
  del.key = "app/b";
  CHECK(d.run(del, 0).ok());
  CHECK(d.m.list("app/").size() == 1);
  CHECK(d.run(del, 0).code == static_cast<int>(Code::NotFound));
}

TEST_CASE("watch: events after a revision under a prefix; compacted history says so") {
  Driver d;
  d.m = Machine(2);
  auto a = d.put("w/a", "1", 0);
  d.put("x", "1", 0);
  d.put("w/b", "1", 0);
  auto ev = d.m.events_since("w/", a.revision);
  REQUIRE(ev.has_value());
  REQUIRE(ev->size() == 1);
  CHECK(ev->at(0).kv.key == "w/b");
  CHECK(!d.m.events_since("w/", 0).has_value());
}

TEST_CASE("client sessions: a retried command applies once and returns the same response") {
  Driver d;
  Command c;
  c.op = Op::Put;
  c.key = "k";
  c.value = "v";
  c.session = 77;
  c.seq = 1;
  c.first_outstanding = 1;
  auto r1 = d.run(c, 0);
  auto r2 = d.run(c, 0);
  CHECK(r1 == r2);
  CHECK(d.m.get("k")->version == 1);
  c.seq = 2;
  c.first_outstanding = 2;
  CHECK(d.run(c, 0).ok());
  CHECK(d.m.get("k")->version == 2);
  c.seq = 1;  // answered and forgotten: refused, not re-applied
  CHECK(d.run(c, 0).code == static_cast<int>(Code::Conflict));
  CHECK(d.m.get("k")->version == 2);
  // A late retry still carrying the old bound (first_outstanding = 1) must not apply again:
  // the simulator found this one (seed 723).
  c.first_outstanding = 1;
  CHECK(d.run(c, 0).code == static_cast<int>(Code::Conflict));
  CHECK(d.m.get("k")->version == 2);
}

TEST_CASE("snapshot and restore reproduce the state byte for byte") {
  Driver d;
  d.put("a", "1", 0);
  d.acquire("l", "h", 10, kSec);
  Command c;
  c.op = Op::Put;
  c.key = "s";
  c.session = 5;
  c.seq = 3;
  d.run(c, 2 * kSec);
  Machine m2;
  REQUIRE(m2.restore(d.m.snapshot()).has_value());
  CHECK(m2.snapshot() == d.m.snapshot());
  CHECK(m2.lease("l")->holder == "h");
  auto bad = d.m.snapshot();
  bad.resize(bad.size() - 3);
  auto r = m2.restore(bad);
  REQUIRE(!r.has_value());
  CHECK(r.error().code() == Code::Corrupt);
}

TEST_CASE("a malformed command is refused identically everywhere, without changing state") {
  Machine m;
  std::uint8_t junk[] = {1, 99, 0};
  auto r = m.apply(1, 0, junk);
  CHECK(r.code == static_cast<int>(Code::InvalidArgument));
  CHECK(m.applied_index() == 1);
  CHECK(m.revision() == 0);
}
