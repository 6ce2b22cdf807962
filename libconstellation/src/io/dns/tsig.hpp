// SPDX-License-Identifier: Apache-2.0
//
// TSIG (RFC 8945) with HMAC-SHA256 over OpenSSL: signs requests and verifies responses,
// including the chained digests of multi-message zone transfers (§5.3.1).
#pragma once

#include <constellation/result.hpp>

#include "core/bytes.hpp"

#include <cstdint>
#include <string>

namespace constellation::io::dns {

struct TsigKey {
  /// Key name as configured on the server ("upd").
  std::string name;
  /// The shared secret (decoded).
  core::Bytes secret;
};

using core::base64_decode;

/// Appends a TSIG record to the encoded message `msg` (whose ARCOUNT is incremented) and returns
/// the MAC. `time_signed` is seconds since the Unix epoch; fudge 300 s.
Result<core::Bytes> tsig_sign(core::Bytes& msg, const TsigKey& key, std::uint64_t time_signed);

/// Verifies the responses to a signed request, one message at a time (a zone transfer is many).
class TsigVerifier {
 public:
  TsigVerifier(const TsigKey& key, core::Bytes request_mac) : key_(key), prior_mac_(std::move(request_mac)) {}
  /// Checks one response message (raw bytes). Unsigned messages are allowed only between signed
  /// ones in a transfer (at most 99) and are folded into the next digest. Errors:
  /// PermissionDenied (bad MAC, wrong key, TSIG error from the server, time outside the fudge),
  /// InvalidArgument (malformed).
  Result<void> verify(core::ByteView message, std::uint64_t now_seconds);
  /// True once the last message seen was signed (a transfer must end on a signed message).
  bool last_signed() const { return last_signed_; }

 private:
  const TsigKey& key_;
  core::Bytes prior_mac_;
  core::Bytes unsigned_;  // unsigned messages since the last signed one
  int unsigned_count_ = 0;
  bool first_ = true;
  bool last_signed_ = false;
};

}  // namespace constellation::io::dns
