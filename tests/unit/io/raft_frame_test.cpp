// SPDX-License-Identifier: Apache-2.0
// Raft transport frames: the tag is HMAC-SHA256 with the cluster key over (nonce, sequence
// number, header and body), checked against OpenSSL's one-shot HMAC — also for consecutive
// frames sharing one MAC context, as a connection does — and verification refuses a changed
// byte, the wrong key or the wrong sequence number.
#include "io/net/raft_transport.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

using namespace constellation;
using namespace constellation::io::net;

namespace {
std::vector<std::uint8_t> reference_tag(const std::string& key, core::ByteView nonce, std::uint64_t seq,
                                        core::ByteView signed_part) {
  std::vector<std::uint8_t> msg(nonce.begin(), nonce.end());
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<std::uint8_t>(seq >> (8 * i)));
  msg.insert(msg.end(), signed_part.begin(), signed_part.end());
  std::vector<std::uint8_t> out(32);
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), msg.data(), msg.size(), out.data(), &len);
  REQUIRE(len == 32);
  return out;
}
}  // namespace

TEST_CASE("consecutive frames from one MAC context carry the reference HMAC-SHA256 tags and verify") {
  const std::string key = "frame-test-cluster-key";
  const core::Bytes nonce(16, 0x5a);
  const std::vector<core::Bytes> bodies = {core::Bytes{1, 2, 3}, core::Bytes(300, 7), core::Bytes{}};
  const std::uint64_t seq = 41;
  const core::Bytes joined = encode_frames(2, bodies, key, nonce, seq);
  std::size_t off = 0;
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    const std::size_t n = kFrameHeader + bodies[i].size() + kFrameTrailer;
    REQUIRE(off + n <= joined.size());
    const core::ByteView frame(joined.data() + off, n);
    // The same bytes as a frame encoded on its own.
    const core::Bytes alone = encode_frame(2, bodies[i], key, nonce, seq + i);
    CHECK(core::Bytes(frame.begin(), frame.end()) == alone);
    const auto tag = reference_tag(key, nonce, seq + i, frame.first(kFrameHeader + bodies[i].size()));
    CHECK(std::vector<std::uint8_t>(frame.end() - 32, frame.end()) == tag);
    auto body = verify_frame(frame, key, nonce, seq + i);
    REQUIRE(body.has_value());
    CHECK(core::Bytes(body->begin(), body->end()) == bodies[i]);
    off += n;
  }
  CHECK(off == joined.size());
}

TEST_CASE("a frame fails verification with a changed byte, another key or another sequence number") {
  const std::string key = "frame-test-cluster-key";
  const core::Bytes nonce(16, 1);
  core::Bytes frame = encode_frame(2, core::Bytes(64, 9), key, nonce, 7);
  CHECK(verify_frame(frame, key, nonce, 7).has_value());
  auto wrong_key = verify_frame(frame, "another-cluster-key!", nonce, 7);
  REQUIRE(!wrong_key.has_value());
  CHECK(wrong_key.error().code() == Code::PermissionDenied);
  auto wrong_seq = verify_frame(frame, key, nonce, 8);
  REQUIRE(!wrong_seq.has_value());
  CHECK(wrong_seq.error().code() == Code::PermissionDenied);
  frame[kFrameHeader + 3] ^= 1;  // the checksum catches it before the tag is computed
  auto changed = verify_frame(frame, key, nonce, 7);
  REQUIRE(!changed.has_value());
  CHECK(changed.error().code() == Code::InvalidArgument);
}
