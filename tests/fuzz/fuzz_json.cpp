// SPDX-License-Identifier: Apache-2.0
// The JSON reader on arbitrary bytes: never crashes or over-reads; whatever it accepts, the writer
// turns into bytes that parse back to the same value, and writing is deterministic.
#include "core/assert.hpp"
#include "core/json.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace constellation::core::json;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ParseOptions po;
  po.max_depth = 32;
  po.max_bytes = 1 << 20;
  auto v = parse(text, po);
  if (!v) {
    CST_ASSERT(!v.error().message().empty());
    return 0;
  }
  for (bool ascii : {false, true}) {
    WriteOptions wo;
    wo.sort_keys = true;
    wo.ascii_only = ascii;
    std::string out = serialize(*v, wo);
    CST_ASSERT(find_invalid_utf8(out) == std::string_view::npos);
    auto back = parse(out, po);
    CST_ASSERT_MSG(back.has_value(), "writer output does not parse");
    CST_ASSERT_MSG(serialize(*back, wo) == out, "writer is not deterministic on a round trip");
    if (ascii) {
      for (char c : out) CST_ASSERT(static_cast<unsigned char>(c) < 0x80);
    }
  }
  return 0;
}
