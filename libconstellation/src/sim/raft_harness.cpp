// SPDX-License-Identifier: Apache-2.0
#include "sim/raft_harness.hpp"

#include "core/assert.hpp"

#include <algorithm>

namespace constellation::sim {

using namespace raft;

namespace {
std::string entry_text(const Entry& e) {
  std::string s = std::to_string(e.term.value()) + "/" + std::to_string(e.index.value());
  switch (e.type) {
    case EntryType::Noop: return s + " noop";
    case EntryType::Config: {
      auto c = ConfState::decode(e.data);
      return s + " conf " + (c ? c->describe() : std::string("?"));
    }
    case EntryType::Normal: break;
  }
  std::string d(e.data.begin(), e.data.end());
  bool printable = std::all_of(d.begin(), d.end(), [](char c) { return c >= 32 && c < 127; });
  return s + " '" + (printable && d.size() <= 40 ? d : std::to_string(d.size()) + " bytes") + "'";
}
}  // namespace

RaftHarness::RaftHarness(std::size_t voters, std::uint64_t seed, std::function<void(Config&)> tweak)
    : rng_(seed), tweak_(std::move(tweak)) {
  for (std::size_t i = 1; i <= voters; ++i) initial_.voters.push_back(i);
  for (std::size_t i = 1; i <= voters; ++i) add_node(i, initial_);
}

void RaftHarness::add_node(PeerId id, ConfState bootstrap) {
  auto n = std::make_unique<HarnessNode>();
  n->id = id;
  n->snapshot.meta.conf = bootstrap;  // stays index 0: only the bootstrap configuration
  make_core(*n);
  nodes_[id] = std::move(n);
}

void RaftHarness::make_core(HarnessNode& n) {
  Config c;
  c.id = n.id;
  c.election_tick = 10;
  c.heartbeat_tick = 1;
  if (tweak_) tweak_(c);
  InitialState init;
  init.hard_state = n.hard;
  init.snapshot = n.snapshot;
  init.entries = n.log;
  init.bootstrap = n.snapshot.meta.conf;
  if (!n.snapshot.empty()) init.snapshot.meta.conf = n.snapshot.meta.conf;
  auto r = Raft::create(c, rng_, std::move(init));
  CST_ASSERT_MSG(r.has_value(), "harness: Raft::create failed");
  n.core = std::make_unique<Raft>(std::move(*r));
  n.machine = lease::Machine();
  if (!n.snapshot.empty() && n.snapshot.data) {
    CST_ASSERT(n.machine.restore(*n.snapshot.data).has_value());
  }
}

std::vector<PeerId> RaftHarness::ids() const {
  std::vector<PeerId> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

void RaftHarness::trace(const std::string& line) {
  if (tracing_) trace_ += line + "\n";
}

std::string RaftHarness::take_trace() { return std::exchange(trace_, {}); }

std::string RaftHarness::describe(const Message& m) const {
  std::string s = std::to_string(m.from) + "->" + std::to_string(m.to) + " " + msg_type_name(m.type) +
                  " term=" + std::to_string(m.term.value());
  switch (m.type) {
    case MsgType::App:
      s += " prev=" + std::to_string(m.log_term.value()) + "/" + std::to_string(m.index.value()) +
           " commit=" + std::to_string(m.commit.value());
      if (!m.entries.empty()) {
        s += " [";
        for (std::size_t i = 0; i < m.entries.size(); ++i) s += (i ? ", " : "") + entry_text(m.entries[i]);
        s += "]";
      }
      break;
    case MsgType::AppResp:
      s += (m.reject ? " reject index=" + std::to_string(m.index.value()) + " hint=" + std::to_string(m.reject_hint.value())
                     : " index=" + std::to_string(m.index.value()));
      break;
    case MsgType::Vote:
    case MsgType::PreVote:
      s += " last=" + std::to_string(m.log_term.value()) + "/" + std::to_string(m.index.value());
      if (m.transfer) s += " transfer";
      break;
    case MsgType::VoteResp:
    case MsgType::PreVoteResp:
      s += m.reject ? " reject" : " granted";
      break;
    case MsgType::Heartbeat:
      s += " commit=" + std::to_string(m.commit.value()) + " read=" + std::to_string(m.context);
      break;
    case MsgType::HeartbeatResp:
      s += " read=" + std::to_string(m.context);
      break;
    case MsgType::Snap:
      s += " snapshot=" + std::to_string(m.snapshot.term.value()) + "/" + std::to_string(m.snapshot.index.value()) +
           " offset=" + std::to_string(m.chunk_offset) + " len=" + std::to_string(m.chunk.size()) + "/" +
           std::to_string(m.snapshot_size);
      break;
    case MsgType::SnapResp:
      s += " index=" + std::to_string(m.index.value()) + " have=" + std::to_string(m.chunk_offset) +
           (m.reject ? " reject" : "");
      break;
    case MsgType::ReadIndex:
    case MsgType::ReadIndexResp:
      s += " index=" + std::to_string(m.index.value()) + " ctx=" + std::to_string(m.context);
      break;
    case MsgType::Prop:
      s += " entries=" + std::to_string(m.entries.size());
      break;
    case MsgType::TransferLeader:
      s += " target=" + std::to_string(m.context);
      break;
    default:
      break;
  }
  return s;
}

std::string RaftHarness::describe_log(PeerId id) const {
  const auto& n = *nodes_.at(id);
  std::string s;
  const auto& snap = n.core->snapshot();
  if (!snap.empty()) s += "snapshot " + std::to_string(snap.meta.term.value()) + "/" + std::to_string(snap.meta.index.value()) + "\n";
  for (const auto& e : n.core->entries(LogIndex(0), n.core->last_index())) s += entry_text(e) + "\n";
  return s;
}

std::string RaftHarness::describe_status(PeerId id) const {
  const auto& n = *nodes_.at(id);
  if (n.down) return std::to_string(id) + " down";
  auto st = n.core->status();
  std::string s = std::to_string(id) + " " + role_name(st.role) + " term=" + std::to_string(st.term.value()) +
                  " vote=" + std::to_string(st.vote) + " lead=" + std::to_string(st.leader) +
                  " last=" + std::to_string(st.last_index.value()) + " commit=" + std::to_string(st.commit.value()) +
                  " applied=" + std::to_string(st.applied.value()) + " " + st.conf.describe();
  if (!st.damage.empty()) s += " damaged";
  for (const auto& [pid, pr] : st.progress) {
    if (pid == id) continue;
    s += "\n  " + std::to_string(pid) + ": match=" + std::to_string(pr.match.value()) +
         " next=" + std::to_string(pr.next.value()) + " " + progress_state_name(pr.state) +
         (pr.is_learner ? " learner" : "") + " inflight=" + std::to_string(pr.inflights.count());
  }
  return s;
}

// --- driving ---------------------------------------------------------------------------------

void RaftHarness::tick(PeerId id, int n) {
  for (int i = 0; i < n; ++i) {
    if (!nodes_.at(id)->down) nodes_.at(id)->core->tick();
  }
  check_safety();
}

void RaftHarness::tick_all(int n) {
  for (int i = 0; i < n; ++i) {
    for (auto& [id, node] : nodes_) {
      if (!node->down) node->core->tick();
    }
  }
  check_safety();
}

void RaftHarness::campaign(PeerId id) {
  node(id).core->campaign();
  check_safety();
}

Result<LogIndex> RaftHarness::propose(PeerId id, std::string data) {
  auto r = node(id).core->propose(core::Bytes(data.begin(), data.end()));
  check_safety();
  return r;
}

bool RaftHarness::process_ready(PeerId id) {
  HarnessNode& n = node(id);
  if (n.down || !n.core->has_ready()) return false;
  Ready rd = n.core->ready();
  if (rd.soft_state) {
    trace(std::to_string(id) + " is " + role_name(rd.soft_state->role) + " at term " +
          std::to_string(n.core->term().value()) + " (leader " + std::to_string(rd.soft_state->leader) + ")");
  }
  for (auto& m : rd.messages) queue_.push_back(m);
  if (rd.hard_state) n.hard = *rd.hard_state;
  if (rd.snapshot) {
    if (rd.snapshot_from_leader) {
      n.log.clear();
      CST_ASSERT(n.machine.restore(*rd.snapshot->data).has_value());
      trace(std::to_string(id) + " installed snapshot " + std::to_string(rd.snapshot->meta.index.value()));
    } else {
      std::erase_if(n.log, [&](const Entry& e) { return e.index <= rd.snapshot->meta.index; });
    }
    n.snapshot = *rd.snapshot;
  }
  if (!rd.entries.empty()) {
    const LogIndex first = rd.entries.front().index;
    std::erase_if(n.log, [&](const Entry& e) { return e.index >= first; });
    for (auto& e : rd.entries) n.log.push_back(e);
  }
  for (auto& m : rd.messages_after_persist) queue_.push_back(m);
  for (const auto& e : rd.committed_entries) {
    if (e.type == EntryType::Normal) {
      (void)n.machine.apply(e.index.value(), e.cluster_time, e.data);
    } else {
      n.machine.tick(e.index.value(), e.cluster_time);
    }
    n.applied.push_back(e);
    if (!checking_) continue;
    auto [it, fresh] = applied_ref_.try_emplace(e.index.value(), e.term.value(), e.crc);
    CST_ASSERT_MSG(fresh || (it->second.first == e.term.value() && it->second.second == e.crc),
                   "state machine safety: two nodes applied different entries at one index");
  }
  for (const auto& r : rd.read_states) {
    n.reads.push_back(r);
    trace(std::to_string(id) + " read ctx=" + std::to_string(r.context) + " index=" + std::to_string(r.index.value()));
  }
  for (const auto& d : rd.dropped_reads) n.dropped.push_back(d);
  n.core->advance(rd);
  if (checking_) n.core->check_invariants();
  check_safety();
  return true;
}

std::size_t RaftHarness::deliver() {
  auto batch = std::move(queue_);
  queue_.clear();
  std::size_t count = 0;
  for (auto& m : batch) {
    auto it = nodes_.find(m.to);
    if (it == nodes_.end() || it->second->down || nodes_.at(m.from)->down) continue;
    if (cut_.count({m.from, m.to})) continue;
    if (drop_pred_ && drop_pred_(m)) {
      trace("dropped " + describe(m));
      continue;
    }
    trace(describe(m));
    delivered_.push_back(m);
    (void)it->second->core->step(m);
    ++count;
  }
  check_safety();
  return count;
}

void RaftHarness::stabilize() {
  for (int round = 0; round < 1000; ++round) {
    bool any = false;
    for (auto id : ids()) {
      while (process_ready(id)) any = true;
    }
    if (deliver() > 0) any = true;
    if (!any && queue_.empty()) return;
  }
  CST_ASSERT_MSG(false, "harness: stabilize did not converge");
}

void RaftHarness::crash(PeerId id) {
  HarnessNode& n = node(id);
  n.down = true;
  std::erase_if(queue_, [&](const Message& m) { return m.to == id || m.from == id; });
  trace(std::to_string(id) + " crashed");
}

void RaftHarness::restart(PeerId id) {
  HarnessNode& n = node(id);
  n.down = false;
  n.applied.clear();
  n.reads.clear();
  make_core(n);
  trace(std::to_string(id) + " restarted");
}

void RaftHarness::isolate(PeerId id) {
  for (auto other : ids()) {
    if (other == id) continue;
    cut_.insert({id, other});
    cut_.insert({other, id});
  }
}

void RaftHarness::heal() { cut_.clear(); }

void RaftHarness::cut(PeerId a, PeerId b) {
  cut_.insert({a, b});
  cut_.insert({b, a});
}

PeerId RaftHarness::leader() const {
  PeerId best = 0;
  std::uint64_t best_term = 0;
  for (const auto& [id, n] : nodes_) {
    if (!n->down && n->core->role() == Role::Leader && n->core->term().value() >= best_term) {
      best = id;
      best_term = n->core->term().value();
    }
  }
  return best;
}

void RaftHarness::check_safety() {
  if (!checking_) return;
  for (auto& [id, n] : nodes_) {
    if (n->down) continue;
    Raft& c = *n->core;
    // Election safety (§5.2): at most one leader per term.
    if (c.role() == Role::Leader) {
      auto [it, fresh] = leaders_.try_emplace(c.term().value(), id);
      CST_ASSERT_MSG(fresh || it->second == id, "election safety: two leaders in one term");
    }
    // Record committed entries; a committed index never changes its term.
    for (LogIndex i = std::max(next(c.snapshot().meta.index), LogIndex(1)); i <= c.commit_index(); i = next(i)) {
      auto t = c.term_at(i);
      if (!t) continue;
      auto [it, fresh] = committed_.try_emplace(i.value(), t->value());
      CST_ASSERT_MSG(fresh || it->second == t->value(), "safety: a committed entry changed");
    }
  }
  for (auto& [id, n] : nodes_) {
    if (n->down) continue;
    Raft& c = *n->core;
    // Leader completeness (§5.4): a leader has every committed entry of its term and before (a
    // deposed leader that does not know it yet lacks, rightly, what later terms committed).
    if (c.role() == Role::Leader) {
      for (const auto& [idx, term] : committed_) {
        if (idx <= c.snapshot().meta.index.value() || term > c.term().value()) continue;
        auto t = c.term_at(LogIndex(idx));
        CST_ASSERT_MSG(t && t->value() == term, "leader completeness: a leader lacks a committed entry");
      }
    }
  }
  // Log matching (§5.3): same index and term → identical entries up to there.
  std::vector<PeerId> live;
  for (auto& [id, n] : nodes_) {
    if (!n->down) live.push_back(id);
  }
  for (std::size_t a = 0; a < live.size(); ++a) {
    for (std::size_t b = a + 1; b < live.size(); ++b) {
      Raft& x = *nodes_.at(live[a])->core;
      Raft& y = *nodes_.at(live[b])->core;
      LogIndex lo = std::max(next(x.snapshot().meta.index), next(y.snapshot().meta.index));
      LogIndex hi = std::min(x.last_index(), y.last_index());
      LogIndex match_at(0);
      for (LogIndex i = hi; i >= lo && i.value() > 0; i = prev(i)) {
        if (x.term_at(i) == y.term_at(i)) {
          match_at = i;
          break;
        }
      }
      for (LogIndex i = lo; i <= match_at; i = next(i)) {
        auto ex = x.entries(i, i), ey = y.entries(i, i);
        CST_ASSERT_MSG(ex.size() == 1 && ey.size() == 1 && ex[0] == ey[0], "log matching violated");
      }
    }
  }
}

}  // namespace constellation::sim
