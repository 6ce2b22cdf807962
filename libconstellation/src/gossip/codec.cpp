// SPDX-License-Identifier: Apache-2.0
#include "core/assert.hpp"
#include "gossip/messages.hpp"

#include <zstd.h>

#include <type_traits>

namespace constellation::gossip::wire {

namespace {

constexpr std::uint8_t kFlagCompressed = 1;
constexpr std::uint8_t kFlagNack = 1;
constexpr std::uint8_t kFlagReplace = 1;
constexpr std::uint8_t kFlagJoin = 1;
constexpr std::uint8_t kFlagTargeted = 2;
constexpr std::uint8_t kEntryErased = 0;
constexpr std::uint8_t kEntryValue = 1;
constexpr std::uint8_t kMaxMemberState = static_cast<std::uint8_t>(MemberState::Left);

void put_delta(const StateDelta& d, core::ByteWriter& w) {
  w.prefixed(d.node);
  w.varint(d.base_version);
  w.varint(d.version);
  w.u8(d.replace ? kFlagReplace : 0);
  w.varint(d.entries.size());
  for (const auto& e : d.entries) {
    w.prefixed(e.key);
    w.varint(e.version);
    if (e.value) {
      w.u8(kEntryValue);
      w.prefixed(*e.value);
    } else {
      w.u8(kEntryErased);
    }
  }
}

std::string str(core::ByteReader& r, std::string_view field, std::size_t max) {
  return std::string(r.prefixed_string(field, max));
}

// Trailing view summary: written only when present, read only when bytes remain.
void put_view(const ViewSummary& v, core::ByteWriter& w) {
  if (v.members == 0) return;
  w.varint(v.members);
  w.u64be(v.hash);
}

ViewSummary get_view(core::ByteReader& r) {
  ViewSummary v;
  if (!r.ok() || r.at_end()) return v;
  v.members = r.varint("view.members");
  v.hash = r.u64be("view.hash");
  if (r.ok() && v.members == 0) r.fail("view.members", "zero members in a present summary");
  return v;
}

void get_delta(core::ByteReader& r, StateDelta& d) {
  d.node = str(r, "delta.node", kMaxName);
  d.base_version = r.varint("delta.base_version");
  d.version = r.varint("delta.version");
  const auto flags = r.u8("delta.flags");
  if (r.ok() && (flags & ~kFlagReplace) != 0) r.fail("delta.flags", "unknown flag bits");
  d.replace = flags & kFlagReplace;
  if (r.ok() && d.base_version > d.version) r.fail("delta.base_version", "above version");
  const auto n = r.varint_max("delta.entries", kMaxEntries);
  // Each entry takes at least 3 bytes: never reserve more than the input could hold.
  d.entries.reserve(std::min<std::uint64_t>(n, r.remaining() / 3));
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    StateEntry e;
    e.key = str(r, "entry.key", kMaxKey);
    e.version = r.varint("entry.version");
    const auto kind = r.u8("entry.kind");
    if (kind == kEntryValue) {
      e.value = str(r, "entry.value", kMaxValue);
    } else if (r.ok() && kind != kEntryErased) {
      r.fail("entry.kind", "unknown entry kind");
    }
    if (r.ok() && (e.version == 0 || e.version > d.version)) r.fail("entry.version", "outside (0, version]");
    d.entries.push_back(std::move(e));
  }
}

void put_body(const Message& m, core::ByteWriter& w) {
  std::visit(
      [&w](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Ping>) {
          w.varint(x.seq);
          w.prefixed(x.target);
          w.prefixed(x.source);
          w.prefixed(x.source_address);
          put_view(x.view, w);
        } else if constexpr (std::is_same_v<T, PingReq>) {
          w.varint(x.seq);
          w.prefixed(x.target);
          w.prefixed(x.target_address);
          w.prefixed(x.source);
          w.prefixed(x.source_address);
          w.u8(x.nack ? kFlagNack : 0);
        } else if constexpr (std::is_same_v<T, Ack>) {
          w.varint(x.seq);
          w.prefixed(x.source);
          put_view(x.view, w);
        } else if constexpr (std::is_same_v<T, Nack>) {
          w.varint(x.seq);
        } else if constexpr (std::is_same_v<T, Suspect> || std::is_same_v<T, Dead>) {
          w.varint(x.incarnation);
          w.prefixed(x.node);
          w.prefixed(x.from);
        } else if constexpr (std::is_same_v<T, Alive>) {
          w.varint(x.incarnation);
          w.prefixed(x.node);
          w.prefixed(x.address);
          w.varint(x.state_version);
        } else if constexpr (std::is_same_v<T, Leave>) {
          w.varint(x.incarnation);
          w.prefixed(x.node);
        } else if constexpr (std::is_same_v<T, StateDelta>) {
          put_delta(x, w);
        } else {
          static_assert(std::is_same_v<T, User>);
          w.prefixed(x.origin);
          w.varint(x.id);
          w.prefixed(x.payload);
        }
      },
      m);
}

