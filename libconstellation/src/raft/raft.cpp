// SPDX-License-Identifier: Apache-2.0
#include "raft/raft.hpp"

#include "core/assert.hpp"

#include <algorithm>

// Messages are built with designated initializers naming only the fields that matter; the rest
// are zero by definition, which is what this warning would have us spell out.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace constellation::raft {

namespace {
using core::json::Value;

Value u(std::uint64_t v) { return Value(static_cast<std::int64_t>(v)); }

// The largest value a quorum of `acks` has reached (the median rule, §5.3/§5.4).
template <class T>
T quorum_value(std::vector<T> acks) {
  CST_ASSERT(!acks.empty());
  std::sort(acks.begin(), acks.end());
  // With n voters a quorum is n/2+1; the (n - quorum)-th smallest is reached by a quorum.
  return acks[acks.size() - (acks.size() / 2 + 1)];
}
}  // namespace

Raft::Raft(Config config, core::Rng& rng) : cfg_(std::move(config)), rng_(&rng) {}

Result<Raft> Raft::create(Config config, core::Rng& rng, InitialState init) {
  if (config.id == kNoPeer) return Error(Code::InvalidArgument, "raft: config.id must be non-zero");
  if (config.heartbeat_tick <= 0) return Error(Code::InvalidArgument, "raft: heartbeat_tick must be positive");
  if (config.election_tick <= config.heartbeat_tick) {
    return Error(Code::InvalidArgument, "raft: election_tick must be greater than heartbeat_tick");
  }
  if (config.max_inflight_msgs == 0 || config.snapshot_chunk_bytes == 0 || config.max_snapshot_chunks_inflight == 0) {
    return Error(Code::InvalidArgument, "raft: flow-control limits must be positive");
  }
  Raft r(std::move(config), rng);
  r.snapshot_ = std::move(init.snapshot);
  LogIndex expect = r.first_index();
  for (auto& e : init.entries) {
    if (e.index != expect) {
      return Error(Code::InvalidArgument, "raft: initial entries are not contiguous at index " +
                                              std::to_string(e.index.value()));
    }
    expect = next(expect);
    r.entries_.push_back(std::move(e));
  }
  r.term_ = init.hard_state.term;
  r.vote_ = init.hard_state.vote;
  r.commit_ = std::min(init.hard_state.commit, r.last_index());
  if (r.commit_ < r.snapshot_.meta.index) r.commit_ = r.snapshot_.meta.index;
  r.applied_ = r.snapshot_.meta.index;
  r.persisted_ = r.last_index();
  r.unstable_from_ = next(r.last_index());
  r.prev_hard_ = HardState{r.term_, r.vote_, r.commit_};
  r.bootstrap_conf_ = std::move(init.bootstrap);
  r.recompute_conf();
  r.damage_ = std::move(init.damage);
  r.damaged_until_ = init.damaged_until;
  if (!r.damage_.empty()) {
    r.cfg_.logger.warn("log is damaged: this node will neither vote nor campaign until a leader repairs it",
                       {{"reason", Value(r.damage_)}, {"repaired_at_index", u(r.damaged_until_.value())}});
  }
  r.become_follower(r.term_, kNoPeer);
  r.prev_soft_ = SoftState{r.lead_, r.role_};
  return r;
}

// --- log helpers -----------------------------------------------------------------------------

LogIndex Raft::last_index() const {
  return entries_.empty() ? snapshot_.meta.index : entries_.back().index;
}

Term Raft::last_term() const { return entries_.empty() ? snapshot_.meta.term : entries_.back().term; }

std::size_t Raft::offset(LogIndex i) const { return static_cast<std::size_t>(i.value() - first_index().value()); }

std::optional<Term> Raft::term_at(LogIndex i) const {
  if (i == snapshot_.meta.index) return snapshot_.meta.term;
  if (i < snapshot_.meta.index || i > last_index()) return std::nullopt;
  return entries_[offset(i)].term;
}

std::vector<Entry> Raft::entries(LogIndex lo, LogIndex hi) const {
  std::vector<Entry> out;
  lo = std::max(lo, first_index());
  hi = std::min(hi, last_index());
  for (LogIndex i = lo; i <= hi; i = next(i)) out.push_back(entries_[offset(i)]);
  return out;
}

void Raft::truncate_from(LogIndex i) {
  CST_ASSERT_MSG(i > commit_, "raft: truncating committed entries");
  while (!entries_.empty() && entries_.back().index >= i) {
    if (role_ == Role::Leader) uncommitted_bytes_ -= std::min(uncommitted_bytes_, entries_.back().payload_bytes());
    entries_.pop_back();
  }
  unstable_from_ = std::min(unstable_from_, i);
  persisted_ = std::min(persisted_, prev(i));
  recompute_conf();
}

ConfState Raft::conf_at(LogIndex i) const {
  for (LogIndex j = std::min(i, last_index()); j >= first_index() && j.value() > 0; j = prev(j)) {
    const Entry& e = entries_[offset(j)];
    if (e.type == EntryType::Config) {
      auto c = ConfState::decode(e.data);
      CST_ASSERT_MSG(c.has_value(), "raft: a configuration entry in the log does not decode");
      return *c;
    }
  }
  if (!snapshot_.empty()) return snapshot_.meta.conf;
  return bootstrap_conf_;
}

void Raft::recompute_conf() { apply_conf(conf_at(last_index())); }

void Raft::apply_conf(const ConfState& conf) {
  conf_ = conf;
  if (role_ != Role::Leader) return;
  // Keep progress for members, drop it for others (§4.1: the new configuration takes effect
  // at once on every server that has the entry).
  for (auto it = progress_.begin(); it != progress_.end();) {
    it = conf_.contains(it->first) ? std::next(it) : progress_.erase(it);
  }
  for (PeerId p : conf_.members()) {
    auto [it, inserted] = progress_.try_emplace(p, cfg_.max_inflight_msgs, cfg_.max_inflight_bytes);
    if (inserted) {
      it->second.next = next(last_index());
      it->second.recent_active = true;
    }
    it->second.is_learner = conf_.is_learner(p);
  }
  if (lead_transferee_ != kNoPeer && !conf_.is_voter(lead_transferee_)) lead_transferee_ = kNoPeer;
}

bool Raft::committed_entry_in_current_term() const {
  auto t = term_at(commit_);
  return t && *t == term_;
}

