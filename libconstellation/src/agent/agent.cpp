// SPDX-License-Identifier: Apache-2.0
#include <constellation/agent.hpp>
#include <constellation/version.hpp>

#include "agent/agent_impl.hpp"
#include "agent/embedded.hpp"
#include "io/net/endpoint.hpp"
#include "provider/options.hpp"

#include <unistd.h>  // environ
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

namespace constellation {

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
    c.api_listen = (listen.host.find(':') != std::string::npos ? "[" + listen.host + "]" : listen.host) + ":" + port;
  }
  CST_TRY(agent::validate(c));
  return c;
}

// Splits a validated listen address into host and port (port 0 allowed).
std::pair<std::string, int> split_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, std::atoi(listen.c_str() + colon + 1)};
}

// Writes the bundled example services under the data directory (rewritten at every start, so an
// upgraded agent runs its own examples) and returns that directory.
Result<std::string> write_embedded_services(const std::string& data_dir) {
  const std::string dir = data_dir + "/default-services";
  for (const auto& f : agent::embedded_services()) {
    const std::string path = dir + "/" + f.path;
    CST_TRY(io::os::make_dirs(path.substr(0, path.rfind('/'))));
    CST_TRY(io::os::write_file_atomic(path, f.contents, 0644));
  }
  return dir;
}

}  // namespace

/// A node's Raft id: a hash of its name (FNV-1a, never 0), so every node derives every voter's
/// id from the configured names alone.
std::uint64_t raft_id_for(std::string_view name) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h == 0 ? 1 : h;
}

namespace {

constexpr auto kServicesWatchInterval = std::chrono::seconds(2);

provider::Options provider_options(const agent::Config& c) {
  provider::Options o;
  o.health = c.traefik_include_warning ? provider::HealthPolicy::PassingOrWarning : provider::HealthPolicy::PassingOnly;
  return o;
}

}  // namespace

Agent::Agent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Agent::~Agent() { stop(); }

Result<std::unique_ptr<Agent>> Agent::open(AgentOptions options) {
  auto impl = std::make_unique<Impl>();
  CST_TRY_ASSIGN(impl->config, load_config(options, impl->warnings));
  agent::Config& c = impl->config;
  CST_TRY_ASSIGN(auto level, core::log::parse_level(c.log_level).with_context("log.level"));
  if (c.node_name.empty()) {
    CST_TRY_ASSIGN(c.node_name, io::os::hostname());
  }
  impl->embedded_services = c.services_dir.empty() && options.config_file.empty() && options.config_yaml.empty();
  std::tie(impl->api_address, impl->api_port) = split_listen(c.api_listen);
  CST_TRY(io::os::make_dirs(c.data_dir));
  CST_TRY_ASSIGN(auto lock, io::os::DirLock::acquire(c.data_dir));
  impl->lock.emplace(std::move(lock));
  CST_TRY_ASSIGN(impl->node_id, io::os::load_or_create_node_id(c.data_dir));
  impl->log = core::log::Logger(impl->sink, core::SystemClock::instance(), "agent", level);
  if (auto r = provider::validate(provider_options(c)); !r) return r.error().with_context("traefik");
  return std::unique_ptr<Agent>(new Agent(std::move(impl)));
}

Result<void> Agent::Impl::start_gossip() {
  const agent::Config& c = config;
  GossipOptions o;
  o.name = c.node_name;
  o.bind = c.gossip_bind;
  o.advertise = c.gossip_advertise;
  o.join = c.join;
  o.keys = c.gossip_keys;
  o.label = c.cluster_label;
  o.profile = c.gossip_profile;
  o.data_dir = c.data_dir + "/gossip";
  auto g = Gossip::start(std::move(o));
  if (!g) return g.error().with_context("gossip");
  gossip = std::move(*g);
  return ok();
}

