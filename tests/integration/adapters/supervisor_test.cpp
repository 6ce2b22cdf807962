// SPDX-License-Identifier: Apache-2.0
// The libuv process supervisor with real processes: environment, working directory, logs and
// their rotation, stop with SIGTERM then SIGKILL, its own restart policy with backoff and a
// limit, and adoption of running processes by a new supervisor (without duplicating them).
#include "io/process/supervisor.hpp"
#include "cst_test/files.hpp"

#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

using namespace constellation;
using namespace constellation::io::process;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using cst_test::TempDir;

// Collects events; waits for one matching a predicate.
struct Events {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Event> all;

  std::function<void(const Event&)> sink() {
    return [this](const Event& e) {
      std::lock_guard lock(mu);
      all.push_back(e);
      cv.notify_all();
    };
  }
  template <class P>
  std::optional<Event> wait(P pred, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu);
    std::optional<Event> found;
    cv.wait_for(lock, timeout, [&] {
      for (const auto& e : all) {
        if (pred(e)) {
          found = e;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  std::vector<Event> of(EventKind k, const std::string& id) {
    std::lock_guard lock(mu);
    std::vector<Event> out;
    for (const auto& e : all) {
      if (e.kind == k && e.id == id) out.push_back(e);
    }
    return out;
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <class P>
bool eventually(P pred, std::chrono::milliseconds timeout = 10s) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

bool alive(int pid) { return ::kill(pid, 0) == 0; }

ProcessSpec shell(std::string id, std::string script) {
  ProcessSpec s;
  s.id = std::move(id);
  s.argv = {"/bin/sh", "-c", std::move(script)};
  s.stop_grace = 2s;
  return s;
}

}  // namespace

TEST_CASE("spawn with environment and working directory, output to the log, stop with SIGTERM") {
  TempDir dir;
  Events ev;
  auto sup = Supervisor::open({dir.path, "", ev.sink()});
  REQUIRE(sup);
  auto spec = shell("web-1", "echo \"hello $GREETING from $(pwd) as $CONSTELLATION_INSTANCE\"; exec sleep 60");
  spec.env["GREETING"] = "bonjour";
  spec.working_dir = dir.path;
  auto pid = (*sup)->start(spec);
  REQUIRE_MESSAGE(pid, pid.error().to_string());
  CHECK(alive(*pid));
  CHECK((*sup)->start(spec).error().code() == Code::Conflict);
  auto log = dir.fs() / "logs" / "web-1.log";
  REQUIRE(eventually([&] { return slurp(log).find("hello") != std::string::npos; }));
  CHECK(slurp(log) == "hello bonjour from " + dir.path + " as web-1\n");
  auto info = (*sup)->find("web-1");
  REQUIRE(info);
  CHECK(info->running);
  CHECK(info->pid == *pid);
  CHECK(slurp((*sup)->state_path()).find("\"web-1\"") != std::string::npos);

  REQUIRE((*sup)->stop("web-1"));
  auto exit = ev.wait([](const Event& e) { return e.kind == EventKind::Exited; });
  REQUIRE(exit);
  CHECK(exit->requested);
  CHECK(exit->signal == SIGTERM);
  CHECK_FALSE(alive(*pid));
  CHECK(slurp((*sup)->state_path()).find("\"web-1\"") == std::string::npos);
  CHECK((*sup)->stop("web-1").error().code() == Code::NotFound);
  (*sup)->close(true);
}

TEST_CASE("a process ignoring SIGTERM is killed after the grace period, with its children") {
  TempDir dir;
  Events ev;
  auto sup = Supervisor::open({dir.path, "", ev.sink()});
  REQUIRE(sup);
  auto spec = shell("stubborn-1", "trap '' TERM; sleep 60 & echo child $!; wait; sleep 60");
  spec.stop_grace = 300ms;
  auto pid = (*sup)->start(spec);
  REQUIRE(pid);
  auto log = dir.fs() / "logs" / "stubborn-1.log";
  REQUIRE(eventually([&] { return slurp(log).find("child ") != std::string::npos; }));
  int child = std::stoi(slurp(log).substr(6));
  CHECK(alive(child));
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE((*sup)->stop("stubborn-1"));
  auto exit = ev.wait([](const Event& e) { return e.kind == EventKind::Exited; });
  REQUIRE(exit);
  CHECK(exit->signal == SIGKILL);
  CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);
  // The whole process group got the signals: the background child is gone too.
  CHECK(eventually([&] { return !alive(child); }));
  (*sup)->close(true);
}

TEST_CASE("a missing program is an error, not a crash") {
  TempDir dir;
  auto sup = Supervisor::open({dir.path, "", {}});
  REQUIRE(sup);
  ProcessSpec s;
  s.id = "ghost-1";
  s.argv = {"/nonexistent/program"};
  auto r = (*sup)->start(s);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Code::NotFound);
  CHECK_FALSE((*sup)->find("ghost-1"));
}

TEST_CASE("restart policy: a crash loop backs off exponentially, then gives up") {
  TempDir dir;
  Events ev;
  auto sup = Supervisor::open({dir.path, "", ev.sink()});
  REQUIRE(sup);
  auto spec = shell("crash-1", "echo crashing; exit 3");
  health::RestartPolicy p;
  p.on_failure = true;
  p.backoff = 50ms;
  p.max_backoff = 150ms;
  p.limit = 4;
  spec.restart = p;
  REQUIRE((*sup)->start(spec));
  REQUIRE(ev.wait([](const Event& e) { return e.kind == EventKind::GaveUp; }));
  auto scheduled = ev.of(EventKind::RestartScheduled, "crash-1");
  REQUIRE(scheduled.size() == 4);
  CHECK(scheduled[0].delay == 50ms);
  CHECK(scheduled[1].delay == 100ms);
  CHECK(scheduled[2].delay == 150ms);  // capped
  CHECK(scheduled[3].delay == 150ms);
  auto exits = ev.of(EventKind::Exited, "crash-1");
  CHECK(exits.size() == 5);
  for (const auto& e : exits) CHECK(e.exit_code == 3);
  CHECK(ev.of(EventKind::Started, "crash-1").size() == 5);
  auto info = (*sup)->find("crash-1");
  REQUIRE(info);
  CHECK_FALSE(info->running);
  CHECK(info->restarts == 4);
  CHECK((*sup)->forget("crash-1"));
  CHECK_FALSE((*sup)->find("crash-1"));
}

TEST_CASE("a new supervisor adopts running processes instead of starting duplicates") {
  TempDir dir;
  int pid = 0;
  {
    Events ev;
    auto sup = Supervisor::open({dir.path, "", ev.sink()});
    REQUIRE(sup);
    auto spec = shell("db-1", "exec sleep 60");
    spec.labels["constellation.spec-hash"] = "abc123";
    auto r = (*sup)->start(spec);
    REQUIRE(r);
    pid = *r;
    (*sup)->close(false);  // the agent restarts: its processes keep running
  }
  REQUIRE(alive(pid));
  Events ev;
  auto sup = Supervisor::open({dir.path, "", ev.sink()});
  REQUIRE(sup);
  auto adopted = ev.wait([](const Event& e) { return e.kind == EventKind::Adopted; }, 1s);
  REQUIRE(adopted);
  CHECK(adopted->pid == pid);
  auto info = (*sup)->find("db-1");
  REQUIRE(info);
  CHECK(info->adopted);
  CHECK(info->running);
  CHECK(info->labels.at("constellation.spec-hash") == "abc123");
  CHECK((*sup)->start(shell("db-1", "sleep 1")).error().code() == Code::Conflict);
  // Stopping an adopted process works, and its exit is seen through the pidfd.
  REQUIRE((*sup)->stop("db-1"));
  auto exit = ev.wait([](const Event& e) { return e.kind == EventKind::Exited; });
  REQUIRE(exit);
  CHECK(exit->requested);
  CHECK_FALSE(alive(pid));
  (*sup)->close(true);
}

TEST_CASE("a recorded pid that now belongs to another process is not adopted") {
  TempDir dir;
  int pid = 0;
  {
    auto sup = Supervisor::open({dir.path, "", {}});
    REQUIRE(sup);
    auto r = (*sup)->start(shell("old-1", "exec sleep 60"));
    REQUIRE(r);
    pid = *r;
    (*sup)->close(false);
  }
  // Rewrite the recorded kernel start time: as if the pid had been reused.
  auto state = dir.fs() / "processes.json";
  auto text = slurp(state);
  auto pos = text.find("\"start_ticks\":");
  REQUIRE(pos != std::string::npos);
  auto end = text.find(',', pos);
  text.replace(pos, end - pos, "\"start_ticks\":1");
  std::ofstream(state) << text;
  Events ev;
  auto sup = Supervisor::open({dir.path, "", ev.sink()});
  REQUIRE(sup);
  CHECK_FALSE((*sup)->find("old-1"));
  CHECK(ev.of(EventKind::Adopted, "old-1").empty());
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  (*sup)->close(true);
}

TEST_CASE("logs rotate by size and keep a bounded number of files") {
  TempDir dir;
  SupervisorOptions o{dir.path, "", {}};
  o.rotate_interval = 50ms;
  auto sup = Supervisor::open(o);
  REQUIRE(sup);
  auto spec = shell("chatty-1", "i=0; while [ $i -lt 400 ]; do echo line $i padding-padding-padding-padding; i=$((i+1)); "
                                "sleep 0.005; done; exec sleep 60");
  spec.log_max_bytes = 4096;
  spec.log_max_files = 2;
  REQUIRE((*sup)->start(spec));
  auto log = dir.fs() / "logs" / "chatty-1.log";
  REQUIRE(eventually([&] { return fs::exists(log.string() + ".2"); }, 20s));
  CHECK_FALSE(fs::exists(log.string() + ".3"));
  REQUIRE(eventually([&] { return slurp(log).find("line 399") != std::string::npos; }, 20s));
  CHECK(fs::file_size(log) < 4096 * 3);
  (*sup)->close(true);
}

TEST_CASE("close(true) stops every process") {
  TempDir dir;
  auto sup = Supervisor::open({dir.path, "", {}});
  REQUIRE(sup);
  auto a = (*sup)->start(shell("a-1", "exec sleep 60"));
  auto b = (*sup)->start(shell("b-1", "exec sleep 60"));
  REQUIRE((a && b));
  (*sup)->close(true);
  CHECK(eventually([&] { return !alive(*a) && !alive(*b); }, 5s));
  CHECK(signal_number("SIGTERM") == SIGTERM);
  CHECK(signal_number("HUP") == SIGHUP);
  CHECK(signal_number("9") == 9);
  CHECK_FALSE(signal_number("SIGNOPE"));
}