std::uint64_t Raft::next_cluster_time() const {
  std::uint64_t last = entries_.empty() ? snapshot_.meta.cluster_time : entries_.back().cluster_time;
  auto elapsed = now_ - leader_since_;
  std::uint64_t t = leader_time_base_ + static_cast<std::uint64_t>(std::max<std::int64_t>(0, elapsed.count()));
  return std::max(last, t);
}

bool Raft::promotable() const { return conf_.is_voter(cfg_.id) && damage_.empty(); }

bool Raft::log_up_to_date(Term lt, LogIndex li) const {
  // §5.4.1: the later term wins; with equal terms the longer log wins.
  return lt > last_term() || (lt == last_term() && li >= last_index());
}

void Raft::check_damage_repaired() {
  if (damage_.empty() || persisted_ < damaged_until_) return;
  cfg_.logger.info("damaged log repaired by the leader: voting again",
                   {{"was", Value(damage_)}, {"persisted_index", u(persisted_.value())}});
  damage_.clear();
}

// --- roles -----------------------------------------------------------------------------------

void Raft::reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoPeer;
  }
  lead_ = kNoPeer;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_election_timeout();
  votes_.clear();
  progress_.clear();
  lead_transferee_ = kNoPeer;
  uncommitted_bytes_ = 0;
  commit_broadcast_due_ = false;
  for (auto& r : pending_reads_) {
    if (r.from == cfg_.id) dropped_reads_.push_back({r.context, "leadership lost"});
  }
  pending_reads_.clear();
  for (auto& m : reads_waiting_for_commit_) {
    if (m.from == cfg_.id) dropped_reads_.push_back({m.context, "leadership lost"});
  }
  reads_waiting_for_commit_.clear();
}

void Raft::reset_randomized_election_timeout() {
  randomized_election_timeout_ =
      cfg_.election_tick + static_cast<int>(rng_->below(static_cast<std::uint64_t>(cfg_.election_tick)));
}

void Raft::become_follower(Term term, PeerId lead) {
  reset(term);
  step_ = &Raft::step_follower;
  role_ = Role::Follower;
  lead_ = lead;
}

void Raft::become_pre_candidate() {
  CST_ASSERT(role_ != Role::Leader);
  // PreVote changes neither term nor vote (dissertation §9.6).
  step_ = &Raft::step_candidate;
  votes_.clear();
  role_ = Role::PreCandidate;
  lead_ = kNoPeer;
  cfg_.logger.info("starting a pre-vote", {{"term", u(term_.value())}});
}

void Raft::become_candidate() {
  CST_ASSERT(role_ != Role::Leader);
  reset(next(term_));
  step_ = &Raft::step_candidate;
  vote_ = cfg_.id;
  role_ = Role::Candidate;
  cfg_.logger.info("starting an election", {{"term", u(term_.value())}});
}

void Raft::become_leader() {
  CST_ASSERT(role_ != Role::Follower);
  reset(term_);
  step_ = &Raft::step_leader;
  role_ = Role::Leader;
  lead_ = cfg_.id;
  leader_time_base_ = entries_.empty() ? snapshot_.meta.cluster_time : entries_.back().cluster_time;
  leader_since_ = now_;
  apply_conf(conf_);
  for (auto& [id, pr] : progress_) {
    pr.next = next(last_index());
    pr.recent_active = true;
  }
  Progress& self = progress_.at(cfg_.id);
  self.match = persisted_;
  self.become_replicate();
  self.next = next(last_index());
  // A configuration entry not yet committed blocks further changes until it commits.
  pending_conf_index_ = LogIndex(0);
  for (LogIndex i = next(commit_); i <= last_index(); i = next(i)) {
    if (entries_[offset(i)].type == EntryType::Config) pending_conf_index_ = i;
  }
  // §8: a new leader commits a no-op of its own term; its earlier-term entries commit with it,
  // and ReadIndex serves only after it.
  Entry noop;
  noop.type = EntryType::Noop;
  append_local({std::move(noop)});
  cfg_.logger.info("became leader", {{"term", u(term_.value())}, {"last_index", u(last_index().value())}});
}

// --- ticks -----------------------------------------------------------------------------------

