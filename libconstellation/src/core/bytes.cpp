// SPDX-License-Identifier: Apache-2.0
#include "core/bytes.hpp"

#include "core/assert.hpp"

#include <array>
#include <cstring>

namespace constellation::core {

void ByteWriter::u16be(std::uint16_t v) {
  buf_.push_back(static_cast<std::uint8_t>(v >> 8));
  buf_.push_back(static_cast<std::uint8_t>(v));
}

void ByteWriter::u32be(std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) buf_.push_back(static_cast<std::uint8_t>(v >> s));
}

void ByteWriter::u64be(std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) buf_.push_back(static_cast<std::uint8_t>(v >> s));
}

void ByteWriter::varint(std::uint64_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<std::uint8_t>(v));
}

void ByteWriter::patch_u32be(std::size_t offset, std::uint32_t v) {
  CST_ASSERT(offset + 4 <= buf_.size());
  for (int i = 0; i < 4; ++i) buf_[offset + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

bool ByteReader::need(std::string_view field, std::size_t n) {
  if (!ok_) return false;
  if (in_.size() - pos_ >= n) return true;
  fail(field, "truncated: needs " + std::to_string(n) + " bytes, " + std::to_string(in_.size() - pos_) + " left");
  return false;
}

void ByteReader::fail(std::string_view field, std::string_view what) {
  if (!ok_) return;
  ok_ = false;
  error_.assign("field '").append(field).append("' at offset ").append(std::to_string(pos_)).append(": ").append(what);
}

std::uint8_t ByteReader::u8(std::string_view field) {
  if (!need(field, 1)) return 0;
  return in_[pos_++];
}

std::uint16_t ByteReader::u16be(std::string_view field) {
  if (!need(field, 2)) return 0;
  auto v = static_cast<std::uint16_t>((in_[pos_] << 8) | in_[pos_ + 1]);
  pos_ += 2;
  return v;
}

std::uint32_t ByteReader::u32be(std::string_view field) {
  if (!need(field, 4)) return 0;
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | in_[pos_++];
  return v;
}

std::uint64_t ByteReader::u64be(std::string_view field) {
  if (!need(field, 8)) return 0;
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in_[pos_++];
  return v;
}

std::uint64_t ByteReader::varint(std::string_view field) {
  if (!ok_) return 0;
  std::uint64_t v = 0;
  std::size_t p = pos_;
  for (std::size_t i = 0; i < kMaxVarintBytes; ++i) {
    if (p >= in_.size()) {
      fail(field, "truncated varint");
      return 0;
    }
    std::uint8_t b = in_[p++];
    if (i == kMaxVarintBytes - 1 && b > 1) {
      fail(field, "varint overflows 64 bits");
      return 0;
    }
    v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      pos_ = p;
      return v;
    }
  }
  fail(field, "varint longer than 10 bytes");
  return 0;
}

std::int64_t ByteReader::svarint(std::string_view field) {
  std::uint64_t z = varint(field);
  return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
}

std::uint64_t ByteReader::varint_max(std::string_view field, std::uint64_t max) {
  std::uint64_t v = varint(field);
  if (ok_ && v > max) {
    fail(field, "value " + std::to_string(v) + " exceeds the limit " + std::to_string(max));
    return 0;
  }
  return v;
}

ByteView ByteReader::bytes(std::string_view field, std::size_t n) {
  if (!need(field, n)) return {};
  ByteView out = in_.subspan(pos_, n);
  pos_ += n;
  return out;
}

ByteView ByteReader::prefixed(std::string_view field, std::size_t max_len) {
  auto n = varint_max(field, max_len);
  if (!ok_) return {};
  return bytes(field, static_cast<std::size_t>(n));
}

ByteView ByteReader::rest() {
  if (!ok_) return {};
  ByteView out = in_.subspan(pos_);
  pos_ = in_.size();
  return out;
}

Result<void> ByteReader::status() const {
  if (ok_) return constellation::ok();
  return Error(Code::InvalidArgument, error_);
}

Result<void> ByteReader::finish(std::string_view what) const {
  if (!ok_) return Error(Code::InvalidArgument, std::string(what) + ": " + error_);
  if (pos_ != in_.size()) {
    return Error(Code::InvalidArgument, std::string(what) + ": " + std::to_string(in_.size() - pos_) +
                                            " unexpected trailing bytes at offset " + std::to_string(pos_));
  }
  return constellation::ok();
}

// --- CRC32C ----------------------------------------------------------------------------------

namespace {

constexpr std::uint32_t kCastagnoliReflected = 0x82F63B78u;

struct Crc32cTables {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  constexpr Crc32cTables() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kCastagnoliReflected : c >> 1;
      t[0][i] = c;
    }
    for (std::size_t i = 0; i < 256; ++i) {
      for (std::size_t k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
    }
  }
};
constexpr Crc32cTables kTables;

// Slice-by-8 on raw (pre-inverted) state.
std::uint32_t crc32c_soft(std::uint32_t crc, const std::uint8_t* p, std::size_t n) {
  const auto& t = kTables.t;
  while (n >= 8) {
    std::uint32_t lo = crc ^ (static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
                              static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24);
    crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
          t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32c_hw(std::uint32_t crc, const std::uint8_t* p, std::size_t n) {
  std::uint64_t c = crc;
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}

bool have_sse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

std::uint32_t crc32c_raw(std::uint32_t crc, const std::uint8_t* p, std::size_t n) {
#if defined(__x86_64__)
  if (have_sse42()) return crc32c_hw(crc, p, n);
#endif
  return crc32c_soft(crc, p, n);
}

}  // namespace

std::uint32_t crc32c_extend(std::uint32_t crc, ByteView data) { return ~crc32c_raw(~crc, data.data(), data.size()); }

std::uint32_t crc32c(ByteView data) { return crc32c_extend(0, data); }

std::string to_hex(ByteView data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(data.size() * 2);
  for (auto b : data) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

namespace {
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string base64_encode(ByteView data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(kBase64[(v >> s) & 63]);
  }
  if (std::size_t rest = data.size() - i; rest > 0) {
    std::uint32_t v = std::uint32_t{data[i]} << 16;
    if (rest == 2) v |= std::uint32_t{data[i + 1]} << 8;
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<Bytes> base64_decode(std::string_view text) {
  std::string s;
  s.reserve(text.size());
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\r') s.push_back(c);
  }
  if (s.size() % 4 != 0) {
    return Error(Code::InvalidArgument, "base64: length " + std::to_string(s.size()) + " is not a multiple of 4");
  }
  Bytes out;
  out.reserve(s.size() / 4 * 3);
  for (std::size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i + static_cast<std::size_t>(k)];
      if (c == '=' && i + 4 == s.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0 || (v[k] = base64_value(c)) < 0) {
        return Error(Code::InvalidArgument,
                     "base64: unexpected character '" + std::string(1, c) + "' at position " + std::to_string(i + static_cast<std::size_t>(k)));
      }
    }
    std::uint32_t n = (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
                      (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
    out.push_back(static_cast<std::uint8_t>(n >> 16));
    if (pad < 2) out.push_back(static_cast<std::uint8_t>(n >> 8));
    if (pad < 1) out.push_back(static_cast<std::uint8_t>(n));
  }
  return out;
}

}  // namespace constellation::core
