// SPDX-License-Identifier: Apache-2.0
// The C API of the Traefik provider (constellation/c/provider.h) over constellation/provider.hpp.
#include <constellation.h>
#include <constellation/provider.hpp>

#include "capi/capi_internal.hpp"
#include "core/json.hpp"

#include <cstdlib>
#include <memory>
#include <string>

using namespace constellation::capi;

struct cst_provider_server {
  std::unique_ptr<constellation::ProviderServer> server;
};

namespace {

int check_version(unsigned int version, unsigned int latest, const char* fn) {
  if (version < 1 || version > latest) {
    return set_error(CST_EINVAL, std::string(fn) + ": unknown options version " + std::to_string(version));
  }
  return CST_OK;
}

int to_version(int v, constellation::TraefikVersion& out, const char* what) {
  if (v == CST_TRAEFIK_V2) out = constellation::TraefikVersion::V2;
  else if (v == CST_TRAEFIK_V3) out = constellation::TraefikVersion::V3;
  else return set_error(CST_EINVAL, std::string(what) + ": unknown Traefik version " + std::to_string(v));
  return CST_OK;
}

int to_format(int f, constellation::TraefikFormat& out, const char* what) {
  if (f == CST_TRAEFIK_JSON) out = constellation::TraefikFormat::Json;
  else if (f == CST_TRAEFIK_YAML) out = constellation::TraefikFormat::Yaml;
  else return set_error(CST_EINVAL, std::string(what) + ": unknown format " + std::to_string(f));
  return CST_OK;
}

int to_options(const cst_provider_options* in, constellation::ProviderOptions& out, const char* fn) {
  if (!in) return CST_OK;
  if (int rc = check_version(in->version, CST_PROVIDER_OPTIONS_VERSION, fn)) return rc;
  out.exposed_by_default = in->exposed_by_default != 0;
  if (in->default_rule) out.default_rule = in->default_rule;
  if (in->network) out.network = in->network;
  out.health = in->route_warning ? constellation::HealthPolicy::PassingOrWarning : constellation::HealthPolicy::PassingOnly;
  out.empty_services = in->drop_empty_services ? constellation::EmptyServicePolicy::Drop
                                               : constellation::EmptyServicePolicy::Keep;
  if (in->entry_points) {
    std::string_view s = in->entry_points;
    while (!s.empty()) {
      auto comma = s.find(',');
      std::string_view item = s.substr(0, comma);
      if (!item.empty()) out.entry_points.emplace_back(item);
      if (comma == std::string_view::npos) break;
      s.remove_prefix(comma + 1);
    }
  }
  return CST_OK;
}

std::string diagnostics_json(const std::vector<constellation::ProviderDiagnostic>& diagnostics) {
  constellation::core::json::Writer w;
  w.begin_array();
  for (const auto& d : diagnostics) {
    w.begin_object();
    w.key("severity").value(d.error ? "error" : "warning");
    w.key("node").value(d.node);
    w.key("instance").value(d.instance);
    w.key("service").value(d.service);
    w.key("resource").value(d.resource);
    w.key("label").value(d.label);
    w.key("message").value(d.message);
    w.end_object();
  }
  w.end_array();
  return std::move(w).take();
}

}  // namespace

