// SPDX-License-Identifier: Apache-2.0
//
// The agent's built-in DNS writer: on every node with dns.enabled, a thread that competes for the
// replicated "dns" lease and, while it holds it, runs the DNS engine on the latest complete
// catalog snapshot under the lease's fencing token. Exactly one node writes at a time; a node
// that loses the lease stops before its next write (the fence), and releases it on shutdown.
#pragma once

#include <constellation/dns.hpp>
#include <constellation/raft.hpp>

#include "catalog/model.hpp"
#include "core/json.hpp"
#include "core/log.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace constellation::agent {

struct DnsWorkerOptions {
  std::string holder;  // this node's name
  std::chrono::seconds interval{60};
  /// How long a node that just took the lease holds deletions back (safety.holder_settle_seconds).
  std::chrono::seconds settle{60};
  /// Lease time-to-live; renewed every interval/3 at most. Default 30 s.
  std::chrono::milliseconds lease_ttl{30000};
  core::log::Logger log;
};

class DnsWorker {
 public:
  static constexpr const char* kLease = "dns";

  DnsWorker(RaftNode& raft, std::unique_ptr<dns::Engine> engine,
            std::function<std::shared_ptr<const catalog::Snapshot>()> snapshot, DnsWorkerOptions options);
  ~DnsWorker();

  void start();
  /// Stops the thread and releases the lease if held. Idempotent.
  void stop();
  /// {"holder": bool, "token": N, "runs": N, "last": {...report...}} for GET /v1/dns.
  core::json::Value status() const;

 private:
  void run();
  void cycle();
  std::uint64_t fence() const;

  RaftNode& raft_;
  std::unique_ptr<dns::Engine> engine_;
  std::function<std::shared_ptr<const catalog::Snapshot>()> snapshot_;
  DnsWorkerOptions opts_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  // Lease state (thread-owned; copies under mu_ for status()).
  std::uint64_t token_ = 0;
  std::chrono::steady_clock::time_point valid_until_{};
  std::chrono::steady_clock::time_point acquired_at_{};
  std::chrono::steady_clock::time_point next_run_{};
  std::string state_json_;
  std::uint64_t runs_ = 0;
  std::uint64_t applied_total_ = 0;
  core::json::Value last_ = core::json::Value::object();
};

}  // namespace constellation::agent
