// SPDX-License-Identifier: Apache-2.0
//
// The gossip wire format (docs/protocol.md §2 onward): plaintext messages inside the transport's
// envelope. Datagrams are compound packets — a version byte followed by typed, length-prefixed
// parts — so broadcasts piggyback on probes; streams carry one frame (push/pull anti-entropy or a
// packet sent reliably), zstd-compressed when large. Every decoder reads through core::ByteReader,
// checks each length against what is left and against the limits below, caps every count, and
// returns an error naming the field; none of them allocates more than its input could describe.
// Fuzzed by tests/fuzz/fuzz_gossip_packet.cpp and fuzz_gossip_stream.cpp.
#pragma once

#include "core/bytes.hpp"
#include "gossip/core.hpp"

#include <constellation/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace constellation::gossip::wire {

/// Version byte opening every datagram and every stream frame. Bumped only for an incompatible
/// change of the framing; new message types and new trailing fields do not bump it (§2.1).
inline constexpr std::uint8_t kVersion = 1;

// Decoding limits: a peer cannot make a decoder allocate beyond these.
inline constexpr std::size_t kMaxName = 255;        // node names
inline constexpr std::size_t kMaxAddress = 255;     // "host:port", IPv6 included
inline constexpr std::size_t kMaxParts = 255;       // parts in one compound packet
inline constexpr std::size_t kMaxKey = 4096;        // application state key
inline constexpr std::size_t kMaxValue = 16u << 20; // application state value
inline constexpr std::size_t kMaxUser = 64u << 10;  // user broadcast payload
inline constexpr std::size_t kMaxEntries = 1u << 20;  // state entries in one delta or record
inline constexpr std::size_t kMaxMembers = 1u << 20;  // members in one push/pull frame

/// Message types inside a packet. Append only: the values are on the wire.
enum class MsgType : std::uint8_t {
  Ping = 1,
  PingReq = 2,
  Ack = 3,
  Nack = 4,
  Suspect = 5,
  Alive = 6,
  Dead = 7,
  Leave = 8,
  StateDelta = 9,
  User = 10,
};

/// A direct probe (SWIM §3). `target` names the node meant, so a ping reaching a new owner of a
/// reused address is not answered on the old node's behalf.
/// A summary of the sender's membership view, carried by pings and direct acks: how many live
/// members it knows and the XOR of their names' FNV-1a hashes. A peer whose summary stays
/// different from ours while our view is quiet has missed something: we push/pull with it, so
/// convergence has no long tail (docs/protocol.md §2.2). members == 0: absent (an older sender,
/// or a relayed ack).
struct ViewSummary {
  std::uint64_t members = 0;
  std::uint64_t hash = 0;
  friend bool operator==(const ViewSummary&, const ViewSummary&) = default;
};

struct Ping {
  std::uint64_t seq = 0;
  std::string target;
  std::string source;
  std::string source_address;
  ViewSummary view;  // trailing fields (added without a version bump)
  friend bool operator==(const Ping&, const Ping&) = default;
};
/// Ask the receiver to probe `target` for `source` (SWIM §3.1 indirect probe); with `nack` the
/// receiver answers Nack when the target stays silent for a probe timeout (Lifeguard).
struct PingReq {
  std::uint64_t seq = 0;
  std::string target;
  std::string target_address;
  std::string source;
  std::string source_address;
  bool nack = true;
  friend bool operator==(const PingReq&, const PingReq&) = default;
};
struct Ack {
  std::uint64_t seq = 0;
  std::string source;
  ViewSummary view;  // trailing fields (added without a version bump)
  friend bool operator==(const Ack&, const Ack&) = default;
};
struct Nack {
  std::uint64_t seq = 0;
  friend bool operator==(const Nack&, const Nack&) = default;
};
struct Suspect {
  std::uint64_t incarnation = 0;
  std::string node;
  std::string from;
  friend bool operator==(const Suspect&, const Suspect&) = default;
};
/// `state_version` lets receivers notice they lack the node's application state and pull it.
struct Alive {
  std::uint64_t incarnation = 0;
  std::string node;
  std::string address;
  std::uint64_t state_version = 0;
  friend bool operator==(const Alive&, const Alive&) = default;
};
struct Dead {
  std::uint64_t incarnation = 0;
  std::string node;
  std::string from;
  friend bool operator==(const Dead&, const Dead&) = default;
};
struct Leave {
  std::uint64_t incarnation = 0;
  std::string node;
  friend bool operator==(const Leave&, const Leave&) = default;
};

