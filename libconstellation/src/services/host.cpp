// SPDX-License-Identifier: Apache-2.0
#include "services/host.hpp"

#include "catalog/codec.hpp"
#include "health/monitor.hpp"
#include "io/docker/client.hpp"
#include "io/os/os.hpp"
#include "io/probe/host.hpp"
#include "io/probe/probe.hpp"
#include "io/process/supervisor.hpp"
#include "services/loader.hpp"
#include "spec/dump.hpp"
#include "spec/placement.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <future>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

namespace constellation::services {

namespace fs = std::filesystem;
using core::json::Value;

namespace {

// Label keys that carry an instance's identity on containers and processes.
constexpr const char* kLabelManaged = "constellation.managed";
constexpr const char* kLabelNode = "constellation.node";
constexpr const char* kLabelInstance = "constellation.instance";
constexpr const char* kLabelService = "constellation.service";
constexpr const char* kLabelProject = "constellation.project";
constexpr const char* kLabelHash = "constellation.spec-hash";

// A single thread running blocking jobs in order (Docker Engine calls).
class Worker {
 public:
  Worker() : thread_([this] { run(); }) {}
  ~Worker() { stop(); }
  void post(std::function<void()> fn) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      jobs_.push_back(std::move(fn));
    }
    cv_.notify_one();
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, and everything queued before is done
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

health::RestartPolicy policy_of(const spec::RestartSpec& r) {
  using spec::RestartCondition;
  health::RestartPolicy p;
  p.on_success = r.condition == RestartCondition::Always || r.condition == RestartCondition::UnlessStopped;
  p.on_failure = p.on_success || r.condition == RestartCondition::OnFailure;
  p.on_unhealthy = r.on_unhealthy;
  p.max_attempts = r.max_attempts;
  p.backoff = r.backoff;
  p.max_backoff = r.max_backoff;
  p.limit = r.limit;
  p.reset_after = r.reset_after;
  return p;
}

std::vector<catalog::PortBinding> bindings_of(const spec::ServiceSpec& s) {
  std::vector<catalog::PortBinding> out;
  for (const auto& p : s.ports) {
    for (int t = p.target; t <= p.target_end; ++t) {
      int published = 0;
      if (p.published) {
        published = p.target_end == p.target ? p.published : p.published + (t - p.target);
      } else if (s.runtime == spec::Runtime::Process) {
        published = t;  // a process listens on the host itself
      }
      out.push_back({static_cast<std::uint16_t>(t), static_cast<std::uint16_t>(published), p.protocol, p.host_ip});
    }
  }
  return out;
}

std::string health_word(catalog::Health h) { return std::string(catalog::health_name(h)); }

}  // namespace

struct Host::Impl {
  enum class State { Pending, Starting, Running, Stopping, Exited };
  static std::string_view state_name(State s) {
    switch (s) {
      case State::Pending: return "pending";
      case State::Starting: return "starting";
      case State::Running: return "running";
      case State::Stopping: return "stopping";
      case State::Exited: return "exited";
    }
    return "unknown";
  }

  struct Inst {
    std::string id;
    spec::ServiceSpec spec;
    std::string hash;
    State state = State::Pending;
    bool desired = true;
    /// After the current stop: start again (restart or a new spec).
    bool start_after_stop = false;
    std::optional<spec::ServiceSpec> next_spec;
    std::string runtime_id;
    bool adopted = false;
    std::optional<int> exit_code;
    std::string error;
    std::vector<io::probe::Probe> probes;  // by check index
  };

  HostOptions opt;
  std::string services_root;  // absolute
  std::string state_dir;
  core::Rng rng{1};
  std::map<std::string, std::string> addresses;

  std::unique_ptr<io::process::Supervisor> supervisor;
  std::unique_ptr<io::probe::Runner> probes;
  std::unique_ptr<io::docker::Client> docker;
  std::unique_ptr<Worker> docker_worker;
  std::thread docker_events;
  std::atomic<bool> docker_events_stop{false};
  bool docker_up = false;
  bool containers_adopted = false;  // control thread
  bool containers_adoption_requested = false;
  bool processes_adopted = false;

  // Control thread.
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> tasks;
  bool stopping = false;
  bool started = false;

  spec::ServiceSet set;
  bool have_set = false;
  health::Monitor monitor;
  std::map<std::string, Inst> instances;
  catalog::Catalog catalog;
  catalog::NodeEntry entry;
  /// This node's entry has been merged into the catalog (once, even with no instances, so a node
  /// that runs no services is still a member).
  bool entry_merged = false;
  bool dirty = true;
  core::Instant next_reconcile;
  std::vector<std::function<void(const HostEvent&)>> subscribers;
  std::vector<HostEvent> pending_events;

