// SPDX-License-Identifier: Apache-2.0
// The C API of the Raft lease/KV store over constellation::RaftNode.
#include <constellation.h>
#include <constellation/raft.hpp>

#include "capi/capi_internal.hpp"

#include <chrono>
#include <string>

using constellation::capi::dup_string;
using constellation::capi::fail;
using constellation::capi::guarded;
using constellation::capi::set_error;

struct cst_raft {
  std::unique_ptr<constellation::RaftNode> node;
};

namespace {

constexpr int kOk = CST_OK;

int check_node(const cst_raft* n, const char* fn) {
  if (!n || !n->node) return set_error(CST_EINVAL, std::string(fn) + ": node is NULL");
  return kOk;
}

void fill(cst_raft_lease* out, const constellation::LeaseGrant& g) {
  if (!out) return;
  out->token = g.token;
  out->expiry_cluster_ns = g.expiry_cluster_ns;
  out->valid_ms = std::chrono::duration_cast<std::chrono::milliseconds>(g.valid_until - std::chrono::steady_clock::now()).count();
}

constellation::Result<std::map<std::uint64_t, std::string>> parse_voters(const char* text) {
  std::map<std::uint64_t, std::string> out;
  std::string s = text ? text : "";
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t comma = s.find(',', pos);
    std::string item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return constellation::Error(constellation::Code::InvalidArgument, "voters: expected id=host:port, got '" + item + "'");
    }
    std::uint64_t id = 0;
    for (char c : item.substr(0, eq)) {
      if (c < '0' || c > '9') return constellation::Error(constellation::Code::InvalidArgument, "voters: bad id in '" + item + "'");
      id = id * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out[id] = item.substr(eq + 1);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (out.empty()) return constellation::Error(constellation::Code::InvalidArgument, "voters: name at least this node");
  return out;
}

}  // namespace

extern "C" {

int cst_raft_options_init(cst_raft_options* opts, unsigned int version) {
  if (!opts) return set_error(CST_EINVAL, "cst_raft_options_init: opts is NULL");
  if (version != CST_RAFT_OPTIONS_VERSION) {
    return set_error(CST_EINVAL, "cst_raft_options_init: unknown options version " + std::to_string(version));
  }
  *opts = cst_raft_options CST_RAFT_OPTIONS_INIT;
  return CST_OK;
}

int cst_raft_open(cst_raft** out, const cst_raft_options* opts) {
  return guarded([&] {
    if (!out) return set_error(CST_EINVAL, "cst_raft_open: out is NULL");
    *out = nullptr;
    if (!opts) return set_error(CST_EINVAL, "cst_raft_open: opts is NULL (voters are required)");
    if (opts->version < 1 || opts->version > CST_RAFT_OPTIONS_VERSION) {
      return set_error(CST_EINVAL, "cst_raft_open: unknown options version " + std::to_string(opts->version));
    }
    constellation::RaftOptions o;
    o.id = opts->id;
    if (opts->data_dir) o.data_dir = opts->data_dir;
    auto voters = parse_voters(opts->voters);
    if (!voters) return fail(voters.error());
    o.voters = std::move(*voters);
    if (opts->listen_address) o.listen_address = opts->listen_address;
    if (opts->cluster_key) o.cluster_key = opts->cluster_key;
    o.join = opts->join != 0;
    o.tick = std::chrono::milliseconds(opts->tick_ms);
    o.election_ticks = opts->election_ticks;
    o.heartbeat_ticks = opts->heartbeat_ticks;
    o.request_timeout = std::chrono::milliseconds(opts->request_timeout_ms);
    if (opts->log_level) o.log_level = opts->log_level;
    auto node = constellation::RaftNode::open(std::move(o));
    if (!node) return fail(node.error());
    auto h = std::make_unique<cst_raft>();
    h->node = std::move(*node);
    *out = h.release();
    return kOk;
  });
}

void cst_raft_free(cst_raft* node) {
  if (!node) return;
  guarded([&] {
    delete node;
    return kOk;
  });
}

int cst_raft_put(cst_raft* node, uint64_t* out_revision, const char* key, const void* value, size_t len) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_raft_put")) return rc;
    if (!key || (!value && len)) return set_error(CST_EINVAL, "cst_raft_put: key or value is NULL");
    auto r = node->node->put(key, std::string(static_cast<const char*>(value), len));
    if (!r) return fail(r.error());
    if (out_revision) *out_revision = *r;
    return kOk;
  });
}

int cst_raft_cas(cst_raft* node, uint64_t* out_revision, const char* key, const void* value, size_t len,
                 uint64_t expected) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_raft_cas")) return rc;
    if (!key || (!value && len)) return set_error(CST_EINVAL, "cst_raft_cas: key or value is NULL");
    auto r = node->node->compare_and_set(key, std::string(static_cast<const char*>(value), len), expected);
    if (!r) return fail(r.error());
    if (out_revision) *out_revision = *r;
    return kOk;
  });
}

int cst_raft_delete(cst_raft* node, uint64_t* out_revision, const char* key) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_raft_delete")) return rc;
    if (!key) return set_error(CST_EINVAL, "cst_raft_delete: key is NULL");
    auto r = node->node->erase(key);
    if (!r) return fail(r.error());
    if (out_revision) *out_revision = *r;
    return kOk;
  });
}

