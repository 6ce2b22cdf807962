// SPDX-License-Identifier: Apache-2.0
// The public provider API (constellation/provider.hpp) over provider:: and ProviderServer.
#include <constellation/provider.hpp>

#include "provider/render.hpp"
#include "catalog/snapshot_json.hpp"
#include "traefik/provider_server.hpp"

namespace constellation {

namespace {

provider::TraefikVersion to_internal(TraefikVersion v) {
  return v == TraefikVersion::V2 ? provider::TraefikVersion::V2 : provider::TraefikVersion::V3;
}

provider::Format to_internal(TraefikFormat f) { return f == TraefikFormat::Json ? provider::Format::Json : provider::Format::Yaml; }

Result<void> check_enums(TraefikVersion v, TraefikFormat f, std::string_view what) {
  if (v != TraefikVersion::V2 && v != TraefikVersion::V3) {
    return Error(Code::InvalidArgument, std::string(what) + "version: unknown Traefik version " +
                                            std::to_string(static_cast<int>(v)));
  }
  if (f != TraefikFormat::Json && f != TraefikFormat::Yaml) {
    return Error(Code::InvalidArgument, std::string(what) + "format: unknown format " + std::to_string(static_cast<int>(f)));
  }
  return ok();
}

provider::Options to_internal(const ProviderOptions& o) {
  provider::Options out;
  out.exposed_by_default = o.exposed_by_default;
  out.default_rule = o.default_rule;
  out.network = o.network;
  out.health = o.health == HealthPolicy::PassingOrWarning ? provider::HealthPolicy::PassingOrWarning
                                                          : provider::HealthPolicy::PassingOnly;
  out.empty_services = o.empty_services == EmptyServicePolicy::Drop ? provider::EmptyServices::Drop
                                                                    : provider::EmptyServices::Keep;
  out.entry_points = o.entry_points;
  return out;
}

ProviderDiagnostic to_public(const provider::Diagnostic& d) {
  return ProviderDiagnostic{d.severity == provider::Severity::Error, d.node, d.instance, d.service, d.resource, d.label,
                            d.message};
}

}  // namespace

std::string ProviderDiagnostic::to_string() const {
  return provider::to_string(provider::Diagnostic{error ? provider::Severity::Error : provider::Severity::Warning,
                                                  node, instance, service, resource, label, message});
}

Result<TraefikConfig> render_traefik(std::string_view state_json, TraefikVersion version, TraefikFormat format,
                                     const ProviderOptions& options) {
  try {
    CST_TRY(check_enums(version, format, ""));
    CST_TRY_ASSIGN(auto snapshot, catalog::snapshot_from_json(state_json));
    CST_TRY_ASSIGN(auto r, provider::render(snapshot, to_internal(options), to_internal(version), to_internal(format)));
    TraefikConfig out;
    out.body = std::move(r.body);
    out.etag = provider::etag_of(r.hash);
    for (const auto& d : r.diagnostics) out.diagnostics.push_back(to_public(d));
    return out;
  } catch (const std::bad_alloc&) {
    return Error(Code::Internal, "render_traefik: out of memory");
  }
}

struct ProviderServer::Impl {
  std::unique_ptr<traefik::ProviderServer> server;
  std::string url;
};

ProviderServer::ProviderServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ProviderServer::~ProviderServer() = default;

Result<std::unique_ptr<ProviderServer>> ProviderServer::start(ProviderOptions options, ProviderServerOptions serve) {
  CST_TRY(check_enums(serve.default_version, serve.default_format, "default_"));
  CST_TRY(check_enums(serve.file_version, serve.file_format, "file_"));
  if (serve.debounce.count() < 0 || serve.max_delay < serve.debounce) {
    return Error(Code::InvalidArgument, "debounce: must be >= 0 and <= max_delay");
  }
  traefik::ServeOptions s;
  s.http.address = serve.address;
  s.http.port = serve.port;
  s.http.threads = serve.threads;
  s.http.tls_cert_file = serve.tls_cert_file;
  s.http.tls_key_file = serve.tls_key_file;
  s.http.tls_client_ca_file = serve.tls_client_ca_file;
  s.serve_http = serve.serve_http;
  s.token = serve.token;
  s.token_header = serve.token_header;
  s.default_version = to_internal(serve.default_version);
  s.default_format = to_internal(serve.default_format);
  s.file_output = serve.file_output;
  s.file_version = to_internal(serve.file_version);
  s.file_format = to_internal(serve.file_format);
  s.debounce_quiet = serve.debounce;
  s.debounce_max = serve.max_delay;
  CST_TRY_ASSIGN(auto server, traefik::ProviderServer::start(to_internal(options), std::move(s)));
  auto impl = std::make_unique<Impl>();
  if (server->port() > 0) {
    std::string host = serve.address.find(':') != std::string::npos ? "[" + serve.address + "]" : serve.address;
    impl->url = (serve.tls_cert_file.empty() ? "http://" : "https://") + host + ":" + std::to_string(server->port());
  }
  impl->server = std::move(server);
  return std::unique_ptr<ProviderServer>(new ProviderServer(std::move(impl)));
}

Result<void> ProviderServer::update(std::string_view state_json) {
  CST_TRY_ASSIGN(auto snapshot, catalog::snapshot_from_json(state_json));
  impl_->server->publish(std::make_shared<const catalog::Snapshot>(std::move(snapshot)));
  return ok();
}

void ProviderServer::sync() { impl_->server->sync(); }

int ProviderServer::port() const { return impl_->server->port(); }

std::string ProviderServer::url() const { return impl_->url; }

std::string ProviderServer::etag(TraefikVersion version, TraefikFormat format) const {
  auto r = impl_->server->current();
  if (!r) return {};
  const provider::Body* b = r->body(to_internal(version), to_internal(format));
  return b ? b->etag : std::string();
}

std::vector<ProviderDiagnostic> ProviderServer::diagnostics(TraefikVersion version) const {
  std::vector<ProviderDiagnostic> out;
  auto r = impl_->server->current();
  if (!r) return out;
  if (const auto* v = r->version(to_internal(version))) {
    for (const auto& d : v->diagnostics) out.push_back(to_public(d));
  }
  return out;
}

void ProviderServer::stop() { impl_->server->stop(); }

}  // namespace constellation
