// SPDX-License-Identifier: Apache-2.0
//
// Cloudflare API v4 provider (docs/dns.md, "Cloudflare"). Token auth (Authorization: Bearer);
// zone ids looked up once by name; listings paginated with a large per_page and cached; writes
// through the batch endpoint (one transaction: deletes, patches, puts, posts) in chunks of at
// most max_batch, or one request per change in per-record mode. Every request takes a token
// from the account's bucket first; a 429 pauses the bucket for its retry-after (default five
// minutes, Cloudflare's block time) and is a soft error, as are 5xx answers.
#pragma once

#include "core/time.hpp"
#include "dns/budget.hpp"
#include "io/dns/http.hpp"
#include "io/dns/provider.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace constellation::io::dns {

struct CloudflareOptions {
  std::string name = "cloudflare";
  /// API token with Zone:Read and DNS:Edit on the zones.
  std::string api_token;
  /// Path prefix of the API on the transport's host. Default "/client/v4".
  std::string path_prefix = "/client/v4";
  /// Zone name → zone id, skipping the lookup (optional).
  std::map<std::string, std::string> zone_ids;
  /// Records per list page (Cloudflare accepts up to 5,000). Default 5000.
  int per_page = 5000;
  /// Use the batch endpoint. Off: one request per change (the "per-record" strategy).
  bool use_batch = true;
  /// Changes per batch request (Free plan: 200). Default 200.
  std::size_t max_batch = 200;
  /// How long a listing is reused without asking again; our own writes update it. Default 5 min.
  core::Duration list_cache_ttl = std::chrono::minutes(5);
  /// Token bucket shared by every request of this account: burst and rate. Defaults 40 and
  /// 1 per second (300 per 5 minutes, a quarter of Cloudflare's 1,200).
  double bucket_capacity = 40;
  double bucket_per_second = 1.0;
  /// Wait after a 429 without retry-after. Default 300 s (the account is blocked that long).
  core::Duration default_retry_after = std::chrono::seconds(300);
  /// Longest a request waits for a bucket token before giving up with Unavailable. Default 30 s.
  core::Duration max_budget_wait = std::chrono::seconds(30);
  /// Write tags as well as the comment (tags may need a paid plan). Default off.
  bool use_tags = false;
  /// Retries of GETs after a 5xx or a transport error, with 0.5 s, 1 s, ... backoff. Default 2.
  int get_retries = 2;
};

/// `clock` and `sleep` are injectable for tests and benchmarks (sleep is called with the wait
/// for a bucket token or a GET retry).
std::unique_ptr<Provider> make_cloudflare_provider(CloudflareOptions options, Marker marker,
                                                   std::unique_ptr<HttpTransport> transport, const core::Clock& clock,
                                                   std::function<void(core::Duration)> sleep);

}  // namespace constellation::io::dns