extern "C" {

int cst_provider_options_init(cst_provider_options* opts, unsigned int version) {
  if (!opts) return set_error(CST_EINVAL, "cst_provider_options_init: opts is NULL");
  if (version != CST_PROVIDER_OPTIONS_VERSION) {
    return set_error(CST_EINVAL, "cst_provider_options_init: unknown options version " + std::to_string(version));
  }
  *opts = cst_provider_options CST_PROVIDER_OPTIONS_INIT;
  return CST_OK;
}

int cst_provider_render(char** out, size_t* out_len, char** diagnostics, const char* state_json, size_t len,
                        int traefik_version, int format, const cst_provider_options* opts) {
  return guarded([&] {
    if (!out) return set_error(CST_EINVAL, "cst_provider_render: out is NULL");
    *out = nullptr;
    if (diagnostics) *diagnostics = nullptr;
    if (!state_json && len > 0) return set_error(CST_EINVAL, "cst_provider_render: state_json is NULL");
    constellation::ProviderOptions o;
    if (int rc = to_options(opts, o, "cst_provider_render")) return rc;
    constellation::TraefikVersion v;
    constellation::TraefikFormat f;
    if (int rc = to_version(traefik_version, v, "cst_provider_render: traefik_version")) return rc;
    if (int rc = to_format(format, f, "cst_provider_render: format")) return rc;
    auto r = constellation::render_traefik(std::string_view(state_json ? state_json : "", len), v, f, o);
    if (!r) return fail(r.error());
    char* body = dup_string(r->body);
    if (diagnostics) {
      try {
        *diagnostics = dup_string(diagnostics_json(r->diagnostics));
      } catch (...) {
        std::free(body);
        throw;
      }
    }
    *out = body;
    if (out_len) *out_len = r->body.size();
    return static_cast<int>(CST_OK);
  });
}

int cst_provider_server_options_init(cst_provider_server_options* opts, unsigned int version) {
  if (!opts) return set_error(CST_EINVAL, "cst_provider_server_options_init: opts is NULL");
  if (version != CST_PROVIDER_SERVER_OPTIONS_VERSION) {
    return set_error(CST_EINVAL,
                     "cst_provider_server_options_init: unknown options version " + std::to_string(version));
  }
  *opts = cst_provider_server_options CST_PROVIDER_SERVER_OPTIONS_INIT;
  return CST_OK;
}

int cst_provider_server_start(cst_provider_server** out, const cst_provider_options* opts,
                              const cst_provider_server_options* serve) {
  return guarded([&] {
    if (!out) return set_error(CST_EINVAL, "cst_provider_server_start: out is NULL");
    *out = nullptr;
    constellation::ProviderOptions o;
    if (int rc = to_options(opts, o, "cst_provider_server_start")) return rc;
    constellation::ProviderServerOptions s;
    if (serve) {
      if (int rc = check_version(serve->version, CST_PROVIDER_SERVER_OPTIONS_VERSION, "cst_provider_server_start")) {
        return rc;
      }
      if (serve->address) s.address = serve->address;
      s.port = serve->port;
      s.threads = serve->threads;
      if (serve->token) s.token = serve->token;
      if (serve->token_header) s.token_header = serve->token_header;
      if (serve->tls_cert_file) s.tls_cert_file = serve->tls_cert_file;
      if (serve->tls_key_file) s.tls_key_file = serve->tls_key_file;
      if (serve->tls_client_ca_file) s.tls_client_ca_file = serve->tls_client_ca_file;
      if (int rc = to_version(serve->default_version, s.default_version, "cst_provider_server_start: default_version")) return rc;
      if (int rc = to_format(serve->default_format, s.default_format, "cst_provider_server_start: default_format")) return rc;
      if (serve->file_output) s.file_output = serve->file_output;
      if (int rc = to_version(serve->file_version, s.file_version, "cst_provider_server_start: file_version")) return rc;
      if (int rc = to_format(serve->file_format, s.file_format, "cst_provider_server_start: file_format")) return rc;
    }
    auto server = constellation::ProviderServer::start(std::move(o), std::move(s));
    if (!server) return fail(server.error());
    auto handle = std::make_unique<cst_provider_server>();
    handle->server = std::move(*server);
    *out = handle.release();
    return static_cast<int>(CST_OK);
  });
}

int cst_provider_server_update(cst_provider_server* server, const char* state_json, size_t len) {
  return guarded([&] {
    if (!server) return set_error(CST_EINVAL, "cst_provider_server_update: server is NULL");
    if (!state_json && len > 0) return set_error(CST_EINVAL, "cst_provider_server_update: state_json is NULL");
    auto r = server->server->update(std::string_view(state_json ? state_json : "", len));
    if (!r) return fail(r.error());
    return static_cast<int>(CST_OK);
  });
}

int cst_provider_server_sync(cst_provider_server* server) {
  return guarded([&] {
    if (!server) return set_error(CST_EINVAL, "cst_provider_server_sync: server is NULL");
    server->server->sync();
    return static_cast<int>(CST_OK);
  });
}

int cst_provider_server_port(const cst_provider_server* server) {
  if (!server) return set_error(CST_EINVAL, "cst_provider_server_port: server is NULL");
  return server->server->port();
}

int cst_provider_server_stop(cst_provider_server* server) {
  return guarded([&] {
    if (!server) return set_error(CST_EINVAL, "cst_provider_server_stop: server is NULL");
    server->server->stop();
    return static_cast<int>(CST_OK);
  });
}

void cst_provider_server_free(cst_provider_server* server) {
  if (!server) return;
  guarded([&] {
    delete server;
    return static_cast<int>(CST_OK);
  });
}

}  // extern "C"
