// SPDX-License-Identifier: Apache-2.0
// Helpers the doctest executables share: a scratch directory that is always removed, and
// one-line probes of a SQLite file (to inspect or damage what the code under test wrote).
#pragma once

#include <doctest/doctest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

namespace cst_test {

/// A fresh directory, `<temp dir>/<prefix>-XXXXXX` made by mkdtemp (unique even when tests run
/// in parallel), removed with everything in it when the test ends — also when it fails.
/// `path` is a string, as most callers hand it to string APIs; `fs()` is the same as a path.
struct TempDir {
  std::string path;

  explicit TempDir(const std::string& prefix = "cst-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    REQUIRE_MESSAGE(::mkdtemp(tmpl.data()) != nullptr, "cannot create a directory like " << tmpl);
    path = std::move(tmpl);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::filesystem::path fs() const { return path; }
};

/// The integer the first row of `sql` returns (a COUNT(*), a pragma) from the database at `db`.
inline std::int64_t sqlite_int(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE_MESSAGE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK, "cannot open " << db);
  sqlite3_stmt* st = nullptr;
  const bool prepared = sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK;
  const bool row = prepared && sqlite3_step(st) == SQLITE_ROW;
  const std::int64_t n = row ? sqlite3_column_int64(st, 0) : 0;
  const std::string why = sqlite3_errmsg(h);
  sqlite3_finalize(st);
  sqlite3_close(h);
  REQUIRE_MESSAGE(row, sql << " on " << db << " returned no row: " << why);
  return n;
}

/// Runs `sql` (one or more statements) against the database at `db`.
inline void sqlite_exec(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE_MESSAGE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK, "cannot open " << db);
  char* err = nullptr;
  const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  const std::string why = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  REQUIRE_MESSAGE(rc == SQLITE_OK, sql << " on " << db << " failed: " << why);
}

}  // namespace cst_test
