// SPDX-License-Identifier: Apache-2.0
#include "raft/types.hpp"

#include "raft/progress.hpp"

#include <algorithm>

namespace constellation::raft {

std::uint32_t Entry::compute_crc() const {
  std::uint8_t head[8 + 8 + 1 + 8];
  auto put64 = [](std::uint8_t* p, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) {
      p[i] = static_cast<std::uint8_t>(v);
      v >>= 8;
    }
  };
  put64(head, term.value());
  put64(head + 8, index.value());
  head[16] = static_cast<std::uint8_t>(type);
  put64(head + 17, cluster_time);
  return core::crc32c_extend(core::crc32c(core::ByteView(head, sizeof head)), data);
}

bool ConfState::is_voter(PeerId id) const { return std::binary_search(voters.begin(), voters.end(), id); }
bool ConfState::is_learner(PeerId id) const { return std::binary_search(learners.begin(), learners.end(), id); }

std::vector<PeerId> ConfState::members() const {
  std::vector<PeerId> all = voters;
  all.insert(all.end(), learners.begin(), learners.end());
  std::sort(all.begin(), all.end());
  return all;
}

core::Bytes ConfState::encode() const {
  core::ByteWriter w;
  w.u8(1);  // version
  w.varint(voters.size());
  for (auto v : voters) w.varint(v);
  w.varint(learners.size());
  for (auto l : learners) w.varint(l);
  return std::move(w).take();
}

Result<ConfState> ConfState::decode(core::ByteView bytes) {
  core::ByteReader r(bytes);
  ConfState c;
  if (r.u8("conf.version") != 1 && r.ok()) r.fail("conf.version", "unknown configuration version");
  auto nv = r.varint_max("conf.voters", 4096);
  for (std::uint64_t i = 0; i < nv && r.ok(); ++i) c.voters.push_back(r.varint("conf.voter"));
  auto nl = r.varint_max("conf.learners", 4096);
  for (std::uint64_t i = 0; i < nl && r.ok(); ++i) c.learners.push_back(r.varint("conf.learner"));
  CST_TRY(r.finish("configuration"));
  auto valid = [](const std::vector<PeerId>& v) {
    return std::is_sorted(v.begin(), v.end()) && std::adjacent_find(v.begin(), v.end()) == v.end() &&
           std::find(v.begin(), v.end(), kNoPeer) == v.end();
  };
  if (!valid(c.voters) || !valid(c.learners)) {
    return Error(Code::InvalidArgument, "configuration: member ids must be sorted, unique and non-zero");
  }
  for (auto l : c.learners) {
    if (c.is_voter(l)) return Error(Code::InvalidArgument, "configuration: a learner is also a voter");
  }
  return c;
}

std::string ConfState::describe() const {
  std::string s = "voters=(";
  for (std::size_t i = 0; i < voters.size(); ++i) s += (i ? " " : "") + std::to_string(voters[i]);
  s += ")";
  if (!learners.empty()) {
    s += " learners=(";
    for (std::size_t i = 0; i < learners.size(); ++i) s += (i ? " " : "") + std::to_string(learners[i]);
    s += ")";
  }
  return s;
}

const char* msg_type_name(MsgType t) {
  switch (t) {
    case MsgType::Hup: return "Hup";
    case MsgType::Beat: return "Beat";
    case MsgType::Prop: return "Prop";
    case MsgType::App: return "App";
    case MsgType::AppResp: return "AppResp";
    case MsgType::Vote: return "Vote";
    case MsgType::VoteResp: return "VoteResp";
    case MsgType::PreVote: return "PreVote";
    case MsgType::PreVoteResp: return "PreVoteResp";
    case MsgType::Heartbeat: return "Heartbeat";
    case MsgType::HeartbeatResp: return "HeartbeatResp";
    case MsgType::Snap: return "Snap";
    case MsgType::SnapResp: return "SnapResp";
    case MsgType::ReadIndex: return "ReadIndex";
    case MsgType::ReadIndexResp: return "ReadIndexResp";
    case MsgType::TimeoutNow: return "TimeoutNow";
    case MsgType::TransferLeader: return "TransferLeader";
  }
  return "?";
}

bool is_local(MsgType t) { return t == MsgType::Hup || t == MsgType::Beat; }

std::size_t Message::payload_bytes() const {
  std::size_t n = chunk.size();
  for (const auto& e : entries) n += e.payload_bytes();
  return n;
}

const char* role_name(Role r) {
  switch (r) {
    case Role::Follower: return "follower";
    case Role::PreCandidate: return "pre-candidate";
    case Role::Candidate: return "candidate";
    case Role::Leader: return "leader";
  }
  return "?";
}

const char* progress_state_name(ProgressState s) {
  switch (s) {
    case ProgressState::Probe: return "probe";
    case ProgressState::Replicate: return "replicate";
    case ProgressState::Snapshot: return "snapshot";
  }
  return "?";
}

}  // namespace constellation::raft
