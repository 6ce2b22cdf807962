// SPDX-License-Identifier: Apache-2.0
//
// The node runtime: drives one Raft core and the lease/KV state machine on a control loop (an
// Asio io_context on its own thread), persists every Ready on a storage thread (one SQLite
// transaction and fsync per batch; votes and acknowledgements leave only after it) — or, for a
// small write while the disk is idle, on the loop itself (ADR 0065) — and talks to
// peers through the Raft transport. Public calls come from any thread and are posted to the loop;
// nothing inside the loop takes a lock except the published status. docs/adr/0025-node-runtime.md.
#pragma once

#include <constellation/raft.hpp>

#include "lease/machine.hpp"
#include "raft/types.hpp"

#include <chrono>
#include <functional>
#include <memory>

namespace constellation::raftnode {

using Clock = std::chrono::steady_clock;

class Runtime {
 public:
  static Result<std::unique_ptr<Runtime>> open(const RaftOptions& options);
  ~Runtime();

  /// Submits a command (its session and seq are filled in) and waits for it to apply.
  Result<lease::Response> execute(lease::Command cmd, Clock::time_point deadline);
  /// Submits a command and returns at once: `done` runs exactly once, on the control loop (or
  /// on this thread when the node is stopped), with the response or the error.
  void submit(lease::Command cmd, Clock::time_point deadline, std::function<void(Result<lease::Response>)> done);
  /// Runs `serve` on the state machine once a ReadIndex round says it is current.
  Result<void> read(std::function<void(const lease::Machine&)> serve, Clock::time_point deadline);
  /// Events under prefix after `after`, waiting until `until` for the first one.
  Result<std::vector<lease::Event>> watch(const std::string& prefix, std::uint64_t after, Clock::time_point until);
  Result<void> transfer(std::uint64_t target, Clock::time_point deadline);
  Result<void> change(raft::ConfChange cc, const std::string& address, Clock::time_point deadline);
  /// Tells the transport where peer `id` listens (asynchronous; no-op after stop).
  void set_peer_address(std::uint64_t id, const std::string& address);
  Result<std::uint64_t> wait_for_leader(Clock::time_point deadline);
  RaftStatus status() const;
  /// Log transactions written so far, by the thread that wrote them: the control loop (a small
  /// write while the disk was idle, ADR 0065) or the storage thread. For tests and diagnostics.
  struct WriteCounts {
    std::uint64_t on_loop = 0;
    std::uint64_t on_storage_thread = 0;
  };
  WriteCounts write_counts() const;
  std::uint64_t revision() const;
  int raft_port() const;
  const RaftOptions& options() const;
  void stop();

  struct Impl;

 private:
  explicit Runtime(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace constellation::raftnode
