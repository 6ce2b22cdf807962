// SPDX-License-Identifier: Apache-2.0
//
// The DNS writer as a state machine (docs/adr/0053-dns-single-writer.md). It runs on every node
// that may write DNS, but acts only while the node holds the "dns" lease:
//
//   Idle ──(cycle due, lease held)──► Listing zone 1..n ──► plan ──► Applying batch 1..m ──► Idle
//        ◄──────────── lease lost, token changed, or an error (with backoff) ──────────────┘
//
// It performs no I/O: poll() says what to do next (list a zone, apply a batch), the driver does
// it on a worker and reports back with on_listed() / on_applied(). Before handing out every
// batch it consults the lease port: the batch goes out only if this node still holds the lease
// with the same fencing token as when the plan was made, and the lease stays valid for at least
// the request timeout (so the write lands before another node can take the lease). Otherwise it
// drops the rest of the plan — it stops mid-plan — and starts over as a fresh holder if it gets
// the lease again. Each batch carries the token, and adapters that can enforce it server-side
// (RFC 2136 prerequisites) do. Not thread-safe: one control loop drives it.
#pragma once

#include "catalog/model.hpp"
#include "core/time.hpp"
#include "dns/config.hpp"
#include "dns/desired.hpp"
#include "dns/plan.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace constellation::dns {

/// The lease as the writer sees it.
struct LeaseStatus {
  /// The fencing token of this node's "dns" lease, or nullopt when it does not hold it.
  std::optional<std::uint64_t> token;
  /// Until when (on the caller's monotonic clock, with its drift margin applied) the lease is
  /// certainly still held.
  core::Instant valid_until;
};

/// Port to the Raft lease ("dns"). Implemented by the agent over the lease module; by tests with
/// a fake. Must be cheap: it is called before every batch.
class LeasePort {
 public:
  virtual ~LeasePort() = default;
  virtual LeaseStatus status(core::Instant now) = 0;
};

/// A unit of writing: changes to one zone, applied as one provider request where the provider
/// allows (Cloudflare batch, PowerDNS PATCH, one RFC 2136 UPDATE).
struct Batch {
  std::uint64_t id = 0;
  std::string zone;
  std::string provider;
  std::vector<Change> changes;
  /// The fencing token the batch is written under.
  std::uint64_t token = 0;
  /// The request must be abandoned by then (lease validity minus a margin).
  core::Instant deadline;
};

struct ReconcilerOptions {
  /// A full resynchronisation (list, plan, apply) at least this often, even without changes.
  core::Duration interval = std::chrono::seconds(60);
  /// Largest batch, in changes; 0 (the default) uses each provider's
  /// ProviderCaps::max_batch_changes, so RFC 2136 writes a zone's plan in one UPDATE and
  /// Cloudflare in requests of 200.
  std::size_t max_batch_changes = 0;
  /// How long one provider request may take. A batch starts only when the lease stays valid
  /// for at least this long.
  core::Duration request_timeout = std::chrono::seconds(10);
  /// Backoff after a failed list or apply: doubles from min to max; a provider's retry-after
  /// wins when longer.
  core::Duration backoff_min = std::chrono::seconds(2);
  core::Duration backoff_max = std::chrono::minutes(5);
};

/// What the driver should do now.
struct Step {
  enum class Kind { Idle, List, Apply };
  Kind kind = Kind::Idle;
  /// Idle: call poll() again at the latest then (or on any event).
  core::Instant wake_at = core::Instant::max();
  /// List: the zone to list, and its provider.
  std::string zone;
  std::string provider;
  /// Apply: the batch.
  Batch batch;
};

class Reconciler {
 public:
  enum class State { Idle, Listing, Applying };

  struct Stats {
    std::uint64_t cycles = 0;
    std::uint64_t batches_applied = 0;
    std::uint64_t changes_applied = 0;
    /// Plans dropped mid-way because the lease was lost or its token changed.
    std::uint64_t plans_aborted_lease = 0;
    std::uint64_t errors = 0;
  };

  /// `lease` must outlive the reconciler.
  Reconciler(DnsConfig config, ReconcilerOptions options, LeasePort& lease);

  /// What provider `name` stores (from the adapter); zones of unknown providers use defaults.
  void set_provider_caps(const std::string& provider, const ProviderCaps& caps);

  /// A new cluster view. A different generation triggers a cycle.
  void set_snapshot(std::shared_ptr<const catalog::Snapshot> snapshot);

  /// Advances the machine. At most one List or Apply is outstanding: until its on_* call arrives,
  /// poll() returns Idle.
  Step poll(core::Instant now);

  /// Result of a Step::List. Errors abort the cycle with backoff.
  void on_listed(const std::string& zone, Result<std::vector<ObservedRecord>> listing, core::Instant now);

  /// Result of a Step::Apply. `retry_after`, if the provider sent one, lengthens the backoff.
  /// Conflict errors (a stale token, a name taken meanwhile) start over after the shortest backoff.
  void on_applied(std::uint64_t batch_id, Result<void> result, core::Instant now,
                  std::optional<core::Duration> retry_after = std::nullopt);

  State state() const { return state_; }
  const Stats& stats() const { return stats_; }
  /// The last plan computed (for dry-run and the API).
  const std::optional<Plan>& last_plan() const { return last_plan_; }
  /// Why the last cycle ended early, if it did.
  const std::string& last_abort() const { return last_abort_; }
  std::optional<std::uint64_t> token() const { return token_; }
  /// The grace-period clocks, for a writer that persists them between runs (dnsbot).
  DeletionTracker& tracker() { return tracker_; }

 private:
  void abort(std::string why, core::Instant now, bool backoff, std::optional<core::Duration> retry_after = std::nullopt);
  void make_plan(core::Instant now);

  DnsConfig config_;
  ReconcilerOptions options_;
  LeasePort& lease_;
  std::map<std::string, ProviderCaps> provider_caps_;
  std::shared_ptr<const catalog::Snapshot> snapshot_;
  std::uint64_t planned_generation_ = 0;
  bool snapshot_changed_ = false;

  State state_ = State::Idle;
  bool in_flight_ = false;
  std::optional<std::uint64_t> token_;       // token we last saw ourselves holding
  core::Instant holder_since_;
  std::uint64_t plan_token_ = 0;             // token the current plan was made under
  core::Instant next_cycle_at_;
  core::Instant after_plan_next_;            // when the plan just made wants the next cycle
  core::Instant backoff_until_;
  core::Duration backoff_{};
  std::size_t list_index_ = 0;
  std::map<std::string, std::vector<ObservedRecord>> observed_;
  std::vector<Batch> batches_;
  std::size_t batch_index_ = 0;
  std::uint64_t next_batch_id_ = 1;
  DeletionTracker tracker_;
  std::optional<Plan> last_plan_;
  std::string last_abort_;
  Stats stats_;
};

/// Splits a zone plan into batches of at most `max_changes`, never splitting one name's changes
/// (a CNAME switch must delete and create together). Order within a batch: deletes, updates,
/// creates.
std::vector<std::vector<Change>> split_batches(const std::vector<Change>& changes, std::size_t max_changes);

}  // namespace constellation::dns
