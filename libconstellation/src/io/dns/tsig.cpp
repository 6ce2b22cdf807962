// SPDX-License-Identifier: Apache-2.0
#include "io/dns/tsig.hpp"

#include "dns/wire.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace constellation::io::dns {

namespace wire = constellation::dns::wire;

namespace {

constexpr std::uint16_t kFudge = 300;
constexpr const char* kAlgorithm = "hmac-sha256";

Result<core::Bytes> hmac(const core::Bytes& key, const core::Bytes& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out, &len)) {
    return Error(Code::Internal, "tsig: HMAC-SHA256 failed");
  }
  return core::Bytes(out, out + len);
}

void put_u48(core::ByteWriter& w, std::uint64_t v) {
  w.u16be(static_cast<std::uint16_t>(v >> 32));
  w.u32be(static_cast<std::uint32_t>(v));
}

bool equal_ct(const core::Bytes& a, core::ByteView b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

Result<core::Bytes> tsig_sign(core::Bytes& msg, const TsigKey& key, std::uint64_t time_signed) {
  if (msg.size() < 12) return Error(Code::InvalidArgument, "tsig: message too short");
  CST_TRY_ASSIGN(core::Bytes key_name, wire::canonical_name(key.name));
  CST_TRY_ASSIGN(core::Bytes alg, wire::canonical_name(kAlgorithm));
  // Digest: message, then the TSIG variables (RFC 8945 §4.3.3).
  core::ByteWriter d;
  d.raw(core::ByteView(msg));
  d.raw(core::ByteView(key_name));
  d.u16be(wire::kClassANY);
  d.u32be(0);
  d.raw(core::ByteView(alg));
  put_u48(d, time_signed);
  d.u16be(kFudge);
  d.u16be(0);  // error
  d.u16be(0);  // other len
  CST_TRY_ASSIGN(core::Bytes mac, hmac(key.secret, d.bytes()));
  const std::uint16_t id = static_cast<std::uint16_t>(msg[0] << 8 | msg[1]);
  core::ByteWriter rd;
  rd.raw(core::ByteView(alg));
  put_u48(rd, time_signed);
  rd.u16be(kFudge);
  rd.u16be(static_cast<std::uint16_t>(mac.size()));
  rd.raw(core::ByteView(mac));
  rd.u16be(id);
  rd.u16be(0);
  rd.u16be(0);
  core::ByteWriter rr;
  rr.raw(core::ByteView(key_name));
  rr.u16be(wire::kTypeTSIG);
  rr.u16be(wire::kClassANY);
  rr.u32be(0);
  rr.u16be(static_cast<std::uint16_t>(rd.size()));
  rr.raw(rd.view());
  msg.insert(msg.end(), rr.bytes().begin(), rr.bytes().end());
  const std::uint16_t arcount = static_cast<std::uint16_t>((msg[10] << 8 | msg[11]) + 1);
  msg[10] = static_cast<std::uint8_t>(arcount >> 8);
  msg[11] = static_cast<std::uint8_t>(arcount);
  return mac;
}

Result<void> TsigVerifier::verify(core::ByteView message, std::uint64_t now_seconds) {
  std::size_t tsig_start = 0;
  CST_TRY_ASSIGN(wire::Message m, wire::decode(message, &tsig_start));
  const bool is_signed = !m.additional.empty() && m.additional.back().type == wire::kTypeTSIG;
  if (!is_signed) {
    if (first_) return Error(Code::PermissionDenied, "tsig: the answer is not signed");
    if (++unsigned_count_ > 99) return Error(Code::PermissionDenied, "tsig: more than 99 unsigned messages in a row");
    unsigned_.insert(unsigned_.end(), message.begin(), message.end());
    last_signed_ = false;
    return ok();
  }
  const wire::RR& t = m.additional.back();
  // Parse TSIG RDATA: algorithm name, time (48), fudge, mac size, mac, original id, error, other.
  core::ByteView rd(t.rdata);
  std::size_t p = 0;
  while (p < rd.size() && rd[p] != 0) {
    if ((rd[p] & 0xC0) != 0) return Error(Code::InvalidArgument, "tsig: compressed algorithm name");
    p += 1 + rd[p];
  }
  ++p;
  if (p + 10 > rd.size()) return Error(Code::InvalidArgument, "tsig: RDATA truncated");
  core::ByteView alg_raw = rd.subspan(0, p);
  const std::uint64_t time_signed = (static_cast<std::uint64_t>(rd[p]) << 40) | (static_cast<std::uint64_t>(rd[p + 1]) << 32) |
                                    (static_cast<std::uint64_t>(rd[p + 2]) << 24) | (static_cast<std::uint64_t>(rd[p + 3]) << 16) |
                                    (static_cast<std::uint64_t>(rd[p + 4]) << 8) | rd[p + 5];
  const std::uint16_t fudge = static_cast<std::uint16_t>(rd[p + 6] << 8 | rd[p + 7]);
  const std::size_t mac_size = static_cast<std::size_t>(rd[p + 8] << 8 | rd[p + 9]);
  std::size_t q = p + 10;
  if (q + mac_size + 6 > rd.size()) return Error(Code::InvalidArgument, "tsig: RDATA truncated");
  core::ByteView mac = rd.subspan(q, mac_size);
  q += mac_size;
  const std::uint16_t orig_id = static_cast<std::uint16_t>(rd[q] << 8 | rd[q + 1]);
  const std::uint16_t error = static_cast<std::uint16_t>(rd[q + 2] << 8 | rd[q + 3]);
  const std::size_t other_len = static_cast<std::size_t>(rd[q + 4] << 8 | rd[q + 5]);
  if (q + 6 + other_len != rd.size()) return Error(Code::InvalidArgument, "tsig: RDATA length mismatch");
  core::ByteView other = rd.subspan(q + 6, other_len);
  if (error != 0) return Error(Code::PermissionDenied, "tsig: server reports " + wire::rcode_name(error));
  CST_TRY_ASSIGN(core::Bytes key_name, wire::canonical_name(key_.name));
  CST_TRY_ASSIGN(core::Bytes t_name, wire::canonical_name(t.name));
  if (t_name != key_name) return Error(Code::PermissionDenied, "tsig: answer signed with another key (" + t.name + ")");

  // The message as the server signed it: everything before the TSIG record, with ARCOUNT
  // one less and the original id (RFC 8945 §4.3.2).
  core::Bytes signed_part(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(tsig_start));
  const std::uint16_t arcount = static_cast<std::uint16_t>((signed_part[10] << 8 | signed_part[11]) - 1);
  signed_part[10] = static_cast<std::uint8_t>(arcount >> 8);
  signed_part[11] = static_cast<std::uint8_t>(arcount);
  signed_part[0] = static_cast<std::uint8_t>(orig_id >> 8);
  signed_part[1] = static_cast<std::uint8_t>(orig_id);

  core::ByteWriter d;
  d.u16be(static_cast<std::uint16_t>(prior_mac_.size()));
  d.raw(core::ByteView(prior_mac_));
  d.raw(core::ByteView(unsigned_));
  d.raw(core::ByteView(signed_part));
  if (first_) {
    d.raw(core::ByteView(key_name));
    d.u16be(wire::kClassANY);
    d.u32be(0);
    core::Bytes alg_lower(alg_raw.begin(), alg_raw.end());
    for (auto& c : alg_lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<std::uint8_t>(c + 32);
    }
    d.raw(core::ByteView(alg_lower));
    put_u48(d, time_signed);
    d.u16be(fudge);
    d.u16be(error);
    d.u16be(static_cast<std::uint16_t>(other_len));
    d.raw(other);
  } else {
    put_u48(d, time_signed);  // subsequent messages: timers only (RFC 8945 §5.3.1)
    d.u16be(fudge);
  }
  CST_TRY_ASSIGN(core::Bytes expect, hmac(key_.secret, d.bytes()));
  if (!equal_ct(expect, mac)) return Error(Code::PermissionDenied, "tsig: the answer's MAC does not verify");
  const std::uint64_t skew = now_seconds > time_signed ? now_seconds - time_signed : time_signed - now_seconds;
  if (skew > fudge) return Error(Code::PermissionDenied, "tsig: the answer's time is outside the fudge window");
  prior_mac_.assign(mac.begin(), mac.end());
  unsigned_.clear();
  unsigned_count_ = 0;
  first_ = false;
  last_signed_ = true;
  return ok();
}

}  // namespace constellation::io::dns
