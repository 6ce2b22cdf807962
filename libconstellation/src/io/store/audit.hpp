// SPDX-License-Identifier: Apache-2.0
//
// The API audit log: one row per write request (who, what, when, from where, outcome) in the
// agent's own SQLite database (<data>/agent.db, table `audit`), newest rows kept up to a bound.
// It sits beside the structured log line the agent writes for the same request: the log line is
// for log shippers, the table answers GET /v1/audit after the log has rotated away.
//
// Durability: WAL with synchronous=NORMAL — a row survives a crash of the agent; a power cut can
// lose the last few rows (the Raft log, not this table, is what must never lose a write).
// Thread-safe: append() and recent() may be called from any thread (one internal mutex).
#pragma once

#include <constellation/result.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace constellation::io::store {

/// One audited request.
struct AuditEntry {
  /// Row id, strictly increasing across the life of the database (set by append; ignored on input).
  std::int64_t id = 0;
  /// Wall time the request arrived, nanoseconds since the Unix epoch (UTC).
  std::int64_t unix_nanos = 0;
  /// The token's name, "anonymous" (API without tokens) or "unauthenticated" (refused with 401).
  std::string principal;
  /// "read", "write", "admin", or "" when the caller was not authenticated.
  std::string role;
  std::string method;
  /// Request path without the query string.
  std::string path;
  /// The client's IP address as the server saw it.
  std::string remote_address;
  /// HTTP status of the answer.
  int status = 0;
  /// Error message of a refused or failed request; "" on success.
  std::string detail;
};

struct AuditLogOptions {
  /// Rows kept: appending row N deletes rows older than N - max_rows. Default 100,000 (about 20 MB).
  std::uint64_t max_rows = 100000;
};

class AuditLog {
 public:
  /// Opens or creates the database file at `path` and its `audit` table. Errors: Io (cannot open
  /// or create), Corrupt (the file is not a Constellation agent database, or SQLite finds it
  /// malformed; the message names the file).
  static Result<std::unique_ptr<AuditLog>> open(const std::string& path, AuditLogOptions options = {});
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  /// Stores one record (its id is assigned) and drops the ones beyond max_rows, in one
  /// transaction. Returns the new row id. Errors: Io (disk full, I/O error).
  Result<std::int64_t> append(const AuditEntry& entry);

  /// Up to `limit` most recent records, newest first. Errors: Io.
  Result<std::vector<AuditEntry>> recent(std::size_t limit) const;

  /// Rows currently stored. Errors: Io.
  Result<std::uint64_t> count() const;

  const std::string& path() const { return path_; }

 private:
  struct Impl;
  AuditLog(std::string path, std::unique_ptr<Impl> impl);
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace constellation::io::store
