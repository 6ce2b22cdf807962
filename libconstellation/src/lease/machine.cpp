// SPDX-License-Identifier: Apache-2.0
#include "lease/machine.hpp"

#include "core/assert.hpp"

#include <algorithm>

namespace constellation::lease {

namespace {
constexpr std::uint8_t kCommandVersion = 1;
constexpr std::uint8_t kSnapshotVersion = 1;
constexpr std::size_t kMaxKey = 64u << 10;
constexpr std::size_t kMaxValue = 16u << 20;

Response refuse(Code code, std::string message) {
  Response r;
  r.code = static_cast<int>(code);
  r.message = std::move(message);
  return r;
}

std::string fmt_ns(std::uint64_t ns) {
  return std::to_string(ns / 1000000) + "ms";
}

void put_kv(core::ByteWriter& w, const KeyValue& kv) {
  w.prefixed(kv.key);
  w.prefixed(kv.value);
  w.varint(kv.create_revision);
  w.varint(kv.mod_revision);
  w.varint(kv.version);
}
KeyValue get_kv(core::ByteReader& r) {
  KeyValue kv;
  kv.key = std::string(r.prefixed_string("kv.key", kMaxKey));
  kv.value = std::string(r.prefixed_string("kv.value", kMaxValue));
  kv.create_revision = r.varint("kv.create_revision");
  kv.mod_revision = r.varint("kv.mod_revision");
  kv.version = r.varint("kv.version");
  return kv;
}
void put_response(core::ByteWriter& w, const Response& r) {
  w.svarint(r.code);
  w.prefixed(r.message);
  w.varint(r.revision);
  w.varint(r.expiry);
  w.varint(r.applied_at);
}
Response get_response(core::ByteReader& r) {
  Response x;
  x.code = static_cast<int>(r.svarint("response.code"));
  x.message = std::string(r.prefixed_string("response.message", kMaxKey));
  x.revision = r.varint("response.revision");
  x.expiry = r.varint("response.expiry");
  x.applied_at = r.varint("response.applied_at");
  return x;
}
}  // namespace

// --- command codec -----------------------------------------------------------------------------

core::Bytes Command::encode() const {
  core::ByteWriter w(32 + key.size() + value.size() + holder.size());
  w.u8(kCommandVersion);
  w.u8(static_cast<std::uint8_t>(op));
  w.varint(session);
  w.varint(seq);
  w.varint(first_outstanding);
  w.prefixed(key);
  switch (op) {
    case Op::Put:
      w.prefixed(value);
      [[fallthrough]];
    case Op::Delete:
      w.u8(has_expected ? 1 : 0);
      w.varint(expected_revision);
      break;
    case Op::Acquire:
      w.prefixed(holder);
      w.varint(ttl_ns);
      w.varint(lock_delay_ns);
      break;
    case Op::Renew:
    case Op::Release:
      w.prefixed(holder);
      w.varint(token);
      break;
  }
  return std::move(w).take();
}

Result<Command> Command::decode(core::ByteView bytes) {
  core::ByteReader r(bytes);
  Command c;
  const auto v = r.u8("version");
  if (r.ok() && v != kCommandVersion) r.fail("version", "unsupported command version");
  const auto op = r.u8("op");
  if (r.ok() && (op < 1 || op > static_cast<std::uint8_t>(Op::Release))) r.fail("op", "unknown operation");
  c.op = static_cast<Op>(op);
  c.session = r.varint("session");
  c.seq = r.varint("seq");
  c.first_outstanding = r.varint("first_outstanding");
  c.key = std::string(r.prefixed_string("key", kMaxKey));
  if (r.ok()) {
    switch (c.op) {
      case Op::Put:
        c.value = std::string(r.prefixed_string("value", kMaxValue));
        [[fallthrough]];
      case Op::Delete: {
        const auto f = r.u8("has_expected");
        if (r.ok() && f > 1) r.fail("has_expected", "must be 0 or 1");
        c.has_expected = f == 1;
        c.expected_revision = r.varint("expected_revision");
        break;
      }
      case Op::Acquire:
        c.holder = std::string(r.prefixed_string("holder", kMaxKey));
        c.ttl_ns = r.varint("ttl");
        c.lock_delay_ns = r.varint("lock_delay");
        break;
      case Op::Renew:
      case Op::Release:
        c.holder = std::string(r.prefixed_string("holder", kMaxKey));
        c.token = r.varint("token");
        break;
    }
  }
  CST_TRY(r.finish("lease command"));
  return c;
}

core::Bytes Response::encode() const {
  core::ByteWriter w;
  put_response(w, *this);
  return std::move(w).take();
}

Result<Response> Response::decode(core::ByteView bytes) {
  core::ByteReader r(bytes);
  Response x = get_response(r);
  CST_TRY(r.finish("lease response"));
  return x;
}

// --- apply ---------------------------------------------------------------------------------------

void Machine::tick(std::uint64_t index, ClusterTime time) {
  transitions_.clear();
  CST_ASSERT_MSG(index > applied_, "lease: entries applied out of order");
  applied_ = index;
  time_ = std::max(time_, time);
}

Response Machine::apply(std::uint64_t index, ClusterTime time, core::ByteView bytes) {
  return apply(index, time, Command::decode(bytes));
}

Response Machine::apply(std::uint64_t index, ClusterTime time, const Result<Command>& cmd) {
  tick(index, time);
  if (!cmd) {
    Response r = refuse(Code::InvalidArgument, cmd.error().message());
    r.applied_at = time_;
    return r;
  }
  const Command& c = *cmd;
  Session* session = nullptr;
  if (c.session != 0) {
    session = &sessions_[c.session];
    session->last_active = time_;
    // Forget responses the client has seen. The bound only grows: a late retry of an answered
    // command carries an older bound and must not bring its sequence number back to life.
    session->first_outstanding = std::max(session->first_outstanding, c.first_outstanding);
    auto& rs = session->responses;
    rs.erase(rs.begin(), rs.lower_bound(session->first_outstanding));
    auto it = rs.find(c.seq);
    if (it != rs.end()) return it->second;  // a retry: same answer, applied once
    if (c.seq < session->first_outstanding) {
      Response r = refuse(Code::Conflict, "stale request: sequence " + std::to_string(c.seq) + " already answered");
      r.applied_at = time_;
      return r;
    }
  }
  Response r = execute(c, index);
  r.applied_at = time_;
  if (session) session->responses.emplace(c.seq, r);
  if (index % 1024 == 0) expire_sessions();
  return r;
}

void Machine::expire_sessions() {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = time_ - std::min(time_, it->second.last_active) > kSessionExpiry ? sessions_.erase(it) : std::next(it);
  }
}

