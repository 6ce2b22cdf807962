// SPDX-License-Identifier: Apache-2.0
// constellation::RaftNode (include/constellation/raft.hpp) over the node runtime.
#include <constellation/raft.hpp>

#include "io/os/os.hpp"
#include "io/store/raft_store.hpp"
#include "raftnode/runtime.hpp"

#include <algorithm>

namespace constellation {

using raftnode::Clock;

struct RaftNode::Impl {
  std::unique_ptr<raftnode::Runtime> rt;

  Clock::time_point deadline(const Timeout& t) const {
    return Clock::now() + (t ? *t : rt->options().request_timeout);
  }

  static Result<lease::Response> checked(Result<lease::Response> r) {
    if (!r) return std::move(r).error();
    if (!r->ok()) return Error(static_cast<Code>(r->code), r->message);
    return r;
  }
  Result<lease::Response> run(lease::Command c, const Timeout& t) { return checked(rt->execute(std::move(c), deadline(t))); }
  void run_async(lease::Command c, const Timeout& t, std::function<void(Result<lease::Response>)> done) {
    rt->submit(std::move(c), deadline(t), [done = std::move(done)](Result<lease::Response> r) { done(checked(std::move(r))); });
  }

  LeaseGrant grant(const std::string& name, const std::string& holder, const lease::Response& r,
                   Clock::time_point started, std::uint64_t ttl_ns) const {
    LeaseGrant g;
    g.name = name;
    g.holder = holder;
    g.token = r.revision;
    g.expiry_cluster_ns = r.expiry;
    // Cluster time may run fast by the drift bound and our clock slow by it: shorten by both.
    const double safe = static_cast<double>(ttl_ns) * (1.0 - 2.0 * rt->options().max_clock_drift);
    g.valid_until = started + std::chrono::nanoseconds(static_cast<std::int64_t>(safe));
    return g;
  }
};

RaftNode::RaftNode(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RaftNode::~RaftNode() { stop(); }

Result<std::unique_ptr<RaftNode>> RaftNode::open(RaftOptions options) {
  auto impl = std::make_unique<Impl>();
  CST_TRY_ASSIGN(impl->rt, raftnode::Runtime::open(options));
  return std::unique_ptr<RaftNode>(new RaftNode(std::move(impl)));
}

Result<void> RaftNode::recover(const std::string& data_dir, const std::vector<std::uint64_t>& voters) {
  if (voters.empty()) return Error(Code::InvalidArgument, "recover: name at least one voter");
  CST_TRY_ASSIGN(auto lock, io::os::DirLock::acquire(data_dir));
  CST_TRY_ASSIGN(auto store, io::store::RaftStore::open(data_dir));
  raft::ConfState c;
  c.voters = voters;
  std::sort(c.voters.begin(), c.voters.end());
  c.voters.erase(std::unique(c.voters.begin(), c.voters.end()), c.voters.end());
  CST_TRY(store->force_new_configuration(c));
  (void)lock;
  return ok();
}

void RaftNode::stop() {
  if (impl_ && impl_->rt) impl_->rt->stop();
}

int RaftNode::raft_port() const { return impl_->rt->raft_port(); }
void RaftNode::set_peer_address(std::uint64_t id, const std::string& address) { impl_->rt->set_peer_address(id, address); }

namespace {

lease::Command put_command(const std::string& key, const std::string& value) {
  lease::Command c;
  c.op = lease::Op::Put;
  c.key = key;
  c.value = value;
  return c;
}

Result<lease::Command> acquire_command(const std::string& name, const std::string& holder, std::chrono::milliseconds ttl,
                                       std::chrono::milliseconds lock_delay) {
  if (name.empty() || holder.empty()) return Error(Code::InvalidArgument, "acquire: name and holder must not be empty");
  if (ttl.count() <= 0) return Error(Code::InvalidArgument, "acquire: ttl must be positive");
  lease::Command c;
  c.op = lease::Op::Acquire;
  c.key = name;
  c.holder = holder;
  c.ttl_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(ttl).count());
  c.lock_delay_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(lock_delay).count());
  return c;
}

lease::Command renew_command(const std::string& name, const std::string& holder, std::uint64_t token) {
  lease::Command c;
  c.op = lease::Op::Renew;
  c.key = name;
  c.holder = holder;
  c.token = token;
  return c;
}

}  // namespace

