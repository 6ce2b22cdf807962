// SPDX-License-Identifier: Apache-2.0
// The bounded byte reader driven by arbitrary bytes: the first bytes choose a sequence of reads,
// the rest is the input. Never reads past the input (ASan), offsets stay in bounds, and a
// failed reader stays failed and returns nothing.
#include "core/assert.hpp"
#include "core/bytes.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace constellation::core;
  if (size < 1) return 0;
  std::size_t nops = data[0] % 32;
  if (size < 1 + nops) return 0;
  ByteView ops(data + 1, nops);
  ByteView input(data + 1 + nops, size - 1 - nops);
  ByteReader r(input);
  bool failed = false;
  for (std::uint8_t op : ops) {
    std::size_t before = r.offset();
    switch (op % 10) {
      case 0:
        r.u8("u8");
        break;
      case 1:
        r.u16be("u16");
        break;
      case 2:
        r.u32be("u32");
        break;
      case 3:
        r.u64be("u64");
        break;
      case 4:
        r.varint("varint");
        break;
      case 5:
        r.svarint("svarint");
        break;
      case 6:
        r.varint_max("count", op);
        break;
      case 7: {
        auto b = r.bytes("bytes", op / 10);
        if (!b.empty()) CST_ASSERT(b.data() >= input.data() && b.data() + b.size() <= input.data() + input.size());
        break;
      }
      case 8: {
        auto b = r.prefixed("prefixed", 64);
        volatile std::uint8_t sink = 0;
        for (auto x : b) sink = sink ^ x;  // touch every byte: ASan catches an over-read
        (void)sink;
        break;
      }
      case 9:
        r.rest();
        break;
    }
    CST_ASSERT(r.offset() <= input.size());
    CST_ASSERT(r.offset() >= before || !r.ok());
    if (failed) CST_ASSERT(!r.ok() && r.remaining() == 0);
    failed = !r.ok();
  }
  if (!r.ok()) CST_ASSERT(!r.status().has_value());
  // Round trip: a varint written is read back identically.
  ByteWriter w;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < input.size() && i < 8; ++i) v = (v << 8) | input[i];
  w.varint(v);
  w.svarint(static_cast<std::int64_t>(v));
  ByteReader back(w.view());
  CST_ASSERT(back.varint("v") == v);
  CST_ASSERT(back.svarint("s") == static_cast<std::int64_t>(v));
  CST_ASSERT(back.finish("round trip").has_value());
  return 0;
}