void Machine::record(Event::Kind kind, const KeyValue& kv) {
  history_.push_back(Event{kind, revision_, kv});
  while (history_.size() > history_limit_) {
    history_floor_ = history_.front().revision;
    history_.pop_front();
  }
}

Response Machine::execute(const Command& c, std::uint64_t index) {
  Response r;
  switch (c.op) {
    case Op::Put:
    case Op::Delete: {
      auto it = kv_.find(c.key);
      if (c.has_expected) {
        const std::uint64_t current = it == kv_.end() ? 0 : it->second.mod_revision;
        if (current != c.expected_revision) {
          return refuse(Code::Conflict, "revision of '" + c.key + "' is " + std::to_string(current) + ", not " +
                                            std::to_string(c.expected_revision));
        }
      }
      if (c.op == Op::Delete) {
        if (it == kv_.end()) return refuse(Code::NotFound, "no key '" + c.key + "'");
        revision_ = index;
        KeyValue gone = it->second;
        gone.mod_revision = index;
        kv_.erase(it);
        record(Event::Kind::Delete, gone);
        r.revision = index;
        return r;
      }
      revision_ = index;
      KeyValue& kv = kv_[c.key];
      if (kv.version == 0) {
        kv.key = c.key;
        kv.create_revision = index;
      }
      kv.value = c.value;
      kv.mod_revision = index;
      kv.version++;
      record(Event::Kind::Put, kv);
      r.revision = index;
      return r;
    }
    case Op::Acquire: {
      if (c.ttl_ns == 0) return refuse(Code::InvalidArgument, "lease ttl must be positive");
      if (c.holder.empty()) return refuse(Code::InvalidArgument, "lease holder must not be empty");
      auto it = leases_.find(c.key);
      if (it != leases_.end()) {
        LeaseInfo& l = it->second;
        if (!l.released && time_ < l.expiry) {
          if (l.holder == c.holder) {
            // Re-acquiring what one holds is a renewal with the same token.
            l.expiry = time_ + c.ttl_ns;
            l.ttl_ns = c.ttl_ns;
            transitions_.push_back({LeaseTransition::Kind::Renewed, c.key, l.holder, l.token, time_, l.expiry});
            r.revision = l.token;
            r.expiry = l.expiry;
            return r;
          }
          return refuse(Code::Conflict, "lease '" + c.key + "' is held by '" + l.holder + "' for another " +
                                            fmt_ns(l.expiry - time_));
        }
        if (!l.released && time_ < l.expiry + l.lock_delay_ns) {
          return refuse(Code::Conflict, "lease '" + c.key + "' expired; lock-delay for another " +
                                            fmt_ns(l.expiry + l.lock_delay_ns - time_));
        }
      }
      LeaseInfo l;
      l.name = c.key;
      l.holder = c.holder;
      l.token = index;  // the Raft index: strictly increasing, never reused
      l.granted_at = time_;
      l.expiry = time_ + c.ttl_ns;
      l.ttl_ns = c.ttl_ns;
      l.lock_delay_ns = c.lock_delay_ns;
      leases_[c.key] = l;
      transitions_.push_back({LeaseTransition::Kind::Granted, c.key, l.holder, l.token, time_, l.expiry});
      r.revision = l.token;
      r.expiry = l.expiry;
      return r;
    }
    case Op::Renew:
    case Op::Release: {
      auto it = leases_.find(c.key);
      if (it == leases_.end()) return refuse(Code::NotFound, "no lease '" + c.key + "'");
      LeaseInfo& l = it->second;
      if (l.token != c.token || l.holder != c.holder) {
        return refuse(Code::Conflict, "lease '" + c.key + "' is now token " + std::to_string(l.token) +
                                          " held by '" + l.holder + "'");
      }
      if (l.released || time_ >= l.expiry) {
        return refuse(Code::Conflict, "lease '" + c.key + "' (token " + std::to_string(l.token) + ") has expired");
      }
      if (c.op == Op::Renew) {
        l.expiry = time_ + l.ttl_ns;
        transitions_.push_back({LeaseTransition::Kind::Renewed, c.key, l.holder, l.token, time_, l.expiry});
        r.revision = l.token;
        r.expiry = l.expiry;
        return r;
      }
      l.released = true;
      l.expiry = time_;
      transitions_.push_back({LeaseTransition::Kind::Released, c.key, l.holder, l.token, time_, time_});
      r.revision = l.token;
      return r;
    }
  }
  return refuse(Code::InvalidArgument, "unknown operation");
}

