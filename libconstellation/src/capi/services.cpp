// SPDX-License-Identifier: Apache-2.0
// The C API for services (constellation/c/services.h).
#include <constellation.h>
#include <constellation/catalog.hpp>
#include <constellation/health.hpp>
#include <constellation/services.hpp>

#include "capi/capi_internal.hpp"
#include "core/json.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace constellation;
using namespace constellation::capi;

struct cst_validation {
  ServiceValidation v;
};

struct cst_catalog {
  Catalog catalog;
};

namespace {

namespace json = core::json;

HealthStatus parse_health(const std::string& s) {
  for (int i = 0; i <= 3; ++i) {
    if (health_status_name(static_cast<HealthStatus>(i)) == s) return static_cast<HealthStatus>(i);
  }
  return static_cast<HealthStatus>(-1);
}

Result<std::vector<std::string>> strings(const json::Value& obj, std::string_view key, const std::string& where) {
  std::vector<std::string> out;
  const auto* v = obj.find(key);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return Error(Code::InvalidArgument, where + "." + std::string(key) + ": expected an array");
  for (const auto& x : v->as_array()) {
    if (!x.is_string()) return Error(Code::InvalidArgument, where + "." + std::string(key) + ": expected strings");
    out.push_back(x.as_string());
  }
  return out;
}

Result<std::map<std::string, std::string>> string_map(const json::Value& obj, std::string_view key,
                                                      const std::string& where) {
  std::map<std::string, std::string> out;
  const auto* v = obj.find(key);
  if (!v || v->is_null()) return out;
  if (!v->is_object()) return Error(Code::InvalidArgument, where + "." + std::string(key) + ": expected an object");
  for (const auto& [k, x] : v->as_object()) {
    if (!x.is_string()) return Error(Code::InvalidArgument, where + "." + std::string(key) + "." + k + ": expected a string");
    out[k] = x.as_string();
  }
  return out;
}

Result<HealthStatus> health_member(const json::Value& obj, const std::string& where) {
  CST_TRY_ASSIGN(auto h, json::get_string_or(obj, "health", where, "critical"));
  auto s = parse_health(h);
  if (static_cast<int>(s) < 0) return Error(Code::InvalidArgument, where + ".health: unknown value '" + h + "'");
  return s;
}

Result<CatalogNode> node_from_json(const char* text) {
  if (!text) return Error(Code::InvalidArgument, "node_json is NULL");
  CST_TRY_ASSIGN(auto doc, json::parse(text));
  if (!doc.is_object()) return Error(Code::InvalidArgument, "node: expected an object");
  CatalogNode n;
  CST_TRY_ASSIGN(n.id, json::get_string(doc, "id", "node"));
  CST_TRY_ASSIGN(n.name, json::get_string(doc, "name", "node"));
  CST_TRY_ASSIGN(n.roles, strings(doc, "roles", "node"));
  CST_TRY_ASSIGN(n.tags, strings(doc, "tags", "node"));
  CST_TRY_ASSIGN(n.version, json::get_string_or(doc, "version", "node", ""));
  CST_TRY_ASSIGN(n.addresses, string_map(doc, "addresses", "node"));
  CST_TRY_ASSIGN(auto version, json::get_int(doc, "entry_version", "node"));
  if (version < 0) return Error(Code::InvalidArgument, "node.entry_version: must not be negative");
  n.entry_version = static_cast<std::uint64_t>(version);
  if (const auto* list = doc.find("instances"); list && !list->is_null()) {
    if (!list->is_array()) return Error(Code::InvalidArgument, "node.instances: expected an array");
    for (std::size_t i = 0; i < list->as_array().size(); ++i) {
      const auto& x = list->as_array()[i];
      std::string where = "node.instances[" + std::to_string(i) + "]";
      if (!x.is_object()) return Error(Code::InvalidArgument, where + ": expected an object");
      CatalogInstance in;
      CST_TRY_ASSIGN(in.id, json::get_string(x, "id", where));
      CST_TRY_ASSIGN(in.service, json::get_string(x, "service", where));
      CST_TRY_ASSIGN(in.project, json::get_string_or(x, "project", where, ""));
      CST_TRY_ASSIGN(in.runtime, json::get_string_or(x, "runtime", where, "process"));
      CST_TRY_ASSIGN(in.runtime_id, json::get_string_or(x, "runtime_id", where, ""));
      CST_TRY_ASSIGN(in.labels, string_map(x, "labels", where));
      CST_TRY_ASSIGN(in.networks, strings(x, "networks", where));
      CST_TRY_ASSIGN(in.health, health_member(x, where));
      if (const auto* ports = x.find("ports"); ports && ports->is_array()) {
        for (const auto& p : ports->as_array()) {
          if (!p.is_object()) return Error(Code::InvalidArgument, where + ".ports: expected objects");
          CST_TRY_ASSIGN(auto target, json::get_int(p, "target", where + ".ports"));
          CST_TRY_ASSIGN(auto published, json::get_int_or(p, "published", where + ".ports", 0));
          if (target < 1 || target > 65535 || published < 0 || published > 65535) {
            return Error(Code::InvalidArgument, where + ".ports: port out of range");
          }
          CatalogPort cp;
          cp.target = static_cast<std::uint16_t>(target);
          cp.published = static_cast<std::uint16_t>(published);
          CST_TRY_ASSIGN(cp.protocol, json::get_string_or(p, "protocol", where + ".ports", "tcp"));
          CST_TRY_ASSIGN(cp.host_ip, json::get_string_or(p, "host_ip", where + ".ports", ""));
          in.ports.push_back(std::move(cp));
        }
      }
      if (const auto* checks = x.find("checks"); checks && checks->is_array()) {
        for (const auto& c : checks->as_array()) {
          if (!c.is_object()) return Error(Code::InvalidArgument, where + ".checks: expected objects");
          CatalogCheck cc;
          CST_TRY_ASSIGN(cc.name, json::get_string(c, "name", where + ".checks"));
          CST_TRY_ASSIGN(auto status, json::get_string_or(c, "status", where + ".checks", "critical"));
          cc.status = parse_health(status);
          if (static_cast<int>(cc.status) < 0) return Error(Code::InvalidArgument, where + ".checks: unknown status");
          CST_TRY_ASSIGN(cc.output, json::get_string_or(c, "output", where + ".checks", ""));
          in.checks.push_back(std::move(cc));
        }
      }
      n.instances.push_back(std::move(in));
    }
  }
  return n;
}

void write_instance(json::Writer& w, const CatalogInstance& in) {
  w.begin_object();
  w.key("id").value(in.id).key("service").value(in.service).key("project").value(in.project);
  w.key("runtime").value(in.runtime).key("runtime_id").value(in.runtime_id);
  w.key("labels").begin_object();
  for (const auto& [k, v] : in.labels) w.key(k).value(v);
  w.end_object();
  w.key("ports").begin_array();
  for (const auto& p : in.ports) {
    w.begin_object().key("target").value(static_cast<unsigned>(p.target));
    w.key("published").value(static_cast<unsigned>(p.published)).key("protocol").value(p.protocol);
    w.key("host_ip").value(p.host_ip).end_object();
  }
  w.end_array();
  w.key("networks").begin_array();
  for (const auto& n : in.networks) w.value(n);
  w.end_array();
  w.key("health").value(health_status_name(in.health));
  w.key("checks").begin_array();
  for (const auto& c : in.checks) {
    w.begin_object().key("name").value(c.name).key("status").value(health_status_name(c.status));
    w.key("output").value(c.output).end_object();
  }
  w.end_array();
  w.end_object();
}

void write_node(json::Writer& w, const CatalogNode& n) {
  w.begin_object();
  w.key("id").value(n.id).key("name").value(n.name);
  w.key("roles").begin_array();
  for (const auto& r : n.roles) w.value(r);
  w.end_array().key("tags").begin_array();
  for (const auto& t : n.tags) w.value(t);
  w.end_array();
  w.key("version").value(n.version).key("addresses").begin_object();
  for (const auto& [k, v] : n.addresses) w.key(k).value(v);
  w.end_object();
  w.key("entry_version").value(n.entry_version).key("state").value(node_state_name(n.state));
  w.key("instances").begin_array();
  for (const auto& in : n.instances) write_instance(w, in);
  w.end_array();
  w.end_object();
}

}  // namespace

