// SPDX-License-Identifier: Apache-2.0
//
// Cluster state → one Traefik dynamic configuration, in three steps that mirror Traefik's Docker
// provider (pkg/provider/docker/config.go, pkg/provider/configuration.go):
//
//  1. build_instance(): one instance's labels → its own configuration. Default service (named
//     after the normalised "<service>_<project>") when the labels define none, default router
//     (named like the service, rule from the default-rule template) when they define no router
//     and at most one service, routers without a service bound to the single service, TCP/UDP
//     only when only TCP/UDP labels are present. The instance's server is its node's address on
//     the chosen cluster network with the *published* port of the container port (the port label
//     or the lowest port), or the `server.url` label as written; only instances on a live node
//     with routable health get a server, the others still contribute their definitions.
//  2. merge(): every contribution of the cluster, the way Traefik merges containers: the same
//     load balancer from several instances becomes one with the union of their servers if the
//     rest of its definition is identical; any other resource must be identical everywhere.
//     Anything defined differently is a conflict: reported with where it differs, and dropped.
//     The result does not depend on the order of the inputs.
//  3. finalize(): routers whose service or middleware is missing (never defined, or dropped) are
//     dropped; load balancers without servers are kept or dropped (Options::empty_services);
//     routers outside Options::entry_points are filtered out.
#pragma once

#include "catalog/model.hpp"
#include "provider/dynamic.hpp"
#include "provider/options.hpp"
#include "provider/rule_template.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace constellation::provider {

/// One instance's configuration and where it came from.
struct Contribution {
  std::string node;
  std::string instance;
  std::shared_ptr<const Config> config;
};

/// Remembers each instance's contribution between builds, so a render after a catalog change
/// decodes only the instances that changed (an instance's contribution depends only on the
/// instance, its node's name, status and addresses, and the options). An entry is reused without
/// comparing when the node's entry version is the same non-zero value (versions increase with
/// every change the owner makes, catalog/model.hpp); otherwise the instance and node fields are
/// compared. One cache per Builder. Not thread-safe: owned by whoever renders.
class InstanceCache {
 public:
  /// Entries reused and rebuilt by the last build().
  std::size_t hits() const { return hits_; }
  std::size_t misses() const { return misses_; }
  std::size_t size() const { return entries_.size(); }

 private:
  friend class Builder;
  struct Entry {
    /// NodeEntry::version when built: the same non-zero version means the same instances.
    std::uint64_t entry_version = 0;
    std::string node_name;
    catalog::NodeStatus status = catalog::NodeStatus::Alive;
    std::map<std::string, std::string> addresses;
    catalog::Instance instance;
    std::shared_ptr<const Config> config;
    std::vector<Diagnostic> diagnostics;
    std::uint64_t epoch = 0;
  };
  std::map<std::pair<core::NodeId, std::string>, Entry> entries_;
  std::uint64_t epoch_ = 0;
  std::size_t hits_ = 0;
  std::size_t misses_ = 0;
};

/// What merge() dropped, for finalize() to explain the routers it drops in turn.
struct MergeResult {
  Config config;
  /// "http.services.web" etc. of resources dropped as conflicts.
  std::set<std::string> conflicts;
};

class Builder {
 public:
  /// Errors: InvalidArgument when the options are invalid (validate()).
  static Result<Builder> create(const Options& options, TraefikVersion version);

  /// One instance's contribution (empty when it is not routed). Appends what went wrong.
  Config build_instance(const catalog::NodeView& node, const catalog::Instance& instance,
                        std::vector<Diagnostic>& diagnostics) const;

  /// The whole cluster: every instance on a node that is alive or suspect, merged and finalized.
  /// Diagnostics come back sorted. With a cache, unchanged instances are not decoded again (the
  /// result is the same as without).
  Config build(const catalog::Snapshot& snapshot, std::vector<Diagnostic>& diagnostics,
               InstanceCache* cache = nullptr) const;

  const Options& options() const { return options_; }
  TraefikVersion version() const { return version_; }

 private:
  Builder(Options options, TraefikVersion version, RuleTemplate rule)
      : options_(std::move(options)), version_(version), default_rule_(std::move(rule)) {}
  Options options_;
  TraefikVersion version_;
  RuleTemplate default_rule_;
};

/// Merges contributions (step 2). Appends one Error per conflict.
MergeResult merge(const std::vector<Contribution>& contributions, std::vector<Diagnostic>& diagnostics);

/// Step 3, in place.
void finalize(MergeResult& merged, const Options& options, std::vector<Diagnostic>& diagnostics);

/// The default service (and router) name of an instance: normalize("<service>_<project>"),
/// or normalize(service) without a project, or normalize(id) without a service.
std::string default_service_name(const catalog::Instance& instance);

}  // namespace constellation::provider
