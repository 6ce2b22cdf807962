// SPDX-License-Identifier: Apache-2.0
#include <constellation/agent.hpp>
#include <constellation/version.hpp>

#include "agent/config.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "io/http/server.hpp"
#include "io/net/endpoint.hpp"
#include "io/os/notify.hpp"
#include "io/os/os.hpp"

#include <unistd.h>  // environ
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

namespace constellation {

struct Agent::Impl {
  agent::Config config;
  std::vector<agent::ConfigWarning> warnings;
  std::string api_address;
  int api_port = 0;
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

namespace {

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** e = ::environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

// Defaults, then the file or text, then the environment, then the explicit options.
Result<agent::Config> load_config(const AgentOptions& o, std::vector<agent::ConfigWarning>& warnings) {
  if (!o.config_file.empty() && !o.config_yaml.empty()) {
    return Error(Code::InvalidArgument, "config_file and config_yaml: give one or the other");
  }
  agent::Config c;
  if (!o.config_file.empty()) {
    CST_TRY_ASSIGN(std::string text, io::os::read_file(o.config_file));
    CST_TRY_ASSIGN(c, agent::parse_config(text, o.config_file, warnings));
  } else if (!o.config_yaml.empty()) {
    CST_TRY_ASSIGN(c, agent::parse_config(o.config_yaml, "<config_yaml>", warnings));
  }
  if (o.use_environment) CST_TRY(agent::apply_environment(c, environment(), warnings));
  if (!o.node_name.empty()) c.node_name = o.node_name;
  if (!o.data_dir.empty()) c.data_dir = o.data_dir;
  if (!o.log_level.empty()) c.log_level = o.log_level;
  if (!o.services_dir.empty()) c.services_dir = o.services_dir;
  if (o.api_port < -1 || o.api_port > 65535) {
    return Error(Code::InvalidArgument, "api_port: " + std::to_string(o.api_port) + " is not a TCP port (0-65535)");
  }
  if (!o.api_address.empty() || o.api_port >= 0) {
    CST_TRY_ASSIGN(auto listen, io::net::Endpoint::parse_listen(c.api_listen).with_context("api.listen"));
    if (!o.api_address.empty()) listen.host = o.api_address;
    std::string port = std::to_string(o.api_port >= 0 ? o.api_port : listen.port);
    // Port 0 (any free port) is valid for a listener, though not for Endpoint::parse.
    c.api_listen = (listen.host.find(':') != std::string::npos ? "[" + listen.host + "]" : listen.host) + ":" + port;
  }
  CST_TRY(agent::validate(c));
  return c;
}

// Splits a validated api.listen into host and port, allowing port 0.
std::pair<std::string, int> split_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, std::atoi(listen.c_str() + colon + 1)};
}

}  // namespace

Result<std::unique_ptr<Agent>> Agent::open(AgentOptions options) {
  auto impl = std::make_unique<Impl>();
  CST_TRY_ASSIGN(impl->config, load_config(options, impl->warnings));
  agent::Config& c = impl->config;
  CST_TRY_ASSIGN(auto level, core::log::parse_level(c.log_level).with_context("log.level"));
  if (c.node_name.empty()) {
    CST_TRY_ASSIGN(c.node_name, io::os::hostname());
  }
  std::tie(impl->api_address, impl->api_port) = split_listen(c.api_listen);
  CST_TRY(io::os::make_dirs(c.data_dir));
  CST_TRY_ASSIGN(auto lock, io::os::DirLock::acquire(c.data_dir));
  impl->lock.emplace(std::move(lock));
  CST_TRY_ASSIGN(impl->node_id, io::os::load_or_create_node_id(c.data_dir));
  impl->log = core::log::Logger(impl->sink, core::SystemClock::instance(), "agent", level);
  return std::unique_ptr<Agent>(new Agent(std::move(impl)));
}

void Agent::Impl::add_routes() {
  api->route("GET", "/v1/health", [this](const io::http::Request&) {
    core::json::Writer w;
    w.begin_object().key("status").value("ok").key("node").value(config.node_name);
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
    w.key("node").value(config.node_name).key("node_id").value(node_id.to_hex());
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
  so.address = impl_->api_address;
  so.port = impl_->api_port;
  impl_->api = std::make_unique<io::http::Server>(so);
  impl_->add_routes();
  auto port = impl_->api->start();
  if (!port) return port.error().with_context("api");
  impl_->api_port = *port;
  impl_->running = true;
  for (const auto& w : impl_->warnings)
    impl_->log.warn("configuration warning", {{"where", w.where}, {"warning", w.message}});
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
  impl_->log.info("agent started", {{"node", impl_->config.node_name},
                                    {"node_id", impl_->node_id.to_hex()},
                                    {"api", api_url()},
                                    {"data_dir", impl_->config.data_dir},
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
  if (impl_->running) impl_->log.info("agent stopped", {{"node", impl_->config.node_name}});
  impl_->lock.reset();  // stop is final: another agent may now use the data directory
  impl_->cv.notify_all();
}

void Agent::wait() {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait(lock, [this] { return impl_->stopped; });
}

std::string Agent::node_id() const { return impl_->node_id.to_hex(); }
std::vector<std::string> Agent::warnings() const {
  std::vector<std::string> out;
  for (const auto& w : impl_->warnings) out.push_back(w.where + ": " + w.message);
  return out;
}

std::string Agent::data_dir() const { return impl_->config.data_dir; }
std::string Agent::node_name() const { return impl_->config.node_name; }
int Agent::api_port() const { return impl_->api_port; }
std::string Agent::api_url() const {
  const auto& a = impl_->api_address;
  bool v6 = a.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + a + "]" : a) + ":" + std::to_string(impl_->api_port);
}

}  // namespace constellation
