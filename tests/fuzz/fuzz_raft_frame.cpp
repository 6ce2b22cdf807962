// SPDX-License-Identifier: Apache-2.0
// The Raft transport's frame decoder (header, checksum, HMAC) on arbitrary bytes: never crashes
// or over-reads; a frame accepted under a key was produced with that key.
#include "core/assert.hpp"
#include "io/net/raft_transport.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace constellation;
  static const std::uint8_t nonce[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  core::ByteView in(data, size);
  std::uint8_t kind = 0;
  if (size >= io::net::kFrameHeader) (void)io::net::decode_frame_header(in.first(io::net::kFrameHeader), &kind);
  auto body = io::net::verify_frame(in, "fuzz-key", core::ByteView(nonce, 16), 7);
  if (body) {
    CST_ASSERT(body->data() >= data && body->data() + body->size() <= data + size);
  }
  // Round trip: a frame we encode verifies, and one flipped byte does not.
  auto frame = io::net::encode_frame(2, in.first(std::min<std::size_t>(size, 64)), "fuzz-key", core::ByteView(nonce, 16), 7);
  CST_ASSERT(io::net::verify_frame(frame, "fuzz-key", core::ByteView(nonce, 16), 7).has_value());
  if (size > 0) {
    frame[data[0] % frame.size()] ^= 0x40;
    CST_ASSERT(!io::net::verify_frame(frame, "fuzz-key", core::ByteView(nonce, 16), 7).has_value());
  }
  return 0;
}