  // Published copies for other threads.
  mutable std::mutex pub_mu;
  std::vector<InstanceStatus> pub_instances;
  catalog::SnapshotPtr pub_snapshot = std::make_shared<const catalog::Snapshot>();
  catalog::NodeEntry pub_entry;

  core::Instant now() const { return core::SystemClock::instance().now(); }

  void post(std::function<void()> fn) {
    {
      std::lock_guard lock(mu);
      tasks.push_back(std::move(fn));
    }
    cv.notify_one();
  }

  // Events are delivered after the state they describe is published (flush()), so a subscriber
  // that reacts by reading instances() or snapshot() never sees an older state.
  void emit(std::string kind, const std::string& instance, Value fields = Value::object()) {
    pending_events.push_back(HostEvent{std::move(kind), instance, std::move(fields)});
  }

  void flush() {
    if (dirty) publish();
    while (!pending_events.empty()) {
      std::vector<HostEvent> batch;
      batch.swap(pending_events);
      for (const auto& e : batch) {
        for (const auto& fn : subscribers) fn(e);
        if (opt.log.enabled(core::log::Level::Info)) {
          opt.log.info("service " + e.kind, {{"instance", e.instance}, {"fields", e.fields}});
        }
      }
    }
  }

  // --- the control loop ----------------------------------------------------------------------

  void run() {
    std::unique_lock lock(mu);
    while (true) {
      while (!tasks.empty()) {
        auto fn = std::move(tasks.front());
        tasks.pop_front();
        lock.unlock();
        fn();
        handle_monitor_events();
        flush();
        lock.lock();
      }
      if (stopping) {
        lock.unlock();
        flush();
        return;
      }
      lock.unlock();
      tick();
      lock.lock();
      if (!tasks.empty() || stopping) continue;
      auto deadline = std::min(monitor.next_deadline(), next_reconcile);
      auto wait = deadline == core::Instant::max() ? core::Duration(1h) : deadline - now();
      if (wait > core::Duration(0)) cv.wait_for(lock, std::min(wait, core::Duration(1h)));
    }
  }

  void tick() {
    auto t = now();
    for (auto& run : monitor.poll(t, rng)) {
      auto it = instances.find(run.instance);
      if (it == instances.end() || run.check_index >= it->second.probes.size()) {
        monitor.report(run.run_id, health::Outcome::Fail, "no probe", t, rng);
        continue;
      }
      auto probe = it->second.probes[run.check_index];
      if (probe.kind == io::probe::Kind::Container) probe.target = it->second.runtime_id;
      probe.timeout = std::max(core::Duration(1ms), run.deadline - t);
      probes->submit(std::move(probe), [this, id = run.run_id](io::probe::ProbeResult r) {
        post([this, id, r = std::move(r)]() mutable { monitor.report(id, r.outcome, std::move(r.output), now(), rng); });
      });
    }
    handle_monitor_events();
    if (t >= next_reconcile) {
      reconcile();
      next_reconcile = t + opt.reconcile_interval;
    }
    handle_monitor_events();
    flush();
  }

  void handle_monitor_events() {
    for (auto& ev : monitor.take_events()) {
      std::visit([this](auto& e) { on_monitor(e); }, ev);
    }
  }

  void on_monitor(health::CheckChanged& e) {
    Value f = Value::object();
    f["check"] = e.check;
    f["from"] = health_word(e.from);
    f["to"] = health_word(e.to);
    f["output"] = e.output;
    f["failures"] = e.failures;
    emit("check", e.instance, std::move(f));
    dirty = true;
  }
  void on_monitor(health::HealthChanged& e) {
    Value f = Value::object();
    f["from"] = health_word(e.from);
    f["to"] = health_word(e.to);
    emit("health", e.instance, std::move(f));
    dirty = true;
  }
  void on_monitor(health::RestartScheduled& e) {
    Value f = Value::object();
    f["reason"] = std::string(health::restart_reason_name(e.reason));
    f["attempt"] = e.attempt;
    f["delay_ms"] = static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(e.delay).count());
    emit("restart-scheduled", e.instance, std::move(f));
    dirty = true;
  }
  void on_monitor(health::RestartNow& e) {
    auto it = instances.find(e.instance);
    if (it == instances.end()) return;
    auto& in = it->second;
    Value f = Value::object();
    f["reason"] = std::string(health::restart_reason_name(e.reason));
    f["attempt"] = e.attempt;
    emit("restarting", e.instance, std::move(f));
    if (in.state == State::Running || in.state == State::Starting) {
      in.start_after_stop = true;
      stop_instance(in);
    } else {
      start_instance(in);
    }
  }
  void on_monitor(health::GaveUp& e) {
    Value f = Value::object();
    f["reason"] = std::string(health::restart_reason_name(e.reason));
    f["attempts"] = e.attempts;
    emit("gave-up", e.instance, std::move(f));
    dirty = true;
  }