Result<void> Agent::Impl::start_raft() {
  const agent::Config& c = config;
  RaftOptions o;
  raft_id = raft_id_for(c.node_name);
  o.id = raft_id;
  o.data_dir = c.data_dir + "/raft";
  o.listen_address = c.raft_bind;
  o.cluster_key = c.raft_key;
  if (c.raft_profile == "fast") o.tick = std::chrono::milliseconds(10);
  o.log_level = c.log_level == "debug" ? "debug" : "warn";
  const std::string advertise = raft_advertise();
  const bool voter = std::find(c.raft_voters.begin(), c.raft_voters.end(), c.node_name) != c.raft_voters.end();
  if (c.raft_voters.empty()) {
    o.voters[raft_id] = advertise;  // a group of one
  } else if (voter) {
    // Every voter's address comes from gossip: wait (a cluster starts its voters together).
    for (;;) {
      auto voters = cluster->wait_for_voters(std::chrono::seconds(10));
      if (voters) {
        o.voters = std::move(*voters);
        break;
      }
      if (voters.error().code() != Code::Timeout) return voters.error();
      log.warn("waiting for the other Raft voters to appear in gossip", {{"detail", voters.error().message()}});
    }
  } else {
    o.join = true;  // a learner: the leader adds it when it sees it in gossip
  }
  auto node = RaftNode::open(std::move(o));
  if (!node) return node.error().with_context("raft");
  raft = std::move(*node);
  if (auto ep = io::net::Endpoint::parse_listen(advertise); ep && ep->port == 0) {
    // Bound to any free port: tell the others which one.
    cluster->set_raft_address(io::net::Endpoint{ep->host, static_cast<std::uint16_t>(raft->raft_port())}.to_string());
  }
  cluster->attach_raft(raft.get());
  raft_ptr.store(raft.get());
  return ok();
}

std::string Agent::Impl::raft_advertise() const {
  const agent::Config& c = config;
  std::string a = c.raft_advertise.empty() ? c.raft_bind : c.raft_advertise;
  // An unspecified bind address is not an address peers can dial: use the gossip one's host.
  auto ep = io::net::Endpoint::parse_listen(a);
  if (ep) {
    if (auto ip = ep->ip(); ip && ip->is_unspecified()) {
      auto g = io::net::Endpoint::parse_listen(gossip ? gossip->advertise_address() : c.gossip_bind);
      if (g) a = io::net::Endpoint{g->host, ep->port}.to_string();
    }
  }
  return a;
}

Result<void> Agent::Impl::start_dns() {
  const agent::Config& c = config;
  if (!c.dns_enabled) return ok();
  auto engine = dns::Engine::open(c.dns_json);
  if (!engine) return engine.error().with_context("dns");
  agent::DnsWorkerOptions dopts;
  dopts.holder = c.node_name;
  dopts.interval = std::chrono::seconds(c.dns_interval_seconds);
  dopts.log = log.child("dns");
  dns = std::make_unique<agent::DnsWorker>(
      *raft, std::move(*engine), [impl = this] { return impl->snapshot.load(); }, std::move(dopts));
  dns->start();
  dns_ptr.store(dns.get());
  return ok();
}

Result<RaftNode*> Agent::Impl::raft_node() const {
  RaftNode* r = raft_ptr.load();
  if (!r) return Error(Code::Unavailable, "this node's Raft member is not running yet (waiting for the other voters)");
  return r;
}

bool Agent::Impl::ready() const {
  auto s = snapshot.load();
  return running && s && s->complete;
}

Result<void> Agent::start() {
  Result<void> r;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->running || impl_->stopped || impl_->start_attempted) {
      return Error(Code::InvalidArgument, "agent already started (an agent starts once; open a new one)");
    }
    impl_->start_attempted = true;
    r = impl_->start();
  }
  if (!r) stop();  // undo whatever did start
  return r;
}