Message get_body(MsgType type, core::ByteReader& r) {
  switch (type) {
    case MsgType::Ping: {
      Ping p;
      p.seq = r.varint("ping.seq");
      p.target = str(r, "ping.target", kMaxName);
      p.source = str(r, "ping.source", kMaxName);
      p.source_address = str(r, "ping.source_address", kMaxAddress);
      p.view = get_view(r);
      return p;
    }
    case MsgType::PingReq: {
      PingReq p;
      p.seq = r.varint("ping_req.seq");
      p.target = str(r, "ping_req.target", kMaxName);
      p.target_address = str(r, "ping_req.target_address", kMaxAddress);
      p.source = str(r, "ping_req.source", kMaxName);
      p.source_address = str(r, "ping_req.source_address", kMaxAddress);
      const auto flags = r.u8("ping_req.flags");
      if (r.ok() && (flags & ~kFlagNack) != 0) r.fail("ping_req.flags", "unknown flag bits");
      p.nack = flags & kFlagNack;
      return p;
    }
    case MsgType::Ack: {
      Ack a;
      a.seq = r.varint("ack.seq");
      a.source = str(r, "ack.source", kMaxName);
      a.view = get_view(r);
      return a;
    }
    case MsgType::Nack: {
      Nack n;
      n.seq = r.varint("nack.seq");
      return n;
    }
    case MsgType::Suspect: {
      Suspect s;
      s.incarnation = r.varint("suspect.incarnation");
      s.node = str(r, "suspect.node", kMaxName);
      s.from = str(r, "suspect.from", kMaxName);
      return s;
    }
    case MsgType::Alive: {
      Alive a;
      a.incarnation = r.varint("alive.incarnation");
      a.node = str(r, "alive.node", kMaxName);
      a.address = str(r, "alive.address", kMaxAddress);
      a.state_version = r.varint("alive.state_version");
      return a;
    }
    case MsgType::Dead: {
      Dead d;
      d.incarnation = r.varint("dead.incarnation");
      d.node = str(r, "dead.node", kMaxName);
      d.from = str(r, "dead.from", kMaxName);
      return d;
    }
    case MsgType::Leave: {
      Leave l;
      l.incarnation = r.varint("leave.incarnation");
      l.node = str(r, "leave.node", kMaxName);
      return l;
    }
    case MsgType::StateDelta: {
      StateDelta d;
      get_delta(r, d);
      return d;
    }
    case MsgType::User: {
      User u;
      u.origin = str(r, "user.origin", kMaxName);
      u.id = r.varint("user.id");
      u.payload = str(r, "user.payload", kMaxUser);
      return u;
    }
  }
  CST_UNREACHABLE();
}

constexpr std::uint8_t kMaxMsgType = static_cast<std::uint8_t>(MsgType::User);

