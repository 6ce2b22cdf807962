// SPDX-License-Identifier: Apache-2.0
#include <constellation/agent.hpp>
#include <constellation/version.hpp>

#include "core/json.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "io/http/server.hpp"
#include "io/os/notify.hpp"
#include "io/os/os.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace constellation {

struct Agent::Impl {
  AgentOptions options;
  core::NodeId node_id;
  std::optional<io::os::DirLock> lock;
  core::log::JsonLinesSink sink{2};
  core::log::Logger log;
  core::metrics::Registry metrics;
  core::Instant started_at;
  std::unique_ptr<io::http::Server> api;
  io::os::Notifier notifier = io::os::Notifier::from_environment();
  std::thread watchdog;

  std::mutex mu;
  std::condition_variable cv;
  bool running = false;
  bool stopped = false;

  void add_routes();
};

Agent::Agent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Agent::~Agent() { stop(); }

Result<std::unique_ptr<Agent>> Agent::open(AgentOptions options) {
  if (options.api_port < 0 || options.api_port > 65535) {
    return Error(Code::InvalidArgument,
                 "api_port: " + std::to_string(options.api_port) + " is not a TCP port (0-65535)");
  }
  if (options.data_dir.empty()) return Error(Code::InvalidArgument, "data_dir: must not be empty");
  if (options.api_address.empty()) return Error(Code::InvalidArgument, "api_address: must not be empty");
  auto level = core::log::parse_level(options.log_level);
  if (!level) return level.error().with_context("log_level");
  if (options.node_name.empty()) {
    CST_TRY_ASSIGN(options.node_name, io::os::hostname());
  }

  auto impl = std::make_unique<Impl>();
  CST_TRY(io::os::make_dirs(options.data_dir));
  CST_TRY_ASSIGN(auto lock, io::os::DirLock::acquire(options.data_dir));
  impl->lock.emplace(std::move(lock));
  CST_TRY_ASSIGN(impl->node_id, io::os::load_or_create_node_id(options.data_dir));
  impl->log = core::log::Logger(impl->sink, core::SystemClock::instance(), "agent", *level);
  impl->options = std::move(options);
  return std::unique_ptr<Agent>(new Agent(std::move(impl)));
}

void Agent::Impl::add_routes() {
  api->route("GET", "/v1/health", [this](const io::http::Request&) {
    core::json::Writer w;
    w.begin_object().key("status").value("ok").key("node").value(options.node_name);
    w.key("uptime_seconds")
        .value(std::chrono::duration<double>(core::SystemClock::instance().now() - started_at).count());
    w.end_object();
    io::http::Response r;
    r.body = std::move(w).take() + "\n";
    return r;
  });
  api->route("GET", "/v1/version", [this](const io::http::Request&) {
    core::json::Writer w;
    w.begin_object();
    w.key("version").value(version()).key("version_number").value(version_number());
    w.key("node").value(options.node_name).key("node_id").value(node_id.to_hex());
    w.end_object();
    io::http::Response r;
    r.body = std::move(w).take() + "\n";
    return r;
  });
  auto& requests =
      metrics.counter("constellation_api_requests_total", "HTTP API requests served, by endpoint.", {"endpoint"});
  api->route("GET", "/metrics", [this, &requests](const io::http::Request&) {
    requests.labels({"/metrics"}).inc();
    io::http::Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics.render();
    return r;
  });
}

Result<void> Agent::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->running || impl_->stopped) return Error(Code::InvalidArgument, "agent already started");
  auto& m = impl_->metrics;
  m.gauge("constellation_build_info", "Constant 1, labelled with the library version.", {"version"})
      .labels({std::string(version())})
      .set(1);
  impl_->started_at = core::SystemClock::instance().now();
  m.gauge("constellation_uptime_seconds", "Seconds since the agent started.").get();
  m.on_collect([impl = impl_.get()] {
    impl->metrics.gauge("constellation_uptime_seconds", "Seconds since the agent started.")
        .get()
        .set(std::chrono::duration<double>(core::SystemClock::instance().now() - impl->started_at).count());
  });

  io::http::ServerOptions so;
  so.address = impl_->options.api_address;
  so.port = impl_->options.api_port;
  impl_->api = std::make_unique<io::http::Server>(so);
  impl_->add_routes();
  auto port = impl_->api->start();
  if (!port) return port.error().with_context("api");
  impl_->options.api_port = *port;
  impl_->running = true;
  if (auto r = impl_->notifier.ready("serving on " + api_url()); !r) {
    impl_->log.warn("sd_notify failed", {{"error", r.error().message()}});
  }
  if (auto interval = impl_->notifier.watchdog_interval()) {
    // Ping at half the interval systemd expects, as sd_watchdog_enabled(3) advises.
    impl_->watchdog = std::thread([impl = impl_.get(), every = *interval / 2] {
      std::unique_lock guard(impl->mu);
      while (!impl->cv.wait_for(guard, every, [impl] { return impl->stopped; })) {
        (void)impl->notifier.watchdog();
      }
    });
  }
  impl_->log.info("agent started", {{"node", impl_->options.node_name},
                                    {"node_id", impl_->node_id.to_hex()},
                                    {"api", api_url()},
                                    {"data_dir", impl_->options.data_dir},
                                    {"version", std::string(version())}});
  return ok();
}

void Agent::stop() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->cv.notify_all();
  if (impl_->running) (void)impl_->notifier.stopping();
  if (impl_->watchdog.joinable()) impl_->watchdog.join();
  if (impl_->api) impl_->api->stop();
  if (impl_->running) impl_->log.info("agent stopped", {{"node", impl_->options.node_name}});
  impl_->lock.reset();  // stop is final: another agent may now use the data directory
  impl_->cv.notify_all();
}

void Agent::wait() {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait(lock, [this] { return impl_->stopped; });
}

std::string Agent::node_id() const { return impl_->node_id.to_hex(); }
std::string Agent::node_name() const { return impl_->options.node_name; }
int Agent::api_port() const { return impl_->options.api_port; }
std::string Agent::api_url() const {
  const auto& a = impl_->options.api_address;
  bool v6 = a.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + a + "]" : a) + ":" + std::to_string(impl_->options.api_port);
}

}  // namespace constellation
