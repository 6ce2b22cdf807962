// SPDX-License-Identifier: Apache-2.0
#include "gossip/security.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::gossip;

namespace {

Keyring::Key key_of(std::uint8_t fill) {
  Keyring::Key k{};
  k.fill(fill);
  return k;
}

core::Bytes nonce_of(std::uint8_t fill) { return core::Bytes(kNonceBytes, fill); }

Envelope make(std::string label, std::vector<Keyring::Key> keys) {
  Keyring ring;
  for (auto& k : keys) ring.install(k);
  auto e = Envelope::make(std::move(label), std::move(ring));
  REQUIRE(e);
  return std::move(*e);
}

const core::Bytes kPayload{1, 2, 3, 4, 5, 6, 7, 8, 9};

}  // namespace

TEST_CASE("keyring: parse checks base64 and length") {
  auto k = Keyring::parse(Keyring::format(key_of(7)));
  REQUIRE(k);
  CHECK(*k == key_of(7));
  auto short_key = Keyring::parse(core::base64_encode(core::Bytes(16, 1)));
  REQUIRE_FALSE(short_key);
  CHECK(short_key.error().code() == Code::InvalidArgument);
  CHECK(short_key.error().message().find("16 bytes, AES-256 needs 32") != std::string::npos);
  auto junk = Keyring::parse("not base64!");
  REQUIRE_FALSE(junk);
  CHECK(junk.error().message().find("not valid base64") != std::string::npos);
  auto ring = Keyring::from_base64({Keyring::format(key_of(1)), "AAAA"});
  REQUIRE_FALSE(ring);
  CHECK(ring.error().message().find("key 2") != std::string::npos);
}

TEST_CASE("keyring: install, use, remove, list (primary first)") {
  Keyring ring;
  ring.install(key_of(1));
  ring.install(key_of(2));
  ring.install(key_of(1));  // no duplicate
  CHECK(ring.list() == std::vector<std::string>{Keyring::format(key_of(1)), Keyring::format(key_of(2))});
  CHECK(ring.use(key_of(3)).error().code() == Code::NotFound);
  CHECK(ring.remove(key_of(1)).error().code() == Code::Conflict);
  REQUIRE(ring.use(key_of(2)));
  CHECK(ring.list().front() == Keyring::format(key_of(2)));
  CHECK(ring.ids().front() == Keyring::key_id(key_of(2)));
  REQUIRE(ring.remove(key_of(1)));
  CHECK(ring.size() == 1);
  CHECK(ring.remove(key_of(1)).error().code() == Code::NotFound);
}

TEST_CASE("envelope: plaintext round trip keeps the label and checks the CRC") {
  auto e = make("prod", {});
  auto wire = e.seal(Channel::Datagram, kPayload, {});
  CHECK(wire.size() == kPayload.size() + e.overhead());
  CHECK(wire[0] == kEnvelopeVersion);
  CHECK(wire[2] == 4);
  auto opened = e.open(Channel::Datagram, wire);
  REQUIRE(opened);
  CHECK_FALSE(opened->encrypted);
  CHECK(opened->payload == kPayload);
  wire[8] ^= 1;
  CHECK(e.open(Channel::Datagram, wire).error().message().find("checksum") != std::string::npos);
}

TEST_CASE("envelope: encrypted round trip, tamper detection, channel binding") {
  auto e = make("prod", {key_of(1)});
  auto wire = e.seal(Channel::Stream, kPayload, nonce_of(9));
  CHECK(wire.size() == kPayload.size() + e.overhead());
  auto opened = e.open(Channel::Stream, wire);
  REQUIRE(opened);
  CHECK(opened->encrypted);
  CHECK(opened->payload == kPayload);
  // A stream frame replayed as a datagram is refused.
  CHECK_FALSE(e.open(Channel::Datagram, wire));
  // Flipping any byte (header, key id, nonce, ciphertext, tag) breaks it.
  for (std::size_t i = 0; i < wire.size(); ++i) {
    auto bad = wire;
    bad[i] ^= 0x40;
    CHECK_FALSE(e.open(Channel::Stream, bad));
  }
  // Empty payloads work too.
  auto empty = e.seal(Channel::Datagram, {}, nonce_of(3));
  auto o2 = e.open(Channel::Datagram, empty);
  REQUIRE(o2);
  CHECK(o2->payload.empty());
}

TEST_CASE("envelope: another label or key never opens; plaintext and ciphertext never mix") {
  auto a = make("a", {key_of(1)});
  auto b = make("b", {key_of(1)});
  auto other_key = make("a", {key_of(2)});
  auto plain = make("a", {});
  auto wire = a.seal(Channel::Datagram, kPayload, nonce_of(1));
  auto r = b.open(Channel::Datagram, wire);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Code::PermissionDenied);
  CHECK(r.error().message().find("label 'a'") != std::string::npos);
  CHECK(other_key.open(Channel::Datagram, wire).error().code() == Code::PermissionDenied);
  CHECK(plain.open(Channel::Datagram, wire).error().code() == Code::PermissionDenied);
  auto clear = plain.seal(Channel::Datagram, kPayload, {});
  CHECK(a.open(Channel::Datagram, clear).error().code() == Code::PermissionDenied);
  // A label changed in transit fails authentication even with the same length.
  auto relabeled = wire;
  relabeled[3] = 'b';
  CHECK_FALSE(b.open(Channel::Datagram, relabeled));
}

TEST_CASE("envelope: rotation install -> use -> remove never drops traffic") {
  auto n1 = make("", {key_of(1)});
  auto n2 = make("", {key_of(1)});
  auto exchange = [&](Envelope& from, Envelope& to) {
    return to.open(Channel::Datagram, from.seal(Channel::Datagram, kPayload, nonce_of(4))).has_value();
  };
  n1.keyring().install(key_of(2));
  CHECK(exchange(n1, n2));
  CHECK(exchange(n2, n1));
  REQUIRE(n1.keyring().use(key_of(2)));  // n1 seals with the new key before n2 knows it...
  CHECK_FALSE(exchange(n1, n2));          // ...which is why every node installs first
  n2.keyring().install(key_of(2));
  CHECK(exchange(n1, n2));
  CHECK(exchange(n2, n1));
  REQUIRE(n2.keyring().use(key_of(2)));
  REQUIRE(n1.keyring().remove(key_of(1)));
  REQUIRE(n2.keyring().remove(key_of(1)));
  CHECK(exchange(n1, n2));
  CHECK(exchange(n2, n1));
}

TEST_CASE("envelope: malformed input is refused with a reason") {
  auto e = make("x", {key_of(1)});
  CHECK_FALSE(e.open(Channel::Datagram, {}));
  const core::Bytes bad_version{9, 1, 0};
  CHECK(e.open(Channel::Datagram, bad_version).error().message().find("version 9") != std::string::npos);
  const core::Bytes bad_flags{1, 0x80, 0};
  CHECK(e.open(Channel::Datagram, bad_flags).error().message().find("flag") != std::string::npos);
  const core::Bytes truncated_label{1, 1, 5, 'x'};
  CHECK_FALSE(e.open(Channel::Datagram, truncated_label));
  CHECK_FALSE(Envelope::make(std::string(256, 'l'), Keyring{}));
}
