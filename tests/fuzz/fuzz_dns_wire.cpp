// SPDX-License-Identifier: Apache-2.0
// The DNS wire decoder on arbitrary bytes: never crashes or over-reads; whatever it accepts
// re-encodes (names uncompressed) into bytes that decode to the same message, and the encoding
// is a fixed point. RDATA helpers and the TSIG verifier take the same input without crashing.
#include "core/assert.hpp"
#include "dns/wire.hpp"
#include "io/dns/tsig.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace constellation;
  namespace wire = dns::wire;
  core::ByteView in(data, size);
  std::size_t tsig_offset = 0;
  auto m = wire::decode(in, &tsig_offset);
  if (!m) {
    CST_ASSERT(!m.error().message().empty());
    return 0;
  }
  CST_ASSERT(tsig_offset <= size);
  for (const auto* section : {&m->answers, &m->authority, &m->additional}) {
    for (const auto& rr : *section) (void)wire::rdata_text(rr.type, rr.rdata);
  }
  auto bytes = wire::encode(*m);
  CST_ASSERT_MSG(bytes.has_value(), "a decoded message must encode");
  auto back = wire::decode(*bytes);
  CST_ASSERT_MSG(back.has_value(), "an encoded message must decode");
  CST_ASSERT_MSG(*back == *m, "decode(encode(m)) != m");
  auto again = wire::encode(*back);
  CST_ASSERT(again.has_value() && *again == *bytes);
  static const io::dns::TsigKey key{"fuzz", core::Bytes(32, 7)};
  io::dns::TsigVerifier v(key, core::Bytes(32, 1));
  (void)v.verify(in, 0);
  return 0;
}
