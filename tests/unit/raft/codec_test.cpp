// SPDX-License-Identifier: Apache-2.0
#include "raft/codec.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::raft;

TEST_CASE("messages round-trip through the codec, entries keep their checksums") {
  Message m;
  m.type = MsgType::App;
  m.to = 2;
  m.from = 1;
  m.term = Term(7);
  m.log_term = Term(6);
  m.index = LogIndex(41);
  m.commit = LogIndex(40);
  for (int i = 0; i < 3; ++i) {
    Entry e;
    e.term = Term(7);
    e.index = LogIndex(42 + i);
    e.cluster_time = 1000 + i;
    e.data = {1, 2, static_cast<std::uint8_t>(i)};
    e.seal();
    m.entries.push_back(e);
  }
  auto back = decode_message(encode(m));
  REQUIRE(back.has_value());
  CHECK(back->entries == m.entries);
  CHECK(back->entries[2].intact());
  CHECK(back->term == m.term);
  CHECK(back->commit == m.commit);

  Message s;
  s.type = MsgType::Snap;
  s.snapshot.index = LogIndex(10);
  s.snapshot.term = Term(2);
  s.snapshot.conf.voters = {1, 2, 3};
  s.snapshot_size = 5;
  s.chunk_offset = 2;
  s.chunk = {9, 9};
  auto sb = decode_message(encode(s));
  REQUIRE(sb.has_value());
  CHECK(sb->snapshot == s.snapshot);
  CHECK(sb->chunk == s.chunk);
}

TEST_CASE("the decoder rejects truncation, unknown types and chunks outside the snapshot") {
  Message m;
  m.type = MsgType::Heartbeat;
  auto b = encode(m);
  for (std::size_t n = 0; n < b.size(); ++n) {
    CHECK(!decode_message(core::ByteView(b.data(), n)).has_value());
  }
  auto bad = b;
  bad[1] = 0x7f;
  auto r = decode_message(bad);
  REQUIRE(!r.has_value());
  CHECK(r.error().message().find("type") != std::string::npos);
  Message s;
  s.type = MsgType::Snap;
  s.snapshot_size = 1;
  s.chunk = {1, 2};
  CHECK(!decode_message(encode(s)).has_value());
}

TEST_CASE("an entry's checksum covers every field") {
  Entry e;
  e.term = Term(1);
  e.index = LogIndex(1);
  e.data = {1};
  e.seal();
  CHECK(e.intact());
  Entry f = e;
  f.cluster_time = 1;
  CHECK(!f.intact());
  f = e;
  f.data[0] = 2;
  CHECK(!f.intact());
  f = e;
  f.type = EntryType::Noop;
  CHECK(!f.intact());
}
