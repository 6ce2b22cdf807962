// SPDX-License-Identifier: Apache-2.0
#include "io/probe/probe.hpp"

#include <httplib.h>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

extern char** environ;

namespace constellation::io::probe {

namespace {

using Clock = std::chrono::steady_clock;

core::Duration since(Clock::time_point t) {
  return std::chrono::duration_cast<core::Duration>(Clock::now() - t);
}

std::string clip(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (s.size() > kMaxOutput) s = "..." + s.substr(s.size() - (kMaxOutput - 3));
  return s;
}

ProbeResult result(health::Outcome o, std::string output, Clock::time_point start) {
  return {o, clip(std::move(output)), since(start)};
}

// Splits "host:port" / "[v6]:port"; false on a malformed target.
bool split_host_port(const std::string& target, std::string& host, std::string& port) {
  if (!target.empty() && target.front() == '[') {
    auto close = target.find(']');
    if (close == std::string::npos || close + 1 >= target.size() || target[close + 1] != ':') return false;
    host = target.substr(1, close - 1);
    port = target.substr(close + 2);
  } else {
    auto colon = target.rfind(':');
    if (colon == std::string::npos) return false;
    host = target.substr(0, colon);
    port = target.substr(colon + 1);
  }
  return !host.empty() && !port.empty();
}

}  // namespace

ProbeResult run_http(const Probe& p) {
  auto start = Clock::now();
  std::string url = p.target;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return result(health::Outcome::Fail, "invalid URL '" + url + "'", start);
  auto path_start = url.find('/', scheme_end + 3);
  std::string base = path_start == std::string::npos ? url : url.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  try {
    httplib::Client cli(base);
    if (!cli.is_valid()) return result(health::Outcome::Fail, "invalid URL '" + url + "'", start);
    auto secs = std::chrono::duration_cast<std::chrono::microseconds>(p.timeout);
    cli.set_connection_timeout(secs);
    cli.set_read_timeout(secs);
    cli.set_write_timeout(secs);
    cli.set_follow_location(false);
    cli.set_keep_alive(false);
    httplib::Headers headers{{"User-Agent", "constellation-health/1"}};
    httplib::Request req;
    req.method = p.method;
    req.path = path;
    req.headers = headers;
    auto res = cli.send(req);
    if (!res) {
      return result(health::Outcome::Fail, "HTTP " + p.method + " " + url + ": " + httplib::to_string(res.error()),
                    start);
    }
    int status = res->status;
    std::string what = "HTTP " + std::to_string(status);
    health::Outcome o;
    if (p.expect_status != 0) {
      o = status == p.expect_status ? health::Outcome::Pass : health::Outcome::Fail;
      if (o == health::Outcome::Fail) what += " (expected " + std::to_string(p.expect_status) + ")";
    } else if (status >= 200 && status < 300) {
      o = health::Outcome::Pass;
    } else if (status == 429) {
      o = health::Outcome::Warn;
    } else {
      o = health::Outcome::Fail;
    }
    if (o != health::Outcome::Fail && !p.expect_body.empty() && res->body.find(p.expect_body) == std::string::npos) {
      o = health::Outcome::Fail;
      what += ", body lacks '" + p.expect_body + "'";
    }
    if (o == health::Outcome::Fail && !res->body.empty()) what += ": " + res->body.substr(0, 200);
    return result(o, what, start);
  } catch (const std::exception& e) {
    return result(health::Outcome::Fail, std::string("HTTP probe failed: ") + e.what(), start);
  }
}

ProbeResult run_tcp(const Probe& p) {
  auto start = Clock::now();
  std::string host, port;
  if (!split_host_port(p.target, host, port)) {
    return result(health::Outcome::Fail, "invalid TCP target '" + p.target + "'", start);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* list = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &list); rc != 0) {
    return result(health::Outcome::Fail, "resolve " + host + ": " + gai_strerror(rc), start);
  }
  std::string last_error = "no address";
  auto deadline = start + p.timeout;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd pfd{fd, POLLOUT, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      rc = left > 0 ? ::poll(&pfd, 1, static_cast<int>(left)) : 0;
      if (rc == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        rc = err == 0 ? 0 : -1;
        if (err) errno = err;
      } else if (rc == 0) {
        errno = ETIMEDOUT;
        rc = -1;
      }
    }
    if (rc == 0) {
      ::close(fd);
      freeaddrinfo(list);
      return result(health::Outcome::Pass, "TCP connect " + p.target + " ok", start);
    }
    last_error = errno == ETIMEDOUT ? "timed out" : std::strerror(errno);
    ::close(fd);
  }
  freeaddrinfo(list);
  return result(health::Outcome::Fail, "TCP connect " + p.target + ": " + last_error, start);
}

