// SPDX-License-Identifier: Apache-2.0
// The gossip datagram decoder on arbitrary bytes: never crashes or over-reads; whatever it accepts
// re-encodes to messages that decode to the same thing; and a core fed the bytes survives.
#include "core/assert.hpp"
#include "gossip/core.hpp"
#include "gossip/messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace constellation;
  using namespace constellation::gossip;
  const core::ByteView input(data, size);
  auto p = wire::decode_packet(input);
  if (p) {
    std::vector<core::Bytes> parts;
    for (const auto& m : p->messages) parts.push_back(wire::encode_part(m));
    auto again = wire::decode_packet(wire::encode_packet(parts));
    CST_ASSERT(again.has_value());
    CST_ASSERT(again->messages == p->messages);
  }
  core::Rng rng(1);
  Config c = Config::fast();
  c.name = "node-a";
  c.advertise = "10.0.0.1:7946";
  Core core(c, rng, core::Instant::from_nanos(1'000'000'000));
  core.receive("10.0.0.2:7946", Channel::Datagram, input, core::Instant::from_nanos(1'000'000'000));
  core.tick(core::Instant::from_nanos(3'000'000'000));
  for (const auto& o : core.take_outgoing()) CST_ASSERT(o.channel == Channel::Stream || o.payload.size() <= c.max_datagram);
  return 0;
}
