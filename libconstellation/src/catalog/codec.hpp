// SPDX-License-Identifier: Apache-2.0
//
// The compact binary form of a NodeEntry, as gossip carries it. Decoding treats the bytes as
// hostile: every count and length is bounded before it is read (core::ByteReader), enum values
// are checked, and maps and instance lists must be strictly sorted, so a decoded entry always
// satisfies validate() and re-encodes to an equal entry.
//
// Layout (format 1; varint = LEB128, str = varint length + bytes):
//   u8 format (=1)
//   node:  16 id bytes, str name, varint n + n×str roles, varint n + n×str tags, str version,
//          varint n + n×(str network, str address)
//   varint entry version
//   varint n instances, each:
//     str id, str service, str project, str runtime, str runtime_id,
//     varint n + n×(str key, str value) labels,
//     varint n + n×(varint target, varint published, str protocol, str host_ip) ports,
//     varint n + n×str networks, u8 health,
//     varint n + n×(str name, u8 status, str output) checks
#pragma once

#include <constellation/result.hpp>

#include "catalog/model.hpp"
#include "core/bytes.hpp"

#include <cstddef>

namespace constellation::catalog {

/// Wire format version written by encode(). Decoders reject other values.
inline constexpr std::uint8_t kEntryFormat = 1;

/// Bounds enforced by decode() and validate(). They are generous for real fleets and small
/// enough that a hostile packet cannot make a node allocate more than a few MiB.
struct Limits {
  static constexpr std::size_t kMaxEntryBytes = 4u << 20;
  static constexpr std::size_t kMaxName = 256;
  static constexpr std::size_t kMaxShort = 64;     // roles, tags, networks, protocol
  static constexpr std::size_t kMaxListItems = 64; // roles, tags, addresses, networks, checks
  static constexpr std::size_t kMaxInstances = 4096;
  static constexpr std::size_t kMaxLabels = 1024;
  static constexpr std::size_t kMaxLabelKey = 1024;
  static constexpr std::size_t kMaxLabelValue = 16384;
  static constexpr std::size_t kMaxPorts = 1024;
  static constexpr std::size_t kMaxCheckOutput = 4096;
};

/// Appends the binary form of `entry` to `out`. `entry` must satisfy validate() (a bug otherwise).
void encode(const NodeEntry& entry, core::ByteWriter& out);
/// The binary form of `entry`.
core::Bytes encode(const NodeEntry& entry);

/// Decodes one entry occupying all of `bytes`. Errors: InvalidArgument for truncated or
/// malformed input (the message names the field and offset), Corrupt for well-formed input that
/// breaks an invariant (unsorted or duplicate keys, unknown enum value, unknown format).
Result<NodeEntry> decode(core::ByteView bytes);

/// Checks the invariants every entry in the catalog keeps: a non-zero node id, a non-empty
/// name, strings within Limits, instances sorted by id without duplicates, ports in range,
/// protocols "tcp"/"udp"/"sctp". Errors: InvalidArgument naming the field.
Result<void> validate(const NodeEntry& entry);

}  // namespace constellation::catalog
