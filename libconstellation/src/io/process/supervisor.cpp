// SPDX-License-Identifier: Apache-2.0
#include "io/process/supervisor.hpp"

#include "core/json.hpp"
#include "io/os/os.hpp"

#include <uv.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

extern char** environ;

namespace constellation::io::process {

namespace fs = std::filesystem;

std::string_view event_kind_name(EventKind k) {
  switch (k) {
    case EventKind::Started: return "started";
    case EventKind::Adopted: return "adopted";
    case EventKind::Exited: return "exited";
    case EventKind::RestartScheduled: return "restart-scheduled";
    case EventKind::GaveUp: return "gave-up";
    case EventKind::StartFailed: return "start-failed";
  }
  return "unknown";
}

std::optional<int> signal_number(std::string_view name) {
  static const std::pair<std::string_view, int> kSignals[] = {
      {"TERM", SIGTERM}, {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},     {"HUP", SIGHUP},
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"WINCH", SIGWINCH}, {"STOP", SIGSTOP}};
  if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
  for (const auto& [n, v] : kSignals) {
    if (n == name) return v;
  }
  if (!name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      name.size() < 3) {
    int v = std::stoi(std::string(name));
    if (v > 0 && v < 65) return v;
  }
  return std::nullopt;
}

namespace {

std::string read_small(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string boot_id() {
  auto s = read_small("/proc/sys/kernel/random/boot_id");
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// (state, start time in clock ticks since boot) from /proc/<pid>/stat; nullopt if gone.
std::optional<std::pair<char, std::uint64_t>> proc_stat(int pid) {
  auto s = read_small("/proc/" + std::to_string(pid) + "/stat");
  auto close = s.rfind(')');
  if (s.empty() || close == std::string::npos) return std::nullopt;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  char state = '?';
  std::uint64_t start = 0;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 3) state = field.empty() ? '?' : field[0];
    if (i == 22) start = std::strtoull(field.c_str(), nullptr, 10);
  }
  return std::pair{state, start};
}

bool environ_has(int pid, const std::string& entry) {
  auto env = read_small("/proc/" + std::to_string(pid) + "/environ");
  std::size_t pos = 0;
  while (pos < env.size()) {
    auto end = env.find('\0', pos);
    if (end == std::string::npos) end = env.size();
    if (std::string_view(env).substr(pos, end - pos) == entry) return true;
    pos = end + 1;
  }
  return false;
}

template <class T>
void close_handle(T*& h) {
  if (!h) return;
  h->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(h), [](uv_handle_t* x) { delete reinterpret_cast<T*>(x); });
  h = nullptr;
}

std::int64_t ms(core::Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

Error uv_error(std::string what, int rc) {
  Code code = rc == UV_ENOENT ? Code::NotFound : rc == UV_EACCES || rc == UV_EPERM ? Code::PermissionDenied : Code::Io;
  return Error(code, std::move(what) + ": " + uv_strerror(rc));
}

}  // namespace

struct Supervisor::Impl {
  struct Proc {
    Impl* impl = nullptr;
    ProcessSpec spec;
    int pid = 0;
    bool running = false;
    bool adopted = false;
    bool stopping = false;
    uv_process_t* process = nullptr;
    uv_poll_t* poll = nullptr;
    int pidfd = -1;
    uv_timer_t* watch = nullptr;  // fallback liveness poll when pidfds are unavailable
    uv_timer_t* kill_timer = nullptr;
    uv_timer_t* restart_timer = nullptr;
    std::string log_path;
    std::uint64_t start_ticks = 0;
    core::WallTime started_at;
    health::RestartTracker tracker;
    int restarts = 0;
  };

  SupervisorOptions opt;
  std::string log_dir;
  std::string state_file;
  std::string boot;
  uv_loop_t loop{};
  uv_async_t* wake = nullptr;
  uv_timer_t* rotate = nullptr;
  std::thread thread;

  std::mutex mu;  // guards queue, infos, closed
  std::condition_variable changed;
  std::vector<std::function<void()>> queue;
  std::map<std::string, ProcessInfo> infos;
  bool closed = false;

  std::map<std::string, std::unique_ptr<Proc>> procs;  // loop thread only

  // --- plumbing --------------------------------------------------------------------------------

