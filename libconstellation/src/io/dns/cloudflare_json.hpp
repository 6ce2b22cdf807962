// SPDX-License-Identifier: Apache-2.0
//
// Cloudflare API v4 bodies: the response envelope {"success","errors","messages","result",
// "result_info"}, DNS record objects, and the request bodies we send. Parsing is strict about
// what it uses and ignores the rest; it is fuzzed (tests/fuzz/fuzz_cloudflare.cpp).
#pragma once

#include <constellation/result.hpp>

#include "core/json.hpp"
#include "dns/record.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace constellation::io::dns::cloudflare {

using constellation::dns::Marker;
using constellation::dns::ObservedRecord;
using constellation::dns::Record;

struct ApiError {
  int code = 0;
  std::string message;
};

struct ListPage {
  /// Records of the types the module manages; others are skipped.
  std::vector<ObservedRecord> records;
  /// Records of other types seen on the page (MX, NS, ...): never touched, but they count as
  /// "foreign" for the CNAME conflict rule.
  std::vector<ObservedRecord> others;
  int page = 1;
  int per_page = 0;
  int count = 0;
  int total_count = 0;
  int total_pages = 0;
};

struct BatchResult {
  std::vector<std::string> deleted_ids;
  /// Records as stored after puts, patches and posts.
  std::vector<ObservedRecord> written;
};

/// Turns a non-success answer into an Error: 429 → Unavailable ("rate limited"), 5xx →
/// Unavailable, 401/403 → PermissionDenied, 404 → NotFound, 81053 / 81057 / 81058 (record
/// exists) → Conflict, other 4xx → InvalidArgument. The message holds Cloudflare's codes and
/// messages from the envelope when the body has one.
Error response_error(int http_status, std::string_view body, std::string_view what);

/// A list response page. Errors: InvalidArgument (not an envelope, success false, bad record).
Result<ListPage> parse_list(std::string_view body, const Marker& marker);
/// The id of `zone` in a GET /zones?name= response. Errors: NotFound, InvalidArgument.
Result<std::string> parse_zone_id(std::string_view body, std::string_view zone);
/// One record (POST/PUT/PATCH answer). Errors: InvalidArgument.
Result<ObservedRecord> parse_single(std::string_view body, const Marker& marker);
/// A batch answer. Errors: InvalidArgument.
Result<BatchResult> parse_batch(std::string_view body, const Marker& marker);

/// A record object as Cloudflare takes it in POST/PUT bodies and batch posts/puts.
core::json::Value record_body(const Record& r, bool with_tags);

}  // namespace constellation::io::dns::cloudflare
