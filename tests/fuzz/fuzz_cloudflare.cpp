// SPDX-License-Identifier: Apache-2.0
// Cloudflare API answers on arbitrary bytes: the envelope, list, single-record, zone and batch
// parsers and the error mapping never crash; accepted records have a type the module manages
// or are reported as others, and ownership follows the marker.
#include "core/assert.hpp"
#include "io/dns/cloudflare_json.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace constellation;
  namespace cf = io::dns::cloudflare;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  static const dns::Marker marker{"fuzz"};
  if (auto page = cf::parse_list(body, marker)) {
    for (const auto& r : page->records) {
      CST_ASSERT(r.owned == marker.owns(r.record.comment, r.record.tags));
      CST_ASSERT(!r.id.empty() || r.id.empty());
    }
    for (const auto& r : page->others) CST_ASSERT(!r.owned);
    CST_ASSERT(page->page >= 0 && page->total_pages >= 0);
  }
  (void)cf::parse_zone_id(body, "example.com");
  (void)cf::parse_single(body, marker);
  (void)cf::parse_batch(body, marker);
  for (int status : {400, 401, 404, 429, 503}) {
    Error e = cf::response_error(status, body, "fuzz");
    CST_ASSERT(!e.message().empty());
  }
  return 0;
}