  // The lock is held across uv_async_send so the loop cannot close `wake` in between: it only
  // does so after `closed` is set, under the same lock.
  bool post(std::function<void()> fn, bool closing = false) {
    std::lock_guard lock(mu);
    if (closed) return false;
    queue.push_back(std::move(fn));
    if (closing) closed = true;
    uv_async_send(wake);
    return true;
  }

  template <class T>
  Result<T> call(std::function<Result<T>()> fn) {
    auto p = std::make_shared<std::promise<Result<T>>>();
    auto f = p->get_future();
    if (!post([p, fn = std::move(fn)]() mutable { p->set_value(fn()); })) {
      return Error(Code::Unavailable, "process supervisor is closed");
    }
    return f.get();
  }

  void drain() {
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard lock(mu);
      batch.swap(queue);
    }
    for (auto& fn : batch) fn();
  }

  void emit(const Event& e) {
    if (opt.on_event) opt.on_event(e);
  }

  void publish(const Proc& p) {
    ProcessInfo i;
    i.id = p.spec.id;
    i.pid = p.pid;
    i.running = p.running;
    i.adopted = p.adopted;
    i.labels = p.spec.labels;
    i.log_path = p.log_path;
    i.started_at = p.started_at;
    i.restarts = p.restarts;
    {
      std::lock_guard lock(mu);
      infos[i.id] = std::move(i);
    }
    changed.notify_all();
  }

  // --- state file ------------------------------------------------------------------------------

  void save() {
    core::json::WriteOptions wo;
    wo.indent = 1;
    core::json::Writer w(wo);
    w.begin_object().key("version").value(1).key("boot_id").value(boot).key("processes").begin_array();
    for (const auto& [id, p] : procs) {
      if (!p->running) continue;
      const auto& s = p->spec;
      w.begin_object();
      w.key("id").value(s.id).key("pid").value(p->pid).key("start_ticks").value(p->start_ticks);
      w.key("started_at").value(p->started_at.unix_nanos);
      w.key("argv").begin_array();
      for (const auto& a : s.argv) w.value(a);
      w.end_array();
      w.key("working_dir").value(s.working_dir);
      w.key("labels").begin_object();
      for (const auto& [k, v] : s.labels) w.key(k).value(v);
      w.end_object();
      w.key("log").value(p->log_path).key("log_max_bytes").value(s.log_max_bytes).key("log_max_files").value(s.log_max_files);
      w.key("stop_signal").value(s.stop_signal).key("stop_grace_ms").value(ms(s.stop_grace));
      w.key("restarts").value(p->restarts);
      if (s.restart) {
        const auto& r = *s.restart;
        w.key("restart").begin_object();
        w.key("on_success").value(r.on_success).key("on_failure").value(r.on_failure);
        w.key("max_attempts").value(r.max_attempts).key("backoff_ms").value(ms(r.backoff));
        w.key("max_backoff_ms").value(ms(r.max_backoff)).key("limit").value(r.limit);
        w.key("reset_after_ms").value(ms(r.reset_after));
        w.end_object();
      }
      w.end_object();
    }
    w.end_array().end_object();
    (void)os::write_file_atomic(state_file, std::move(w).take() + "\n", 0600);
  }

  void adopt_from_state() {
    auto text = os::read_file(state_file);
    if (!text) return;
    auto doc = core::json::parse(*text);
    const core::json::Value* list = doc ? doc->find("processes") : nullptr;
    if (!doc || !list || !list->is_array()) {
      std::error_code ec;
      fs::rename(state_file, state_file + ".corrupt", ec);
      return;
    }
    auto str = [](const core::json::Value& v, std::string_view k) {
      const auto* x = v.find(k);
      return x && x->is_string() ? x->as_string() : std::string();
    };
    auto num = [](const core::json::Value& v, std::string_view k) -> std::int64_t {
      const auto* x = v.find(k);
      return x && x->is_integer() ? x->as_int() : 0;
    };
    auto flag = [](const core::json::Value& v, std::string_view k) {
      const auto* x = v.find(k);
      return x && x->is_bool() && x->as_bool();
    };
    bool same_boot = str(*doc, "boot_id") == boot && !boot.empty();
    for (const auto& e : list->as_array()) {
      if (!e.is_object()) continue;
      auto p = std::make_unique<Proc>();
      p->impl = this;
      p->spec.id = str(e, "id");
      p->pid = static_cast<int>(num(e, "pid"));
      p->start_ticks = static_cast<std::uint64_t>(num(e, "start_ticks"));
      p->started_at.unix_nanos = num(e, "started_at");
      if (const auto* argv = e.find("argv"); argv && argv->is_array()) {
        for (const auto& a : argv->as_array()) {
          if (a.is_string()) p->spec.argv.push_back(a.as_string());
        }
      }
      p->spec.working_dir = str(e, "working_dir");
      if (const auto* labels = e.find("labels"); labels && labels->is_object()) {
        for (const auto& [k, v] : labels->as_object()) {
          if (v.is_string()) p->spec.labels[k] = v.as_string();
        }
      }
      p->log_path = str(e, "log");
      p->spec.log_max_bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(4096, num(e, "log_max_bytes")));
      p->spec.log_max_files = static_cast<int>(std::max<std::int64_t>(1, num(e, "log_max_files")));
      p->spec.stop_signal = static_cast<int>(num(e, "stop_signal"));
      if (p->spec.stop_signal <= 0) p->spec.stop_signal = SIGTERM;
      p->spec.stop_grace = std::chrono::milliseconds(num(e, "stop_grace_ms"));
      p->restarts = static_cast<int>(num(e, "restarts"));
      if (const auto* r = e.find("restart"); r && r->is_object()) {
        health::RestartPolicy pol;
        pol.on_success = flag(*r, "on_success");
        pol.on_failure = flag(*r, "on_failure");
        pol.max_attempts = static_cast<int>(num(*r, "max_attempts"));
        pol.backoff = std::chrono::milliseconds(num(*r, "backoff_ms"));
        pol.max_backoff = std::chrono::milliseconds(num(*r, "max_backoff_ms"));
        pol.limit = static_cast<int>(num(*r, "limit"));
        pol.reset_after = std::chrono::milliseconds(num(*r, "reset_after_ms"));
        p->spec.restart = pol;
        p->tracker = health::RestartTracker(pol);
      }
      if (p->spec.id.empty() || p->pid <= 1 || !same_boot || procs.count(p->spec.id)) continue;
      auto st = proc_stat(p->pid);
      if (!st || st->first == 'Z' || st->second != p->start_ticks) continue;
      if (!environ_has(p->pid, "CONSTELLATION_INSTANCE=" + p->spec.id)) continue;
      p->running = true;
      p->adopted = true;
      p->tracker.started(core::SystemClock::instance().now());
      watch_adopted(*p);
      auto& ref = *p;
      procs[p->spec.id] = std::move(p);
      publish(ref);
      Event ev;
      ev.kind = EventKind::Adopted;
      ev.id = ref.spec.id;
      ev.pid = ref.pid;
      emit(ev);
    }
    save();
  }

  void watch_adopted(Proc& p) {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, p.pid, 0));
    if (fd >= 0) {
      p.pidfd = fd;
      p.poll = new uv_poll_t;
      uv_poll_init(&loop, p.poll, fd);
      p.poll->data = &p;
      uv_poll_start(p.poll, UV_READABLE, [](uv_poll_t* h, int, int) {
        auto* proc = static_cast<Proc*>(h->data);
        if (proc) proc->impl->adopted_exit(*proc);
      });
      return;
    }
    // No pidfds (old kernel): poll liveness twice a second.
    p.watch = new uv_timer_t;
    uv_timer_init(&loop, p.watch);
    p.watch->data = &p;
    uv_timer_start(p.watch, [](uv_timer_t* h) {
      auto* proc = static_cast<Proc*>(h->data);
      if (!proc) return;
      auto st = proc_stat(proc->pid);
      if (!st || st->first == 'Z' || st->second != proc->start_ticks) proc->impl->adopted_exit(*proc);
    }, 500, 500);
  }

  void adopted_exit(Proc& p) {
    std::optional<int> code;
    int sig = 0;
    // Reopened in the same process, the "adopted" process is still our child: reap it.
    int status = 0;
    if (::waitpid(p.pid, &status, WNOHANG) == p.pid) {
      if (WIFEXITED(status)) code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) sig = WTERMSIG(status);
    }
    exited(p, code, sig);
  }

  // --- lifecycle -------------------------------------------------------------------------------

  Result<int> spawn(Proc& p) {
    const auto& s = p.spec;
    if (s.argv.empty()) return Error(Code::InvalidArgument, s.id + ": empty command");
    std::error_code ec;
    fs::create_directories(log_dir, ec);
    p.log_path = (fs::path(log_dir) / (s.id + ".log")).string();
    int fd = ::open(p.log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return Error(Code::Io, p.log_path + ": " + std::strerror(errno));

    std::vector<std::string> env_store;
    const std::string marker = "CONSTELLATION_INSTANCE";
    for (char** e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      auto eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      auto key = std::string(kv.substr(0, eq));
      if (s.env.count(key) || key == marker) continue;
      env_store.emplace_back(kv);
    }
    for (const auto& [k, v] : s.env) env_store.push_back(k + "=" + v);
    env_store.push_back(marker + "=" + s.id);
    std::vector<char*> envp, argv;
    for (auto& x : env_store) envp.push_back(x.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = s.argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_INHERIT_FD;
    stdio[1].data.fd = fd;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = fd;
    uv_process_options_t o{};
    o.exit_cb = [](uv_process_t* h, int64_t status, int term_signal) {
      auto* proc = static_cast<Proc*>(h->data);
      if (!proc) return;
      proc->impl->exited(*proc, term_signal ? std::nullopt : std::optional<int>(static_cast<int>(status)),
                         term_signal);
    };
    o.file = argv[0];
    o.args = argv.data();
    o.env = envp.data();
    o.cwd = s.working_dir.empty() ? nullptr : s.working_dir.c_str();
    o.flags = UV_PROCESS_DETACHED;  // own session and process group
    o.stdio_count = 3;
    o.stdio = stdio;
    auto* h = new uv_process_t;
    h->data = &p;
    // A child inherits stdio and nothing else: mark every other descriptor of this process
    // close-on-exec first (Asio and some libraries open sockets without the flag, and a service
    // holding the agent's listening socket would keep its port after the agent exits).
    constexpr unsigned kCloseRangeCloexec = 1u << 2;  // CLOSE_RANGE_CLOEXEC, Linux 5.11
    ::syscall(SYS_close_range, 3u, ~0u, kCloseRangeCloexec);
    int rc = uv_spawn(&loop, h, &o);
    ::close(fd);
    if (rc != 0) {
      close_handle(h);
      return uv_error(s.id + ": cannot start '" + s.argv[0] + "'", rc);
    }
    p.process = h;
    p.pid = h->pid;
    p.running = true;
    p.adopted = false;
    p.stopping = false;
    p.started_at = core::SystemClock::instance().wall_now();
    auto st = proc_stat(p.pid);
    p.start_ticks = st ? st->second : 0;
    p.tracker.started(core::SystemClock::instance().now());
    publish(p);
    save();
    Event ev;
    ev.kind = EventKind::Started;
    ev.id = s.id;
    ev.pid = p.pid;
    ev.attempt = p.restarts;
    emit(ev);
    return p.pid;
  }

  Result<int> start(ProcessSpec spec) {
    auto it = procs.find(spec.id);
    if (it != procs.end()) {
      if (it->second->running) {
        return Error(Code::Conflict, spec.id + ": already running (pid " + std::to_string(it->second->pid) + ")");
      }
      drop(*it->second);
      procs.erase(it);
    }
    if (spec.id.empty()) return Error(Code::InvalidArgument, "process id must not be empty");
    spec.log_max_files = std::max(1, spec.log_max_files);
    auto p = std::make_unique<Proc>();
    p->impl = this;
    if (spec.restart) p->tracker = health::RestartTracker(*spec.restart);
    p->spec = std::move(spec);
    auto& ref = *p;
    auto id = ref.spec.id;
    procs[id] = std::move(p);
    auto r = spawn(ref);
    if (!r) {
      procs.erase(id);
      std::lock_guard lock(mu);
      infos.erase(id);
    }
    return r;
  }

  // Releases a process record's handles (it is not running).
  void drop(Proc& p) {
    close_handle(p.process);
    close_handle(p.poll);
    close_handle(p.watch);
    close_handle(p.kill_timer);
    close_handle(p.restart_timer);
    if (p.pidfd >= 0) {
      ::close(p.pidfd);
      p.pidfd = -1;
    }
  }

  void exited(Proc& p, std::optional<int> code, int sig) {
    if (!p.running) return;
    p.running = false;
    bool requested = p.stopping;
    p.stopping = false;
    close_handle(p.process);
    close_handle(p.poll);
    close_handle(p.watch);
    close_handle(p.kill_timer);
    if (p.pidfd >= 0) {
      ::close(p.pidfd);
      p.pidfd = -1;
    }
    publish(p);
    save();
    Event ev;
    ev.kind = EventKind::Exited;
    ev.id = p.spec.id;
    ev.pid = p.pid;
    ev.exit_code = code;
    ev.signal = sig;
    ev.requested = requested;
    emit(ev);
    if (!requested && p.spec.restart) schedule_restart(p, code);
  }

  void schedule_restart(Proc& p, std::optional<int> code) {
    auto d = p.tracker.on_failure(health::RestartReason::Exited, code, core::SystemClock::instance().now());
    Event ev;
    ev.id = p.spec.id;
    if (!d.restart) {
      if (d.gave_up) {
        ev.kind = EventKind::GaveUp;
        ev.attempt = p.tracker.attempts();
        emit(ev);
      }
      return;
    }
    ev.kind = EventKind::RestartScheduled;
    ev.attempt = d.attempt;
    ev.delay = d.delay;
    emit(ev);
    if (!p.restart_timer) {
      p.restart_timer = new uv_timer_t;
      uv_timer_init(&loop, p.restart_timer);
      p.restart_timer->data = &p;
    }
    uv_timer_start(p.restart_timer, [](uv_timer_t* h) {
      auto* proc = static_cast<Proc*>(h->data);
      if (!proc || proc->running) return;
      auto* impl = proc->impl;
      ++proc->restarts;
      auto r = impl->spawn(*proc);
      if (!r) {
        Event fail;
        fail.kind = EventKind::StartFailed;
        fail.id = proc->spec.id;
        fail.message = r.error().message();
        impl->emit(fail);
        impl->schedule_restart(*proc, std::nullopt);
      }
    }, static_cast<std::uint64_t>(std::max<std::int64_t>(0, ms(d.delay))), 0);
  }

  Result<void> stop(const std::string& id) {
    auto it = procs.find(id);
    if (it == procs.end()) return Error(Code::NotFound, id + ": no such process");
    Proc& p = *it->second;
    if (p.restart_timer) uv_timer_stop(p.restart_timer);
    if (!p.running) return Error(Code::NotFound, id + ": not running");
    p.stopping = true;
    if (::kill(-p.pid, p.spec.stop_signal) != 0) ::kill(p.pid, p.spec.stop_signal);
    if (!p.kill_timer) {
      p.kill_timer = new uv_timer_t;
      uv_timer_init(&loop, p.kill_timer);
      p.kill_timer->data = &p;
    }
    uv_timer_start(p.kill_timer, [](uv_timer_t* h) {
      auto* proc = static_cast<Proc*>(h->data);
      if (!proc || !proc->running) return;
      if (::kill(-proc->pid, SIGKILL) != 0) ::kill(proc->pid, SIGKILL);
    }, static_cast<std::uint64_t>(std::max<std::int64_t>(0, ms(p.spec.stop_grace))), 0);
    return ok();
  }

  void rotate_logs() {
    for (auto& [id, p] : procs) {
      if (!p->running || p->log_path.empty()) continue;
      struct stat st {};
      if (::stat(p->log_path.c_str(), &st) != 0) continue;
      if (static_cast<std::uint64_t>(st.st_size) <= p->spec.log_max_bytes) continue;
      // copy-truncate: the child keeps its O_APPEND descriptor and continues at offset 0.
      std::error_code ec;
      int n = p->spec.log_max_files;
      fs::remove(p->log_path + "." + std::to_string(n), ec);
      for (int i = n - 1; i >= 1; --i) {
        fs::rename(p->log_path + "." + std::to_string(i), p->log_path + "." + std::to_string(i + 1), ec);
      }
      fs::copy_file(p->log_path, p->log_path + ".1", fs::copy_options::overwrite_existing, ec);
      if (!ec) ::truncate(p->log_path.c_str(), 0);
    }
  }

  void shutdown_loop() {
    save();
    for (auto& [id, p] : procs) drop(*p);
    close_handle(rotate);
    close_handle(wake);
  }
};

Supervisor::Supervisor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Supervisor::~Supervisor() { close(false); }

Result<std::unique_ptr<Supervisor>> Supervisor::open(SupervisorOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->opt = std::move(options);
  if (impl->opt.state_dir.empty()) return Error(Code::InvalidArgument, "state_dir must not be empty");
  CST_TRY(os::make_dirs(impl->opt.state_dir));
  impl->log_dir = impl->opt.log_dir.empty() ? (fs::path(impl->opt.state_dir) / "logs").string() : impl->opt.log_dir;
  CST_TRY(os::make_dirs(impl->log_dir));
  impl->state_file = (fs::path(impl->opt.state_dir) / "processes.json").string();
  impl->boot = boot_id();
  if (int rc = uv_loop_init(&impl->loop); rc != 0) return uv_error("libuv loop", rc);
  impl->wake = new uv_async_t;
  uv_async_init(&impl->loop, impl->wake, [](uv_async_t* h) { static_cast<Impl*>(h->data)->drain(); });
  impl->wake->data = impl.get();
  impl->rotate = new uv_timer_t;
  uv_timer_init(&impl->loop, impl->rotate);
  impl->rotate->data = impl.get();
  auto every = static_cast<std::uint64_t>(std::max<std::int64_t>(50, ms(impl->opt.rotate_interval)));
  uv_timer_start(impl->rotate, [](uv_timer_t* h) { static_cast<Impl*>(h->data)->rotate_logs(); }, every, every);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    uv_run(&raw->loop, UV_RUN_DEFAULT);
  });
  std::unique_ptr<Supervisor> s(new Supervisor(std::move(impl)));
  if (raw->opt.adopt) {
    auto r = raw->call<bool>([raw]() -> Result<bool> {
      raw->adopt_from_state();
      return true;
    });
    (void)r;
  }
  return s;
}

