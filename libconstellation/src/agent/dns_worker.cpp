// SPDX-License-Identifier: Apache-2.0
#include "agent/dns_worker.hpp"

#include "catalog/snapshot_json.hpp"

namespace constellation::agent {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

DnsWorker::DnsWorker(RaftNode& raft, std::unique_ptr<dns::Engine> engine,
                     std::function<std::shared_ptr<const catalog::Snapshot>()> snapshot, DnsWorkerOptions options)
    : raft_(raft), engine_(std::move(engine)), snapshot_(std::move(snapshot)), opts_(std::move(options)) {}

DnsWorker::~DnsWorker() { stop(); }

void DnsWorker::start() {
  thread_ = std::thread([this] { run(); });
}

void DnsWorker::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (token_ != 0) {
    // Hand the lease back at once (no lock-delay), so another node takes over without waiting.
    if (auto r = raft_.release(kLease, opts_.holder, token_, 2000ms); !r) {
      opts_.log.warn("could not release the dns lease", {{"error", core::json::Value(r.error().message())}});
    }
    token_ = 0;
  }
}

std::uint64_t DnsWorker::fence() const {
  // Act only while the lease is certainly still ours, with a margin for the request in flight.
  std::lock_guard lock(mu_);
  if (token_ == 0 || stopping_) return 0;
  return Clock::now() + 2s < valid_until_ ? token_ : 0;
}

void DnsWorker::run() {
  const auto renew_every = std::min<Clock::duration>(opts_.lease_ttl / 3, opts_.interval);
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) return;
    }
    cycle();
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, renew_every, [this] { return stopping_; });
    if (stopping_) return;
  }
}

void DnsWorker::cycle() {
  // 1. Take or keep the lease.
  std::uint64_t token = 0;
  {
    std::lock_guard lock(mu_);
    token = token_;
  }
  Result<LeaseGrant> grant =
      token == 0 ? raft_.acquire(kLease, opts_.holder, opts_.lease_ttl) : raft_.renew(kLease, opts_.holder, token);
  {
    std::lock_guard lock(mu_);
    if (grant) {
      if (token_ == 0) {
        acquired_at_ = Clock::now();
        next_run_ = acquired_at_;
        opts_.log.info("holding the dns lease",
                       {{"token", core::json::Value(static_cast<unsigned long long>(grant->token))}});
      }
      token_ = grant->token;
      valid_until_ = grant->valid_until;
    } else {
      if (token_ != 0) {
        opts_.log.warn("lost the dns lease", {{"error", core::json::Value(grant.error().message())}});
      }
      token_ = 0;
      return;  // another node holds it (Conflict), or no quorum right now
    }
    if (Clock::now() < next_run_) return;
    next_run_ = Clock::now() + opts_.interval;
  }

  // 2. Reconcile on a complete view only (the engine also refuses deletions on a partial one).
  auto snap = snapshot_();
  if (!snap || !snap->complete) return;
  dns::RunOptions ro;
  ro.apply = true;
  ro.fence = [this] { return fence(); };
  ro.state_json = state_json_;
  auto held_for = Clock::now() - acquired_at_;
  ro.settle =
      held_for >= opts_.settle ? 0ms : std::chrono::duration_cast<std::chrono::milliseconds>(opts_.settle - held_for);
  auto report = engine_->run(catalog::snapshot_to_json(*snap, 0), ro);
  std::lock_guard lock(mu_);
  ++runs_;
  core::json::Value last;
  if (!report) {
    last["error"] = report.error().message();
    opts_.log.warn("dns run failed", {{"error", core::json::Value(report.error().message())}});
  } else {
    state_json_ = report->state_json;
    applied_total_ += report->applied;
    last["creates"] = static_cast<unsigned long long>(report->creates);
    last["updates"] = static_cast<unsigned long long>(report->updates);
    last["deletes"] = static_cast<unsigned long long>(report->deletes);
    last["held"] = static_cast<unsigned long long>(report->held);
    last["conflicts"] = static_cast<unsigned long long>(report->conflicts);
    last["applied"] = static_cast<unsigned long long>(report->applied);
    last["requests"] = static_cast<unsigned long long>(report->requests);
    last["aborted"] = report->aborted;
    if (report->aborted) last["abort_reason"] = report->abort_reason;
    if (report->applied > 0 || report->aborted) {
      opts_.log.info("dns reconciled",
                     {{"applied", core::json::Value(static_cast<unsigned long long>(report->applied))},
                      {"held", core::json::Value(static_cast<unsigned long long>(report->held))},
                      {"aborted", core::json::Value(report->aborted)},
                      {"reason", core::json::Value(report->abort_reason)}});
    }
  }
  last_ = std::move(last);
}

core::json::Value DnsWorker::status() const {
  std::lock_guard lock(mu_);
  core::json::Value v;
  v["holder"] = token_ != 0;
  v["token"] = static_cast<unsigned long long>(token_);
  v["runs"] = static_cast<unsigned long long>(runs_);
  v["applied_total"] = static_cast<unsigned long long>(applied_total_);
  v["last"] = last_;
  return v;
}

}  // namespace constellation::agent