// Parts until the end of the input; used by datagrams and by stream-carried packets.
void get_parts(core::ByteReader& r, DecodedPacket& out) {
  std::size_t parts = 0;
  while (r.ok() && !r.at_end()) {
    if (++parts > kMaxParts) {
      r.fail("packet", "more than 255 parts");
      break;
    }
    const auto type = r.u8("part.type");
    const auto body = r.prefixed("part.length", r.remaining());
    if (!r.ok()) break;
    if (type == 0 || type > kMaxMsgType) {
      ++out.unknown;  // a newer peer's message type: skipped (§2.1)
      continue;
    }
    core::ByteReader br(body);
    Message m = get_body(static_cast<MsgType>(type), br);
    // Trailing bytes inside a part are fields a newer peer appended: ignored (§2.1).
    if (!br.ok()) {
      // Re-run the failure on the outer reader so its error names the field.
      auto st = br.status();
      r.fail("part", st.error().message());
      break;
    }
    out.messages.push_back(std::move(m));
  }
}

void put_digest(const DigestEntry& d, core::ByteWriter& w) {
  w.prefixed(d.name);
  w.varint(d.incarnation);
  w.u8(static_cast<std::uint8_t>(d.state));
  w.varint(d.state_version);
}

MemberState get_state(core::ByteReader& r, std::string_view field) {
  const auto s = r.u8(field);
  if (r.ok() && s > kMaxMemberState) r.fail(field, "unknown member state");
  return r.ok() ? static_cast<MemberState>(s) : MemberState::Alive;
}

void put_push_pull(const PushPull& p, core::ByteWriter& w) {
  w.u8(static_cast<std::uint8_t>(p.type));
  w.u8(static_cast<std::uint8_t>((p.join ? kFlagJoin : 0) | (p.targeted ? kFlagTargeted : 0)));
  w.prefixed(p.source);
  w.prefixed(p.source_address);
  w.varint(p.digest.size());
  for (const auto& d : p.digest) put_digest(d, w);
  w.varint(p.records.size());
  for (const auto& rec : p.records) {
    w.prefixed(rec.address);
    w.varint(rec.incarnation);
    w.u8(static_cast<std::uint8_t>(rec.state));
    put_delta(rec.delta, w);
  }
}

void get_push_pull(StreamType type, core::ByteReader& r, PushPull& p) {
  p.type = type;
  const auto flags = r.u8("push_pull.flags");
  if (r.ok() && (flags & ~(kFlagJoin | kFlagTargeted)) != 0) r.fail("push_pull.flags", "unknown flag bits");
  p.join = flags & kFlagJoin;
  p.targeted = flags & kFlagTargeted;
  p.source = str(r, "push_pull.source", kMaxName);
  p.source_address = str(r, "push_pull.source_address", kMaxAddress);
  const auto nd = r.varint_max("push_pull.digest", kMaxMembers);
  p.digest.reserve(std::min<std::uint64_t>(nd, r.remaining() / 4));
  for (std::uint64_t i = 0; i < nd && r.ok(); ++i) {
    DigestEntry d;
    d.name = str(r, "digest.name", kMaxName);
    d.incarnation = r.varint("digest.incarnation");
    d.state = get_state(r, "digest.state");
    d.state_version = r.varint("digest.state_version");
    p.digest.push_back(std::move(d));
  }
  const auto nr = r.varint_max("push_pull.records", kMaxMembers);
  p.records.reserve(std::min<std::uint64_t>(nr, r.remaining() / 8));
  for (std::uint64_t i = 0; i < nr && r.ok(); ++i) {
    MemberRecord rec;
    rec.address = str(r, "record.address", kMaxAddress);
    rec.incarnation = r.varint("record.incarnation");
    rec.state = get_state(r, "record.state");
    get_delta(r, rec.delta);
    p.records.push_back(std::move(rec));
  }
}

core::Bytes frame(core::Bytes body, std::size_t compress_threshold) {
  core::ByteWriter w(body.size() / 2 + 16);
  w.u8(kVersion);
  if (body.size() > compress_threshold) {
    core::Bytes z(ZSTD_compressBound(body.size()));
    const std::size_t n = ZSTD_compress(z.data(), z.size(), body.data(), body.size(), 1);
    if (!ZSTD_isError(n) && n + core::kMaxVarintBytes < body.size()) {
      w.u8(kFlagCompressed);
      w.varint(body.size());
      w.raw(core::ByteView(z.data(), n));
      return std::move(w).take();
    }
  }
  w.u8(0);
  w.raw(body);
  return std::move(w).take();
}

}  // namespace

MsgType type_of(const Message& m) { return static_cast<MsgType>(m.index() + 1); }