Result<int> Supervisor::start(ProcessSpec spec) {
  Impl* impl = impl_.get();
  return impl->call<int>([impl, spec = std::move(spec)]() mutable { return impl->start(std::move(spec)); });
}

Result<void> Supervisor::stop(const std::string& id, bool wait) {
  Impl* impl = impl_.get();
  auto r = impl->call<core::Duration>([impl, id]() -> Result<core::Duration> {
    CST_TRY(impl->stop(id));
    return impl->procs.at(id)->spec.stop_grace;
  });
  if (!r) return r.error();
  auto grace = *r;
  if (!wait) return ok();
  std::unique_lock lock(impl->mu);
  bool gone = impl->changed.wait_for(lock, grace + 5s, [&] {
    auto it = impl->infos.find(id);
    return it == impl->infos.end() || !it->second.running;
  });
  if (!gone) return Error(Code::Timeout, id + ": still running " + core::format_duration(grace + 5s) + " after stop");
  return ok();
}

bool Supervisor::forget(const std::string& id) {
  Impl* impl = impl_.get();
  auto r = impl->call<bool>([impl, id]() -> Result<bool> {
    auto it = impl->procs.find(id);
    if (it == impl->procs.end() || it->second->running) return false;
    impl->drop(*it->second);
    impl->procs.erase(it);
    std::lock_guard lock(impl->mu);
    impl->infos.erase(id);
    return true;
  });
  return r && *r;
}

