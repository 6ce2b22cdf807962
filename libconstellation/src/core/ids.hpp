// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <constellation/result.hpp>

#include "core/rng.hpp"

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace constellation::core {

/// A value of type Rep that only compares and hashes with values of the same Tag, so a Raft
/// `Term` cannot be passed where a `LogIndex` is expected. Zero-cost.
///   struct TermTag {}; using Term = StrongId<TermTag, std::uint64_t>;
template <class Tag, class Rep>
class StrongId {
 public:
  using rep_type = Rep;
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep value) : value_(value) {}
  constexpr const Rep& value() const { return value_; }
  friend constexpr auto operator<=>(const StrongId&, const StrongId&) = default;

 private:
  Rep value_{};
};

/// A node's identity: 128 random bits chosen once and persisted, so a node keeps it when its
/// name or address changes. Printed as 32 lower-case hex digits.
class NodeId {
 public:
  constexpr NodeId() = default;
  constexpr explicit NodeId(std::array<std::uint8_t, 16> bytes) : bytes_(bytes) {}

  /// A fresh id from rng (the agent seeds it from the OS's random source).
  static NodeId random(Rng& rng);
  /// Parses 32 hex digits (either case). Errors: InvalidArgument naming the offending character.
  static Result<NodeId> parse(std::string_view hex);

  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  bool is_zero() const;
  std::string to_hex() const;
  friend constexpr auto operator<=>(const NodeId&, const NodeId&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

}  // namespace constellation::core

template <class Tag, class Rep>
struct std::hash<constellation::core::StrongId<Tag, Rep>> {
  std::size_t operator()(const constellation::core::StrongId<Tag, Rep>& id) const noexcept {
    return std::hash<Rep>{}(id.value());
  }
};

template <>
struct std::hash<constellation::core::NodeId> {
  std::size_t operator()(const constellation::core::NodeId& id) const noexcept {
    std::size_t h = 0;
    for (auto b : id.bytes()) h = h * 131 + b;
    return h;
  }
};
