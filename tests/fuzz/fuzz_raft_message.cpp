// SPDX-License-Identifier: Apache-2.0
// The Raft message decoder on arbitrary bytes: never crashes or over-reads, and whatever it
// accepts re-encodes to the same bytes (the encoding is canonical).
#include "core/assert.hpp"
#include "raft/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace constellation;
  auto m = raft::decode_message(core::ByteView(data, size));
  if (!m) return 0;
  auto again = raft::encode(*m);
  auto back = raft::decode_message(again);
  CST_ASSERT(back.has_value());
  CST_ASSERT(raft::encode(*back) == again);
  return 0;
}
