// SPDX-License-Identifier: Apache-2.0
// The public ServiceHost (services.hpp) over services::Host.
#include <constellation/services.hpp>
#include <constellation/version.hpp>

#include "core/log.hpp"
#include "io/os/os.hpp"
#include "services/convert.hpp"
#include "services/host.hpp"

#include <mutex>

namespace constellation {

struct ServiceHost::Impl {
  core::log::JsonLinesSink sink{2};
  std::unique_ptr<services::Host> host;
  std::string node_id;
  std::string node_name;
  std::string services_dir;
  bool use_env = true;
  // Converted snapshots, cached per generation.
  mutable std::mutex mu;
  mutable std::shared_ptr<const CatalogSnapshot> snapshot;
};

ServiceHost::ServiceHost(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServiceHost::~ServiceHost() { stop(); }

Result<std::unique_ptr<ServiceHost>> ServiceHost::open(ServiceHostOptions o) {
  auto impl = std::make_unique<Impl>();
  CST_TRY_ASSIGN(auto level, core::log::parse_level(o.log_level));
  if (o.data_dir.empty()) return Error(Code::InvalidArgument, "data_dir must not be empty");
  if (o.check_threads < 1 || o.check_threads > 256) return Error(Code::InvalidArgument, "check_threads must be 1-256");
  CST_TRY(io::os::make_dirs(o.data_dir));
  services::HostOptions h;
  if (o.node_id.empty()) {
    CST_TRY_ASSIGN(h.node_id, io::os::load_or_create_node_id(o.data_dir));
  } else {
    CST_TRY_ASSIGN(h.node_id, core::NodeId::parse(o.node_id));
  }
  if (o.node_name.empty()) {
    CST_TRY_ASSIGN(o.node_name, io::os::hostname());
  }
  h.services_dir = o.services_dir;
  h.data_dir = o.data_dir;
  h.node_name = o.node_name;
  h.roles = o.roles;
  h.tags = o.tags;
  h.version = std::string(version());
  h.addresses = o.addresses;
  h.docker_socket = o.docker_socket;
  h.check_threads = static_cast<std::size_t>(o.check_threads);
  h.stop_on_exit = o.stop_on_exit;
  h.use_process_environment = o.use_process_environment;
  h.seed = o.seed;
  h.log = core::log::Logger(impl->sink, core::SystemClock::instance(), "services", level);
  impl->node_id = h.node_id.to_hex();
  impl->node_name = h.node_name;
  impl->services_dir = o.services_dir;
  impl->use_env = o.use_process_environment;
  CST_TRY_ASSIGN(impl->host, services::Host::open(std::move(h)));
  return std::unique_ptr<ServiceHost>(new ServiceHost(std::move(impl)));
}

void ServiceHost::on_event(std::function<void(const ServiceEvent&)> fn) {
  impl_->host->subscribe([fn = std::move(fn)](const services::HostEvent& e) {
    fn(ServiceEvent{e.kind, e.instance, core::json::serialize(e.fields, {true, false, 0})});
  });
}

Result<void> ServiceHost::start() { return impl_->host->start(); }

Result<ServiceValidation> ServiceHost::reload() {
  CST_TRY(impl_->host->reload());
  if (impl_->services_dir.empty()) return ServiceValidation{};
  ServiceValidationOptions v;
  v.use_process_environment = impl_->use_env;
  return validate_services(impl_->services_dir, v);
}

void ServiceHost::stop() {
  if (impl_ && impl_->host) impl_->host->stop();
}

Result<void> ServiceHost::set_maintenance(const std::string& instance, bool on) {
  return impl_->host->set_maintenance(instance, on);
}

std::vector<ServiceInstanceStatus> ServiceHost::instances() const {
  std::vector<ServiceInstanceStatus> out;
  for (const auto& i : impl_->host->instances()) {
    ServiceInstanceStatus s;
    s.id = i.id;
    s.service = i.service;
    s.project = i.project;
    s.runtime = i.runtime;
    s.runtime_id = i.runtime_id;
    s.state = i.state;
    s.health = services::to_public(i.health);
    s.phase = i.phase;
    s.restarts = i.restarts;
    s.adopted = i.adopted;
    for (const auto& c : i.checks) s.checks.push_back({c.name, services::to_public(c.status), c.output});
    s.error = i.error;
    out.push_back(std::move(s));
  }
  return out;
}

std::shared_ptr<const CatalogSnapshot> ServiceHost::snapshot() const {
  auto s = impl_->host->snapshot();
  std::lock_guard lock(impl_->mu);
  if (!impl_->snapshot || impl_->snapshot->generation != s->generation) {
    impl_->snapshot = std::make_shared<const CatalogSnapshot>(services::to_public(*s));
  }
  return impl_->snapshot;
}

std::string ServiceHost::status_json() const { return impl_->host->status_json(); }
std::string ServiceHost::node_id() const { return impl_->node_id; }
std::string ServiceHost::node_name() const { return impl_->node_name; }

}  // namespace constellation