// --- reads ---------------------------------------------------------------------------------------

std::optional<KeyValue> Machine::get(const std::string& key) const {
  auto it = kv_.find(key);
  if (it == kv_.end()) return std::nullopt;
  return it->second;
}

std::vector<KeyValue> Machine::list(const std::string& prefix, std::size_t limit) const {
  std::vector<KeyValue> out;
  for (auto it = kv_.lower_bound(prefix); it != kv_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.push_back(it->second);
    if (limit && out.size() >= limit) break;
  }
  return out;
}

std::optional<LeaseInfo> Machine::lease(const std::string& name) const {
  auto it = leases_.find(name);
  if (it == leases_.end()) return std::nullopt;
  return it->second;
}

std::vector<LeaseInfo> Machine::leases(const std::string& prefix) const {
  std::vector<LeaseInfo> out;
  for (auto it = leases_.lower_bound(prefix); it != leases_.end() && it->first.starts_with(prefix); ++it) {
    out.push_back(it->second);
  }
  return out;
}

bool Machine::held(const std::string& name, ClusterTime at) const {
  auto it = leases_.find(name);
  return it != leases_.end() && !it->second.released && at < it->second.expiry;
}

Result<std::vector<Event>> Machine::events_since(const std::string& prefix, std::uint64_t after) const {
  if (after < history_floor_) {
    return Error(Code::NotFound, "watch history starts after revision " + std::to_string(history_floor_) +
                                     "; list again and watch from the listed revision");
  }
  std::vector<Event> out;
  auto it = std::upper_bound(history_.begin(), history_.end(), after,
                             [](std::uint64_t a, const Event& e) { return a < e.revision; });
  for (; it != history_.end(); ++it) {
    if (it->kv.key.compare(0, prefix.size(), prefix) == 0) out.push_back(*it);
  }
  return out;
}

