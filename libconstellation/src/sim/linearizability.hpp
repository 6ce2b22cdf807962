// SPDX-License-Identifier: Apache-2.0
//
// A linearizability checker: Wing & Gong's search with Lowe's improvements (a linked list of
// call/return events, linearize a pending call, undo on dead ends) and memoisation of
// (set of linearized operations, model state) — the algorithm of Porcupine and Knossos' "wgl".
// Histories are split per key (P-compositionality, Herlihy & Wing §3.3) and each part is checked
// alone. Operations whose outcome is unknown (a client timed out) return at +infinity: they may
// take effect at any point after their call, or never be observed.
//
// Models: a KV register with revisions (put, compare-and-set, delete, get) and a lease with
// fencing tokens and cluster-time expiry (acquire, renew, release).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace constellation::sim {

inline constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

/// One client operation on one key (or lease name), with its real-time call and return.
struct HistoryOp {
  enum class Kind : std::uint8_t { Put, Cas, Delete, Get, Acquire, Renew, Release };
  Kind kind = Kind::Get;
  std::uint64_t client = 0;
  std::string key;
  /// Real (global) time of the call and of the response; `ret == kNever` for an unknown outcome.
  std::uint64_t call = 0;
  std::uint64_t ret = kNever;
  // --- inputs ---
  std::string value;              // Put/Cas: value written; Acquire/Renew/Release: holder
  std::uint64_t expected = 0;     // Cas: expected revision (0: must not exist)
  std::uint64_t token = 0;        // Renew/Release: token presented
  std::uint64_t ttl = 0;          // Acquire: ttl (ns of cluster time)
  std::uint64_t lock_delay = 0;   // Acquire: lock-delay (ns)
  // --- outputs (meaningful only when known) ---
  bool ok = false;                // the operation succeeded
  bool found = false;             // Get: the key existed
  std::string out_value;          // Get: value read
  std::uint64_t revision = 0;     // Put/Cas/Delete: revision written; Get: mod revision read;
                                  // Acquire/Renew: token granted
  std::uint64_t applied_at = 0;   // lease ops: cluster time at which the command applied
  std::uint64_t expiry = 0;       // Acquire/Renew: expiry in cluster time
  /// Whether the outputs above are known (false: timed out with no way to learn the result).
  bool known = true;
};

struct CheckResult {
  bool linearizable = true;
  /// The key whose sub-history failed, and a description of it.
  std::string key;
  std::string explanation;
  /// The search gave up (state budget exhausted) on some key: treated as "not shown wrong".
  bool inconclusive = false;
  std::size_t states_explored = 0;
};

/// Checks a KV and lease history. `max_states` bounds the search per key.
CheckResult check_linearizable(const std::vector<HistoryOp>& history, std::size_t max_states = 2'000'000);

/// A history as JSON lines (one object per op) — the format real-process tests write and
/// tests/integration/lincheck reads. Errors are reported in `error` on parse failure.
std::string history_to_jsonl(const std::vector<HistoryOp>& history);
std::vector<HistoryOp> history_from_jsonl(const std::string& text, std::string* error);

}  // namespace constellation::sim
