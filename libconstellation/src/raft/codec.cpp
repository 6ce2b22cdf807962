// SPDX-License-Identifier: Apache-2.0
#include "raft/codec.hpp"

namespace constellation::raft {

namespace {
constexpr std::uint8_t kFlagReject = 1;
constexpr std::uint8_t kFlagTransfer = 2;
constexpr std::uint8_t kMaxMsgType = static_cast<std::uint8_t>(MsgType::TransferLeader);

bool has_snapshot(MsgType t) { return t == MsgType::Snap; }
}  // namespace

void encode(const Message& m, core::ByteWriter& w) {
  w.u8(kCodecVersion);
  w.u8(static_cast<std::uint8_t>(m.type));
  w.varint(m.to);
  w.varint(m.from);
  w.varint(m.term.value());
  w.varint(m.log_term.value());
  w.varint(m.index.value());
  w.varint(m.commit.value());
  w.u8(static_cast<std::uint8_t>((m.reject ? kFlagReject : 0) | (m.transfer ? kFlagTransfer : 0)));
  w.varint(m.reject_hint.value());
  w.varint(m.context);
  w.varint(m.entries.size());
  for (const auto& e : m.entries) {
    w.varint(e.term.value());
    w.varint(e.index.value());
    w.u8(static_cast<std::uint8_t>(e.type));
    w.varint(e.cluster_time);
    w.prefixed(e.data);
    w.u32be(e.crc);
  }
  if (has_snapshot(m.type)) {
    w.varint(m.snapshot.index.value());
    w.varint(m.snapshot.term.value());
    w.prefixed(m.snapshot.conf.encode());
    w.varint(m.snapshot.cluster_time);
    w.varint(m.snapshot_size);
    w.u32be(m.snapshot_crc);
  }
  if (has_snapshot(m.type) || m.type == MsgType::SnapResp) w.varint(m.chunk_offset);
  if (has_snapshot(m.type)) w.prefixed(m.chunk);
}

core::Bytes encode(const Message& m) {
  core::ByteWriter w(64 + m.payload_bytes());
  encode(m, w);
  return std::move(w).take();
}

Result<Message> decode_message(core::ByteView bytes) {
  core::ByteReader r(bytes);
  Message m;
  const auto version = r.u8("version");
  if (r.ok() && version != kCodecVersion) r.fail("version", "unsupported raft message version");
  const auto type = r.u8("type");
  if (r.ok() && type > kMaxMsgType) r.fail("type", "unknown message type");
  m.type = static_cast<MsgType>(type);
  if (r.ok() && is_local(m.type)) r.fail("type", "local message type on the wire");
  m.to = r.varint("to");
  m.from = r.varint("from");
  m.term = Term(r.varint("term"));
  m.log_term = Term(r.varint("log_term"));
  m.index = LogIndex(r.varint("index"));
  m.commit = LogIndex(r.varint("commit"));
  const auto flags = r.u8("flags");
  if (r.ok() && (flags & ~(kFlagReject | kFlagTransfer)) != 0) r.fail("flags", "unknown flag bits");
  m.reject = flags & kFlagReject;
  m.transfer = flags & kFlagTransfer;
  m.reject_hint = LogIndex(r.varint("reject_hint"));
  m.context = r.varint("context");
  const auto n = r.varint_max("entries", kMaxEntriesPerMessage);
  // Each entry takes at least 9 bytes: never reserve more than the input could hold.
  m.entries.reserve(std::min<std::uint64_t>(n, r.remaining() / 9));
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    Entry e;
    e.term = Term(r.varint("entry.term"));
    e.index = LogIndex(r.varint("entry.index"));
    const auto et = r.u8("entry.type");
    if (r.ok() && et > static_cast<std::uint8_t>(EntryType::Config)) r.fail("entry.type", "unknown entry type");
    e.type = static_cast<EntryType>(et);
    e.cluster_time = r.varint("entry.cluster_time");
    auto data = r.prefixed("entry.data", kMaxEntryBytes);
    e.data.assign(data.begin(), data.end());
    e.crc = r.u32be("entry.crc");
    m.entries.push_back(std::move(e));
  }
  if (has_snapshot(m.type)) {
    m.snapshot.index = LogIndex(r.varint("snapshot.index"));
    m.snapshot.term = Term(r.varint("snapshot.term"));
    auto conf = r.prefixed("snapshot.conf", 1u << 20);
    if (r.ok()) {
      auto c = ConfState::decode(conf);
      if (!c) {
        r.fail("snapshot.conf", c.error().message());
      } else {
        m.snapshot.conf = std::move(*c);
      }
    }
    m.snapshot.cluster_time = r.varint("snapshot.cluster_time");
    m.snapshot_size = r.varint("snapshot.size");
    m.snapshot_crc = r.u32be("snapshot.crc");
  }
  if (has_snapshot(m.type) || m.type == MsgType::SnapResp) m.chunk_offset = r.varint("chunk.offset");
  if (has_snapshot(m.type)) {
    auto chunk = r.prefixed("chunk.data", kMaxChunkBytes);
    m.chunk.assign(chunk.begin(), chunk.end());
    if (r.ok() && (m.chunk_offset > m.snapshot_size || m.chunk.size() > m.snapshot_size - m.chunk_offset)) {
      r.fail("chunk.offset", "chunk lies outside the snapshot");
    }
  }
  CST_TRY(r.finish("raft message"));
  return m;
}

}  // namespace constellation::raft