void Raft::tick() {
  if (role_ == Role::Leader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void Raft::tick_election() {
  election_elapsed_++;
  if (promotable() && election_elapsed_ >= randomized_election_timeout_) {
    election_elapsed_ = 0;
    (void)step(Message{.type = MsgType::Hup, .from = cfg_.id});
  }
}

void Raft::tick_heartbeat() {
  heartbeat_elapsed_++;
  election_elapsed_++;
  if (election_elapsed_ >= cfg_.election_tick) {
    election_elapsed_ = 0;
    if (cfg_.check_quorum) {
      // CheckQuorum (dissertation §6.2): step down unless a quorum was heard from recently.
      std::size_t active = 0;
      for (PeerId v : conf_.voters) {
        auto it = progress_.find(v);
        if (v == cfg_.id || (it != progress_.end() && it->second.recent_active)) active++;
      }
      for (auto& [id, pr] : progress_) {
        if (id != cfg_.id) pr.recent_active = false;
      }
      if (active < conf_.voters.size() / 2 + 1) {
        cfg_.logger.warn("stepping down: no quorum heard from within an election timeout",
                         {{"term", u(term_.value())}, {"active_voters", u(active)}});
        become_follower(term_, kNoPeer);
        return;
      }
    }
    if (lead_transferee_ != kNoPeer) {
      cfg_.logger.warn("leadership transfer timed out", {{"target", u(lead_transferee_)}});
      lead_transferee_ = kNoPeer;
    }
  }
  if (role_ != Role::Leader) return;
  if (heartbeat_elapsed_ >= cfg_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    (void)step(Message{.type = MsgType::Beat, .from = cfg_.id});
  }
}

// --- step ------------------------------------------------------------------------------------

void Raft::send(Message m, bool after_persist) {
  m.from = cfg_.id;
  if (m.term.value() == 0 && m.type != MsgType::Prop && m.type != MsgType::ReadIndex &&
      m.type != MsgType::TransferLeader) {
    m.term = term_;
  }
  (after_persist ? msgs_after_persist_ : msgs_).push_back(std::move(m));
}

Result<void> Raft::step(const Message& m) {
  if (m.term.value() == 0) {
    // local, or a forwarded request (Prop, ReadIndex, TransferLeader) that carries no term
  } else if (m.term > term_) {
    const bool vote_request = m.type == MsgType::Vote || m.type == MsgType::PreVote;
    if (vote_request) {
      // Leader stickiness (dissertation §4.2.3, with CheckQuorum): while we hear from a leader,
      // a higher-term candidate is ignored unless it is a leadership transfer.
      const bool in_lease = cfg_.check_quorum && lead_ != kNoPeer && election_elapsed_ < cfg_.election_tick;
      if (!m.transfer && in_lease) {
        cfg_.logger.debug("ignoring a vote request: a leader is active",
                          {{"from", u(m.from)}, {"term", u(m.term.value())}, {"leader", u(lead_)}});
        return ok();
      }
    }
    if (m.type == MsgType::PreVote) {
      // Never change term for a PreVote request.
    } else if (m.type == MsgType::PreVoteResp && !m.reject) {
      // The term of a granted pre-vote is ours + 1; we take it only when we campaign for real.
    } else {
      const bool from_leader = m.type == MsgType::App || m.type == MsgType::Heartbeat || m.type == MsgType::Snap;
      cfg_.logger.info("saw a higher term: becoming follower",
                       {{"term", u(m.term.value())}, {"from", u(m.from)}, {"type", Value(msg_type_name(m.type))}});
      become_follower(m.term, from_leader ? m.from : kNoPeer);
    }
  } else if (m.term < term_) {
    if ((cfg_.check_quorum || cfg_.pre_vote) && (m.type == MsgType::Heartbeat || m.type == MsgType::App)) {
      // A stale leader (e.g. back from a partition) learns our term and steps down; without this
      // a node that PreVote keeps from campaigning could be stuck (etcd-raft does the same).
      send(Message{.type = MsgType::AppResp, .to = m.from});
    } else if (m.type == MsgType::PreVote) {
      send(Message{.type = MsgType::PreVoteResp, .to = m.from, .reject = true});
    }
    return ok();
  }

  switch (m.type) {
    case MsgType::Hup:
      hup(false);
      return ok();
    case MsgType::Vote:
    case MsgType::PreVote:
      handle_vote_request(m);
      return ok();
    default:
      return (this->*step_)(m);
  }
}

void Raft::hup(bool transfer) {
  if (role_ == Role::Leader) return;
  if (!damage_.empty()) {
    cfg_.logger.warn("not campaigning: the log is damaged", {{"reason", Value(damage_)}});
    return;
  }
  if (!conf_.is_voter(cfg_.id)) return;
  if (cfg_.pre_vote && !transfer) {
    run_election(true, false);
  } else {
    run_election(false, transfer);
  }
}

void Raft::campaign() { hup(false); }

void Raft::run_election(bool pre, bool transfer) {
  if (pre) {
    become_pre_candidate();
  } else {
    become_candidate();
  }
  const Term t = pre ? next(term_) : term_;
  if (poll(cfg_.id, true) == 1) {
    if (pre) {
      run_election(false, false);
    } else {
      become_leader();
    }
    return;
  }
  for (PeerId v : conf_.voters) {
    if (v == cfg_.id) continue;
    Message req{.type = pre ? MsgType::PreVote : MsgType::Vote, .to = v, .term = t, .log_term = last_term(),
                .index = last_index(), .transfer = transfer};
    // A real vote request leaves only once our term and self-vote are durable: a candidate that
    // crashed and forgot them could otherwise vote twice in one term. Pre-votes change nothing.
    send(std::move(req), !pre);
  }
}

int Raft::poll(PeerId from, bool granted) {
  votes_.emplace(from, granted);
  std::size_t yes = 0, no = 0;
  for (PeerId v : conf_.voters) {
    auto it = votes_.find(v);
    if (it == votes_.end()) continue;
    (it->second ? yes : no)++;
  }
  const std::size_t q = conf_.voters.size() / 2 + 1;
  if (yes >= q) return 1;
  if (no >= conf_.voters.size() - q + 1) return -1;
  return 0;
}

void Raft::handle_vote_request(const Message& m) {
  const bool pre = m.type == MsgType::PreVote;
  const MsgType resp = pre ? MsgType::PreVoteResp : MsgType::VoteResp;
  // We may vote for the same candidate again (a retransmission), for anyone when we have not
  // voted in this term and know no leader, or — PreVote only — in a future term.
  const bool can_vote = vote_ == m.from || (vote_ == kNoPeer && lead_ == kNoPeer) || (pre && m.term > term_);
  std::string why;
  if (!damage_.empty()) {
    why = "log is damaged: " + damage_;
  } else if (!conf_.is_voter(cfg_.id)) {
    why = "not a voter";
  } else if (!can_vote) {
    why = "already voted for " + std::to_string(vote_) + " in this term";
  } else if (!log_up_to_date(m.log_term, m.index)) {
    why = "candidate's log is behind ours (§5.4.1)";
  }
  if (why.empty()) {
    cfg_.logger.debug("granting vote", {{"candidate", u(m.from)}, {"term", u(m.term.value())}, {"pre", Value(pre)}});
    if (pre) {
      send(Message{.type = resp, .to = m.from, .term = m.term});
    } else {
      election_elapsed_ = 0;
      vote_ = m.from;
      // The grant leaves only after the vote is durable (§5.1: persistent state before replying).
      send(Message{.type = resp, .to = m.from, .term = m.term}, true);
    }
  } else {
    cfg_.logger.info("rejecting vote", {{"candidate", u(m.from)}, {"term", u(m.term.value())},
                                        {"pre", Value(pre)}, {"reason", Value(why)}});
    send(Message{.type = resp, .to = m.from, .term = term_, .reject = true}, !pre);
  }
}

// --- follower ----------------------------------------------------------------------------------

Result<void> Raft::step_follower(const Message& m) {
  switch (m.type) {
    case MsgType::Prop:
      if (lead_ == kNoPeer) return Error(Code::NotLeader, "no leader known");
      {
        Message fwd = m;
        fwd.to = lead_;
        fwd.term = Term(0);
        send(std::move(fwd));
      }
      return ok();
    case MsgType::App:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_append(m);
      return ok();
    case MsgType::Heartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_heartbeat(m);
      return ok();
    case MsgType::Snap:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_snapshot_chunk(m);
      return ok();
    case MsgType::TimeoutNow:
      cfg_.logger.info("leadership transfer: campaigning now", {{"from", u(m.from)}});
      hup(true);
      return ok();
    case MsgType::ReadIndex:
    case MsgType::TransferLeader:
      if (lead_ == kNoPeer) {
        if (m.type == MsgType::ReadIndex) dropped_reads_.push_back({m.context, "no leader known"});
        return Error(Code::NotLeader, "no leader known");
      }
      {
        Message fwd = m;
        fwd.to = lead_;
        fwd.term = Term(0);
        send(std::move(fwd));
      }
      return ok();
    case MsgType::ReadIndexResp:
      read_states_.push_back({m.index, m.context});
      return ok();
    default:
      return ok();
  }
}

void Raft::handle_append(const Message& m) {
  if (m.index < commit_) {
    send(Message{.type = MsgType::AppResp, .to = m.from, .index = commit_}, true);
    return;
  }
  for (const auto& e : m.entries) {
    if (!e.intact()) {
      cfg_.logger.warn("rejecting an append: an entry failed its checksum",
                       {{"from", u(m.from)}, {"index", u(e.index.value())}});
      return;
    }
  }
  auto t = term_at(m.index);
  if (!t || *t != m.log_term) {
    // §5.3: reject; hint the leader at the last index whose term is <= the probed term, so it
    // skips a whole conflicting term per round trip instead of one entry.
    LogIndex hint = std::min(m.index, last_index());
    while (hint > commit_) {
      auto ht = term_at(hint);
      if (ht && *ht <= m.log_term) break;
      hint = prev(hint);
    }
    send(Message{.type = MsgType::AppResp, .to = m.from, .index = m.index, .reject = true, .reject_hint = hint},
         true);
    return;
  }
  // Find the first new entry that is missing or conflicts (§5.3 step 3) and append from there.
  std::size_t k = 0;
  for (; k < m.entries.size(); ++k) {
    const Entry& e = m.entries[k];
    auto et = term_at(e.index);
    if (!et) break;
    if (*et != e.term) {
      truncate_from(e.index);
      break;
    }
  }
  if (k < m.entries.size()) {
    for (; k < m.entries.size(); ++k) {
      CST_ASSERT(m.entries[k].index == next(last_index()));
      entries_.push_back(m.entries[k]);
      if (m.entries[k].type == EntryType::Config) recompute_conf();
    }
  }
  const LogIndex last_new = LogIndex(m.index.value() + m.entries.size());
  const LogIndex c = std::min(m.commit, last_new);
  if (c > commit_) commit_ = c;
  send(Message{.type = MsgType::AppResp, .to = m.from, .index = last_new}, true);
}

void Raft::handle_heartbeat(const Message& m) {
  const LogIndex c = std::min(m.commit, last_index());
  if (c > commit_) commit_ = c;
  send(Message{.type = MsgType::HeartbeatResp, .to = m.from, .context = m.context});
}

void Raft::handle_snapshot_chunk(const Message& m) {
  const SnapshotMeta& meta = m.snapshot;
  auto reply = [&](std::uint64_t have, bool reject) {
    send(Message{.type = MsgType::SnapResp, .to = m.from, .index = meta.index, .reject = reject, .chunk_offset = have});
  };
  if (meta.index <= commit_) {
    // Already have it all; tell the leader where we are.
    reply(m.snapshot_size, false);
    send(Message{.type = MsgType::AppResp, .to = m.from, .index = commit_}, true);
    return;
  }
  const bool same = assembly_ && assembly_->meta.index == meta.index && assembly_->meta.term == meta.term &&
                    assembly_->size == m.snapshot_size && assembly_->crc == m.snapshot_crc;
  if (!same) {
    if (m.chunk_offset != 0) {
      // We hold none of this snapshot (a restart lost the chunks, or this is another one): the
      // leader must start over. A plain acknowledgement of 0 would not rewind it (it ignores
      // acknowledgements below what it sent), so it would resend from its offset forever.
      reply(0, true);
      return;
    }
    assembly_ = Assembly{meta, m.snapshot_size, m.snapshot_crc, {}};
    assembly_->data.reserve(m.snapshot_size);
  }
  Assembly& a = *assembly_;
  if (m.chunk_offset != a.data.size()) {
    // A duplicate or a gap: say how much we have; the leader resumes from there.
    reply(a.data.size(), false);
    return;
  }
  if (a.data.size() + m.chunk.size() > a.size) {
    assembly_.reset();
    reply(0, true);
    return;
  }
  a.data.insert(a.data.end(), m.chunk.begin(), m.chunk.end());
  if (a.data.size() < a.size) {
    reply(a.data.size(), false);
    return;
  }
  Snapshot snap;
  snap.meta = a.meta;
  snap.crc = core::crc32c(a.data);
  if (snap.crc != a.crc) {
    cfg_.logger.warn("discarding a received snapshot: checksum mismatch", {{"index", u(meta.index.value())}});
    assembly_.reset();
    reply(0, true);
    return;
  }
  snap.data = std::make_shared<const core::Bytes>(std::move(a.data));
  assembly_.reset();
  reply(snap.data->size(), false);
  // §7: if our log has the snapshot's last entry, keep what follows; otherwise replace the log.
  auto t = term_at(meta.index);
  if (t && *t == meta.term) {
    commit_ = meta.index;
  } else {
    cfg_.logger.info("installing a snapshot from the leader",
                     {{"index", u(meta.index.value())}, {"term", u(meta.term.value())}});
    entries_.clear();
    snapshot_ = snap;
    commit_ = meta.index;
    applied_ = std::max(applied_, meta.index);
    persisted_ = std::min(persisted_, meta.index);
    unstable_from_ = next(meta.index);
    pending_snapshot_ = snap;
    pending_snapshot_from_leader_ = true;
    recompute_conf();
  }
  send(Message{.type = MsgType::AppResp, .to = m.from, .index = last_index()}, true);
}

// --- candidate -------------------------------------------------------------------------------

Result<void> Raft::step_candidate(const Message& m) {
  switch (m.type) {
    case MsgType::Prop:
      return Error(Code::NotLeader, "election in progress");
    case MsgType::ReadIndex:
      dropped_reads_.push_back({m.context, "election in progress"});
      return Error(Code::NotLeader, "election in progress");
    case MsgType::App:
      become_follower(m.term, m.from);
      handle_append(m);
      return ok();
    case MsgType::Heartbeat:
      become_follower(m.term, m.from);
      handle_heartbeat(m);
      return ok();
    case MsgType::Snap:
      become_follower(m.term, m.from);
      handle_snapshot_chunk(m);
      return ok();
    case MsgType::VoteResp:
    case MsgType::PreVoteResp: {
      const bool pre_resp = m.type == MsgType::PreVoteResp;
      if (pre_resp != (role_ == Role::PreCandidate)) return ok();
      switch (poll(m.from, !m.reject)) {
        case 1:
          if (role_ == Role::PreCandidate) {
            run_election(false, false);
          } else {
            become_leader();
            bcast_append();
          }
          break;
        case -1:
          become_follower(term_, kNoPeer);
          break;
        default:
          break;
      }
      return ok();
    }
    default:
      return ok();
  }
}

// --- leader ----------------------------------------------------------------------------------

void Raft::append_local(std::vector<Entry> es) {
  const std::uint64_t ct = next_cluster_time();
  LogIndex li = last_index();
  for (auto& e : es) {
    li = next(li);
    e.term = term_;
    e.index = li;
    e.cluster_time = ct;
    e.seal();
    uncommitted_bytes_ += e.payload_bytes();
    const bool is_conf = e.type == EntryType::Config;
    entries_.push_back(std::move(e));
    if (is_conf) {
      pending_conf_index_ = li;
      recompute_conf();
    }
  }
  // The leader's own durability is reported by advance(); maybe_commit() runs then.
}

Result<LogIndex> Raft::propose(core::Bytes data) {
  std::vector<core::Bytes> one;
  one.push_back(std::move(data));
  return propose_batch(std::move(one));
}

Result<LogIndex> Raft::propose_batch(std::vector<core::Bytes> commands) {
  if (commands.empty()) return last_index();
  if (role_ != Role::Leader) {
    Message m{.type = MsgType::Prop, .from = cfg_.id};
    for (auto& data : commands) {
      Entry e;
      e.data = std::move(data);
      m.entries.push_back(std::move(e));
    }
    CST_TRY(step(m));
    return LogIndex(0);
  }
  if (lead_transferee_ != kNoPeer) {
    return Error(Code::Unavailable, "leadership transfer to " + std::to_string(lead_transferee_) + " in progress");
  }
  if (uncommitted_bytes_ > cfg_.max_uncommitted_bytes) {
    return Error(Code::Unavailable, "too many uncommitted entries; retry later");
  }
  std::vector<Entry> es(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) es[i].data = std::move(commands[i]);
  append_local(std::move(es));
  bcast_append();
  return last_index();
}

Result<LogIndex> Raft::propose_conf_change(const ConfChange& cc) {
  if (role_ != Role::Leader) return Error(Code::NotLeader, "membership changes go to the leader");
  if (!committed_entry_in_current_term()) {
    // The known fix for single-server changes (Ongaro, raft-dev 2015): a new leader must commit
    // an entry of its term before changing the configuration.
    return Error(Code::Unavailable, "leader has not committed an entry of its term yet; retry");
  }
  if (pending_conf_index_ > commit_) {
    return Error(Code::Unavailable, "a membership change is still pending at index " +
                                        std::to_string(pending_conf_index_.value()));
  }
  if (lead_transferee_ != kNoPeer) return Error(Code::Unavailable, "leadership transfer in progress");
  if (cc.peer == kNoPeer) return Error(Code::InvalidArgument, "member id must be non-zero");
  ConfState c = conf_;
  auto erase = [](std::vector<PeerId>& v, PeerId p) { v.erase(std::remove(v.begin(), v.end(), p), v.end()); };
  auto insert = [](std::vector<PeerId>& v, PeerId p) {
    v.insert(std::upper_bound(v.begin(), v.end(), p), p);
  };
  switch (cc.kind) {
    case ConfChange::Kind::AddVoter:
      if (c.is_voter(cc.peer)) return Error(Code::InvalidArgument, std::to_string(cc.peer) + " is already a voter");
      erase(c.learners, cc.peer);  // promoting a learner
      insert(c.voters, cc.peer);
      break;
    case ConfChange::Kind::AddLearner:
      if (c.contains(cc.peer)) return Error(Code::InvalidArgument, std::to_string(cc.peer) + " is already a member");
      insert(c.learners, cc.peer);
      break;
    case ConfChange::Kind::Remove:
      if (!c.contains(cc.peer)) return Error(Code::InvalidArgument, std::to_string(cc.peer) + " is not a member");
      if (c.is_voter(cc.peer) && c.voters.size() == 1) {
        return Error(Code::InvalidArgument, "cannot remove the last voter");
      }
      erase(c.voters, cc.peer);
      erase(c.learners, cc.peer);
      break;
  }
  Entry e;
  e.type = EntryType::Config;
  e.data = c.encode();
  cfg_.logger.info("proposing a membership change", {{"new", Value(c.describe())}});
  append_local({std::move(e)});
  bcast_append();
  return last_index();
}

bool Raft::send_append(PeerId to, bool send_if_empty) {
  auto it = progress_.find(to);
  if (it == progress_.end() || to == cfg_.id) return false;
  Progress& pr = it->second;
  if (pr.state == ProgressState::Snapshot) {
    send_snapshot_chunks(to, pr);
    return false;
  }
  if (pr.paused()) return false;
  const LogIndex prev_index = prev(pr.next);
  auto prev_term = term_at(prev_index);
  if (!prev_term) {
    // The follower needs entries we compacted away: send the snapshot instead (§7).
    if (snapshot_.empty() || !snapshot_.data) return false;
    cfg_.logger.info("follower needs a snapshot", {{"peer", u(to)}, {"index", u(snapshot_.meta.index.value())}});
    pr.become_snapshot(std::make_shared<const Snapshot>(snapshot_));
    send_snapshot_chunks(to, pr);
    return false;
  }
  Message m{.type = MsgType::App, .to = to, .log_term = *prev_term, .index = prev_index, .commit = commit_};
  std::size_t bytes = 0;
  for (LogIndex i = pr.next; i <= last_index(); i = next(i)) {
    const Entry& e = entries_[offset(i)];
    if (!m.entries.empty() && bytes + e.payload_bytes() > cfg_.max_size_per_msg) break;
    bytes += e.payload_bytes();
    m.entries.push_back(e);
  }
  if (m.entries.empty() && !send_if_empty) return false;
  pr.sent_commit = std::max(pr.sent_commit, commit_);
  if (!m.entries.empty()) {
    const LogIndex last = m.entries.back().index;
    switch (pr.state) {
      case ProgressState::Replicate:
        // Pipelining: assume success and move on (etcd-raft's optimistic update).
        pr.next = next(last);
        pr.inflights.add(last, bytes);
        break;
      case ProgressState::Probe:
        pr.probe_sent = true;
        break;
      case ProgressState::Snapshot:
        CST_UNREACHABLE();
    }
  } else if (pr.state == ProgressState::Probe) {
    pr.probe_sent = true;
  }
  send(std::move(m));
  return true;
}

void Raft::send_snapshot_chunks(PeerId to, Progress& pr) {
  const Snapshot& snap = *pr.snapshot;
  const std::uint64_t size = snap.data ? snap.data->size() : 0;
  const std::uint64_t window = cfg_.snapshot_chunk_bytes * cfg_.max_snapshot_chunks_inflight;
  bool first = pr.snap_sent == 0;
  while ((pr.snap_sent < size && pr.snap_sent - pr.snap_acked < window) || (first && size == 0)) {
    first = false;
    const std::uint64_t n = std::min<std::uint64_t>(cfg_.snapshot_chunk_bytes, size - pr.snap_sent);
    Message m{.type = MsgType::Snap, .to = to, .index = snap.meta.index};
    m.snapshot = snap.meta;
    m.snapshot_size = size;
    m.snapshot_crc = snap.crc;
    m.chunk_offset = pr.snap_sent;
    m.chunk.assign(snap.data->begin() + static_cast<std::ptrdiff_t>(pr.snap_sent),
                   snap.data->begin() + static_cast<std::ptrdiff_t>(pr.snap_sent + n));
    pr.snap_sent += n;
    send(std::move(m));
    if (size == 0) break;
  }
}

void Raft::send_heartbeat(PeerId to, std::uint64_t context) {
  auto it = progress_.find(to);
  if (it == progress_.end()) return;
  // Commit is capped at what the follower is known to have, so it never commits an entry it
  // has not matched (etcd-raft).
  const LogIndex commit = std::min(it->second.match, commit_);
  it->second.sent_commit = std::max(it->second.sent_commit, commit);
  send(Message{.type = MsgType::Heartbeat, .to = to, .commit = commit, .context = context});
}

void Raft::bcast_append(bool send_if_empty) {
  for (auto& [id, pr] : progress_) {
    if (id != cfg_.id) send_append(id, send_if_empty);
  }
}

void Raft::on_commit_advanced() {
  if (!cfg_.defer_commit_broadcast) {
    bcast_append(true);
    return;
  }
  bcast_append(false);  // new entries leave now, carrying the commit index
  for (const auto& [id, pr] : progress_) {
    if (id != cfg_.id && pr.sent_commit < commit_) commit_broadcast_due_ = true;
  }
}

bool Raft::commit_broadcast_due() const {
  if (!commit_broadcast_due_ || role_ != Role::Leader) return false;
  // Appends sent since (carrying the commit index) may have made it moot.
  for (const auto& [id, pr] : progress_) {
    if (id != cfg_.id && pr.sent_commit < commit_) return true;
  }
  return false;
}

void Raft::broadcast_commit() {
  if (!commit_broadcast_due_) return;
  commit_broadcast_due_ = false;
  if (role_ != Role::Leader) return;
  for (auto& [id, pr] : progress_) {
    if (id != cfg_.id && pr.sent_commit < commit_) send_append(id, true);
  }
}

void Raft::bcast_heartbeat(std::uint64_t context) {
  for (auto& [id, pr] : progress_) {
    if (id != cfg_.id) send_heartbeat(id, context);
  }
}

bool Raft::maybe_commit() {
  std::vector<LogIndex> acks;
  for (PeerId v : conf_.voters) {
    auto it = progress_.find(v);
    acks.push_back(it == progress_.end() ? LogIndex(0) : it->second.match);
  }
  if (acks.empty()) return false;
  const LogIndex q = quorum_value(acks);
  // §5.4.2: only entries of the current term are committed by counting replicas.
  if (q > commit_ && term_at(q) == term_) {
    for (LogIndex i = next(commit_); i <= q; i = next(i)) {
      uncommitted_bytes_ -= std::min(uncommitted_bytes_, entries_[offset(i)].payload_bytes());
    }
    commit_ = q;
    if (!conf_.is_voter(cfg_.id) && pending_conf_index_ <= commit_) {
      // The leader is no longer a voter and its removal is committed: step down (§4.2.2).
      cfg_.logger.info("stepping down: removed from the configuration", {{"term", u(term_.value())}});
      become_follower(term_, kNoPeer);
      return true;
    }
    if (!reads_waiting_for_commit_.empty() && committed_entry_in_current_term()) {
      auto waiting = std::move(reads_waiting_for_commit_);
      reads_waiting_for_commit_.clear();
      for (const auto& m : waiting) handle_read_index(m);
    }
    return true;
  }
  return false;
}

Result<void> Raft::step_leader(const Message& m) {
  switch (m.type) {
    case MsgType::Beat:
      bcast_heartbeat(read_seq_);
      return ok();
    case MsgType::Prop: {
      if (lead_transferee_ != kNoPeer) return Error(Code::Unavailable, "leadership transfer in progress");
      if (uncommitted_bytes_ > cfg_.max_uncommitted_bytes) return Error(Code::Unavailable, "too many uncommitted entries");
      std::vector<Entry> es;
      for (const auto& e : m.entries) {
        Entry n;
        n.data = e.data;
        es.push_back(std::move(n));
      }
      if (es.empty()) return ok();
      append_local(std::move(es));
      bcast_append();
      return ok();
    }
    case MsgType::ReadIndex:
      handle_read_index(m);
      return ok();
    case MsgType::TransferLeader:
      handle_transfer(static_cast<PeerId>(m.context));
      return ok();
    case MsgType::AppResp:
      handle_append_response(m);
      return ok();
    case MsgType::HeartbeatResp:
      handle_heartbeat_response(m);
      return ok();
    case MsgType::SnapResp:
      handle_snapshot_response(m);
      return ok();
    default:
      return ok();
  }
}

void Raft::handle_append_response(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  if (m.reject) {
    if (pr.state == ProgressState::Snapshot) return;
    if (m.index <= pr.match && m.reject_hint < pr.match) {
      // The follower no longer has entries it acknowledged: its log was damaged and cut (see
      // InitialState::damage). Lowering match is always safe; replication restarts from its log.
      cfg_.logger.warn("follower lost acknowledged entries; re-replicating",
                       {{"peer", u(m.from)}, {"match", u(pr.match.value())}, {"its_last", u(m.reject_hint.value())}});
      pr.match = m.reject_hint;
      pr.become_probe();
      send_append(m.from, true);
      return;
    }
    if (pr.maybe_decrease_to(m.index, m.reject_hint)) {
      if (pr.state == ProgressState::Replicate) pr.become_probe();
      send_append(m.from, true);
    }
    return;
  }
  const bool was_paused = pr.paused();
  const bool updated = pr.maybe_update(m.index);
  if (pr.state == ProgressState::Snapshot) {
    if (pr.match >= pr.snapshot->meta.index) {
      pr.become_probe();
      pr.become_replicate();
    } else {
      return;
    }
  } else if (pr.state == ProgressState::Probe && updated) {
    pr.become_replicate();
  } else if (pr.state == ProgressState::Replicate) {
    pr.inflights.free_le(m.index);
  }
  if (updated && maybe_commit()) {
    if (role_ != Role::Leader) return;
    on_commit_advanced();
  } else if (updated && was_paused) {
    send_append(m.from, true);  // it may have missed the commit index while paused
  }
  while (send_append(m.from, false)) {
  }
  if (m.from == lead_transferee_ && pr.match == last_index()) {
    cfg_.logger.info("leadership transfer: target caught up, sending TimeoutNow", {{"target", u(m.from)}});
    send(Message{.type = MsgType::TimeoutNow, .to = m.from});
  }
}

void Raft::handle_heartbeat_response(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  pr.probe_sent = false;
  if (pr.state == ProgressState::Snapshot) {
    const std::uint64_t size = pr.snapshot->data ? pr.snapshot->data->size() : 0;
    if (pr.snap_acked >= size) {
      // Every chunk arrived but the follower's acknowledgement of the install was lost: probe
      // from just after the snapshot; the answer puts replication back on track.
      pr.become_probe();
      send_append(m.from, true);
    } else {
      // A stream may have broken under the chunks: resume from what the follower acknowledged.
      if (pr.snap_sent > pr.snap_acked) pr.snap_sent = pr.snap_acked;
      send_snapshot_chunks(m.from, pr);
    }
  } else if (pr.match < last_index() || pr.state == ProgressState::Probe) {
    send_append(m.from, pr.match < last_index());
  }
  if (m.context > pr.read_ack) {
    pr.read_ack = m.context;
    release_reads();
  }
}

void Raft::handle_snapshot_response(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  if (pr.state != ProgressState::Snapshot || !pr.snapshot || m.index != pr.snapshot->meta.index) return;
  if (m.reject) {
    pr.snap_sent = pr.snap_acked = 0;
  } else {
    // An acknowledgement below what was sent is normal (chunks still in flight), so it never
    // rewinds the sender — that would multiply chunks under duplication. Lost chunks are resent
    // from the acknowledged offset when a heartbeat round finds the transfer stalled.
    pr.snap_acked = std::max(pr.snap_acked, m.chunk_offset);
    if (pr.snap_acked > pr.snap_sent) pr.snap_sent = pr.snap_acked;
  }
  send_snapshot_chunks(m.from, pr);
}

void Raft::handle_read_index(const Message& m) {
  if (!committed_entry_in_current_term()) {
    // The leader does not know the commit index until its no-op commits (dissertation §6.4 step 1).
    reads_waiting_for_commit_.push_back(m);
    return;
  }
  const PeerId from = m.from == kNoPeer ? cfg_.id : m.from;
  if (conf_.voters.size() == 1 && conf_.is_voter(cfg_.id)) {
    if (from == cfg_.id) {
      read_states_.push_back({commit_, m.context});
    } else {
      send(Message{.type = MsgType::ReadIndexResp, .to = from, .index = commit_, .context = m.context});
    }
    return;
  }
  // One heartbeat round confirms leadership for every read that joined it (batching).
  read_seq_++;
  pending_reads_.push_back({m.context, from, commit_, read_seq_});
  bcast_heartbeat(read_seq_);
}

void Raft::release_reads() {
  if (pending_reads_.empty()) return;
  std::vector<std::uint64_t> acks;
  for (PeerId v : conf_.voters) {
    if (v == cfg_.id) {
      acks.push_back(read_seq_);
      continue;
    }
    auto it = progress_.find(v);
    acks.push_back(it == progress_.end() ? 0 : it->second.read_ack);
  }
  const std::uint64_t confirmed = quorum_value(acks);
  auto it = pending_reads_.begin();
  for (; it != pending_reads_.end() && it->seq <= confirmed; ++it) {
    if (it->from == cfg_.id) {
      read_states_.push_back({it->index, it->context});
    } else {
      send(Message{.type = MsgType::ReadIndexResp, .to = it->from, .index = it->index, .context = it->context});
    }
  }
  pending_reads_.erase(pending_reads_.begin(), it);
}

void Raft::handle_transfer(PeerId target) {
  if (target == cfg_.id || !conf_.is_voter(target)) return;
  if (lead_transferee_ == target) return;
  lead_transferee_ = target;
  election_elapsed_ = 0;  // the transfer must finish within one election timeout
  cfg_.logger.info("transferring leadership", {{"target", u(target)}});
  auto& pr = progress_.at(target);
  if (pr.match == last_index()) {
    send(Message{.type = MsgType::TimeoutNow, .to = target});
  } else {
    send_append(target, true);
  }
}

// --- local requests ----------------------------------------------------------------------------

Result<void> Raft::read_index(std::uint64_t context) {
  if (role_ == Role::Leader) {
    handle_read_index(Message{.type = MsgType::ReadIndex, .from = cfg_.id, .context = context});
    return ok();
  }
  return step(Message{.type = MsgType::ReadIndex, .from = cfg_.id, .context = context});
}

Result<void> Raft::transfer_leadership(PeerId target) {
  if (!conf_.is_voter(target)) return Error(Code::InvalidArgument, std::to_string(target) + " is not a voter");
  if (role_ == Role::Leader) {
    handle_transfer(target);
    return ok();
  }
  return step(Message{.type = MsgType::TransferLeader, .from = cfg_.id, .context = target});
}

void Raft::report_unreachable(PeerId peer) {
  if (role_ != Role::Leader) return;
  auto it = progress_.find(peer);
  if (it == progress_.end()) return;
  if (it->second.state == ProgressState::Replicate) it->second.become_probe();
  if (it->second.state == ProgressState::Snapshot) it->second.snap_sent = it->second.snap_acked;
}

Result<void> Raft::compact(LogIndex index, std::shared_ptr<const core::Bytes> data) {
  if (index > applied_) {
    return Error(Code::InvalidArgument, "compact: index " + std::to_string(index.value()) + " is beyond applied " +
                                            std::to_string(applied_.value()));
  }
  if (index <= snapshot_.meta.index) {
    return Error(Code::InvalidArgument, "compact: index is not after the current snapshot");
  }
  Snapshot s;
  s.meta.index = index;
  s.meta.term = *term_at(index);
  s.meta.conf = conf_at(index);
  s.meta.cluster_time = entries_[offset(index)].cluster_time;
  s.crc = core::crc32c(*data);
  s.data = std::move(data);
  const std::size_t drop = offset(index) + 1;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
  snapshot_ = s;
  pending_snapshot_ = std::move(s);
  pending_snapshot_from_leader_ = false;
  return ok();
}

// --- Ready / Advance ----------------------------------------------------------------------------

bool Raft::has_ready() const {
  if (SoftState{lead_, role_} != prev_soft_) return true;
  if (HardState{term_, vote_, commit_} != prev_hard_) return true;
  return unstable_from_ <= last_index() || pending_snapshot_ || applied_ < commit_ || !msgs_.empty() ||
         !msgs_after_persist_.empty() || !read_states_.empty() || !dropped_reads_.empty();
}

Ready Raft::ready() {
  Ready rd;
  const SoftState ss{lead_, role_};
  if (ss != prev_soft_) {
    rd.soft_state = ss;
    prev_soft_ = ss;
  }
  const HardState hs{term_, vote_, commit_};
  if (hs != prev_hard_) {
    rd.hard_state = hs;
    rd.must_sync = hs.term != prev_hard_.term || hs.vote != prev_hard_.vote;
    prev_hard_ = hs;  // handed out: the next Ready carries only what changes after this one
  }
  if (pending_snapshot_) {
    rd.snapshot = std::move(*pending_snapshot_);
    rd.snapshot_from_leader = pending_snapshot_from_leader_;
    pending_snapshot_.reset();
    rd.must_sync = true;
  }
  if (unstable_from_ <= last_index()) {
    unstable_from_ = std::max(unstable_from_, first_index());
    for (LogIndex i = unstable_from_; i <= last_index(); i = next(i)) rd.entries.push_back(entries_[offset(i)]);
    if (!rd.entries.empty()) rd.must_sync = true;
    unstable_from_ = next(last_index());
  }
  // Everything up to commit_ may be handed out (bounded by bytes): a committed entry is durable
  // on a majority (the leader counts itself only for what it persisted), so it may be applied
  // before this node's own write of it finishes.
  std::size_t bytes = 0;
  for (LogIndex i = next(std::max(applied_, snapshot_.meta.index)); i <= commit_; i = next(i)) {
    const Entry& e = entries_[offset(i)];
    if (!rd.committed_entries.empty() && bytes + e.payload_bytes() > cfg_.max_committed_bytes_per_ready) break;
    bytes += e.payload_bytes();
    rd.committed_entries.push_back(e);
  }
  // The owner applies them as it takes this Ready (step 1), so they count as applied now.
  if (!rd.committed_entries.empty()) applied_ = rd.committed_entries.back().index;
  rd.messages = std::move(msgs_);
  msgs_.clear();
  rd.messages_after_persist = std::move(msgs_after_persist_);
  msgs_after_persist_.clear();
  rd.read_states = std::move(read_states_);
  read_states_.clear();
  rd.dropped_reads = std::move(dropped_reads_);
  dropped_reads_.clear();
  ++readies_outstanding_;
  return rd;
}

void Raft::advance(const Ready& rd) {
  CST_ASSERT_MSG(readies_outstanding_ > 0, "raft: advance() without an outstanding ready()");
  --readies_outstanding_;
  if (rd.snapshot) persisted_ = std::max(persisted_, std::min(rd.snapshot->meta.index, last_index()));
  if (!rd.entries.empty()) {
    // Durable unless a later Ready has since replaced the tail (then that Ready's advance counts).
    const Entry& last = rd.entries.back();
    auto t = term_at(last.index);
    if (t && *t == last.term) persisted_ = std::max(persisted_, last.index);
  }
  check_damage_repaired();
  if (role_ == Role::Leader) {
    // The leader counts itself only for what is on its own disk.
    auto self = progress_.find(cfg_.id);  // absent once this leader removed itself
    const bool updated = self != progress_.end() && self->second.maybe_update(persisted_);
    if ((updated || self == progress_.end()) && maybe_commit() && role_ == Role::Leader) on_commit_advanced();
  }
}

Status Raft::status() const {
  Status s;
  s.id = cfg_.id;
  s.term = term_;
  s.vote = vote_;
  s.commit = commit_;
  s.applied = applied_;
  s.last_index = last_index();
  s.persisted = persisted_;
  s.snapshot_index = snapshot_.meta.index;
  s.role = role_;
  s.leader = lead_;
  s.conf = conf_;
  s.transferee = lead_transferee_;
  s.damage = damage_;
  if (role_ == Role::Leader) s.progress = progress_;
  return s;
}

void Raft::check_invariants() const {
  CST_ASSERT(snapshot_.meta.index <= applied_);
  CST_ASSERT(applied_ <= commit_);
  CST_ASSERT(commit_ <= last_index());
  CST_ASSERT(persisted_ <= last_index());
  LogIndex expect = first_index();
  Term prev_term = snapshot_.meta.term;
  std::uint64_t prev_time = snapshot_.meta.cluster_time;
  for (const auto& e : entries_) {
    CST_ASSERT_MSG(e.index == expect, "raft: log indexes are not contiguous");
    CST_ASSERT_MSG(e.term >= prev_term, "raft: log terms decrease");
    CST_ASSERT_MSG(e.term <= term_, "raft: an entry's term is above the current term");
    CST_ASSERT_MSG(e.cluster_time >= prev_time, "raft: cluster time decreases along the log");
    expect = next(expect);
    prev_term = e.term;
    prev_time = e.cluster_time;
  }
  CST_ASSERT_MSG(conf_ == conf_at(last_index()), "raft: configuration is not the latest in the log");
  if (role_ == Role::Leader) {
    CST_ASSERT(lead_ == cfg_.id);
    for (const auto& [id, pr] : progress_) {
      CST_ASSERT_MSG(pr.match < pr.next, "raft: progress match >= next");
      CST_ASSERT(conf_.contains(id));
    }
  }
}

}  // namespace constellation::raft
