// SPDX-License-Identifier: Apache-2.0
// The gossip envelope opener (gossip/security.hpp) on arbitrary bytes, as a node with keys and as
// one without, on both channels: never crashes or over-reads; whatever opens under a key was
// sealed with that key and label; a sealed round trip opens and a flipped byte does not.
#include "core/assert.hpp"
#include "gossip/security.hpp"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace constellation;
  using namespace constellation::gossip;
  static const Envelope keyed = [] {
    Keyring ring;
    Keyring::Key k1{}, k2{};
    k1.fill(0x11);
    k2.fill(0x22);
    ring.install(k1);
    ring.install(k2);
    return *Envelope::make("fuzz", ring);
  }();
  static const Envelope plain = *Envelope::make("fuzz", Keyring{});
  core::ByteView in(data, size);
  for (auto ch : {Channel::Datagram, Channel::Stream}) {
    auto a = keyed.open(ch, in);
    if (a) CST_ASSERT(a->encrypted && a->payload.size() + keyed.overhead() == size);
    auto b = plain.open(ch, in);
    if (b) CST_ASSERT(!b->encrypted && b->payload.size() + plain.overhead() == size);
  }
  // Round trip with the input as payload.
  const std::uint8_t nonce[kNonceBytes] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const auto payload = in.first(std::min<std::size_t>(size, 256));
  for (const Envelope* e : {&keyed, &plain}) {
    auto wire = e->seal(Channel::Datagram, payload, core::ByteView(nonce, kNonceBytes));
    auto back = e->open(Channel::Datagram, wire);
    CST_ASSERT(back && std::equal(back->payload.begin(), back->payload.end(), payload.begin(), payload.end()));
    if (size > 0) {
      wire[data[0] % wire.size()] ^= 0x08;
      CST_ASSERT(!e->open(Channel::Datagram, wire).has_value());
    }
  }
  return 0;
}
