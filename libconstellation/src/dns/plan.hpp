// SPDX-License-Identifier: Apache-2.0
//
// Desired vs observed → a change plan, with the safety guards applied
// (docs/adr/0052-dns-deletion-guards.md):
//  * only records carrying our marker are updated or deleted; a name where a record that is not
//    ours holds the address (A, AAAA or CNAME) is left alone and reported as a conflict;
//  * the zone's policy limits the kinds of change (sync / upsert-only / create-only);
//  * deletions are held while the cluster view is partial or the lease holder is fresh; a name
//    whose records all go away is deleted only after the grace period; and when a plan would
//    remove an abnormal share of our names (or everything), every name removal is refused;
//  * both sides are normalised for the provider before comparing, so nothing loops.
#pragma once

#include "core/json.hpp"
#include "core/time.hpp"
#include "dns/config.hpp"
#include "dns/desired.hpp"
#include "dns/record.hpp"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace constellation::dns {

enum class ChangeKind : std::uint8_t { Create = 0, Update = 1, Delete = 2 };
/// "create", "update", "delete".
std::string_view change_kind_name(ChangeKind k);

struct Change {
  ChangeKind kind = ChangeKind::Create;
  /// Update, Delete: the record as listed (with its provider id).
  std::optional<ObservedRecord> before;
  /// Create, Update: the record to write (normalised for the provider, marker included).
  std::optional<Record> after;
  /// Why, in a few words ("ttl 300 -> 60", "node left").
  std::string reason;

  const std::string& name() const { return after ? after->name : before->record.name; }
  RecordType type() const { return after ? after->type : before->record.type; }
  friend bool operator==(const Change&, const Change&) = default;
};

/// A change the guards keep back, and why.
struct HeldChange {
  Change change;
  std::string reason;
  /// When the grace period lets it through (if that is the only reason).
  std::optional<core::Instant> eligible_at;
};

struct ZonePlan {
  std::string zone;
  std::string provider;
  Policy policy = Policy::Sync;
  /// Deletes, then updates, then creates; each sorted by name, type, content.
  std::vector<Change> changes;
  std::vector<HeldChange> held;
  /// Names left alone because records we do not own hold them.
  std::vector<std::string> conflicts;
};

struct Plan {
  std::vector<ZonePlan> zones;
  /// Desired-state notes plus guard decisions.
  std::vector<std::string> notes;
  /// Set when the abnormal-shrink guard refused every name removal.
  std::optional<std::string> refused;

  std::size_t count(ChangeKind k) const;
  std::size_t change_count() const;
  std::size_t held_count() const;
  bool empty() const { return change_count() == 0; }
};

/// First time each owned name (zone, name) was seen undesired: the grace-period clock. Owned by
/// the reconciler; lost (and so restarted, which is conservative) when the lease moves.
class DeletionTracker {
 public:
  void clear() { since_.clear(); }
  std::size_t size() const { return since_.size(); }
  /// Internal to compute_plan().
  std::map<std::pair<std::string, std::string>, core::Instant>& entries() { return since_; }

 private:
  std::map<std::pair<std::string, std::string>, core::Instant> since_;
};

struct PlanInput {
  const DnsConfig* config = nullptr;
  const DesiredState* desired = nullptr;
  /// Zone → the provider's listing of it. Zones missing here are not planned (noted).
  std::map<std::string, std::vector<ObservedRecord>> observed;
  /// Zone → what its provider stores.
  std::map<std::string, ProviderCaps> caps;
  core::Instant now;
  /// The snapshot's `complete` flag.
  bool snapshot_complete = false;
  /// When this node became the lease holder (Instant{} with now far later for tools that run once).
  core::Instant holder_since;
};

/// Computes the plan and advances `tracker`. Deterministic. Never fails; skipped input is noted.
Plan compute_plan(const PlanInput& input, DeletionTracker& tracker);

/// The plan as text for people (dry-run output): one line per change, held change and conflict.
std::string format_plan(const Plan& plan, core::Instant now);
/// The plan as JSON: {"zones":[{"zone","provider","policy","changes":[...],"held":[...],
/// "conflicts":[...]}],"notes":[...],"refused":...,"summary":{...}} (docs/dns.md).
core::json::Value plan_to_json(const Plan& plan, core::Instant now);
/// A record as JSON {"name","type","content","ttl","proxied","comment","tags"}.
core::json::Value record_to_json(const Record& r);

}  // namespace constellation::dns
