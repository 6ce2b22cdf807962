// SPDX-License-Identifier: Apache-2.0
#include "dns/snapshot_json.hpp"

namespace constellation::dns {

namespace json = core::json;

namespace {

Result<std::vector<std::string>> string_list(const json::Value& obj, std::string_view key, const std::string& where) {
  std::vector<std::string> out;
  const json::Value* v = obj.find(key);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return Error(Code::InvalidArgument, where + "." + std::string(key) + ": expected array");
  for (std::size_t i = 0; i < v->as_array().size(); ++i) {
    const auto& e = v->as_array()[i];
    if (!e.is_string()) return Error(Code::InvalidArgument, where + "." + std::string(key) + "[" + std::to_string(i) + "]: expected string");
    out.push_back(e.as_string());
  }
  return out;
}

Result<std::map<std::string, std::string>> string_map(const json::Value& obj, std::string_view key, const std::string& where) {
  std::map<std::string, std::string> out;
  const json::Value* v = obj.find(key);
  if (!v || v->is_null()) return out;
  if (!v->is_object()) return Error(Code::InvalidArgument, where + "." + std::string(key) + ": expected object");
  for (const auto& [k, e] : v->as_object()) {
    if (!e.is_string()) return Error(Code::InvalidArgument, where + "." + std::string(key) + "." + k + ": expected string");
    out[k] = e.as_string();
  }
  return out;
}

Result<catalog::Health> parse_health(const std::string& s, const std::string& where) {
  if (s == "passing") return catalog::Health::Passing;
  if (s == "warning") return catalog::Health::Warning;
  if (s == "critical") return catalog::Health::Critical;
  if (s == "maintenance") return catalog::Health::Maintenance;
  return Error(Code::InvalidArgument, where + ".health: '" + s + "' is not passing, warning, critical or maintenance");
}

Result<catalog::NodeStatus> parse_status(const std::string& s, const std::string& where) {
  if (s == "alive") return catalog::NodeStatus::Alive;
  if (s == "suspect") return catalog::NodeStatus::Suspect;
  if (s == "failed") return catalog::NodeStatus::Failed;
  if (s == "left") return catalog::NodeStatus::Left;
  return Error(Code::InvalidArgument, where + ".status: '" + s + "' is not alive, suspect, failed or left");
}

}  // namespace

Result<catalog::Snapshot> snapshot_from_json(const json::Value& root) {
  if (!root.is_object()) return Error(Code::InvalidArgument, "snapshot: expected object");
  catalog::Snapshot snap;
  CST_TRY_ASSIGN(std::int64_t gen, json::get_int_or(root, "generation", "snapshot", 0));
  if (gen < 0) return Error(Code::InvalidArgument, "snapshot.generation: must not be negative");
  snap.generation = static_cast<std::uint64_t>(gen);
  CST_TRY_ASSIGN(snap.complete, json::get_bool_or(root, "complete", "snapshot", false));
  CST_TRY_ASSIGN(const json::Array* nodes, json::get_array(root, "nodes", "snapshot"));
  for (std::size_t i = 0; i < nodes->size(); ++i) {
    const json::Value& n = (*nodes)[i];
    const std::string where = "snapshot.nodes[" + std::to_string(i) + "]";
    if (!n.is_object()) return Error(Code::InvalidArgument, where + ": expected object");
    catalog::NodeView view;
    CST_TRY_ASSIGN(std::string id, json::get_string(n, "id", where));
    auto nid = core::NodeId::parse(id);
    if (!nid) return Error(Code::InvalidArgument, where + ".id: " + nid.error().message());
    view.entry.node.id = *nid;
    CST_TRY_ASSIGN(view.entry.node.name, json::get_string_or(n, "name", where, id));
    CST_TRY_ASSIGN(std::string status, json::get_string_or(n, "status", where, "alive"));
    CST_TRY_ASSIGN(view.status, parse_status(status, where));
    CST_TRY_ASSIGN(view.entry.node.roles, string_list(n, "roles", where));
    CST_TRY_ASSIGN(view.entry.node.tags, string_list(n, "tags", where));
    CST_TRY_ASSIGN(view.entry.node.version, json::get_string_or(n, "version", where, ""));
    CST_TRY_ASSIGN(view.entry.node.addresses, string_map(n, "addresses", where));
    CST_TRY_ASSIGN(std::int64_t ev, json::get_int_or(n, "entry_version", where, 0));
    view.entry.version = static_cast<std::uint64_t>(ev < 0 ? 0 : ev);
    if (const json::Value* insts = n.find("instances"); insts && !insts->is_null()) {
      if (!insts->is_array()) return Error(Code::InvalidArgument, where + ".instances: expected array");
      for (std::size_t j = 0; j < insts->as_array().size(); ++j) {
        const json::Value& in = insts->as_array()[j];
        const std::string iw = where + ".instances[" + std::to_string(j) + "]";
        if (!in.is_object()) return Error(Code::InvalidArgument, iw + ": expected object");
        catalog::Instance inst;
        CST_TRY_ASSIGN(inst.id, json::get_string(in, "id", iw));
        CST_TRY_ASSIGN(inst.service, json::get_string_or(in, "service", iw, inst.id));
        CST_TRY_ASSIGN(inst.project, json::get_string_or(in, "project", iw, ""));
        CST_TRY_ASSIGN(inst.runtime, json::get_string_or(in, "runtime", iw, ""));
        CST_TRY_ASSIGN(std::string health, json::get_string_or(in, "health", iw, "passing"));
        CST_TRY_ASSIGN(inst.health, parse_health(health, iw));
        CST_TRY_ASSIGN(inst.labels, string_map(in, "labels", iw));
        CST_TRY_ASSIGN(inst.networks, string_list(in, "networks", iw));
        view.entry.instances.push_back(std::move(inst));
      }
    }
    if (!snap.nodes.emplace(*nid, std::move(view)).second) {
      return Error(Code::InvalidArgument, where + ".id: node " + id + " listed twice");
    }
  }
  return snap;
}

Result<catalog::Snapshot> parse_snapshot(std::string_view text) {
  auto v = json::parse(text);
  if (!v) return Error(Code::InvalidArgument, "snapshot: " + v.error().message());
  return snapshot_from_json(*v);
}

json::Value snapshot_to_json(const catalog::Snapshot& snap) {
  json::Value root = json::Value::object();
  root["generation"] = static_cast<std::uint64_t>(snap.generation);
  root["complete"] = snap.complete;
  json::Value nodes = json::Value::array();
  for (const auto& [id, view] : snap.nodes) {
    json::Value n = json::Value::object();
    n["id"] = id.to_hex();
    n["name"] = view.entry.node.name;
    n["status"] = std::string(catalog::node_status_name(view.status));
    json::Value roles = json::Value::array();
    for (const auto& r : view.entry.node.roles) roles.push_back(r);
    n["roles"] = std::move(roles);
    json::Value addrs = json::Value::object();
    for (const auto& [k, v] : view.entry.node.addresses) addrs[k] = v;
    n["addresses"] = std::move(addrs);
    json::Value insts = json::Value::array();
    for (const auto& inst : view.entry.instances) {
      json::Value i = json::Value::object();
      i["id"] = inst.id;
      i["service"] = inst.service;
      i["health"] = std::string(catalog::health_name(inst.health));
      json::Value labels = json::Value::object();
      for (const auto& [k, v] : inst.labels) labels[k] = v;
      i["labels"] = std::move(labels);
      insts.push_back(std::move(i));
    }
    n["instances"] = std::move(insts);
    nodes.push_back(std::move(n));
  }
  root["nodes"] = std::move(nodes);
  return root;
}

}  // namespace constellation::dns