Result<std::uint64_t> RaftNode::put(const std::string& key, const std::string& value, Timeout timeout) {
  if (key.empty()) return Error(Code::InvalidArgument, "put: key must not be empty");
  CST_TRY_ASSIGN(auto r, impl_->run(put_command(key, value), timeout));
  return r.revision;
}

void RaftNode::put_async(const std::string& key, const std::string& value,
                         std::function<void(Result<std::uint64_t>)> done, Timeout timeout) {
  if (key.empty()) return done(Error(Code::InvalidArgument, "put: key must not be empty"));
  impl_->run_async(put_command(key, value), timeout, [done = std::move(done)](Result<lease::Response> r) {
    if (!r) return done(std::move(r).error());
    done(r->revision);
  });
}

Result<std::uint64_t> RaftNode::compare_and_set(const std::string& key, const std::string& value,
                                                std::uint64_t expected_revision, Timeout timeout) {
  if (key.empty()) return Error(Code::InvalidArgument, "compare_and_set: key must not be empty");
  lease::Command c;
  c.op = lease::Op::Put;
  c.key = key;
  c.value = value;
  c.has_expected = true;
  c.expected_revision = expected_revision;
  CST_TRY_ASSIGN(auto r, impl_->run(std::move(c), timeout));
  return r.revision;
}

Result<std::uint64_t> RaftNode::erase(const std::string& key, std::optional<std::uint64_t> expected, Timeout timeout) {
  lease::Command c;
  c.op = lease::Op::Delete;
  c.key = key;
  if (expected) {
    c.has_expected = true;
    c.expected_revision = *expected;
  }
  CST_TRY_ASSIGN(auto r, impl_->run(std::move(c), timeout));
  return r.revision;
}

namespace {
KvEntry to_public(const lease::KeyValue& kv) {
  return KvEntry{kv.key, kv.value, kv.create_revision, kv.mod_revision, kv.version};
}
}  // namespace

Result<KvEntry> RaftNode::get(const std::string& key, Timeout timeout) {
  std::optional<lease::KeyValue> out;
  CST_TRY(impl_->rt->read([&](const lease::Machine& m) { out = m.get(key); }, impl_->deadline(timeout)));
  if (!out) return Error(Code::NotFound, "no key '" + key + "'");
  return to_public(*out);
}

Result<std::vector<KvEntry>> RaftNode::list(const std::string& prefix, std::size_t limit, Timeout timeout) {
  std::vector<KvEntry> out;
  CST_TRY(impl_->rt->read([&](const lease::Machine& m) {
    for (const auto& kv : m.list(prefix, limit)) out.push_back(to_public(kv));
  }, impl_->deadline(timeout)));
  return out;
}

Result<std::vector<WatchEvent>> RaftNode::watch(const std::string& prefix, std::uint64_t after,
                                                std::chrono::milliseconds wait) {
  CST_TRY_ASSIGN(auto events, impl_->rt->watch(prefix, after, Clock::now() + wait));
  std::vector<WatchEvent> out;
  for (const auto& e : events) {
    out.push_back(WatchEvent{e.kind == lease::Event::Kind::Put ? WatchEvent::Kind::Put : WatchEvent::Kind::Delete,
                             e.revision, to_public(e.kv)});
  }
  return out;
}

std::uint64_t RaftNode::revision() const { return impl_->rt->revision(); }

Result<LeaseGrant> RaftNode::acquire(const std::string& name, const std::string& holder, std::chrono::milliseconds ttl,
                                     std::chrono::milliseconds lock_delay, Timeout timeout) {
  CST_TRY_ASSIGN(auto c, acquire_command(name, holder, ttl, lock_delay));
  const auto started = Clock::now();
  CST_TRY_ASSIGN(auto r, impl_->run(std::move(c), timeout));
  return impl_->grant(name, holder, r, started, r.expiry - r.applied_at);
}