Result<void> Agent::Impl::start() {
  Impl& m = *this;
  const agent::Config& c = m.config;
  m.started_at = core::SystemClock::instance().now();
  for (const auto& w : m.warnings) m.log.warn("configuration warning", {{"where", w.where}, {"warning", w.message}});

  m.metrics.gauge("constellation_build_info", "Constant 1, labelled with the library version.", {"version"})
      .labels({std::string(version())})
      .set(1);
  auto& uptime = m.metrics.gauge("constellation_uptime_seconds", "Seconds since the agent started.").get();
  auto& generation =
      m.metrics.gauge("constellation_catalog_generation", "Generation of the latest catalog snapshot.").get();
  auto& nodes = m.metrics.gauge("constellation_catalog_nodes", "Nodes in the catalog, by status.", {"status"});
  auto& instances =
      m.metrics.gauge("constellation_catalog_instances", "Service instances in the catalog, by health.", {"health"});
  m.metrics.on_collect([impl = this, &uptime, &generation, &nodes, &instances] {
    uptime.set(std::chrono::duration<double>(core::SystemClock::instance().now() - impl->started_at).count());
    auto s = impl->snapshot.load();
    if (!s) return;
    generation.set(static_cast<double>(s->generation));
    std::map<std::string, double> by_status, by_health;
    for (auto st : {catalog::NodeStatus::Alive, catalog::NodeStatus::Suspect, catalog::NodeStatus::Failed,
                    catalog::NodeStatus::Left}) {
      by_status[std::string(catalog::node_status_name(st))] = 0;
    }
    for (auto h : {catalog::Health::Passing, catalog::Health::Warning, catalog::Health::Critical,
                   catalog::Health::Maintenance}) {
      by_health[std::string(catalog::health_name(h))] = 0;
    }
    for (const auto& [id, view] : s->nodes) {
      by_status[std::string(catalog::node_status_name(view.status))] += 1;
      for (const auto& inst : view.entry.instances) by_health[std::string(catalog::health_name(inst.health))] += 1;
    }
    for (const auto& [k, v] : by_status) nodes.labels({k}).set(v);
    for (const auto& [k, v] : by_health) instances.labels({k}).set(v);
  });

  m.loop.start();
  if (auto r = m.start_gossip(); !r) return r;

  // Services: the compose directory this node runs, its health checks and its catalog entry.
  if (m.embedded_services) {
    auto dir = write_embedded_services(c.data_dir);
    if (!dir) return dir.error().with_context("embedded example services");
    m.services_dir = *dir;
  } else {
    m.services_dir = c.services_dir;
  }
  services::HostOptions ho;
  ho.services_dir = m.services_dir;
  ho.data_dir = c.data_dir;
  ho.node_name = c.node_name;
  ho.node_id = m.node_id;
  ho.roles = c.roles;
  ho.tags = c.tags;
  ho.version = std::string(version());
  ho.addresses = c.addresses;
  if (!ho.addresses.count("backend")) {
    // Peers reach this node where gossip listens: a node gossiping on loopback (the embedded
    // default) is a loopback-only cluster, whose backend address is that loopback address.
    auto where = io::net::Endpoint::parse_listen(m.gossip->advertise_address());
    if (where) {
      if (auto ip = where->ip(); ip && ip->is_loopback()) ho.addresses["backend"] = ip->to_string();
    }
  }
  ho.docker_socket = c.services_runtime == "docker" || c.docker_socket != "/var/run/docker.sock" ? c.docker_socket : "";
  ho.stop_on_exit = true;
  ho.log = m.log.child("services");
  auto opened_host = services::Host::open(std::move(ho));
  if (!opened_host) return opened_host.error().with_context("services");
  m.host = std::move(*opened_host);

  // The Traefik provider renders every snapshot the catalog publishes.
  traefik::ServeOptions so;
  so.serve_http = false;  // served on the API (GET /v1/traefik)
  so.token = c.traefik_token;
  so.default_version = c.traefik_version == "v2" ? provider::TraefikVersion::V2 : provider::TraefikVersion::V3;
  so.file_output = c.traefik_file;
  so.file_version = so.default_version;
  auto provider = traefik::ProviderServer::start(provider_options(c), so, &m.metrics);
  if (!provider) return provider.error().with_context("traefik");
  m.traefik = std::move(*provider);

  m.host->post([impl = this](catalog::Catalog& cat) {
    cat.subscribe([impl](const catalog::SnapshotPtr& s, const catalog::Change&) {
      impl->snapshot.store(s);
      impl->traefik->publish(s);
    });
    // A node configured with no one to join is the whole cluster: its view is complete at once.
    // (With gossip, completeness comes from the first full state exchange.)
    if (impl->config.join.empty()) cat.set_complete(true);
    cat.publish();
  });
  agent::ClusterOptions co;
  co.node_name = c.node_name;
  co.node_id = m.node_id;
  co.raft_address = m.raft_advertise();
  co.voters = c.raft_voters;
  co.alone = c.join.empty();
  co.log = m.log.child("cluster");
  m.cluster = std::make_unique<agent::Cluster>(*m.gossip, *m.host, m.loop, std::move(co));
  m.cluster->start();
  if (auto r = m.host->start(); !r) return r.error().with_context("services");

  // The REST API.
  io::http::ServerOptions api_opts;
  api_opts.address = m.api_address;
  api_opts.port = m.api_port;
  api_opts.max_body_bytes = c.api_max_body_bytes;
  api_opts.tls_cert_file = c.api_tls_cert;
  api_opts.tls_key_file = c.api_tls_key;
  api_opts.tls_client_ca_file = c.api_tls_client_ca;
  m.api = std::make_unique<io::http::Server>(api_opts);
  api::RouterOptions ro;
  ro.tokens = c.api_tokens;
  ro.rate_limit = c.api_rate_limit;
  ro.rate_burst = c.api_rate_burst;
  m.audit_log = m.log.child("audit");
  if (auto r = m.open_audit(); !r) return r;
  ro.audit = [impl = this](const api::AuditRecord& a) { impl->record_audit(a); };
  m.router = std::make_unique<api::Router>(*m.api, std::move(ro), core::SystemClock::instance(), &m.metrics);
  m.add_routes();
  auto port = m.api->start();
  if (!port) return port.error().with_context("api");
  m.api_port = *port;

  // Raft (and the DNS writer, which needs it): at once for a group of one or a learner; a voter
  // of a larger group waits for gossip to name the other voters' addresses, so in the background.
  m.cluster->set_api_url(url());
  const bool wait_for_voters = !c.raft_voters.empty() &&
                               std::find(c.raft_voters.begin(), c.raft_voters.end(), c.node_name) != c.raft_voters.end();
  if (!wait_for_voters) {
    if (auto r = m.start_raft(); !r) return r;
    if (auto r = m.start_dns(); !r) return r;
  } else {
    m.raft_starter = std::thread([impl = this] {
      auto r = impl->start_raft();
      if (r) r = impl->start_dns();
      if (!r && !impl->cluster_stopping.load()) {
        impl->log.error("could not start this node's Raft member", {{"error", r.error().message()}});
      }
    });
  }

  m.running = true;
  if (!m.services_dir.empty() && !m.embedded_services) {
    // Watch the services directory: an edit is picked up within two checks (the change must hold
    // still for one interval, so a file being written is not loaded half-way).
    m.services_signature = services_dir_signature(m.services_dir);
    m.loop.every(kServicesWatchInterval, [impl = this] {
      if (impl->cluster_stopping) return;
      std::string sig = services_dir_signature(impl->services_dir);
      if (sig == impl->services_signature) {
        impl->pending_signature.clear();
        return;
      }
      if (sig != impl->pending_signature) {
        impl->pending_signature = sig;  // changed: wait one more interval for it to settle
        return;
      }
      impl->services_signature = sig;
      impl->pending_signature.clear();
      impl->log.info("the services directory changed; reloading", {{"dir", impl->services_dir}});
      if (auto r = impl->reload_services(); !r) {
        impl->log.warn("reloading service definitions failed", {{"error", r.error().message()}});
      }
    });
  }
  if (auto r = m.notifier.ready("serving on " + url()); !r) {
    m.log.warn("sd_notify failed", {{"error", r.error().message()}});
  }
  if (auto interval = m.notifier.watchdog_interval()) {
    // Ping at half the interval systemd expects (sd_watchdog_enabled(3)), from the control loop,
    // so a wedged loop stops the pings.
    m.loop.every(*interval / 2, [impl = this] { (void)impl->notifier.watchdog(); });
  }
  m.log.info("agent started", {{"node", c.node_name},
                               {"node_id", m.node_id.to_hex()},
                               {"api", url()},
                               {"data_dir", c.data_dir},
                               {"services_dir", m.services_dir},
                               {"version", std::string(version())}});
  return ok();
}

