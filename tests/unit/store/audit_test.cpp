// SPDX-License-Identifier: Apache-2.0
// The audit log table: records round-trip newest first, survive a reopen, keep only the newest
// max_rows, and a file that is not ours is refused with its name.
#include "io/store/audit.hpp"
#include "cst_test/files.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace constellation;
using constellation::io::store::AuditEntry;
using constellation::io::store::AuditLog;
using constellation::io::store::AuditLogOptions;

namespace {
using cst_test::TempDir;

AuditEntry record(int n, std::string principal = "ci", int status = 200) {
  AuditEntry e;
  e.unix_nanos = 1767225600LL * 1000000000LL + n;
  e.principal = std::move(principal);
  e.role = "write";
  e.method = "PUT";
  e.path = "/v1/kv/key" + std::to_string(n);
  e.remote_address = "127.0.0.1";
  e.status = status;
  e.detail = status == 200 ? "" : "refused";
  return e;
}
}  // namespace

TEST_CASE("audit log: append then recent returns the newest first, every field intact") {
  TempDir dir;
  auto log = AuditLog::open(dir.path + "/agent.db");
  REQUIRE(log);
  for (int i = 1; i <= 3; ++i)
    REQUIRE((*log)->append(record(i, i == 2 ? "unauthenticated" : "ci", i == 2 ? 401 : 200)));
  auto rows = (*log)->recent(10);
  REQUIRE(rows);
  REQUIRE(rows->size() == 3);
  CHECK((*rows)[0].path == "/v1/kv/key3");
  CHECK((*rows)[2].path == "/v1/kv/key1");
  CHECK((*rows)[0].id > (*rows)[1].id);
  const AuditEntry& mid = (*rows)[1];
  CHECK(mid.principal == "unauthenticated");
  CHECK(mid.status == 401);
  CHECK(mid.detail == "refused");
  CHECK(mid.role == "write");
  CHECK(mid.method == "PUT");
  CHECK(mid.remote_address == "127.0.0.1");
  CHECK(mid.unix_nanos == 1767225600LL * 1000000000LL + 2);
  auto two = (*log)->recent(2);
  REQUIRE(two);
  CHECK(two->size() == 2);
  CHECK((*two)[1].path == "/v1/kv/key2");
}

TEST_CASE("audit log: records survive closing and reopening the database") {
  TempDir dir;
  {
    auto log = AuditLog::open(dir.path + "/agent.db");
    REQUIRE(log);
    REQUIRE((*log)->append(record(7)));
  }
  auto log = AuditLog::open(dir.path + "/agent.db");
  REQUIRE(log);
  auto rows = (*log)->recent(5);
  REQUIRE(rows);
  REQUIRE(rows->size() == 1);
  CHECK((*rows)[0].path == "/v1/kv/key7");
  // Ids keep increasing after a reopen.
  auto id = (*log)->append(record(8));
  REQUIRE(id);
  CHECK(*id > (*rows)[0].id);
}

TEST_CASE("audit log: retention keeps exactly the newest max_rows") {
  TempDir dir;
  AuditLogOptions o;
  o.max_rows = 5;
  auto log = AuditLog::open(dir.path + "/agent.db", o);
  REQUIRE(log);
  for (int i = 1; i <= 12; ++i) REQUIRE((*log)->append(record(i)));
  auto n = (*log)->count();
  REQUIRE(n);
  CHECK(*n == 5);
  auto rows = (*log)->recent(100);
  REQUIRE(rows);
  REQUIRE(rows->size() == 5);
  CHECK(rows->front().path == "/v1/kv/key12");
  CHECK(rows->back().path == "/v1/kv/key8");
}

TEST_CASE("audit log: text with quotes, newlines and non-ASCII is stored as given") {
  TempDir dir;
  auto log = AuditLog::open(dir.path + "/agent.db");
  REQUIRE(log);
  AuditEntry e = record(1);
  e.path = "/v1/kv/caf\xc3\xa9'; DROP TABLE audit; --";
  e.detail = std::string("line1\nline2\0tail", 16);
  REQUIRE((*log)->append(e));
  auto rows = (*log)->recent(1);
  REQUIRE(rows);
  REQUIRE(rows->size() == 1);
  CHECK((*rows)[0].path == e.path);
  CHECK((*rows)[0].detail == e.detail);
}

TEST_CASE("audit log: a file that is not a database is refused by name; max_rows 0 is invalid") {
  TempDir dir;
  const std::string junk = dir.path + "/agent.db";
  {
    std::ofstream f(junk);
    f << std::string(4096, 'x');
  }
  auto bad = AuditLog::open(junk);
  REQUIRE(!bad);
  CHECK(bad.error().code() == Code::Corrupt);
  CHECK(bad.error().message().find(junk) != std::string::npos);

  AuditLogOptions zero;
  zero.max_rows = 0;
  auto invalid = AuditLog::open(dir.path + "/other.db", zero);
  REQUIRE(!invalid);
  CHECK(invalid.error().code() == Code::InvalidArgument);
}