// --- snapshots -----------------------------------------------------------------------------------

core::Bytes Machine::snapshot() const {
  // Reserved from the last snapshot's size: a large state is written into one allocation
  // instead of being grown (copied, and page-faulted in) by doubling.
  core::ByteWriter w(snapshot_size_hint_ + snapshot_size_hint_ / 8 + 4096);
  w.u8(kSnapshotVersion);
  w.varint(applied_);
  w.varint(revision_);
  w.varint(time_);
  w.varint(kv_.size());
  for (const auto& [k, kv] : kv_) put_kv(w, kv);
  w.varint(leases_.size());
  for (const auto& [n, l] : leases_) {
    w.prefixed(l.name);
    w.prefixed(l.holder);
    w.varint(l.token);
    w.varint(l.granted_at);
    w.varint(l.expiry);
    w.varint(l.ttl_ns);
    w.varint(l.lock_delay_ns);
    w.u8(l.released ? 1 : 0);
  }
  w.varint(sessions_.size());
  for (const auto& [id, s] : sessions_) {
    w.varint(id);
    w.varint(s.last_active);
    w.varint(s.first_outstanding);
    w.varint(s.responses.size());
    for (const auto& [seq, resp] : s.responses) {
      w.varint(seq);
      put_response(w, resp);
    }
  }
  snapshot_size_hint_ = w.size();
  return std::move(w).take();
}

Result<void> Machine::restore(core::ByteView bytes) {
  core::ByteReader r(bytes);
  Machine m(history_limit_);
  const auto v = r.u8("version");
  if (r.ok() && v != kSnapshotVersion) r.fail("version", "unsupported snapshot version");
  m.applied_ = r.varint("applied");
  m.revision_ = r.varint("revision");
  m.time_ = r.varint("cluster_time");
  const auto nkv = r.varint_max("kv.count", bytes.size());
  for (std::uint64_t i = 0; i < nkv && r.ok(); ++i) {
    KeyValue kv = get_kv(r);
    m.kv_[kv.key] = std::move(kv);
  }
  const auto nl = r.varint_max("leases.count", bytes.size());
  for (std::uint64_t i = 0; i < nl && r.ok(); ++i) {
    LeaseInfo l;
    l.name = std::string(r.prefixed_string("lease.name", kMaxKey));
    l.holder = std::string(r.prefixed_string("lease.holder", kMaxKey));
    l.token = r.varint("lease.token");
    l.granted_at = r.varint("lease.granted_at");
    l.expiry = r.varint("lease.expiry");
    l.ttl_ns = r.varint("lease.ttl");
    l.lock_delay_ns = r.varint("lease.lock_delay");
    l.released = r.u8("lease.released") != 0;
    m.leases_[l.name] = std::move(l);
  }
  const auto ns = r.varint_max("sessions.count", bytes.size());
  for (std::uint64_t i = 0; i < ns && r.ok(); ++i) {
    const auto id = r.varint("session.id");
    Session s;
    s.last_active = r.varint("session.last_active");
    s.first_outstanding = r.varint("session.first_outstanding");
    const auto nr = r.varint_max("session.responses", bytes.size());
    for (std::uint64_t j = 0; j < nr && r.ok(); ++j) {
      const auto seq = r.varint("session.seq");
      s.responses.emplace(seq, get_response(r));
    }
    m.sessions_.emplace(id, std::move(s));
  }
  auto st = r.finish("lease snapshot");
  if (!st) return Error(Code::Corrupt, st.error().message());
  m.history_floor_ = m.revision_;
  *this = std::move(m);
  return ok();
}

}  // namespace constellation::lease