extern "C" {

int cst_validate_options_init(cst_validate_options* opts, unsigned int version) {
  if (!opts) return set_error(CST_EINVAL, "cst_validate_options_init: opts is NULL");
  if (version != CST_VALIDATE_OPTIONS_VERSION) {
    return set_error(CST_EINVAL, "cst_validate_options_init: unknown options version " + std::to_string(version));
  }
  *opts = cst_validate_options CST_VALIDATE_OPTIONS_INIT;
  return CST_OK;
}

int cst_services_validate(cst_validation** out, const char* directory, const cst_validate_options* opts) {
  return guarded([&] {
    if (!out) return set_error(CST_EINVAL, "cst_services_validate: out is NULL");
    *out = nullptr;
    if (!directory) return set_error(CST_EINVAL, "cst_services_validate: directory is NULL");
    ServiceValidationOptions o;
    if (opts) {
      if (opts->version < 1 || opts->version > CST_VALIDATE_OPTIONS_VERSION) {
        return set_error(CST_EINVAL, "cst_services_validate: unknown options version " + std::to_string(opts->version));
      }
      o.use_process_environment = opts->use_process_environment != 0;
    }
    auto r = validate_services(directory, o);
    if (!r) return fail(r.error());
    *out = new cst_validation{std::move(*r)};
    return static_cast<int>(CST_OK);
  });
}

int cst_validation_ok(const cst_validation* v) { return v && v->v.ok() ? 1 : 0; }

size_t cst_validation_diagnostic_count(const cst_validation* v) { return v ? v->v.diagnostics.size() : 0; }

int cst_validation_diagnostic(const cst_validation* v, size_t index, cst_diagnostic* out) {
  if (!v || !out) return set_error(CST_EINVAL, "cst_validation_diagnostic: NULL argument");
  if (index >= v->v.diagnostics.size()) {
    return set_error(CST_EINVAL, "cst_validation_diagnostic: index " + std::to_string(index) + " out of range");
  }
  const auto& d = v->v.diagnostics[index];
  *out = cst_diagnostic{d.error ? 1 : 0, d.file.c_str(), d.line, d.column, d.field.c_str(), d.message.c_str()};
  return CST_OK;
}

size_t cst_validation_service_count(const cst_validation* v) { return v ? v->v.services.size() : 0; }

const char* cst_validation_service_name(const cst_validation* v, size_t index) {
  if (!v || index >= v->v.services.size()) return nullptr;
  return v->v.services[index].c_str();
}

const char* cst_validation_json(const cst_validation* v) { return v ? v->v.json.c_str() : nullptr; }

void cst_validation_free(cst_validation* v) { delete v; }

int cst_catalog_new(cst_catalog** out) {
  return guarded([&] {
    if (!out) return set_error(CST_EINVAL, "cst_catalog_new: out is NULL");
    *out = new cst_catalog();
    return static_cast<int>(CST_OK);
  });
}

void cst_catalog_free(cst_catalog* catalog) { delete catalog; }

int cst_catalog_merge_json(cst_catalog* catalog, const char* node_json, int* out_result) {
  return guarded([&] {
    if (!catalog) return set_error(CST_EINVAL, "cst_catalog_merge_json: catalog is NULL");
    auto n = node_from_json(node_json);
    if (!n) return fail(n.error());
    auto r = catalog->catalog.merge(*n);
    if (out_result) *out_result = static_cast<int>(r);
    return static_cast<int>(CST_OK);
  });
}

int cst_catalog_merge_encoded(cst_catalog* catalog, const unsigned char* bytes, size_t len, int* out_result) {
  return guarded([&] {
    if (!catalog || (!bytes && len)) return set_error(CST_EINVAL, "cst_catalog_merge_encoded: NULL argument");
    auto r = catalog->catalog.merge_encoded(std::vector<std::uint8_t>(bytes, bytes + len));
    if (!r) return fail(r.error());
    if (out_result) *out_result = static_cast<int>(*r);
    return static_cast<int>(CST_OK);
  });
}

int cst_catalog_encode_json(unsigned char** out, size_t* out_len, const char* node_json) {
  return guarded([&] {
    if (!out) return set_error(CST_EINVAL, "cst_catalog_encode_json: out is NULL");
    *out = nullptr;
    auto n = node_from_json(node_json);
    if (!n) return fail(n.error());
    auto bytes = Catalog::encode(*n);
    if (!bytes) return fail(bytes.error());
    auto* p = static_cast<unsigned char*>(std::malloc(std::max<std::size_t>(1, bytes->size())));
    if (!p) throw std::bad_alloc();
    std::copy(bytes->begin(), bytes->end(), p);
    *out = p;
    if (out_len) *out_len = bytes->size();
    return static_cast<int>(CST_OK);
  });
}

int cst_catalog_set_node_state(cst_catalog* catalog, const char* node_id, int state) {
  return guarded([&] {
    if (!catalog || !node_id) return set_error(CST_EINVAL, "cst_catalog_set_node_state: NULL argument");
    if (state < CST_NODE_ALIVE || state > CST_NODE_LEFT) {
      return set_error(CST_EINVAL, "cst_catalog_set_node_state: unknown state " + std::to_string(state));
    }
    if (!catalog->catalog.set_state(node_id, static_cast<NodeState>(state))) {
      return set_error(CST_ENOTFOUND, std::string("cst_catalog_set_node_state: unknown node or no change: ") + node_id);
    }
    return static_cast<int>(CST_OK);
  });
}

int cst_catalog_publish(cst_catalog* catalog, uint64_t* out_generation) {
  return guarded([&] {
    if (!catalog) return set_error(CST_EINVAL, "cst_catalog_publish: catalog is NULL");
    auto s = catalog->catalog.publish();
    if (out_generation) *out_generation = s->generation;
    return static_cast<int>(CST_OK);
  });
}

int cst_catalog_snapshot_json(const cst_catalog* catalog, char** out) {
  return guarded([&] {
    if (!catalog || !out) return set_error(CST_EINVAL, "cst_catalog_snapshot_json: NULL argument");
    auto s = catalog->catalog.snapshot();
    json::Writer w;
    w.begin_object().key("generation").value(s->generation).key("complete").value(s->complete);
    w.key("nodes").begin_array();
    for (const auto& n : s->nodes) write_node(w, n);
    w.end_array().end_object();
    *out = dup_string(w.str());
    return static_cast<int>(CST_OK);
  });
}

int cst_catalog_healthy_json(const cst_catalog* catalog, const char* service, const char* network, int include_warning,
                             char** out) {
  return guarded([&] {
    if (!catalog || !service || !out) return set_error(CST_EINVAL, "cst_catalog_healthy_json: NULL argument");
    auto s = catalog->catalog.snapshot();
    json::Writer w;
    w.begin_array();
    for (const auto& e : s->healthy(service, network ? network : "", include_warning != 0)) {
      w.begin_object().key("node_id").value(e.node_id).key("node_name").value(e.node_name);
      w.key("address").value(e.address).key("network").value(e.network).key("instance");
      write_instance(w, e.instance);
      w.end_object();
    }
    w.end_array();
    *out = dup_string(w.str());
    return static_cast<int>(CST_OK);
  });
}

int cst_health_check_init(cst_health_check* check, unsigned int version) {
  if (!check) return set_error(CST_EINVAL, "cst_health_check_init: check is NULL");
  if (version != CST_HEALTH_CHECK_VERSION) {
    return set_error(CST_EINVAL, "cst_health_check_init: unknown version " + std::to_string(version));
  }
  *check = cst_health_check CST_HEALTH_CHECK_INIT;
  return CST_OK;
}

int cst_health_run(const cst_health_check* check, int* out_status, char** out_output) {
  return guarded([&] {
    if (!check || !out_status) return set_error(CST_EINVAL, "cst_health_run: NULL argument");
    if (check->version < 1 || check->version > CST_HEALTH_CHECK_VERSION) {
      return set_error(CST_EINVAL, "cst_health_run: unknown version " + std::to_string(check->version));
    }
    HealthCheck c;
    switch (check->kind) {
      case CST_CHECK_HTTP: c.kind = HealthCheckKind::Http; break;
      case CST_CHECK_TCP: c.kind = HealthCheckKind::Tcp; break;
      case CST_CHECK_EXEC: c.kind = HealthCheckKind::Exec; break;
      default: return set_error(CST_EINVAL, "cst_health_run: unknown kind " + std::to_string(check->kind));
    }
    if (c.kind == HealthCheckKind::Exec) {
      if (!check->command || !check->command[0]) return set_error(CST_EINVAL, "cst_health_run: exec needs a command");
      for (auto* a = check->command; *a; ++a) c.command.emplace_back(*a);
    } else {
      if (!check->target) return set_error(CST_EINVAL, "cst_health_run: target is NULL");
      c.target = check->target;
    }
    if (check->method) c.method = check->method;
    c.expect_status = check->expect_status;
    if (check->expect_body) c.expect_body = check->expect_body;
    if (check->timeout_ms <= 0) return set_error(CST_EINVAL, "cst_health_run: timeout_ms must be positive");
    c.timeout = std::chrono::milliseconds(check->timeout_ms);
    auto r = run_health_check(c);
    *out_status = static_cast<int>(r.status);
    if (out_output) *out_output = dup_string(r.output);
    return static_cast<int>(CST_OK);
  });
}

}  // extern "C"