  // --- desired state -------------------------------------------------------------------------

  std::vector<spec::NodeCandidate> candidates() const {
    std::vector<spec::NodeCandidate> out;
    out.push_back({opt.node_name, opt.node_id.to_hex(), opt.tags});
    auto snap = catalog.snapshot();
    for (const auto& [id, view] : snap->nodes) {
      if (id == opt.node_id) continue;
      if (view.status != catalog::NodeStatus::Alive && view.status != catalog::NodeStatus::Suspect) continue;
      out.push_back({view.entry.node.name, id.to_hex(), view.entry.node.tags});
    }
    return out;
  }

  bool dependencies_met(const Inst& in) const {
    auto snap = catalog.snapshot();
    for (const auto& d : in.spec.depends_on) {
      if (!d.required && !set.find(d.service)) continue;
      bool met = false;
      // Local instances first (their state is current), then the cluster's view.
      for (const auto& [id, other] : instances) {
        if (other.spec.name != d.service) continue;
        switch (d.condition) {
          case spec::DependencyCondition::Started: met |= other.state == State::Running; break;
          case spec::DependencyCondition::Healthy:
            met |= other.state == State::Running && monitor.health(id) == catalog::Health::Passing;
            break;
          case spec::DependencyCondition::CompletedSuccessfully:
            met |= other.state == State::Exited && other.exit_code == 0;
            break;
        }
      }
      if (!met && d.condition != spec::DependencyCondition::CompletedSuccessfully) {
        catalog::QueryOptions q;
        auto eps = d.condition == spec::DependencyCondition::Healthy ? catalog::healthy_instances(*snap, d.service, q)
                                                                     : catalog::all_instances(*snap, d.service);
        for (const auto& ep : eps) met |= ep.node_id != opt.node_id;
      }
      if (!met) return false;
    }
    return true;
  }

  void reconcile(bool start_pending = true) {
    // Without a valid service set nothing is touched — not even adopted instances: a typo in a
    // compose file must not stop what runs.
    if (!have_set) return;
    auto nodes = candidates();
    std::set<std::string> wanted;
    for (const auto* s : spec::start_order(set)) {
      for (int r : spec::replicas_for(*s, nodes, opt.node_name)) {
        auto id = spec::instance_id(*s, r);
        wanted.insert(id);
        auto hash = spec::spec_hash(*s);
        auto it = instances.find(id);
        if (it == instances.end()) {
          Inst in;
          in.id = id;
          in.spec = *s;
          in.hash = hash;
          build_probes(in);
          instances.emplace(id, std::move(in));
          dirty = true;
          continue;
        }
        auto& in = it->second;
        in.desired = true;
        if (in.hash != hash) {
          if (in.state == State::Running || in.state == State::Starting) {
            if (!in.next_spec || spec::spec_hash(*in.next_spec) != hash) {
              emit("replaced", id, Value::object());
              in.next_spec = *s;
              in.start_after_stop = true;
              stop_instance(in);
            }
          } else if (in.state != State::Stopping) {
            in.spec = *s;
            in.hash = hash;
            build_probes(in);
            if (in.state == State::Exited) in.state = State::Pending;
          } else {
            in.next_spec = *s;
          }
        } else if (!(in.spec == *s)) {
          // Labels, checks or placement changed: no restart, new metadata and checks.
          in.spec = *s;
          build_probes(in);
          if (monitor.contains(id) && in.state == State::Running) monitor.add(id, monitor_config(in), now(), rng);
          dirty = true;
        }
      }
    }
    for (auto& [id, in] : instances) {
      if (wanted.count(id)) continue;
      if (in.desired) {
        in.desired = false;
        dirty = true;
      }
      in.start_after_stop = false;
      if (in.state == State::Running || in.state == State::Starting) stop_instance(in);
    }
    // Forget what is unwanted and gone.
    for (auto it = instances.begin(); it != instances.end();) {
      auto& in = it->second;
      if (!in.desired && (in.state == State::Exited || in.state == State::Pending)) {
        monitor.remove(in.id);
        if (supervisor) supervisor->forget(in.id);
        emit("removed", in.id, Value::object());
        it = instances.erase(it);
        dirty = true;
      } else {
        ++it;
      }
    }
    if (!start_pending) return;
    // Take over what runs before starting anything, once there is a set to match it against.
    if (!processes_adopted) {
      processes_adopted = true;
      adopt_processes();
    }
    if (docker_up && !containers_adoption_requested) {
      containers_adoption_requested = true;
      docker_worker->post([this] { adopt_containers(); });
    }
    for (auto& [id, in] : instances) {
      // Containers wait until the engine's running ones have been adopted: never a duplicate.
      if (in.spec.runtime == spec::Runtime::Docker && docker_up && !containers_adopted) continue;
      if (in.desired && in.state == State::Pending && dependencies_met(in)) start_instance(in);
    }
  }

