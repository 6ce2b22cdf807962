// SPDX-License-Identifier: Apache-2.0
// The gossip stream-frame decoder (push/pull, compressed or not, and stream-carried packets) on
// arbitrary bytes: never crashes, never inflates beyond max_stream; an accepted push/pull
// re-encodes to an equal frame; and a core fed the bytes survives.
#include "core/assert.hpp"
#include "gossip/core.hpp"
#include "gossip/messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace constellation;
  using namespace constellation::gossip;
  const core::ByteView input(data, size);
  constexpr std::size_t kMax = 1u << 20;
  auto f = wire::decode_stream(input, kMax);
  if (f) {
    if (const auto* pp = std::get_if<wire::PushPull>(&f->body)) {
      auto back = wire::decode_stream(wire::encode_stream(*pp, 1024), 1u << 30);
      CST_ASSERT(back.has_value());
      const auto* again = std::get_if<wire::PushPull>(&back->body);
      CST_ASSERT(again && *again == *pp);
    }
  }
  core::Rng rng(1);
  Config c = Config::fast();
  c.name = "node-a";
  c.advertise = "10.0.0.1:7946";
  c.max_stream = kMax;
  Core core(c, rng, core::Instant::from_nanos(1'000'000'000));
  core.receive("10.0.0.2:7946", Channel::Stream, input, core::Instant::from_nanos(1'000'000'000));
  core.tick(core::Instant::from_nanos(3'000'000'000));
  (void)core.members();
  return 0;
}
