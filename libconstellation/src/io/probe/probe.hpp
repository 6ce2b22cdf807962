// SPDX-License-Identifier: Apache-2.0
//
// Health checks that touch the world: HTTP (status and optional body match), TCP connect, a
// command's exit status, and — through a hook the Docker adapter provides — a container's own
// healthcheck. Each probe is blocking and bounded by its timeout; Runner executes many in
// parallel on a small thread pool so the control loop never waits for one.
#pragma once

#include "core/time.hpp"
#include "health/check_state.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace constellation::io::probe {

using namespace std::chrono_literals;

enum class Kind { Http, Tcp, Exec, Container };

struct Probe {
  Kind kind = Kind::Http;
  /// Http: "http[s]://host[:port]/path"; Tcp: "host:port" ("[v6]:port"); Container: the id.
  std::string target;
  /// Exec: argv (argv[0] looked up in PATH).
  std::vector<std::string> command;
  /// Exec: extra environment over the agent's; working directory (empty: inherited).
  std::map<std::string, std::string> env;
  std::string working_dir;
  /// Http.
  std::string method = "GET";
  /// 0: any 2xx passes and 429 warns; otherwise exactly this status passes.
  int expect_status = 0;
  /// A substring the body must contain; empty for none.
  std::string expect_body;
  core::Duration timeout = 5s;
};

struct ProbeResult {
  health::Outcome outcome = health::Outcome::Fail;
  /// A short account ("HTTP 200", "connection refused", the command's last output), at most
  /// kMaxOutput bytes.
  std::string output;
  core::Duration elapsed{0};
};

inline constexpr std::size_t kMaxOutput = 1024;

/// The container hook: reports a container's healthcheck status within `timeout`.
using ContainerProbe = std::function<ProbeResult(const std::string& container_id, core::Duration timeout)>;

ProbeResult run_http(const Probe& p);
ProbeResult run_tcp(const Probe& p);
/// Exit 0 passes, 1 warns, anything else (or a timeout, after which the command's process group
/// is killed) fails.
ProbeResult run_exec(const Probe& p);
/// Dispatches on p.kind; Container needs `container` (fails without it).
ProbeResult run(const Probe& p, const ContainerProbe& container = {});

/// A fixed pool of threads running probes. Thread-safe. `done` runs on a pool thread and must
/// be quick (post the result to the owner's loop).
class Runner {
 public:
  explicit Runner(std::size_t threads = 4, ContainerProbe container = {});
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  void submit(Probe probe, std::function<void(ProbeResult)> done);
  /// Finishes the probes already running, drops queued ones (their `done` is not called) and
  /// joins the threads. Idempotent.
  void stop();
  std::size_t queued() const;

 private:
  void work();
  ContainerProbe container_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Probe, std::function<void(ProbeResult)>>> queue_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

}  // namespace constellation::io::probe
