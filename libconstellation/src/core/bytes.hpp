// SPDX-License-Identifier: Apache-2.0
//
// Building and reading binary wire formats: big-endian integers, LEB128 varints, length-prefixed
// fields, CRC32C. The reader is the only way decoders look at untrusted bytes: it never reads past
// its input, and its first error (naming the field and offset) sticks.
#pragma once

#include <constellation/result.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace constellation::core {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
inline std::string_view as_chars(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

/// Maximum encoded size of a 64-bit LEB128 varint.
inline constexpr std::size_t kMaxVarintBytes = 10;

/// Appends encoded values to a growable buffer.
class ByteWriter {
 public:
  ByteWriter() = default;
  explicit ByteWriter(std::size_t reserve) { buf_.reserve(reserve); }

  void u8(std::uint8_t v) { buf_.push_back(v); }
  void u16be(std::uint16_t v);
  void u32be(std::uint32_t v);
  void u64be(std::uint64_t v);
  /// Unsigned LEB128: 7 bits per byte, low groups first, high bit = more.
  void varint(std::uint64_t v);
  /// Zig-zag encoded signed varint.
  void svarint(std::int64_t v) { varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); }
  void raw(ByteView b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
  void raw(std::string_view s) { raw(as_bytes(s)); }
  /// varint length, then the bytes.
  void prefixed(ByteView b) {
    varint(b.size());
    raw(b);
  }
  void prefixed(std::string_view s) { prefixed(as_bytes(s)); }

  /// Overwrites 4 bytes at `offset` (reserved earlier with u32be(0)) with v, big-endian.
  void patch_u32be(std::size_t offset, std::uint32_t v);

  std::size_t size() const { return buf_.size(); }
  const Bytes& bytes() const { return buf_; }
  ByteView view() const { return buf_; }
  Bytes take() && { return std::move(buf_); }
  void clear() { buf_.clear(); }

 private:
  Bytes buf_;
};

/// Reads encoded values from a fixed input without ever reading past it. After the first
/// failure (truncation, an over-long varint, a length above its bound) every further read
/// returns zero or empty and `status()` holds an InvalidArgument error such as
/// "truncated: field 'term' needs 8 bytes, 3 left at offset 17".
/// Views returned by bytes()/string() point into the input: they live as long as it does.
class ByteReader {
 public:
  explicit ByteReader(ByteView input) : in_(input) {}
  explicit ByteReader(std::string_view input) : in_(as_bytes(input)) {}

  std::uint8_t u8(std::string_view field);
  std::uint16_t u16be(std::string_view field);
  std::uint32_t u32be(std::string_view field);
  std::uint64_t u64be(std::string_view field);
  std::uint64_t varint(std::string_view field);
  std::int64_t svarint(std::string_view field);
  /// A varint that must not exceed max (for counts and lengths).
  std::uint64_t varint_max(std::string_view field, std::uint64_t max);
  /// Exactly n bytes.
  ByteView bytes(std::string_view field, std::size_t n);
  /// A varint length (at most max_len) followed by that many bytes.
  ByteView prefixed(std::string_view field, std::size_t max_len);
  std::string_view prefixed_string(std::string_view field, std::size_t max_len) {
    return as_chars(prefixed(field, max_len));
  }
  /// Everything that is left.
  ByteView rest();

  /// Records a semantic error found by the decoder itself (e.g. an unknown enum value), unless
  /// an earlier error is already recorded.
  void fail(std::string_view field, std::string_view what);

  bool ok() const { return ok_; }
  std::size_t offset() const { return pos_; }
  std::size_t remaining() const { return ok_ ? in_.size() - pos_ : 0; }
  bool at_end() const { return remaining() == 0; }

  /// Ok, or the first error.
  Result<void> status() const;
  /// Like status(), but also an error when unread bytes remain.
  Result<void> finish(std::string_view what) const;

 private:
  bool need(std::string_view field, std::size_t n);
  ByteView in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
  std::string error_;
};

/// CRC-32C (Castagnoli, reflected, init and xor-out 0xFFFFFFFF), as used by iSCSI, ext4 and
/// SCTP. crc32c("123456789") == 0xE3069283. Uses the SSE4.2 instruction where the CPU has it.
std::uint32_t crc32c(ByteView data);
/// Continues a CRC: crc32c_extend(crc32c(a), b) == crc32c(a + b).
std::uint32_t crc32c_extend(std::uint32_t crc, ByteView data);

/// Lower-case hex of bytes (for logs and golden files).
std::string to_hex(ByteView data);

/// Standard base64 (RFC 4648 §4) with padding.
std::string base64_encode(ByteView data);
/// Decodes standard base64; padding is required, whitespace (space, CR, LF) is skipped.
/// Errors: InvalidArgument naming the offending character or the bad length.
Result<Bytes> base64_decode(std::string_view text);

}  // namespace constellation::core