core::Bytes encode_part(const Message& m) {
  core::ByteWriter body(64);
  put_body(m, body);
  core::ByteWriter w(body.size() + 8);
  w.u8(static_cast<std::uint8_t>(type_of(m)));
  w.prefixed(body.view());
  return std::move(w).take();
}

core::Bytes encode_packet(const std::vector<core::Bytes>& parts) {
  std::size_t total = 1;
  for (const auto& p : parts) total += p.size();
  core::ByteWriter w(total);
  w.u8(kVersion);
  for (const auto& p : parts) w.raw(p);
  return std::move(w).take();
}

core::Bytes encode_packet(const Message& m) { return encode_packet(std::vector<core::Bytes>{encode_part(m)}); }

Result<DecodedPacket> decode_packet(core::ByteView bytes) {
  core::ByteReader r(bytes);
  DecodedPacket out;
  const auto version = r.u8("version");
  if (r.ok() && version != kVersion) r.fail("version", "unsupported gossip packet version");
  get_parts(r, out);
  if (auto st = r.status(); !st) return Error(Code::InvalidArgument, "gossip packet: " + st.error().message());
  return out;
}

core::Bytes encode_stream(const PushPull& p, std::size_t compress_threshold) {
  core::ByteWriter w(256 + 32 * (p.digest.size() + p.records.size()));
  put_push_pull(p, w);
  return frame(std::move(w).take(), compress_threshold);
}

core::Bytes encode_stream_packet(const std::vector<core::Bytes>& parts, std::size_t compress_threshold) {
  core::ByteWriter w(256);
  w.u8(static_cast<std::uint8_t>(StreamType::Packet));
  for (const auto& part : parts) w.raw(part);
  return frame(std::move(w).take(), compress_threshold);
}

Result<StreamFrame> decode_stream(core::ByteView bytes, std::size_t max_stream) {
  auto bad = [](const std::string& what) { return Error(Code::InvalidArgument, "gossip stream: " + what); };
  if (bytes.size() > max_stream) return bad("frame larger than max_stream");
  core::ByteReader head(bytes);
  const auto version = head.u8("version");
  if (head.ok() && version != kVersion) head.fail("version", "unsupported gossip stream version");
  const auto flags = head.u8("flags");
  if (head.ok() && (flags & ~kFlagCompressed) != 0) head.fail("flags", "unknown flag bits");
  core::Bytes inflated;
  core::ByteView body;
  if (head.ok() && (flags & kFlagCompressed)) {
    const auto raw_len = head.varint_max("raw_length", max_stream);
    if (!head.ok()) return bad(head.status().error().message());
    const auto z = head.rest();
    const unsigned long long declared = ZSTD_getFrameContentSize(z.data(), z.size());
    if (declared == ZSTD_CONTENTSIZE_ERROR || (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != raw_len))
      return bad("zstd frame does not match raw_length");
    inflated.resize(raw_len);
    const std::size_t n = ZSTD_decompress(inflated.data(), inflated.size(), z.data(), z.size());
    if (ZSTD_isError(n) || n != raw_len) return bad("zstd frame does not decompress to raw_length");
    body = inflated;
  } else {
    body = head.rest();
  }
  if (!head.ok()) return bad(head.status().error().message());

  core::ByteReader r(body);
  const auto type = r.u8("type");
  StreamFrame out;
  if (r.ok()) {
    switch (static_cast<StreamType>(type)) {
      case StreamType::PushPullRequest:
      case StreamType::PushPullResponse:
      case StreamType::PushPullPush: {
        PushPull p;
        get_push_pull(static_cast<StreamType>(type), r, p);
        if (r.ok() && !r.at_end()) r.fail("push_pull", "trailing bytes");
        out.body = std::move(p);
        break;
      }
      case StreamType::Packet: {
        DecodedPacket pk;
        get_parts(r, pk);
        out.body = std::move(pk);
        break;
      }
      default:
        r.fail("type", "unknown stream frame type");
    }
  }
  if (auto st = r.status(); !st) return bad(st.error().message());
  return out;
}

}  // namespace constellation::gossip::wire
