// SPDX-License-Identifier: Apache-2.0
#include "io/store/audit.hpp"

#include <sqlite3.h>

#include <mutex>

namespace constellation::io::store {

namespace {

// "CSTA" — the agent's database; a file with another application id is refused.
constexpr int kApplicationId = 0x43535441;
constexpr int kSchemaVersion = 1;

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS audit (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  unix_nanos  INTEGER NOT NULL,
  principal   TEXT NOT NULL,
  role        TEXT NOT NULL,
  method      TEXT NOT NULL,
  path        TEXT NOT NULL,
  remote      TEXT NOT NULL,
  status      INTEGER NOT NULL,
  detail      TEXT NOT NULL
);
)sql";

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

void bind(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

}  // namespace

struct AuditLog::Impl {
  sqlite3* db = nullptr;
  std::string path;
  AuditLogOptions options;
  mutable std::mutex mu;
  Stmt begin, commit, rollback, insert, prune, select_recent, select_count;

  // sqlite3_close_v2 defers the close until the statements (members, finalized after this body)
  // are gone.
  ~Impl() { sqlite3_close_v2(db); }

  Error err(const std::string& what) const {
    const int code = sqlite3_extended_errcode(db) & 0xff;
    const std::string msg = what + " on " + path + ": " + sqlite3_errmsg(db);
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
      return Error(Code::Corrupt, msg +
                                      " (the agent database is damaged; it holds only the audit log: move it "
                                      "aside and restart the agent to begin a new one)");
    }
    return Error(Code::Io, msg);
  }

  Result<void> exec(const std::string& sql) {
    char* e = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &e) != SQLITE_OK) {
      std::string m = e ? e : "?";
      sqlite3_free(e);
      return err("\"" + sql + "\" failed: " + m);
    }
    return ok();
  }

  Result<void> prepare(Stmt& st, const char* sql) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st.s, nullptr) != SQLITE_OK) {
      return err(std::string("preparing \"") + sql + "\"");
    }
    return ok();
  }

  // Runs a statement that returns no rows and resets it.
  Result<void> step_done(const Stmt& st, const char* what) const {
    const int rc = sqlite3_step(st.s);
    sqlite3_reset(st.s);
    sqlite3_clear_bindings(st.s);
    if (rc != SQLITE_DONE) return err(what);
    return ok();
  }
};