  health::InstanceConfig monitor_config(const Inst& in) const {
    health::InstanceConfig c;
    c.restart = policy_of(in.spec.restart);
    for (const auto& k : in.spec.checks) {
      health::CheckConfig cc;
      cc.name = k.name;
      cc.interval = k.interval;
      cc.timeout = k.timeout;
      cc.thresholds = {k.rise, k.fall, k.start_period};
      c.checks.push_back(cc);
    }
    return c;
  }

  void build_probes(Inst& in) {
    in.probes.clear();
    for (const auto& k : in.spec.checks) {
      io::probe::Probe p;
      p.timeout = k.timeout;
      switch (k.kind) {
        case spec::CheckKind::Http:
          p.kind = io::probe::Kind::Http;
          p.target = k.target;
          p.method = k.method;
          p.expect_status = k.expect_status;
          p.expect_body = k.expect_body;
          break;
        case spec::CheckKind::Tcp:
          p.kind = io::probe::Kind::Tcp;
          p.target = k.target;
          break;
        case spec::CheckKind::Exec:
          p.kind = io::probe::Kind::Exec;
          p.command = k.command;
          if (in.spec.runtime == spec::Runtime::Process) {
            p.env = in.spec.environment;
            p.working_dir = working_dir(in.spec);
          }
          break;
        case spec::CheckKind::Container:
          p.kind = io::probe::Kind::Container;
          break;
      }
      in.probes.push_back(std::move(p));
    }
  }

  std::string working_dir(const spec::ServiceSpec& s) const {
    if (s.working_dir.empty()) return services_root;
    fs::path p(s.working_dir);
    return (p.is_absolute() ? p : fs::path(services_root) / p).lexically_normal().string();
  }

  std::map<std::string, std::string> identity_labels(const Inst& in) const {
    return {{kLabelManaged, "true"},
            {kLabelNode, opt.node_id.to_hex()},
            {kLabelInstance, in.id},
            {kLabelService, in.spec.name},
            {kLabelProject, in.spec.project},
            {kLabelHash, in.hash}};
  }

  // --- runtimes ------------------------------------------------------------------------------

