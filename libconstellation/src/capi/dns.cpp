// SPDX-License-Identifier: Apache-2.0
// C API of the DNS writer over constellation::dns::Engine.
#include <constellation.h>
#include <constellation/dns.hpp>

#include "capi/capi_internal.hpp"

#include <memory>
#include <string>

using constellation::capi::dup_string;
using constellation::capi::fail;
using constellation::capi::guarded;
using constellation::capi::set_error;

struct cst_dns {
  std::unique_ptr<constellation::dns::Engine> engine;
};

namespace {

void append_json_string(std::string& out, const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

}  // namespace

extern "C" {

int cst_dns_run_options_init(cst_dns_run_options* opts, unsigned int version) {
  if (!opts) return set_error(CST_EINVAL, "cst_dns_run_options_init: opts is NULL");
  if (version != CST_DNS_RUN_OPTIONS_VERSION) {
    return set_error(CST_EINVAL, "cst_dns_run_options_init: unknown options version " + std::to_string(version));
  }
  *opts = cst_dns_run_options CST_DNS_RUN_OPTIONS_INIT;
  return CST_OK;
}

int cst_dns_open(cst_dns** out, const char* config_json, size_t len) {
  return guarded([&] {
    if (!out) return set_error(CST_EINVAL, "cst_dns_open: out is NULL");
    *out = nullptr;
    if (!config_json) return set_error(CST_EINVAL, "cst_dns_open: config_json is NULL");
    auto engine = constellation::dns::Engine::open(std::string_view(config_json, len));
    if (!engine) return fail(engine.error());
    auto handle = std::make_unique<cst_dns>();
    handle->engine = std::move(*engine);
    *out = handle.release();
    return static_cast<int>(CST_OK);
  });
}

int cst_dns_run(cst_dns* dns, char** out_report, const char* snapshot_json, size_t len, const cst_dns_run_options* opts) {
  return guarded([&] {
    if (!out_report) return set_error(CST_EINVAL, "cst_dns_run: out_report is NULL");
    *out_report = nullptr;
    if (!dns) return set_error(CST_EINVAL, "cst_dns_run: dns is NULL");
    if (!snapshot_json) return set_error(CST_EINVAL, "cst_dns_run: snapshot_json is NULL");
    constellation::dns::RunOptions o;
    if (opts) {
      if (opts->version < 1 || opts->version > CST_DNS_RUN_OPTIONS_VERSION) {
        return set_error(CST_EINVAL, "cst_dns_run: unknown options version " + std::to_string(opts->version));
      }
      o.apply = opts->apply != 0;
      o.fencing_token = opts->fencing_token;
      if (opts->fence) {
        cst_dns_fence_fn fn = opts->fence;
        void* payload = opts->fence_payload;
        o.fence = [fn, payload] { return fn(payload); };
      }
      if (opts->state_json) o.state_json = opts->state_json;
      o.settle = std::chrono::milliseconds(opts->settle_ms < 0 ? 0 : opts->settle_ms);
    }
    auto r = dns->engine->run(std::string_view(snapshot_json, len), o);
    if (!r) return fail(r.error());
    std::string out = "{\"plan\":" + (r->plan_json.empty() ? std::string("null") : r->plan_json) + ",\"text\":";
    append_json_string(out, r->plan_text);
    out += ",\"state\":";
    append_json_string(out, r->state_json);
    out += ",\"applied\":" + std::to_string(r->applied) + ",\"aborted\":" + (r->aborted ? "true" : "false") + ",\"abort_reason\":";
    append_json_string(out, r->abort_reason);
    out += ",\"requests\":" + std::to_string(r->requests) + "}";
    *out_report = dup_string(out);
    return static_cast<int>(CST_OK);
  });
}

void cst_dns_free(cst_dns* dns) {
  if (!dns) return;
  guarded([&] {
    delete dns;
    return static_cast<int>(CST_OK);
  });
}

int cst_dns_normalize_name(char** out, const char* name) {
  return guarded([&] {
    if (!out) return set_error(CST_EINVAL, "cst_dns_normalize_name: out is NULL");
    *out = nullptr;
    if (!name) return set_error(CST_EINVAL, "cst_dns_normalize_name: name is NULL");
    auto r = constellation::dns::normalize_hostname(name);
    if (!r) return fail(r.error());
    *out = dup_string(*r);
    return static_cast<int>(CST_OK);
  });
}

}  // extern "C"
