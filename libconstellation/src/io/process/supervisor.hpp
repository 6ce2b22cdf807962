// SPDX-License-Identifier: Apache-2.0
//
// The process runtime: runs service instances as child processes on a libuv loop thread.
//
// - spawn with an environment (the agent's, overlaid by the spec's, plus
//   CONSTELLATION_INSTANCE=<id>) and a working directory, in a session of its own;
// - stdout and stderr go straight to <log dir>/<id>.log (opened O_APPEND), rotated by size
//   (copy-truncate, keeping N files) — files rather than pipes so an instance survives the
//   agent's restart without SIGPIPE (ADR 0034);
// - stop sends the stop signal to the whole process group, then SIGKILL after the grace period;
// - exits are reaped by libuv for own children; processes adopted after a restart are watched
//   through a pidfd (their exit status is unknown);
// - optional restart policy with exponential backoff and a cap (health::RestartTracker), for
//   standalone use — the service runner leaves it off and lets the health monitor decide;
// - every running process is recorded in <state dir>/processes.json (written atomically), so a
//   new supervisor adopts what is still running instead of starting a duplicate. A process is
//   adopted only if its pid, boot id, kernel start time and CONSTELLATION_INSTANCE all match.
#pragma once

#include <constellation/result.hpp>

#include "core/time.hpp"
#include "health/restart.hpp"

#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace constellation::io::process {

using namespace std::chrono_literals;

struct ProcessSpec {
  /// Unique name of the instance ("web-1"); also its log file name.
  std::string id;
  /// argv[0] is looked up in PATH.
  std::vector<std::string> argv;
  /// Overlaid on the agent's environment.
  std::map<std::string, std::string> env;
  /// Empty: the agent's working directory.
  std::string working_dir;
  /// Kept with the process (and in the state file) for the caller: spec hash, service, project.
  std::map<std::string, std::string> labels;
  /// Rotate the log when it exceeds this size; keep this many rotated files (>= 1).
  std::uint64_t log_max_bytes = 10u << 20;
  int log_max_files = 3;
  int stop_signal = SIGTERM;
  core::Duration stop_grace = 10s;
  /// Restart by the supervisor itself on exit; nullopt: never (the caller decides).
  std::optional<health::RestartPolicy> restart;
};

enum class EventKind {
  /// Spawned (also after a supervisor-managed restart).
  Started,
  /// Found running at open() and taken over.
  Adopted,
  /// Exited (exit_code, or signal; both unknown for adopted processes).
  Exited,
  /// A supervisor-managed restart is scheduled after `delay`.
  RestartScheduled,
  /// The restart limit was reached; the process stays down.
  GaveUp,
  /// A supervisor-managed restart failed to spawn.
  StartFailed,
};
std::string_view event_kind_name(EventKind k);

struct Event {
  EventKind kind = EventKind::Started;
  std::string id;
  int pid = 0;
  std::optional<int> exit_code;
  /// Terminating signal, 0 if none.
  int signal = 0;
  /// The exit followed a stop() request.
  bool requested = false;
  int attempt = 0;
  core::Duration delay{0};
  std::string message;
};

struct ProcessInfo {
  std::string id;
  int pid = 0;
  bool running = false;
  bool adopted = false;
  std::map<std::string, std::string> labels;
  std::string log_path;
  core::WallTime started_at;
  int restarts = 0;
};

struct SupervisorOptions {
  /// processes.json lives here; logs in <state_dir>/logs unless log_dir is set. Created.
  std::string state_dir;
  std::string log_dir;
  /// Called on the supervisor's thread for every event; must not block or call back into the
  /// supervisor synchronously.
  std::function<void(const Event&)> on_event;
  /// Take over processes recorded in the state file that are still running.
  bool adopt = true;
  /// How often log sizes are checked for rotation.
  core::Duration rotate_interval = 1s;
};

/// Thread-safe: every method may be called from any thread except the event callback's.
class Supervisor {
 public:
  /// Starts the loop thread and adopts live processes from the state file (reporting Adopted
  /// events). Errors: Io (state directory, loop), Corrupt (an unreadable state file is renamed
  /// aside and reported, not fatal — this only fails when the rename fails).
  static Result<std::unique_ptr<Supervisor>> open(SupervisorOptions options);

  /// close(false).
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  /// Spawns a process. Returns its pid. Errors: Conflict (an instance with this id is running),
  /// NotFound (no such program), InvalidArgument (empty argv), Io (other spawn failures).
  Result<int> start(ProcessSpec spec);

  /// Stops a process: stop signal to its group, SIGKILL after the grace period. With `wait`,
  /// returns once it is gone (at most grace + 5 s). Errors: NotFound (unknown or not running),
  /// Timeout (still there after waiting).
  Result<void> stop(const std::string& id, bool wait = true);

  /// Forgets an exited process (its pending restart is cancelled). False if unknown or running.
  bool forget(const std::string& id);

  std::vector<ProcessInfo> list() const;
  std::optional<ProcessInfo> find(const std::string& id) const;

  /// Stops the loop. With stop_children, every process is stopped first (bounded by the longest
  /// grace period); otherwise they keep running and the state file lets the next supervisor
  /// adopt them. Idempotent.
  void close(bool stop_children);

  /// Path of the state file.
  std::string state_path() const;

 private:
  struct Impl;
  explicit Supervisor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Signal number for a name ("SIGTERM", "TERM", "15"); nullopt when unknown.
std::optional<int> signal_number(std::string_view name);

}  // namespace constellation::io::process