std::vector<ProcessInfo> Supervisor::list() const {
  std::lock_guard lock(impl_->mu);
  std::vector<ProcessInfo> out;
  for (const auto& [id, i] : impl_->infos) out.push_back(i);
  return out;
}

std::optional<ProcessInfo> Supervisor::find(const std::string& id) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->infos.find(id);
  if (it == impl_->infos.end()) return std::nullopt;
  return it->second;
}

std::string Supervisor::state_path() const { return impl_->state_file; }

void Supervisor::close(bool stop_children) {
  if (!impl_) return;
  Impl* impl = impl_.get();
  {
    std::lock_guard lock(impl->mu);
    if (impl->closed) return;
  }
  if (stop_children) {
    core::Duration longest{0};
    for (const auto& i : list()) {
      if (!i.running) continue;
      auto r = impl->call<core::Duration>([impl, id = i.id]() -> Result<core::Duration> {
        CST_TRY(impl->stop(id));
        return impl->procs.at(id)->spec.stop_grace;
      });
      if (r) longest = std::max(longest, *r);
    }
    std::unique_lock lock(impl->mu);
    impl->changed.wait_for(lock, longest + 5s, [&] {
      return std::none_of(impl->infos.begin(), impl->infos.end(), [](const auto& kv) { return kv.second.running; });
    });
  }
  impl->post([impl] { impl->shutdown_loop(); }, /*closing=*/true);
  if (impl->thread.joinable()) impl->thread.join();
  uv_loop_close(&impl->loop);
}

}  // namespace constellation::io::process