  void start_instance(Inst& in) {
    in.exit_code.reset();
    in.error.clear();
    in.adopted = false;
    dirty = true;
    if (in.spec.runtime == spec::Runtime::Process) {
      io::process::ProcessSpec p;
      p.id = in.id;
      p.argv = in.spec.entrypoint;
      p.argv.insert(p.argv.end(), in.spec.command.begin(), in.spec.command.end());
      p.env = in.spec.environment;
      p.working_dir = working_dir(in.spec);
      p.labels = identity_labels(in);
      p.log_max_bytes = in.spec.logs.max_bytes;
      p.log_max_files = in.spec.logs.max_files;
      p.stop_signal = io::process::signal_number(in.spec.stop_signal).value_or(SIGTERM);
      p.stop_grace = in.spec.stop_grace_period;
      auto r = supervisor->start(std::move(p));
      if (!r) {
        start_failed(in, r.error().message());
        return;
      }
      in.runtime_id = std::to_string(*r);
      running(in, false);
      return;
    }
    if (!docker_up) {
      start_failed(in, "no container engine (docker socket " + (docker ? docker->socket_path() : std::string("unset")) +
                           " unavailable)");
      return;
    }
    in.state = State::Starting;
    io::docker::ContainerConfig c;
    c.name = "cst-" + in.spec.project + "-" + in.id;
    c.image = in.spec.image;
    c.entrypoint = in.spec.entrypoint;
    c.cmd = in.spec.command;
    c.env = in.spec.environment;
    c.labels = in.spec.labels;
    for (auto& [k, v] : identity_labels(in)) c.labels[k] = v;
    c.working_dir = in.spec.working_dir;
    c.user = in.spec.user;
    c.hostname = in.spec.hostname;
    for (const auto& b : bindings_of(in.spec)) c.ports.push_back({b.target, b.published, b.protocol, b.host_ip});
    for (const auto& v : in.spec.volumes) {
      if (v.type == "tmpfs" || v.source.empty()) continue;
      std::string src = v.source;
      if (v.type == "bind" && src.front() == '.') src = (fs::path(services_root) / src).lexically_normal().string();
      c.binds.push_back(src + ":" + v.target + (v.read_only ? ":ro" : ""));
    }
    c.network_mode = in.spec.network_mode;
    if (in.spec.healthcheck && !in.spec.healthcheck->disabled) {
      const auto& h = *in.spec.healthcheck;
      c.healthcheck = io::docker::Healthcheck{h.test, h.interval, h.timeout, h.start_period, h.retries};
    }
    c.init = in.spec.init;
    c.stop_signal = in.spec.stop_signal;
    c.stop_timeout = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(in.spec.stop_grace_period).count());
    docker_worker->post([this, id = in.id, c = std::move(c)] {
      // Remove a leftover container of the same name (an older spec, or stopped) first.
      auto existing = docker->list({{kLabelInstance, id}, {kLabelNode, opt.node_id.to_hex()}}, true);
      if (existing) {
        for (const auto& x : *existing) (void)docker->remove(x.id, true);
      }
      auto created = docker->create(c);
      Result<void> began = created ? docker->start(*created) : Result<void>(created.error());
      post([this, id, created, began] {
        auto it = instances.find(id);
        if (it == instances.end()) return;
        auto& inst = it->second;
        if (!created || !began) {
          start_failed(inst, (!created ? created.error() : began.error()).message());
          return;
        }
        inst.runtime_id = *created;
        if (inst.state == State::Starting) {
          running(inst, false);
        } else if (inst.state == State::Stopping || !inst.desired) {
          inst.state = State::Running;
          stop_instance(inst);
        }
      });
    });
  }

  void running(Inst& in, bool adopted) {
    in.state = State::Running;
    in.adopted = adopted;
    dirty = true;
    if (monitor.contains(in.id)) {
      monitor.started(in.id, now(), rng);
    } else {
      monitor.add(in.id, monitor_config(in), now(), rng);
    }
    Value f = Value::object();
    f["runtime"] = std::string(spec::runtime_name(in.spec.runtime));
    f["runtime_id"] = in.runtime_id;
    emit(adopted ? "adopted" : "started", in.id, std::move(f));
  }

  void start_failed(Inst& in, const std::string& message) {
    in.state = State::Exited;
    in.error = message;
    dirty = true;
    if (!monitor.contains(in.id)) {
      monitor.add(in.id, monitor_config(in), now(), rng);
      // It never ran: register the failure against the fresh record.
      monitor.exited(in.id, std::nullopt, now());
    } else {
      monitor.start_failed(in.id, now());
    }
    Value f = Value::object();
    f["error"] = message;
    emit("start-failed", in.id, std::move(f));
  }

  void stop_instance(Inst& in) {
    if (in.state != State::Running && in.state != State::Starting) return;
    in.state = State::Stopping;
    dirty = true;
    if (in.spec.runtime == spec::Runtime::Process) {
      auto r = supervisor->stop(in.id, /*wait=*/false);
      if (!r) stopped(in, std::nullopt);  // already gone
      return;
    }
    if (in.runtime_id.empty()) return;  // create still in flight; stopped when it lands
    int grace = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(in.spec.stop_grace_period).count());
    docker_worker->post([this, id = in.id, cid = in.runtime_id, grace] {
      (void)docker->stop(cid, grace);
      auto info = docker->inspect(cid);
      std::optional<int> code;
      if (info) code = info->state.exit_code;
      (void)docker->remove(cid, true);
      post([this, id, code] {
        auto it = instances.find(id);
        if (it != instances.end() && it->second.state == State::Stopping) stopped(it->second, code);
      });
    });
  }

  // The instance is gone after a stop we asked for.
  void stopped(Inst& in, std::optional<int> code) {
    in.state = State::Exited;
    in.exit_code = code;
    dirty = true;
    Value f = Value::object();
    if (code) f["exit_code"] = *code;
    emit("stopped", in.id, std::move(f));
    if (in.next_spec) {
      in.spec = std::move(*in.next_spec);
      in.next_spec.reset();
      in.hash = spec::spec_hash(in.spec);
      build_probes(in);
      monitor.remove(in.id);
    }
    if (in.desired && in.start_after_stop) {
      in.start_after_stop = false;
      start_instance(in);
    } else if (!in.desired) {
      reconcile();
    }
  }

  // The instance exited on its own.
  void exited(const std::string& id, std::optional<int> code, int signal, bool requested) {
    auto it = instances.find(id);
    if (it == instances.end()) {
      if (supervisor) supervisor->forget(id);
      return;
    }
    auto& in = it->second;
    if (requested || in.state == State::Stopping) {
      stopped(in, code);
      return;
    }
    if (in.state != State::Running) return;
    in.state = State::Exited;
    in.exit_code = code;
    dirty = true;
    Value f = Value::object();
    if (code) f["exit_code"] = *code;
    if (signal) f["signal"] = signal;
    emit("exited", id, std::move(f));
    monitor.exited(id, code, now());
    // A dependent waiting for completion may start now.
    reconcile();
  }

  // --- adoption ------------------------------------------------------------------------------

  void adopt_processes() {
    for (const auto& p : supervisor->list()) {
      if (!p.running) continue;
      auto hash = p.labels.count(kLabelHash) ? p.labels.at(kLabelHash) : std::string();
      auto it = instances.find(p.id);
      if (it == instances.end() || !it->second.desired || it->second.spec.runtime != spec::Runtime::Process) {
        // Not wanted any more: stop it (forgotten once it is gone).
        (void)supervisor->stop(p.id, false);
        Value f = Value::object();
        f["runtime_id"] = std::to_string(p.pid);
        emit("stopping-unwanted", p.id, std::move(f));
        continue;
      }
      auto& in = it->second;
      in.runtime_id = std::to_string(p.pid);
      if (it->second.hash != hash) {
        // Running an older spec: replace it — stop, then start the current one when it is gone.
        in.state = State::Stopping;
        in.start_after_stop = true;
        Value f = Value::object();
        f["runtime_id"] = in.runtime_id;
        emit("replaced", in.id, std::move(f));
        if (!supervisor->stop(p.id, false)) stopped(in, std::nullopt);
        continue;
      }
      running(in, true);
    }
  }

  void adopt_containers() {
    auto list = docker->list({{kLabelManaged, "true"}, {kLabelNode, opt.node_id.to_hex()}}, true);
    post([this, list] {
      if (!list) {
        opt.log.warn("cannot list containers", {{"error", list.error().to_string()}});
        containers_adopted = true;
        return;
      }
      for (const auto& c : *list) {
        auto id = c.labels.count(kLabelInstance) ? c.labels.at(kLabelInstance) : std::string();
        auto hash = c.labels.count(kLabelHash) ? c.labels.at(kLabelHash) : std::string();
        auto it = instances.find(id);
        bool keep = it != instances.end() && it->second.desired && it->second.hash == hash && c.state.running &&
                    it->second.spec.runtime == spec::Runtime::Docker && it->second.state == State::Pending;
        if (!keep) {
          if (it == instances.end() || it->second.state == State::Pending || it->second.runtime_id != c.id) {
            docker_worker->post([this, cid = c.id] { (void)docker->remove(cid, true); });
          }
          continue;
        }
        auto& in = it->second;
        in.runtime_id = c.id;
        running(in, true);
      }
      containers_adopted = true;
      reconcile();
    });
  }

  void watch_docker_events() {
    docker_events = std::thread([this] {
      while (!docker_events_stop.load()) {
        auto r = docker->events({{kLabelNode, opt.node_id.to_hex()}}, [this](const io::docker::EngineEvent& e) {
          if (e.action != "die") return true;
          auto it = e.attributes.find(kLabelInstance);
          if (it == e.attributes.end()) return true;
          std::optional<int> code;
          if (auto c = e.attributes.find("exitCode"); c != e.attributes.end()) code = std::atoi(c->second.c_str());
          post([this, id = it->second, cid = e.id, code] {
            auto in = instances.find(id);
            if (in != instances.end() && in->second.runtime_id == cid) exited(id, code, 0, false);
          });
          return true;
        }, docker_events_stop);
        if (!r && !docker_events_stop.load()) std::this_thread::sleep_for(1s);
      }
    });
  }

  // --- publishing ----------------------------------------------------------------------------

  void publish() {
    dirty = false;
    catalog::NodeEntry e = entry;
    e.instances.clear();
    std::vector<InstanceStatus> statuses;
    for (const auto& [id, in] : instances) {
      InstanceStatus st;
      st.id = id;
      st.service = in.spec.name;
      st.project = in.spec.project;
      st.runtime = std::string(spec::runtime_name(in.spec.runtime));
      st.runtime_id = in.runtime_id;
      st.state = std::string(state_name(in.state));
      st.health = monitor.contains(id) ? monitor.health(id) : catalog::Health::Critical;
      if (auto ph = monitor.phase(id)) st.phase = std::string(health::phase_name(*ph));
      st.restarts = monitor.restart_attempts(id);
      st.adopted = in.adopted;
      st.checks = monitor.results(id);
      st.error = in.error;
      if (in.desired) {
        catalog::Instance ci;
        ci.id = id;
        ci.service = in.spec.name;
        ci.project = in.spec.project;
        ci.runtime = st.runtime;
        ci.runtime_id = in.runtime_id.substr(0, 64);
        ci.labels = in.spec.labels;
        ci.ports = bindings_of(in.spec);
        ci.networks = in.spec.cluster_networks;
        ci.health = in.state == State::Running ? st.health : catalog::Health::Critical;
        if (st.health == catalog::Health::Maintenance) ci.health = catalog::Health::Maintenance;
        ci.checks = st.checks;
        for (auto& c : ci.checks) {
          if (c.output.size() > catalog::Limits::kMaxCheckOutput) c.output.resize(catalog::Limits::kMaxCheckOutput);
        }
        e.instances.push_back(std::move(ci));
      }
      statuses.push_back(std::move(st));
    }
    if (e.instances != entry.instances || !entry_merged) {
      if (entry_merged) ++e.version;
      entry = e;
      catalog.merge(entry);
      entry_merged = true;
    }
    auto snap = catalog.publish();
    std::lock_guard lock(pub_mu);
    pub_instances = std::move(statuses);
    pub_snapshot = snap;
    pub_entry = entry;
  }
};