ProbeResult run_exec(const Probe& p) {
  auto start = Clock::now();
  if (p.command.empty()) return result(health::Outcome::Fail, "empty command", start);
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return result(health::Outcome::Fail, std::strerror(errno), start);

  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos && p.env.count(std::string(kv.substr(0, eq)))) continue;
    env_store.emplace_back(kv);
  }
  for (const auto& [k, v] : p.env) env_store.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = p.command;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
  if (!p.working_dir.empty()) posix_spawn_file_actions_addchdir_np(&fa, p.working_dir.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so a timeout kills everything the command started.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    return result(health::Outcome::Fail, "cannot run '" + p.command[0] + "': " + std::strerror(rc), start);
  }

  std::string output;
  bool timed_out = false;
  auto deadline = start + p.timeout;
  char buf[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{pipefd[0], POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      timed_out = n == 0;
      break;
    }
    ssize_t got = ::read(pipefd[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // EOF: every writer closed
    output.append(buf, static_cast<std::size_t>(got));
    if (output.size() > 64 * kMaxOutput) output.erase(0, output.size() - 4 * kMaxOutput);
  }
  ::close(pipefd[0]);
  if (timed_out) ::kill(-pid, SIGKILL);
  int status = 0;
  // The command may have closed its output and still run: wait, bounded by the deadline.
  while (true) {
    pid_t w = ::waitpid(pid, &status, timed_out ? 0 : WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (w == 0) {
      if (Clock::now() >= deadline) {
        timed_out = true;
        ::kill(-pid, SIGKILL);
        continue;
      }
      ::usleep(2000);
    }
  }
  if (timed_out) {
    return result(health::Outcome::Fail, "timed out after " + core::format_duration(p.timeout) + ": " + output, start);
  }
  if (WIFSIGNALED(status)) {
    return result(health::Outcome::Fail, "killed by signal " + std::to_string(WTERMSIG(status)) + ": " + output, start);
  }
  int code = WEXITSTATUS(status);
  if (code == 127 && output.empty()) output = "command not found";
  auto o = code == 0 ? health::Outcome::Pass : code == 1 ? health::Outcome::Warn : health::Outcome::Fail;
  return result(o, "exit " + std::to_string(code) + (output.empty() ? "" : ": " + output), start);
}

ProbeResult run(const Probe& p, const ContainerProbe& container) {
  switch (p.kind) {
    case Kind::Http: return run_http(p);
    case Kind::Tcp: return run_tcp(p);
    case Kind::Exec: return run_exec(p);
    case Kind::Container:
      if (!container) return {health::Outcome::Fail, "no container engine to ask", core::Duration(0)};
      return container(p.target, p.timeout);
  }
  return {};
}

Runner::Runner(std::size_t threads, ContainerProbe container) : container_(std::move(container)) {
  if (threads == 0) threads = 1;
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

Runner::~Runner() { stop(); }

void Runner::submit(Probe probe, std::function<void(ProbeResult)> done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    queue_.emplace_back(std::move(probe), std::move(done));
  }
  cv_.notify_one();
}

void Runner::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

std::size_t Runner::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Runner::work() {
  while (true) {
    std::pair<Probe, std::function<void(ProbeResult)>> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    auto r = run(job.first, container_);
    if (job.second) job.second(std::move(r));
  }
}

}  // namespace constellation::io::probe