int cst_raft_get(cst_raft* node, char** out_value, size_t* out_len, uint64_t* out_revision, const char* key) {
  return guarded([&] {
    if (out_value) *out_value = nullptr;
    if (int rc = check_node(node, "cst_raft_get")) return rc;
    if (!key) return set_error(CST_EINVAL, "cst_raft_get: key is NULL");
    auto r = node->node->get(key);
    if (!r) return fail(r.error());
    if (out_value) *out_value = dup_string(r->value);
    if (out_len) *out_len = r->value.size();
    if (out_revision) *out_revision = r->mod_revision;
    return kOk;
  });
}

int cst_raft_lease_acquire(cst_raft* node, cst_raft_lease* out, const char* name, const char* holder, int64_t ttl_ms,
                           int64_t lock_delay_ms) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_raft_lease_acquire")) return rc;
    if (!name || !holder) return set_error(CST_EINVAL, "cst_raft_lease_acquire: name or holder is NULL");
    auto r = node->node->acquire(name, holder, std::chrono::milliseconds(ttl_ms), std::chrono::milliseconds(lock_delay_ms));
    if (!r) return fail(r.error());
    fill(out, *r);
    return kOk;
  });
}

int cst_raft_lease_renew(cst_raft* node, cst_raft_lease* out, const char* name, const char* holder, uint64_t token) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_raft_lease_renew")) return rc;
    if (!name || !holder) return set_error(CST_EINVAL, "cst_raft_lease_renew: name or holder is NULL");
    auto r = node->node->renew(name, holder, token);
    if (!r) return fail(r.error());
    fill(out, *r);
    return kOk;
  });
}

int cst_raft_lease_release(cst_raft* node, const char* name, const char* holder, uint64_t token) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_raft_lease_release")) return rc;
    if (!name || !holder) return set_error(CST_EINVAL, "cst_raft_lease_release: name or holder is NULL");
    auto r = node->node->release(name, holder, token);
    if (!r) return fail(r.error());
    return kOk;
  });
}

namespace {

// Adapts a Result to the C callbacks (no exception may leave them: they run on the node's loop).
void call_write_cb(cst_raft_write_cb cb, void* user, const constellation::Result<std::uint64_t>& r) {
  if (r) return cb(user, kOk, *r, "");
  cb(user, constellation::capi::to_c_code(r.error().code()), 0, r.error().message().c_str());
}

void call_lease_cb(cst_raft_lease_cb cb, void* user, const constellation::Result<constellation::LeaseGrant>& r) {
  if (!r) return cb(user, constellation::capi::to_c_code(r.error().code()), nullptr, r.error().message().c_str());
  cst_raft_lease lease{};
  fill(&lease, *r);
  cb(user, kOk, &lease, "");
}

}  // namespace

int cst_raft_put_async(cst_raft* node, const char* key, const void* value, size_t len, cst_raft_write_cb cb, void* user) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_raft_put_async")) return rc;
    if (!cb) return set_error(CST_EINVAL, "cst_raft_put_async: callback is NULL");
    if (!key || (!value && len)) return set_error(CST_EINVAL, "cst_raft_put_async: key or value is NULL");
    node->node->put_async(key, std::string(static_cast<const char*>(value), len),
                          [cb, user](constellation::Result<std::uint64_t> r) { call_write_cb(cb, user, r); });
    return kOk;
  });
}

int cst_raft_lease_acquire_async(cst_raft* node, const char* name, const char* holder, int64_t ttl_ms,
                                 int64_t lock_delay_ms, cst_raft_lease_cb cb, void* user) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_raft_lease_acquire_async")) return rc;
    if (!cb) return set_error(CST_EINVAL, "cst_raft_lease_acquire_async: callback is NULL");
    if (!name || !holder) return set_error(CST_EINVAL, "cst_raft_lease_acquire_async: name or holder is NULL");
    node->node->acquire_async(name, holder, std::chrono::milliseconds(ttl_ms), std::chrono::milliseconds(lock_delay_ms),
                              [cb, user](constellation::Result<constellation::LeaseGrant> r) { call_lease_cb(cb, user, r); });
    return kOk;
  });
}

int cst_raft_lease_renew_async(cst_raft* node, const char* name, const char* holder, uint64_t token,
                               cst_raft_lease_cb cb, void* user) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_raft_lease_renew_async")) return rc;
    if (!cb) return set_error(CST_EINVAL, "cst_raft_lease_renew_async: callback is NULL");
    if (!name || !holder) return set_error(CST_EINVAL, "cst_raft_lease_renew_async: name or holder is NULL");
    node->node->renew_async(name, holder, token,
                            [cb, user](constellation::Result<constellation::LeaseGrant> r) { call_lease_cb(cb, user, r); });
    return kOk;
  });
}

int cst_raft_wait_for_leader(cst_raft* node, uint64_t* out_leader, int64_t timeout_ms) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_raft_wait_for_leader")) return rc;
    auto r = node->node->wait_for_leader(std::chrono::milliseconds(timeout_ms));
    if (!r) return fail(r.error());
    if (out_leader) *out_leader = *r;
    return kOk;
  });
}

int cst_raft_transfer_leadership(cst_raft* node, uint64_t target) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_raft_transfer_leadership")) return rc;
    auto r = node->node->transfer_leadership(target);
    if (!r) return fail(r.error());
    return kOk;
  });
}

int cst_raft_recover(const char* data_dir, const uint64_t* voters, size_t count) {
  return guarded([&] {
    if (!data_dir || (!voters && count)) return set_error(CST_EINVAL, "cst_raft_recover: data_dir or voters is NULL");
    auto r = constellation::RaftNode::recover(data_dir, std::vector<std::uint64_t>(voters, voters + count));
    if (!r) return fail(r.error());
    return kOk;
  });
}

}  // extern "C"
