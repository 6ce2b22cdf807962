// SPDX-License-Identifier: Apache-2.0
#include "core/ids.hpp"

namespace constellation::core {

NodeId NodeId::random(Rng& rng) {
  std::array<std::uint8_t, 16> b{};
  std::uint64_t hi = rng.next(), lo = rng.next();
  for (int i = 0; i < 8; ++i) {
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(hi >> (56 - 8 * i));
    b[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(lo >> (56 - 8 * i));
  }
  return NodeId(b);
}

Result<NodeId> NodeId::parse(std::string_view hex) {
  if (hex.size() != 32) {
    return Error(Code::InvalidArgument,
                 "node id must be 32 hex digits, got " + std::to_string(hex.size()) + " characters");
  }
  std::array<std::uint8_t, 16> b{};
  for (std::size_t i = 0; i < 32; ++i) {
    char c = hex[i];
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      return Error(Code::InvalidArgument, "node id has a non-hex character at position " + std::to_string(i));
    b[i / 2] = static_cast<std::uint8_t>(b[i / 2] | (i % 2 == 0 ? v << 4 : v));
  }
  return NodeId(b);
}

bool NodeId::is_zero() const {
  for (auto x : bytes_) {
    if (x != 0) return false;
  }
  return true;
}

std::string NodeId::to_hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(32, '0');
  for (std::size_t i = 0; i < 16; ++i) {
    s[2 * i] = kDigits[bytes_[i] >> 4];
    s[2 * i + 1] = kDigits[bytes_[i] & 15];
  }
  return s;
}

}  // namespace constellation::core