void Agent::stop() {
  if (!impl_) return;
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.stopped) return;
    m.stopped = true;
  }
  m.cv.notify_all();
  if (m.running) (void)m.notifier.stopping();
  // Stop taking requests first, then the parts that feed them, then the loop.
  // Graceful: stop taking requests; release the DNS lease while Raft still runs; leave gossip so
  // peers stop routing here at once (not after a failure timeout); drain and stop the services;
  // a Raft leader hands leadership over; then the loop.
  m.cluster_stopping = true;
  if (m.api) m.api->stop();
  if (m.cluster) m.cluster->stop();  // also wakes a raft_starter waiting for voters
  if (m.raft_starter.joinable()) m.raft_starter.join();
  m.dns_ptr.store(nullptr);
  if (m.dns) m.dns->stop();
  if (m.gossip && m.running) {
    if (auto r = m.gossip->leave(std::chrono::seconds(3)); !r) {
      m.log.warn("leaving gossip failed", {{"error", r.error().message()}});
    }
  }
  if (m.host) m.host->stop();
  if (m.traefik) m.traefik->stop();
  m.raft_ptr.store(nullptr);
  if (m.raft) m.raft->stop();  // a leader hands leadership over first
  if (m.gossip) m.gossip->stop();
  m.loop.stop();
  if (m.running) m.log.info("agent stopped", {{"node", m.config.node_name}});
  m.lock.reset();  // stop is final: another agent may now use the data directory
}