void RaftNode::acquire_async(const std::string& name, const std::string& holder, std::chrono::milliseconds ttl,
                             std::chrono::milliseconds lock_delay, std::function<void(Result<LeaseGrant>)> done,
                             Timeout timeout) {
  auto c = acquire_command(name, holder, ttl, lock_delay);
  if (!c) return done(std::move(c).error());
  impl_->run_async(std::move(*c), timeout,
                   [impl = impl_.get(), name, holder, started = Clock::now(), done = std::move(done)](Result<lease::Response> r) {
                     if (!r) return done(std::move(r).error());
                     done(impl->grant(name, holder, *r, started, r->expiry - r->applied_at));
                   });
}

Result<LeaseGrant> RaftNode::renew(const std::string& name, const std::string& holder, std::uint64_t token, Timeout timeout) {
  const auto started = Clock::now();
  CST_TRY_ASSIGN(auto r, impl_->run(renew_command(name, holder, token), timeout));
  return impl_->grant(name, holder, r, started, r.expiry - r.applied_at);
}

void RaftNode::renew_async(const std::string& name, const std::string& holder, std::uint64_t token,
                           std::function<void(Result<LeaseGrant>)> done, Timeout timeout) {
  impl_->run_async(renew_command(name, holder, token), timeout,
                   [impl = impl_.get(), name, holder, started = Clock::now(), done = std::move(done)](Result<lease::Response> r) {
                     if (!r) return done(std::move(r).error());
                     done(impl->grant(name, holder, *r, started, r->expiry - r->applied_at));
                   });
}

Result<void> RaftNode::release(const std::string& name, const std::string& holder, std::uint64_t token, Timeout timeout) {
  lease::Command c;
  c.op = lease::Op::Release;
  c.key = name;
  c.holder = holder;
  c.token = token;
  CST_TRY(impl_->run(std::move(c), timeout));
  return ok();
}

Result<LeaseInfo> RaftNode::lease(const std::string& name, Timeout timeout) {
  std::optional<LeaseInfo> out;
  CST_TRY(impl_->rt->read([&](const lease::Machine& m) {
    auto l = m.lease(name);
    if (l) out = LeaseInfo{l->name, l->holder, l->token, l->expiry, m.held(name, m.cluster_time())};
  }, impl_->deadline(timeout)));
  if (!out) return Error(Code::NotFound, "no lease '" + name + "'");
  return *out;
}

Result<std::vector<LeaseInfo>> RaftNode::leases(const std::string& prefix, Timeout timeout) {
  std::vector<LeaseInfo> out;
  CST_TRY(impl_->rt->read([&](const lease::Machine& m) {
    for (const auto& l : m.leases(prefix)) {
      out.push_back(LeaseInfo{l.name, l.holder, l.token, l.expiry, m.held(l.name, m.cluster_time())});
    }
  }, impl_->deadline(timeout)));
  return out;
}

RaftStatus RaftNode::status() const { return impl_->rt->status(); }

Result<std::uint64_t> RaftNode::wait_for_leader(Timeout timeout) { return impl_->rt->wait_for_leader(impl_->deadline(timeout)); }

Result<void> RaftNode::transfer_leadership(std::uint64_t target, Timeout timeout) {
  return impl_->rt->transfer(target, impl_->deadline(timeout));
}

Result<void> RaftNode::add_voter(std::uint64_t id, const std::string& address, Timeout timeout) {
  return impl_->rt->change(raft::ConfChange{raft::ConfChange::Kind::AddVoter, id}, address, impl_->deadline(timeout));
}
Result<void> RaftNode::add_learner(std::uint64_t id, const std::string& address, Timeout timeout) {
  return impl_->rt->change(raft::ConfChange{raft::ConfChange::Kind::AddLearner, id}, address, impl_->deadline(timeout));
}
Result<void> RaftNode::remove_member(std::uint64_t id, Timeout timeout) {
  return impl_->rt->change(raft::ConfChange{raft::ConfChange::Kind::Remove, id}, "", impl_->deadline(timeout));
}

}  // namespace constellation
