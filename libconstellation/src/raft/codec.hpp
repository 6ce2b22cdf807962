// SPDX-License-Identifier: Apache-2.0
//
// The wire encoding of Raft messages (inside the transport's authenticated frame). Decoding
// untrusted bytes never reads past the input, bounds every count and length, and names the field
// that failed. Layout (version 1): u8 version, u8 type, varints, entries with their CRC32C;
// see codec.cpp. Fuzzed by tests/fuzz/fuzz_raft_message.cpp.
#pragma once

#include "raft/types.hpp"

namespace constellation::raft {

inline constexpr std::uint8_t kCodecVersion = 1;
/// Bounds applied while decoding (a peer cannot make us allocate more than this per message).
inline constexpr std::size_t kMaxEntriesPerMessage = 1u << 20;
inline constexpr std::size_t kMaxEntryBytes = 64u << 20;
inline constexpr std::size_t kMaxChunkBytes = 64u << 20;

/// Appends the encoding of m to w.
void encode(const Message& m, core::ByteWriter& w);
core::Bytes encode(const Message& m);
/// Errors: InvalidArgument naming the field (truncated, unknown type or version, oversized).
Result<Message> decode_message(core::ByteView bytes);

}  // namespace constellation::raft
