// SPDX-License-Identifier: Apache-2.0
// The C API: every function is noexcept with a catch-all, returns a cst_error_code and records
// the error for cst_error_last() on this thread.
#include <constellation.h>
#include <constellation/agent.hpp>
#include <constellation/json.hpp>
#include <constellation/version.hpp>

#include "capi/capi_internal.hpp"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>

using constellation::capi::dup_string;
using constellation::capi::fail;
using constellation::capi::guarded;
using constellation::capi::last_error;
using constellation::capi::set_error;

struct cst_agent {
  std::unique_ptr<constellation::Agent> agent;
  std::string node_id;
};

extern "C" {

int cst_version_number(void) { return constellation::version_number(); }

const char* cst_version(void) { return CST_VERSION_STRING; }

const cst_error* cst_error_last(void) {
  auto& e = last_error();
  return e.set ? &e.err : nullptr;
}

void cst_error_clear(void) {
  auto& e = last_error();
  e.set = false;
  e.message.clear();
  e.err = cst_error{CST_OK, ""};
}

void cst_free(void* ptr) { std::free(ptr); }

int cst_json_options_init(cst_json_options* opts, unsigned int version) {
  if (!opts) return set_error(CST_EINVAL, "cst_json_options_init: opts is NULL");
  if (version != CST_JSON_OPTIONS_VERSION) {
    return set_error(CST_EINVAL, "cst_json_options_init: unknown options version " + std::to_string(version));
  }
  *opts = cst_json_options CST_JSON_OPTIONS_INIT;
  return CST_OK;
}

int cst_json_canonicalize(char** out, size_t* out_len, const char* json, size_t len, const cst_json_options* opts) {
  return guarded([&] {
    if (!out) return set_error(CST_EINVAL, "cst_json_canonicalize: out is NULL");
    *out = nullptr;
    if (!json && len > 0) return set_error(CST_EINVAL, "cst_json_canonicalize: json is NULL");
    constellation::CanonicalJsonOptions o;
    if (opts) {
      if (opts->version < 1 || opts->version > CST_JSON_OPTIONS_VERSION) {
        return set_error(CST_EINVAL, "cst_json_canonicalize: unknown options version " + std::to_string(opts->version));
      }
      o.sort_keys = opts->sort_keys != 0;
      o.ascii_only = opts->ascii_only != 0;
      o.indent = opts->indent;
      o.max_depth = opts->max_depth;
    }
    auto r = constellation::canonical_json(std::string_view(json ? json : "", len), o);
    if (!r) return fail(r.error());
    *out = dup_string(*r);
    if (out_len) *out_len = r->size();
    return static_cast<int>(CST_OK);
  });
}

int cst_agent_options_init(cst_agent_options* opts, unsigned int version) {
  if (!opts) return set_error(CST_EINVAL, "cst_agent_options_init: opts is NULL");
  if (version != CST_AGENT_OPTIONS_VERSION) {
    return set_error(CST_EINVAL, "cst_agent_options_init: unknown options version " + std::to_string(version));
  }
  *opts = cst_agent_options CST_AGENT_OPTIONS_INIT;
  return CST_OK;
}

int cst_agent_open(cst_agent** out, const cst_agent_options* opts) {
  return guarded([&] {
    if (!out) return set_error(CST_EINVAL, "cst_agent_open: out is NULL");
    *out = nullptr;
    constellation::AgentOptions o;
    if (opts) {
      if (opts->version < 1 || opts->version > CST_AGENT_OPTIONS_VERSION) {
        return set_error(CST_EINVAL, "cst_agent_open: unknown options version " + std::to_string(opts->version));
      }
      if (opts->node_name) o.node_name = opts->node_name;
      if (opts->data_dir) o.data_dir = opts->data_dir;
      if (opts->api_address) o.api_address = opts->api_address;
      o.api_port = opts->api_port;
      if (opts->log_level) o.log_level = opts->log_level;
      if (opts->config_file) o.config_file = opts->config_file;
      if (opts->config_yaml) o.config_yaml = opts->config_yaml;
      o.use_environment = opts->use_environment != 0;
      if (opts->services_dir) o.services_dir = opts->services_dir;
    }
    auto agent = constellation::Agent::open(std::move(o));
    if (!agent) return fail(agent.error());
    auto handle = std::make_unique<cst_agent>();
    handle->node_id = (*agent)->node_id();
    handle->agent = std::move(*agent);
    *out = handle.release();
    return static_cast<int>(CST_OK);
  });
}

int cst_agent_start(cst_agent* agent) {
  return guarded([&] {
    if (!agent) return set_error(CST_EINVAL, "cst_agent_start: agent is NULL");
    auto r = agent->agent->start();
    if (!r) return fail(r.error());
    return static_cast<int>(CST_OK);
  });
}

int cst_agent_stop(cst_agent* agent) {
  return guarded([&] {
    if (!agent) return set_error(CST_EINVAL, "cst_agent_stop: agent is NULL");
    agent->agent->stop();
    return static_cast<int>(CST_OK);
  });
}

void cst_agent_free(cst_agent* agent) {
  if (!agent) return;
  guarded([&] {
    delete agent;
    return static_cast<int>(CST_OK);
  });
}

int cst_agent_api_port(const cst_agent* agent) {
  if (!agent) return set_error(CST_EINVAL, "cst_agent_api_port: agent is NULL");
  return agent->agent->api_port();
}

const char* cst_agent_node_id(const cst_agent* agent) { return agent ? agent->node_id.c_str() : nullptr; }

}  // extern "C"