Host::Host(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Host::~Host() { stop(); }

Result<std::unique_ptr<Host>> Host::open(HostOptions options) {
  if (options.node_name.empty()) return Error(Code::InvalidArgument, "node_name must not be empty");
  if (options.node_id.is_zero()) return Error(Code::InvalidArgument, "node_id must not be zero");
  if (options.data_dir.empty()) return Error(Code::InvalidArgument, "data_dir must not be empty");
  auto impl = std::make_unique<Impl>();
  impl->opt = std::move(options);
  auto& o = impl->opt;
  impl->rng.reseed(o.seed ? o.seed : io::os::random_seed());
  std::error_code ec;
  if (!o.services_dir.empty()) impl->services_root = fs::absolute(o.services_dir, ec).lexically_normal().string();
  impl->state_dir = (fs::path(o.data_dir) / "services").string();
  CST_TRY(io::os::make_dirs(impl->state_dir));
  CST_TRY_ASSIGN(impl->addresses, io::probe::node_addresses(o.addresses));

  auto& e = impl->entry;
  e.node.id = o.node_id;
  e.node.name = o.node_name;
  e.node.roles = o.roles;
  e.node.tags = o.tags;
  e.node.version = o.version;
  e.node.addresses = impl->addresses;
  // Versions must keep increasing across restarts of the agent: start from the wall clock.
  e.version = static_cast<std::uint64_t>(core::SystemClock::instance().wall_now().unix_nanos / 1000);
  if (auto v = catalog::validate(e); !v) return v.error().with_context("node record");

  Impl* raw = impl.get();
  io::process::SupervisorOptions so;
  so.state_dir = impl->state_dir;
  so.on_event = [raw](const io::process::Event& ev) {
    if (ev.kind != io::process::EventKind::Exited) return;
    raw->post([raw, ev] { raw->exited(ev.id, ev.exit_code, ev.signal, ev.requested); });
  };
  CST_TRY_ASSIGN(impl->supervisor, io::process::Supervisor::open(std::move(so)));

  std::string socket = o.docker_socket;
  struct stat st {};
  if (socket.empty() && ::stat("/var/run/docker.sock", &st) == 0) socket = "/var/run/docker.sock";
  if (!socket.empty()) impl->docker = std::make_unique<io::docker::Client>(socket, 30s);
  io::probe::ContainerProbe container;
  if (impl->docker) {
    container = [raw](const std::string& id, core::Duration timeout) {
      io::docker::Client c(raw->docker->socket_path(), timeout);
      auto info = c.inspect(id);
      if (!info) return io::probe::ProbeResult{health::Outcome::Fail, info.error().message(), {}};
      const auto& s = info->state;
      if (!s.running) return io::probe::ProbeResult{health::Outcome::Fail, "container " + s.status, {}};
      if (s.health.empty()) return io::probe::ProbeResult{health::Outcome::Pass, "running (no healthcheck)", {}};
      auto out = "container " + s.health + (s.health_output.empty() ? "" : ": " + s.health_output);
      return io::probe::ProbeResult{s.health == "healthy" ? health::Outcome::Pass : health::Outcome::Fail, out, {}};
    };
  }
  impl->probes = std::make_unique<io::probe::Runner>(o.check_threads, container);
  return std::unique_ptr<Host>(new Host(std::move(impl)));
}

void Host::subscribe(std::function<void(const HostEvent&)> fn) { impl_->subscribers.push_back(std::move(fn)); }

Result<void> Host::start() {
  auto* d = impl_.get();
  if (d->started) return Error(Code::InvalidArgument, "service host already started");
  d->started = true;
  if (!d->services_root.empty()) {
    LoadOptions lo;
    lo.use_process_environment = d->opt.use_process_environment;
    auto set = load_directory(d->services_root, lo);
    if (!set) return set.error();
    if (set->ok()) {
      d->set = std::move(*set);
      d->have_set = true;
    } else {
      for (const auto& diag : set->diagnostics) d->opt.log.error("service definition", {{"diagnostic", diag.to_string()}});
    }
  }
  if (d->docker) {
    d->docker_worker = std::make_unique<Worker>();
    d->docker_up = d->docker->ping().has_value();
    if (d->docker_up) d->watch_docker_events();
  }
  d->thread = std::thread([d] {
    // The first reconcile builds the desired instances, adopts what runs, then starts the rest.
    d->next_reconcile = d->now();
    d->run();
  });
  return ok();
}

Result<spec::ServiceSet> Host::reload() {
  auto* d = impl_.get();
  if (d->services_root.empty()) return spec::ServiceSet{};
  LoadOptions lo;
  lo.use_process_environment = d->opt.use_process_environment;
  CST_TRY_ASSIGN(auto set, load_directory(d->services_root, lo));
  if (set.ok()) {
    d->post([d, set] {
      d->set = set;
      d->have_set = true;
      Value f = Value::object();
      f["services"] = static_cast<std::int64_t>(set.services().size());
      d->emit("reloaded", "", std::move(f));
      d->reconcile();
    });
  } else {
    d->post([d] { d->emit("load-failed", "", Value::object()); });
  }
  return set;
}

void Host::stop() {
  auto* d = impl_.get();
  if (!d) return;
  {
    std::lock_guard lock(d->mu);
    if (d->stopping) return;
  }
  if (d->thread.joinable() && d->opt.stop_on_exit) {
    // Stop every instance from the control thread, then wait for the stops to land.
    std::promise<void> done;
    auto f = done.get_future();
    d->post([d, &done] {
      for (auto& [id, in] : d->instances) {
        in.desired = false;
        in.start_after_stop = false;
        d->monitor.remove(id);
        d->stop_instance(in);
      }
      done.set_value();
    });
    f.wait();
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      bool busy = false;
      for (const auto& i : instances()) busy |= i.state == "stopping" || i.state == "starting";
      if (!busy) break;
      std::this_thread::sleep_for(20ms);
    }
  }
  {
    std::lock_guard lock(d->mu);
    d->stopping = true;
  }
  d->cv.notify_all();
  if (d->thread.joinable()) d->thread.join();
  d->docker_events_stop = true;
  if (d->docker_events.joinable()) d->docker_events.join();
  if (d->docker_worker) d->docker_worker->stop();
  if (d->probes) d->probes->stop();
  if (d->supervisor) d->supervisor->close(d->opt.stop_on_exit);
}