AuditLog::AuditLog(std::string path, std::unique_ptr<Impl> impl) : path_(std::move(path)), impl_(std::move(impl)) {}
AuditLog::~AuditLog() = default;

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path, AuditLogOptions options) {
  if (options.max_rows == 0) return Error(Code::InvalidArgument, "audit log: max_rows must be at least 1");
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;
  const int rc = sqlite3_open_v2(path.c_str(), &impl->db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    if (!impl->db) return Error(Code::Io, "cannot open " + path + ": out of memory");
    return impl->err("opening");
  }
  sqlite3_extended_result_codes(impl->db, 1);
  sqlite3_busy_timeout(impl->db, 5000);  // `sqlite3 agent.db` reading alongside the agent
  {
    Stmt st;
    CST_TRY(impl->prepare(st, "PRAGMA application_id"));
    if (sqlite3_step(st.s) != SQLITE_ROW) return impl->err("reading the header");
    const int app = sqlite3_column_int(st.s, 0);
    if (app != 0 && app != kApplicationId) {
      return Error(Code::Corrupt,
                   path + " is not a Constellation agent database (application id " + std::to_string(app) + ")");
    }
  }
  CST_TRY(impl->exec("PRAGMA journal_mode=WAL"));
  CST_TRY(impl->exec("PRAGMA synchronous=NORMAL"));
  CST_TRY(impl->exec("PRAGMA journal_size_limit=16777216"));
  CST_TRY(impl->exec(kSchema));
  CST_TRY(impl->exec("PRAGMA application_id=" + std::to_string(kApplicationId)));
  CST_TRY(impl->exec("PRAGMA user_version=" + std::to_string(kSchemaVersion)));
  CST_TRY(impl->prepare(impl->begin, "BEGIN IMMEDIATE"));
  CST_TRY(impl->prepare(impl->commit, "COMMIT"));
  CST_TRY(impl->prepare(impl->rollback, "ROLLBACK"));
  CST_TRY(impl->prepare(impl->insert,
                        "INSERT INTO audit(unix_nanos, principal, role, method, path, remote, status, detail) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  // Ids are never reused (AUTOINCREMENT), so "older than N - max_rows" keeps exactly max_rows.
  CST_TRY(impl->prepare(impl->prune, "DELETE FROM audit WHERE id <= ?1"));
  CST_TRY(impl->prepare(impl->select_recent,
                        "SELECT id, unix_nanos, principal, role, method, path, remote, status, detail "
                        "FROM audit ORDER BY id DESC LIMIT ?1"));
  CST_TRY(impl->prepare(impl->select_count, "SELECT count(*) FROM audit"));
  return std::unique_ptr<AuditLog>(new AuditLog(path, std::move(impl)));
}

Result<std::int64_t> AuditLog::append(const AuditEntry& e) {
  Impl& d = *impl_;
  std::lock_guard lock(d.mu);
  CST_TRY(d.step_done(d.begin, "beginning a transaction"));
  auto body = [&]() -> Result<std::int64_t> {
    sqlite3_bind_int64(d.insert.s, 1, e.unix_nanos);
    bind(d.insert.s, 2, e.principal);
    bind(d.insert.s, 3, e.role);
    bind(d.insert.s, 4, e.method);
    bind(d.insert.s, 5, e.path);
    bind(d.insert.s, 6, e.remote_address);
    sqlite3_bind_int(d.insert.s, 7, e.status);
    bind(d.insert.s, 8, e.detail);
    CST_TRY(d.step_done(d.insert, "appending an audit record"));
    const std::int64_t id = sqlite3_last_insert_rowid(d.db);
    const auto keep = static_cast<std::int64_t>(d.options.max_rows);
    if (id > keep) {
      sqlite3_bind_int64(d.prune.s, 1, id - keep);
      CST_TRY(d.step_done(d.prune, "dropping old audit records"));
    }
    CST_TRY(d.step_done(d.commit, "committing an audit record"));
    return id;
  };
  auto r = body();
  if (!r) (void)d.step_done(d.rollback, "rolling back");
  return r;
}

Result<std::vector<AuditEntry>> AuditLog::recent(std::size_t limit) const {
  const Impl& d = *impl_;
  std::lock_guard lock(d.mu);
  std::vector<AuditEntry> out;
  sqlite3_bind_int64(d.select_recent.s, 1, static_cast<sqlite3_int64>(limit));
  int rc;
  while ((rc = sqlite3_step(d.select_recent.s)) == SQLITE_ROW) {
    sqlite3_stmt* s = d.select_recent.s;
    AuditEntry e;
    e.id = sqlite3_column_int64(s, 0);
    e.unix_nanos = sqlite3_column_int64(s, 1);
    e.principal = column_text(s, 2);
    e.role = column_text(s, 3);
    e.method = column_text(s, 4);
    e.path = column_text(s, 5);
    e.remote_address = column_text(s, 6);
    e.status = sqlite3_column_int(s, 7);
    e.detail = column_text(s, 8);
    out.push_back(std::move(e));
  }
  sqlite3_reset(d.select_recent.s);
  sqlite3_clear_bindings(d.select_recent.s);
  if (rc != SQLITE_DONE) return d.err("reading the audit log");
  return out;
}

Result<std::uint64_t> AuditLog::count() const {
  const Impl& d = *impl_;
  std::lock_guard lock(d.mu);
  std::uint64_t n = 0;
  const int rc = sqlite3_step(d.select_count.s);
  if (rc == SQLITE_ROW) n = static_cast<std::uint64_t>(sqlite3_column_int64(d.select_count.s, 0));
  sqlite3_reset(d.select_count.s);
  if (rc != SQLITE_ROW) return d.err("counting audit records");
  return n;
}

}  // namespace constellation::io::store