/// One key of a member's application state; no value = erased (a tombstone).
struct StateEntry {
  std::string key;
  std::uint64_t version = 0;
  std::optional<std::string> value;
  friend bool operator==(const StateEntry&, const StateEntry&) = default;
};

/// The changes of `node`'s state from base_version to version: every key changed after
/// base_version. `replace`: the entries are the whole state (receivers drop what they had).
/// A receiver holding version v applies it when base_version <= v < version.
struct StateDelta {
  std::string node;
  std::uint64_t base_version = 0;
  std::uint64_t version = 0;
  bool replace = false;
  std::vector<StateEntry> entries;
  friend bool operator==(const StateDelta&, const StateDelta&) = default;
};

/// An opaque user broadcast, identified by (origin, id) so receivers relay it once.
struct User {
  std::string origin;
  std::uint64_t id = 0;
  std::string payload;
  friend bool operator==(const User&, const User&) = default;
};

/// Alternatives in MsgType order (index + 1 == type).
using Message = std::variant<Ping, PingReq, Ack, Nack, Suspect, Alive, Dead, Leave, StateDelta, User>;

MsgType type_of(const Message& m);

/// One part of a compound packet: u8 type, varint length, body.
core::Bytes encode_part(const Message& m);
/// A whole packet from already encoded parts.
core::Bytes encode_packet(const std::vector<core::Bytes>& parts);
core::Bytes encode_packet(const Message& m);

struct DecodedPacket {
  std::vector<Message> messages;
  /// Parts of a type this version does not know (skipped, for forward compatibility).
  std::size_t unknown = 0;
};
/// Errors: InvalidArgument naming the field (bad version, truncated part, oversized field,
/// too many parts, malformed body).
Result<DecodedPacket> decode_packet(core::ByteView bytes);

// --- streams -------------------------------------------------------------------------------------

/// Stream frame kinds. Append only: the values are on the wire.
enum class StreamType : std::uint8_t {
  PushPullRequest = 1,
  PushPullResponse = 2,
  PushPullPush = 3,
  Packet = 4,
};

/// What a node knows of one member, for the peer to compare with its own view.
struct DigestEntry {
  std::string name;
  std::uint64_t incarnation = 0;
  MemberState state = MemberState::Alive;
  std::uint64_t state_version = 0;
  friend bool operator==(const DigestEntry&, const DigestEntry&) = default;
};

/// A member's record with the part of its state the peer lacks (a delta from the peer's
/// state_version, or everything with `delta.replace`).
struct MemberRecord {
  std::string address;
  std::uint64_t incarnation = 0;
  MemberState state = MemberState::Alive;
  StateDelta delta;  // delta.node is the member's name; delta.version its state_version
  friend bool operator==(const MemberRecord&, const MemberRecord&) = default;
};

/// Push/pull anti-entropy (three legs, none waited for):
///   request  (A→B): A's own record + A's digest of everyone else it knows;
///   response (B→A): records A lacks or holds older + `digest` = what B wants from A;
///   push     (A→B): records B asked for.
/// `targeted`: a pull of only the digest's members (no full comparison).
struct PushPull {
  StreamType type = StreamType::PushPullRequest;
  bool join = false;
  bool targeted = false;
  std::string source;
  std::string source_address;
  std::vector<DigestEntry> digest;
  std::vector<MemberRecord> records;
  friend bool operator==(const PushPull&, const PushPull&) = default;
};

/// A stream frame: a PushPull or a Packet (parts without the version byte) sent reliably.
struct StreamFrame {
  std::variant<PushPull, DecodedPacket> body;
};

/// u8 version, u8 flags (bit 0: zstd), then the body — compressed as varint raw length + one zstd
/// frame when the body is larger than compress_threshold (and compression saves space).
core::Bytes encode_stream(const PushPull& p, std::size_t compress_threshold);
core::Bytes encode_stream_packet(const std::vector<core::Bytes>& parts, std::size_t compress_threshold);
/// Errors: InvalidArgument (bad version or flags, a raw length above max_stream, a zstd frame
/// that does not decompress to exactly the announced length, malformed body).
Result<StreamFrame> decode_stream(core::ByteView bytes, std::size_t max_stream);

}  // namespace constellation::gossip::wire
