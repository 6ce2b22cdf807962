// SPDX-License-Identifier: Apache-2.0
// Golden bytes of every gossip message and stream frame (docs/protocol.md §2 onward): one line per
// sample, "name: hex". A change here is a wire change: it must be deliberate, documented in
// docs/protocol.md and, when incompatible, come with a version bump.
//
//   golden_gossip [--rewrite] messages.txt
#include "gossip/messages.hpp"

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace constellation;
using namespace constellation::gossip;
using namespace constellation::gossip::wire;

namespace {

std::vector<std::pair<std::string, core::Bytes>> samples() {
  std::vector<std::pair<std::string, core::Bytes>> s;
  auto packet = [&s](const std::string& name, const Message& m) { s.emplace_back(name, encode_packet(m)); };
  packet("ping", Ping{7, "node-b", "node-a", "10.0.0.1:7946", ViewSummary{12, 0x0123456789abcdefULL}});
  packet("ping_without_view", Ping{7, "node-b", "node-a", "10.0.0.1:7946", {}});
  packet("ping_req", PingReq{8, "node-c", "[fd00::3]:7946", "node-a", "10.0.0.1:7946", true});
  packet("ack", Ack{7, "node-b", ViewSummary{12, 0x0123456789abcdefULL}});
  packet("nack", Nack{8});
  packet("suspect", Suspect{3, "node-c", "node-a"});
  packet("alive", Alive{4, "node-c", "[fd00::3]:7946", 12});
  packet("dead", Dead{4, "node-c", "node-a"});
  packet("leave", Leave{5, "node-d"});
  packet("state_delta", StateDelta{"node-b", 10, 12, false,
                                   {StateEntry{"svc/web", 11, std::string("up")}, StateEntry{"svc/old", 12, std::nullopt}}});
  packet("state_replace", StateDelta{"node-b", 0, 12, true, {StateEntry{"svc/web", 11, std::string("up")}}});
  packet("user", User{"node-a", 1, "hello"});
  s.emplace_back("compound", encode_packet(std::vector<core::Bytes>{encode_part(Ping{9, "node-c", "node-a", "10.0.0.1:7946", {}}),
                                                                    encode_part(Suspect{3, "node-c", "node-a"})}));
  PushPull req;
  req.type = StreamType::PushPullRequest;
  req.join = true;
  req.source = "node-a";
  req.source_address = "10.0.0.1:7946";
  req.records.push_back(MemberRecord{"10.0.0.1:7946", 2, MemberState::Alive,
                                     StateDelta{"node-a", 0, 1, true, {StateEntry{"k", 1, std::string("v")}}}});
  req.digest.push_back(DigestEntry{"node-b", 1, MemberState::Suspect, 3});
  s.emplace_back("stream_push_pull_request", encode_stream(req, 1u << 20));
  PushPull resp = req;
  resp.type = StreamType::PushPullResponse;
  resp.join = false;
  s.emplace_back("stream_push_pull_response", encode_stream(resp, 1u << 20));
  s.emplace_back("stream_packet", encode_stream_packet({encode_part(Ack{9, "node-c", {}})}, 1u << 20));
  // Compressed: a record with a large, repetitive value.
  PushPull big;
  big.type = StreamType::PushPullPush;
  big.source = "node-a";
  big.source_address = "10.0.0.1:7946";
  big.records.push_back(MemberRecord{"10.0.0.1:7946", 2, MemberState::Alive,
                                     StateDelta{"node-a", 0, 1, true, {StateEntry{"k", 1, std::string(2000, 'x')}}}});
  s.emplace_back("stream_compressed", encode_stream(big, 1024));
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  bool rewrite = false;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--rewrite") {
      rewrite = true;
    } else {
      path = a;
    }
  }
  if (path.empty()) {
    std::cerr << "usage: golden_gossip [--rewrite] messages.txt\n";
    return 2;
  }
  std::ostringstream got;
  got << "# Golden bytes of the gossip wire format (docs/protocol.md). Regenerate with --rewrite.\n";
  bool roundtrip_ok = true;
  for (const auto& [name, bytes] : samples()) {
    got << name << ": " << core::to_hex(bytes) << "\n";
    const bool is_stream = name.rfind("stream_", 0) == 0;
    const bool decodes = is_stream ? decode_stream(bytes, 32u << 20).has_value() : decode_packet(bytes).has_value();
    if (!decodes) {
      std::cerr << name << ": does not decode\n";
      roundtrip_ok = false;
    }
  }
  if (rewrite) {
    std::ofstream(path) << got.str();
    return roundtrip_ok ? 0 : 1;
  }
  std::ifstream in(path);
  std::stringstream want;
  want << in.rdbuf();
  if (want.str() != got.str()) {
    std::cerr << path << ": golden bytes differ (rerun with --rewrite and review the diff)\n--- expected\n"
              << want.str() << "--- got\n" << got.str();
    return 1;
  }
  return roundtrip_ok ? 0 : 1;
}
