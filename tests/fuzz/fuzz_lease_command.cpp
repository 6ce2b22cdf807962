// SPDX-License-Identifier: Apache-2.0
// The lease/KV command and snapshot decoders on arbitrary bytes, through the state machine:
// malformed input is refused, never a crash, and a snapshot that restores re-encodes identically.
#include "core/assert.hpp"
#include "lease/machine.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace constellation;
  core::ByteView in(data, size);
  lease::Machine m;
  (void)m.apply(1, 1000, in);
  auto c = lease::Command::decode(in);
  if (c) {
    auto again = lease::Command::decode(c->encode());
    CST_ASSERT(again.has_value());
    CST_ASSERT(again->encode() == c->encode());
  }
  (void)lease::Response::decode(in);
  lease::Machine r;
  if (r.restore(in)) {
    lease::Machine r2;
    CST_ASSERT(r2.restore(r.snapshot()).has_value());
    CST_ASSERT(r2.snapshot() == r.snapshot());
  }
  return 0;
}
