// SPDX-License-Identifier: Apache-2.0
//
// DNS automation as a library: given the DNS configuration (zones, providers, safety settings)
// and a cluster snapshot, plan the record changes that make public DNS follow the healthy nodes,
// and optionally apply them under a fencing token. The same engine runs inside the agent (on the
// holder of the "dns" lease) and in the standalone constellation-dnsbot. docs/dns.md describes
// the configuration and snapshot documents and the safety guarantees.
#pragma once

#include <constellation/result.hpp>

#include <cstddef>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace constellation::dns {

/// Options of one Engine::run().
struct RunOptions {
  /// Write the planned changes. false (the default): dry run — list, plan, write nothing.
  bool apply = false;
  /// Fencing token the writes are made under, when `fence` is not set. Default 1.
  std::uint64_t fencing_token = 1;
  /// Called before every batch (and by adapters before every write request): the current fencing
  /// token of the caller's "dns" lease, or 0 when it does not hold the lease. A changed or zero
  /// token stops the run before the next write. Called on the calling thread. Optional.
  std::function<std::uint64_t()> fence;
  /// Pending deletions (grace periods) from a previous run, as returned in RunReport::state_json;
  /// empty for none.
  std::string state_json;
  /// How long a fresh writer holds deletions back (the config's holder_settle applies only to
  /// long-running writers). Default 0 s: a one-shot run is deliberate.
  std::chrono::milliseconds settle{0};
};

/// What a run found and did.
struct RunReport {
  /// The plan for people (what `dnsbot plan` prints).
  std::string plan_text;
  /// The plan as JSON (docs/dns.md, "Plan document").
  std::string plan_json;
  /// Pending deletions to pass to the next run (RunOptions::state_json).
  std::string state_json;
  std::size_t creates = 0;
  std::size_t updates = 0;
  std::size_t deletes = 0;
  /// Changes kept back by a guard (grace period, partial view, abnormal shrink, fresh writer).
  std::size_t held = 0;
  /// Names left alone because records we do not own hold them.
  std::size_t conflicts = 0;
  /// Changes written (0 for a dry run).
  std::size_t applied = 0;
  /// True when the run stopped early (lease lost, provider error); `abort_reason` says why.
  bool aborted = false;
  std::string abort_reason;
  /// Provider API requests made by this run (lists and writes), summed over providers.
  std::uint64_t requests = 0;
};

/// The DNS writer. Thread rules: one run() at a time per Engine (calls are serialised
/// internally); different Engines are independent. Providers keep their listing caches and
/// request budgets between runs of the same Engine.
class CST_API Engine {
 public:
  /// Parses the configuration document (JSON: {"owner", "zones", "providers", "safety"}, or the
  /// same object under a top-level "dns" key) and builds the providers. Nothing is contacted.
  /// Errors: InvalidArgument (with the path of the bad field), Io (a secret file cannot be read).
  static Result<std::unique_ptr<Engine>> open(std::string_view config_json);

  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Lists every zone, computes the plan from the snapshot (JSON, docs/dns.md "Snapshot input")
  /// and, with options.apply, writes it in batches, checking the fence before each. Errors:
  /// InvalidArgument (bad snapshot or state document). Provider failures do not fail the call:
  /// they end the run early (RunReport::aborted) and nothing unsafe is written.
  Result<RunReport> run(std::string_view snapshot_json, const RunOptions& options = {});

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The canonical form of a host name as the planner compares it: lower case, no trailing dot,
/// IDNA A-labels (RFC 3492 Punycode). Errors: InvalidArgument naming the bad label.
CST_API Result<std::string> normalize_hostname(std::string_view name);

/// The host names a Traefik router rule matches (v2 and v3 syntax; HostRegexp and negated
/// hosts excluded), not normalised. Errors: InvalidArgument with the offset of a syntax error.
CST_API Result<std::vector<std::string>> hostnames_from_rule(std::string_view rule);

}  // namespace constellation::dns