Result<std::vector<std::string>> Agent::reload() {
  if (!impl_->running || impl_->stopped || !impl_->host) return Error(Code::Unavailable, "the agent is not running");
  return impl_->reload_services();
}

Result<std::vector<std::string>> Agent::Impl::reload_services() {
  CST_TRY_ASSIGN(auto set, host->reload());
  std::vector<std::string> out;
  for (const auto& d : set.diagnostics) out.push_back(d.to_string());
  log.info(set.ok() ? "service definitions reloaded" : "service definitions have errors; kept the running ones",
           {{"findings", core::json::Value(static_cast<unsigned long long>(out.size()))}});
  for (const auto& f : out) log.warn("service definition finding", {{"finding", f}});
  return out;
}

std::string services_dir_signature(const std::string& dir) {
  // Names, sizes and modification times of every file up to two levels down (compose files,
  // .env files, config directories): any edit, addition or removal changes it.
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string sig;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (it.depth() > 1) {
      it.disable_recursion_pending();
      continue;
    }
    const fs::directory_entry& e = *it;
    std::error_code e2;
    if (!e.is_regular_file(e2)) continue;
    auto size = e.file_size(e2);
    auto mtime = e.last_write_time(e2).time_since_epoch().count();
    sig += e.path().string() + "|" + std::to_string(size) + "|" + std::to_string(mtime) + "\n";
  }
  return sig;
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
std::string Agent::api_url() const { return impl_->url(); }

std::string Agent::Impl::url() const {
  const bool v6 = api_address.find(':') != std::string::npos;
  std::string scheme = config.api_tls_cert.empty() ? "http" : "https";
  return scheme + "://" + (v6 ? "[" + api_address + "]" : api_address) + ":" + std::to_string(api_port);
}

}  // namespace constellation
