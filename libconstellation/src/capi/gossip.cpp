// SPDX-License-Identifier: Apache-2.0
// The C API of gossip membership over constellation::Gossip.
#include <constellation.h>
#include <constellation/gossip.hpp>

#include "capi/capi_internal.hpp"
#include "core/json.hpp"

#include <chrono>
#include <string>

using constellation::capi::dup_string;
using constellation::capi::fail;
using constellation::capi::guarded;
using constellation::capi::set_error;

struct cst_gossip {
  std::unique_ptr<constellation::Gossip> node;
};

namespace {

constexpr int kOk = CST_OK;

int check_node(const cst_gossip* n, const char* fn) {
  if (!n || !n->node) return set_error(CST_EINVAL, std::string(fn) + ": node is NULL");
  return kOk;
}

std::vector<std::string> split_commas(const char* text) {
  std::vector<std::string> out;
  std::string s = text ? text : "";
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const auto comma = s.find(',', pos);
    auto item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

void write_member(constellation::core::json::Writer& w, const constellation::GossipMember& m) {
  w.begin_object();
  w.key("name").value(m.name);
  w.key("address").value(m.address);
  w.key("state").value(m.state);
  w.key("incarnation").value(m.incarnation);
  w.key("state_map").begin_object();
  for (const auto& [k, v] : m.state_map) w.key(k).value(v);
  w.end_object();
  w.end_object();
}

int out_string(char** out, const std::string& s) {
  *out = dup_string(s);
  if (!*out) return set_error(CST_ERROR, "out of memory");
  return kOk;
}

}  // namespace

extern "C" {

int cst_gossip_options_init(cst_gossip_options* opts, unsigned int version) {
  if (!opts) return set_error(CST_EINVAL, "cst_gossip_options_init: opts is NULL");
  if (version != CST_GOSSIP_OPTIONS_VERSION) {
    return set_error(CST_EINVAL, "cst_gossip_options_init: unknown options version " + std::to_string(version));
  }
  *opts = cst_gossip_options CST_GOSSIP_OPTIONS_INIT;
  return CST_OK;
}

int cst_gossip_start(cst_gossip** out, const cst_gossip_options* opts) {
  return guarded([&] {
    if (!out) return set_error(CST_EINVAL, "cst_gossip_start: out is NULL");
    *out = nullptr;
    if (!opts) return set_error(CST_EINVAL, "cst_gossip_start: opts is NULL (name is required)");
    if (opts->version < 1 || opts->version > CST_GOSSIP_OPTIONS_VERSION) {
      return set_error(CST_EINVAL, "cst_gossip_start: unknown options version " + std::to_string(opts->version));
    }
    constellation::GossipOptions o;
    if (opts->name) o.name = opts->name;
    if (opts->bind) o.bind = opts->bind;
    if (opts->advertise) o.advertise = opts->advertise;
    o.join = split_commas(opts->join);
    o.keys = split_commas(opts->keys);
    if (opts->label) o.label = opts->label;
    if (opts->profile) o.profile = opts->profile;
    if (opts->data_dir) o.data_dir = opts->data_dir;
    auto node = constellation::Gossip::start(std::move(o));
    if (!node) return fail(node.error());
    auto h = std::make_unique<cst_gossip>();
    h->node = std::move(*node);
    *out = h.release();
    return kOk;
  });
}

void cst_gossip_free(cst_gossip* node) {
  if (!node) return;
  guarded([&] {
    delete node;
    return kOk;
  });
}

int cst_gossip_advertise_address(cst_gossip* node, char** out) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_gossip_advertise_address")) return rc;
    if (!out) return set_error(CST_EINVAL, "cst_gossip_advertise_address: out is NULL");
    return out_string(out, node->node->advertise_address());
  });
}

int cst_gossip_set_state(cst_gossip* node, const char* key, const char* value) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_gossip_set_state")) return rc;
    if (!key || !value) return set_error(CST_EINVAL, "cst_gossip_set_state: key or value is NULL");
    auto r = node->node->set_state(key, value);
    return r ? kOk : fail(r.error());
  });
}

int cst_gossip_erase_state(cst_gossip* node, const char* key) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_gossip_erase_state")) return rc;
    if (!key) return set_error(CST_EINVAL, "cst_gossip_erase_state: key is NULL");
    auto r = node->node->erase_state(key);
    return r ? kOk : fail(r.error());
  });
}

int cst_gossip_members(cst_gossip* node, char** out) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_gossip_members")) return rc;
    if (!out) return set_error(CST_EINVAL, "cst_gossip_members: out is NULL");
    constellation::core::json::Writer w;
    w.begin_array();
    for (const auto& m : node->node->members()) write_member(w, m);
    w.end_array();
    return out_string(out, w.str());
  });
}

int cst_gossip_join(cst_gossip* node, const char* seeds) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_gossip_join")) return rc;
    auto r = node->node->join(split_commas(seeds));
    return r ? kOk : fail(r.error());
  });
}

int cst_gossip_leave(cst_gossip* node, int64_t timeout_ms) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_gossip_leave")) return rc;
    auto r = node->node->leave(std::chrono::milliseconds(timeout_ms));
    return r ? kOk : fail(r.error());
  });
}

int cst_gossip_list_keys(cst_gossip* node, char** out) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_gossip_list_keys")) return rc;
    if (!out) return set_error(CST_EINVAL, "cst_gossip_list_keys: out is NULL");
    constellation::core::json::Writer w;
    w.begin_array();
    for (const auto& k : node->node->list_keys()) w.value(k);
    w.end_array();
    return out_string(out, w.str());
  });
}

int cst_gossip_install_key(cst_gossip* node, const char* key) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_gossip_install_key")) return rc;
    auto r = node->node->install_key(key ? key : "");
    return r ? kOk : fail(r.error());
  });
}

int cst_gossip_use_key(cst_gossip* node, const char* key) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_gossip_use_key")) return rc;
    auto r = node->node->use_key(key ? key : "");
    return r ? kOk : fail(r.error());
  });
}

int cst_gossip_remove_key(cst_gossip* node, const char* key) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_gossip_remove_key")) return rc;
    auto r = node->node->remove_key(key ? key : "");
    return r ? kOk : fail(r.error());
  });
}

int cst_gossip_metrics(cst_gossip* node, char** out) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_gossip_metrics")) return rc;
    if (!out) return set_error(CST_EINVAL, "cst_gossip_metrics: out is NULL");
    return out_string(out, node->node->metrics_text());
  });
}

int cst_gossip_subscribe(cst_gossip* node, uint64_t* out_id, cst_gossip_event_fn fn, void* payload) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_gossip_subscribe")) return rc;
    if (!fn) return set_error(CST_EINVAL, "cst_gossip_subscribe: fn is NULL");
    const auto id = node->node->subscribe([fn, payload](const constellation::GossipEvent& e) {
      constellation::core::json::Writer w;
      w.begin_object();
      w.key("kind").value(e.kind);
      w.key("member");
      write_member(w, e.member);
      w.end_object();
      fn(w.str().c_str(), payload);
    });
    if (out_id) *out_id = id;
    return kOk;
  });
}

int cst_gossip_unsubscribe(cst_gossip* node, uint64_t id) {
  return guarded([&] {
    if (int rc = check_node(node, "cst_gossip_unsubscribe")) return rc;
    node->node->unsubscribe(id);
    return kOk;
  });
}

}  // extern "C"
