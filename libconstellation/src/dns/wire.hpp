// SPDX-License-Identifier: Apache-2.0
//
// DNS messages on the wire (RFC 1035 §4, RFC 2136 UPDATE, RFC 8945 TSIG records), for the RFC 2136
// backend. The decoder reads untrusted bytes through a bounded reader: every length is checked
// before it is used, compression pointers must point backwards and are followed at most 128
// times per name, names are at most 255 octets, and counts are bounded by the bytes left. It is
// fuzzed (tests/fuzz/fuzz_dns_wire.cpp): whatever it accepts re-encodes and decodes to the same
// message.
#pragma once

#include <constellation/result.hpp>

#include "core/bytes.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace constellation::dns::wire {

// RR types, classes, opcodes and rcodes (IANA registries; values are on the wire).
inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeNS = 2;
inline constexpr std::uint16_t kTypeCNAME = 5;
inline constexpr std::uint16_t kTypeSOA = 6;
inline constexpr std::uint16_t kTypeTXT = 16;
inline constexpr std::uint16_t kTypeAAAA = 28;
inline constexpr std::uint16_t kTypeTSIG = 250;
inline constexpr std::uint16_t kTypeAXFR = 252;
inline constexpr std::uint16_t kTypeANY = 255;
inline constexpr std::uint16_t kClassIN = 1;
inline constexpr std::uint16_t kClassNONE = 254;
inline constexpr std::uint16_t kClassANY = 255;
inline constexpr std::uint8_t kOpQuery = 0;
inline constexpr std::uint8_t kOpUpdate = 5;

enum class Rcode : std::uint16_t {
  NoError = 0, FormErr = 1, ServFail = 2, NxDomain = 3, NotImp = 4, Refused = 5,
  YxDomain = 6, YxRrset = 7, NxRrset = 8, NotAuth = 9, NotZone = 10,
  BadSig = 16, BadKey = 17, BadTime = 18,
};
/// "NOERROR", "NXRRSET", "BADSIG", ... or "RCODE<n>".
std::string rcode_name(std::uint16_t rcode);

/// A resource record. Names are in presentation form without the trailing dot ("" is the root),
/// with \DDD escapes for bytes outside printable ASCII and \. for a dot inside a label.
struct RR {
  std::string name;
  std::uint16_t type = kTypeA;
  std::uint16_t klass = kClassIN;
  std::uint32_t ttl = 0;
  /// Raw RDATA. Names inside RDATA (CNAME, NS, SOA) are stored uncompressed, so the RR encodes
  /// the same wherever it sits.
  core::Bytes rdata;
  friend bool operator==(const RR&, const RR&) = default;
};

struct Question {
  std::string name;
  std::uint16_t type = kTypeA;
  std::uint16_t klass = kClassIN;
  friend bool operator==(const Question&, const Question&) = default;
};

/// A message. For UPDATE, the four sections are zone, prerequisite, update and additional
/// (RFC 2136 §2): `questions` holds the zone, `answers` the prerequisites, `authority` the updates.
struct Message {
  std::uint16_t id = 0;
  bool qr = false;
  std::uint8_t opcode = kOpQuery;
  bool aa = false, tc = false, rd = false, ra = false;
  /// Low 4 bits of the rcode (the header's); TSIG errors live in the TSIG RR.
  std::uint8_t rcode = 0;
  std::vector<Question> questions;
  std::vector<RR> answers;
  std::vector<RR> authority;
  std::vector<RR> additional;
  friend bool operator==(const Message&, const Message&) = default;
};

/// Encodes a message (names uncompressed). Errors: InvalidArgument for a bad name (a label over
/// 63 octets, a name over 255) or a section over 65535 entries.
Result<core::Bytes> encode(const Message& m);

/// Decodes one message. Errors: InvalidArgument (truncated, bad pointer, label type, name too
/// long, trailing bytes) naming the field and offset.
/// `last_additional_offset`, when given, receives the byte offset where the last additional
/// record starts (the TSIG record, for signature checks); 0 when there is none.
Result<Message> decode(core::ByteView bytes, std::size_t* last_additional_offset = nullptr);

/// Appends `name` in uncompressed wire form. Errors: InvalidArgument.
Result<void> append_name(core::ByteWriter& w, std::string_view name);
/// The canonical (lower-case) wire form of a name, for TSIG digests.
Result<core::Bytes> canonical_name(std::string_view name);

// --- RDATA helpers ------------------------------------------------------------------------------
/// A: "192.0.2.1" → 4 bytes. AAAA: RFC 5952 text → 16 bytes. Errors: InvalidArgument.
Result<core::Bytes> rdata_a(std::string_view text);
Result<core::Bytes> rdata_aaaa(std::string_view text);
/// CNAME/NS: an uncompressed name.
Result<core::Bytes> rdata_name(std::string_view name);
/// TXT: the text split into character-strings of at most 255 octets.
core::Bytes rdata_txt(std::string_view text);
/// Presentation text of RDATA for the types above (TXT strings concatenated). Errors:
/// InvalidArgument for malformed RDATA or another type.
Result<std::string> rdata_text(std::uint16_t type, core::ByteView rdata);

/// SOA serial (for tests and logs). Errors: InvalidArgument.
Result<std::uint32_t> soa_serial(core::ByteView rdata);

}  // namespace constellation::dns::wire