Result<void> Host::set_maintenance(const std::string& instance, bool on) {
  auto* d = impl_.get();
  std::promise<bool> p;
  auto f = p.get_future();
  d->post([d, instance, on, &p] {
    bool found = d->monitor.contains(instance);
    if (found) {
      d->monitor.set_maintenance(instance, on, d->now());
      d->dirty = true;
    }
    p.set_value(found);
  });
  if (!f.get()) return Error(Code::NotFound, "no instance '" + instance + "' on this node");
  return ok();
}

std::vector<InstanceStatus> Host::instances() const {
  std::lock_guard lock(impl_->pub_mu);
  return impl_->pub_instances;
}

catalog::SnapshotPtr Host::snapshot() const {
  std::lock_guard lock(impl_->pub_mu);
  return impl_->pub_snapshot;
}

catalog::NodeEntry Host::local_entry() const {
  std::lock_guard lock(impl_->pub_mu);
  return impl_->pub_entry;
}

void Host::post(std::function<void(catalog::Catalog&)> fn) {
  auto* d = impl_.get();
  d->post([d, fn = std::move(fn)] {
    fn(d->catalog);
    d->dirty = true;
  });
}

std::string Host::status_json() const {
  core::json::Writer w;
  auto entry = local_entry();
  w.begin_object();
  w.key("node").begin_object().key("name").value(entry.node.name).key("id").value(entry.node.id.to_hex());
  w.key("version").value(entry.version).key("addresses").begin_object();
  for (const auto& [k, v] : entry.node.addresses) w.key(k).value(v);
  w.end_object().end_object();
  w.key("instances").begin_array();
  for (const auto& i : instances()) {
    w.begin_object();
    w.key("id").value(i.id).key("service").value(i.service).key("project").value(i.project);
    w.key("runtime").value(i.runtime).key("runtime_id").value(i.runtime_id).key("state").value(i.state);
    w.key("health").value(catalog::health_name(i.health)).key("phase").value(i.phase);
    w.key("restarts").value(i.restarts).key("adopted").value(i.adopted);
    if (!i.error.empty()) w.key("error").value(i.error);
    w.key("checks").begin_array();
    for (const auto& c : i.checks) {
      w.begin_object().key("name").value(c.name).key("status").value(catalog::health_name(c.status));
      w.key("output").value(c.output).end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return std::move(w).take();
}

}  // namespace constellation::services
