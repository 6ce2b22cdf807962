// SPDX-License-Identifier: Apache-2.0
//
// DNS provider adapters: Cloudflare API v4, the PowerDNS HTTP API and RFC 2136 UPDATE with TSIG.
// Each lists a zone as ObservedRecords (ownership decided by the marker) and applies a Batch of
// Changes in as few requests as the provider allows. Calls block; the driver runs them on a
// worker thread and posts results back to the control loop. One call at a time per provider
// (the driver never overlaps them; the adapters also serialise internally).
#pragma once

#include <constellation/result.hpp>

#include "core/json.hpp"
#include "core/time.hpp"
#include "dns/reconciler.hpp"
#include "dns/record.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace constellation::io::dns {

using constellation::dns::Batch;
using constellation::dns::Marker;
using constellation::dns::ObservedRecord;
using constellation::dns::ProviderCaps;

/// Called by an adapter immediately before each write request it sends for a batch: Ok to go on,
/// or an error (the lease was lost) to stop without sending.
using FenceCheck = std::function<Result<void>()>;

struct ApplyOutcome {
  Result<void> result;
  /// The provider asked us to wait this long (HTTP 429 retry-after).
  std::optional<core::Duration> retry_after;
};

/// Request counters, for tests, benchmarks and metrics.
struct ProviderStats {
  std::uint64_t requests = 0;
  std::uint64_t list_requests = 0;
  std::uint64_t write_requests = 0;
  std::uint64_t cache_hits = 0;
  std::uint64_t rate_limited = 0;
  std::uint64_t errors = 0;
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual const std::string& name() const = 0;
  virtual ProviderCaps caps() const = 0;
  /// Every record of the zone the module manages (A, AAAA, CNAME, TXT), with `owned` set.
  /// Errors: Unavailable (network, 5xx, rate limited — soft), PermissionDenied, NotFound (zone),
  /// InvalidArgument (a malformed answer).
  virtual Result<std::vector<ObservedRecord>> list(const std::string& zone) = 0;
  /// Applies the batch's changes (all or nothing where the provider is transactional). Errors:
  /// Unavailable (soft, with retry_after), Conflict (a record taken meanwhile, a stale fencing
  /// token), PermissionDenied, InvalidArgument.
  virtual ApplyOutcome apply(const Batch& batch, const FenceCheck& fence) = 0;
  /// Forgets cached listings (after an error, or on demand).
  virtual void invalidate() {}
  virtual ProviderStats stats() const = 0;
};

/// Builds the providers named in the config's "providers" object (docs/dns.md):
///   {"cf": {"type": "cloudflare", "api_token_file": "/run/secrets/cf", ...},
///    "pdns": {"type": "powerdns", "url": "http://127.0.0.1:8081", "api_key": "...", ...},
///    "bind": {"type": "rfc2136", "server": "127.0.0.1:53", "tsig_name": "upd", "tsig_secret": "<base64>", ...},
///    "mem": {"type": "memory"}}
/// Errors: InvalidArgument naming the bad member; Io when a secret file cannot be read.
Result<std::vector<std::unique_ptr<Provider>>> make_providers(const core::json::Value& providers, const Marker& marker);

/// An in-process provider (records in memory, comments supported): for dry runs, tests and the
/// examples. Optionally preloaded from the config's "records" array.
std::unique_ptr<Provider> make_memory_provider(std::string name, const Marker& marker);

}  // namespace constellation::io::dns
