// SPDX-License-Identifier: Apache-2.0
#include "catalog/snapshot_json.hpp"

#include "core/json.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <set>

namespace constellation::catalog {

namespace {

namespace json = core::json;
using json::Value;

Result<void> check_keys(bool strict, const Value& obj, std::initializer_list<std::string_view> allowed,
                        const std::string& where) {
  if (!strict) return ok();
  for (const auto& [k, _] : obj.as_object()) {
    bool known = false;
    for (auto a : allowed) known = known || k == a;
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return Error(Code::InvalidArgument, (where.empty() ? std::string("$") : where) + ": unknown key '" + k +
                                              "' (expected one of: " + list + ")");
    }
  }
  return ok();
}

std::string at(const std::string& where, std::string_view key) { return where.empty() ? std::string(key) : where + "." + std::string(key); }

Result<std::vector<std::string>> string_list(const Value& obj, std::string_view key, const std::string& where) {
  std::vector<std::string> out;
  const Value* v = obj.find(key);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) {
    return Error(Code::InvalidArgument, at(where, key) + ": expected array, got " + std::string(json::type_name(v->type())));
  }
  for (std::size_t i = 0; i < v->as_array().size(); ++i) {
    const Value& e = v->as_array()[i];
    if (!e.is_string()) {
      return Error(Code::InvalidArgument, at(where, key) + "[" + std::to_string(i) + "]: expected string, got " +
                                              std::string(json::type_name(e.type())));
    }
    out.push_back(e.as_string());
  }
  return out;
}

Result<std::map<std::string, std::string>> string_map(const Value& obj, std::string_view key, const std::string& where) {
  std::map<std::string, std::string> out;
  const Value* v = obj.find(key);
  if (!v || v->is_null()) return out;
  if (!v->is_object()) {
    return Error(Code::InvalidArgument, at(where, key) + ": expected object, got " + std::string(json::type_name(v->type())));
  }
  for (const auto& [k, e] : v->as_object()) {
    if (!e.is_string()) {
      return Error(Code::InvalidArgument, at(where, key) + "." + k + ": expected string, got " +
                                              std::string(json::type_name(e.type())));
    }
    out[k] = e.as_string();
  }
  return out;
}

Result<catalog::Health> parse_health(const std::string& s, const std::string& where) {
  using catalog::Health;
  for (Health h : {Health::Passing, Health::Warning, Health::Critical, Health::Maintenance}) {
    if (catalog::health_name(h) == s) return h;
  }
  return Error(Code::InvalidArgument, where + ": unknown health '" + s + "' (passing, warning, critical, maintenance)");
}

Result<catalog::NodeStatus> parse_status(const std::string& s, const std::string& where) {
  using catalog::NodeStatus;
  for (NodeStatus n : {NodeStatus::Alive, NodeStatus::Suspect, NodeStatus::Failed, NodeStatus::Left}) {
    if (catalog::node_status_name(n) == s) return n;
  }
  return Error(Code::InvalidArgument, where + ": unknown status '" + s + "' (alive, suspect, failed, left)");
}

Result<std::uint16_t> port_field(const Value& obj, std::string_view key, const std::string& where, bool allow_zero) {
  CST_TRY_ASSIGN(std::int64_t v, json::get_int_or(obj, key, where, 0));
  if (v < (allow_zero ? 0 : 1) || v > 65535) {
    return Error(Code::InvalidArgument, at(where, key) + ": " + std::to_string(v) + " is not a port number");
  }
  return static_cast<std::uint16_t>(v);
}

Result<catalog::Instance> parse_instance(const Value& v, const std::string& where, bool strict) {
  if (!v.is_object()) return Error(Code::InvalidArgument, where + ": expected object, got " + std::string(json::type_name(v.type())));
  CST_TRY(check_keys(strict, v, {"id", "service", "project", "runtime", "runtime_id", "labels", "ports", "networks", "health", "checks"}, where));
  catalog::Instance inst;
  CST_TRY_ASSIGN(inst.id, json::get_string(v, "id", where));
  if (inst.id.empty()) return Error(Code::InvalidArgument, where + ".id: must not be empty");
  CST_TRY_ASSIGN(inst.service, json::get_string_or(v, "service", where, ""));
  CST_TRY_ASSIGN(inst.project, json::get_string_or(v, "project", where, ""));
  CST_TRY_ASSIGN(inst.runtime, json::get_string_or(v, "runtime", where, "docker"));
  CST_TRY_ASSIGN(inst.runtime_id, json::get_string_or(v, "runtime_id", where, ""));
  CST_TRY_ASSIGN(inst.labels, string_map(v, "labels", where));
  CST_TRY_ASSIGN(inst.networks, string_list(v, "networks", where));
  CST_TRY_ASSIGN(std::string health, json::get_string_or(v, "health", where, "passing"));
  CST_TRY_ASSIGN(inst.health, parse_health(health, at(where, "health")));
  if (const Value* ports = v.find("ports"); ports && !ports->is_null()) {
    if (!ports->is_array()) return Error(Code::InvalidArgument, at(where, "ports") + ": expected array");
    for (std::size_t i = 0; i < ports->as_array().size(); ++i) {
      const Value& p = ports->as_array()[i];
      std::string pw = at(where, "ports") + "[" + std::to_string(i) + "]";
      if (!p.is_object()) return Error(Code::InvalidArgument, pw + ": expected object");
      CST_TRY(check_keys(strict, p, {"target", "published", "protocol", "host_ip"}, pw));
      catalog::PortBinding b;
      CST_TRY_ASSIGN(b.target, port_field(p, "target", pw, false));
      CST_TRY_ASSIGN(b.published, port_field(p, "published", pw, true));
      CST_TRY_ASSIGN(b.protocol, json::get_string_or(p, "protocol", pw, "tcp"));
      if (b.protocol != "tcp" && b.protocol != "udp") {
        return Error(Code::InvalidArgument, pw + ".protocol: '" + b.protocol + "' is not tcp or udp");
      }
      CST_TRY_ASSIGN(b.host_ip, json::get_string_or(p, "host_ip", pw, ""));
      inst.ports.push_back(std::move(b));
    }
  }
  if (const Value* checks = v.find("checks"); checks && !checks->is_null()) {
    if (!checks->is_array()) return Error(Code::InvalidArgument, at(where, "checks") + ": expected array");
    for (std::size_t i = 0; i < checks->as_array().size(); ++i) {
      const Value& c = checks->as_array()[i];
      std::string cw = at(where, "checks") + "[" + std::to_string(i) + "]";
      if (!c.is_object()) return Error(Code::InvalidArgument, cw + ": expected object");
      CST_TRY(check_keys(strict, c, {"name", "status", "output"}, cw));
      catalog::CheckResult r;
      CST_TRY_ASSIGN(r.name, json::get_string_or(c, "name", cw, ""));
      CST_TRY_ASSIGN(std::string status, json::get_string_or(c, "status", cw, "critical"));
      CST_TRY_ASSIGN(r.status, parse_health(status, at(cw, "status")));
      CST_TRY_ASSIGN(r.output, json::get_string_or(c, "output", cw, ""));
      inst.checks.push_back(std::move(r));
    }
  }
  return inst;
}

Result<catalog::NodeView> parse_node(const Value& v, const std::string& where, bool strict) {
  if (!v.is_object()) return Error(Code::InvalidArgument, where + ": expected object, got " + std::string(json::type_name(v.type())));
  CST_TRY(check_keys(strict, v, {"id", "name", "status", "version", "agent_version", "roles", "tags", "addresses", "instances"}, where));
  catalog::NodeView view;
  auto& node = view.entry.node;
  const Value* id = v.find("id");
  const bool has_id = id && !id->is_null();
  CST_TRY_ASSIGN(node.name, json::get_string_or(v, "name", where, ""));
  if (node.name.empty() && !has_id) {
    return Error(Code::InvalidArgument, where + ": a node needs a name or an id");
  }
  if (has_id) {
    if (!id->is_string()) return Error(Code::InvalidArgument, where + ".id: expected string");
    auto parsed = core::NodeId::parse(id->as_string());
    if (!parsed) return Error(Code::InvalidArgument, where + ".id: " + parsed.error().message());
    node.id = *parsed;
  } else {
    node.id = node_id_from_name(node.name);
  }
  CST_TRY_ASSIGN(std::string status, json::get_string_or(v, "status", where, "alive"));
  CST_TRY_ASSIGN(view.status, parse_status(status, at(where, "status")));
  CST_TRY_ASSIGN(std::int64_t version, json::get_int_or(v, "version", where, 0));
  if (version < 0) return Error(Code::InvalidArgument, where + ".version: must not be negative");
  view.entry.version = static_cast<std::uint64_t>(version);
  CST_TRY_ASSIGN(node.version, json::get_string_or(v, "agent_version", where, ""));
  CST_TRY_ASSIGN(node.roles, string_list(v, "roles", where));
  CST_TRY_ASSIGN(node.tags, string_list(v, "tags", where));
  CST_TRY_ASSIGN(node.addresses, string_map(v, "addresses", where));
  if (const Value* insts = v.find("instances"); insts && !insts->is_null()) {
    if (!insts->is_array()) return Error(Code::InvalidArgument, where + ".instances: expected array");
    std::set<std::string> ids;
    for (std::size_t i = 0; i < insts->as_array().size(); ++i) {
      std::string iw = where + ".instances[" + std::to_string(i) + "]";
      CST_TRY_ASSIGN(auto inst, parse_instance(insts->as_array()[i], iw, strict));
      if (!ids.insert(inst.id).second) return Error(Code::InvalidArgument, iw + ".id: duplicate instance id '" + inst.id + "'");
      view.entry.instances.push_back(std::move(inst));
    }
    std::sort(view.entry.instances.begin(), view.entry.instances.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
  }
  return view;
}

std::uint64_t fnv1a(std::string_view s, std::uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

core::NodeId node_id_from_name(std::string_view name) {
  std::uint64_t a = fnv1a(name, 14695981039346656037ULL);
  std::uint64_t b = fnv1a(name, a ^ 0x9E3779B97F4A7C15ULL);
  std::array<std::uint8_t, 16> bytes{};
  for (int i = 0; i < 8; ++i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(a >> (56 - 8 * i));
    bytes[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(b >> (56 - 8 * i));
  }
  return core::NodeId(bytes);
}

Result<catalog::Snapshot> snapshot_from_json(std::string_view text, const SnapshotJsonOptions& options) {
  auto parsed = json::parse(text);
  if (!parsed) return Error(Code::InvalidArgument, "state: " + parsed.error().message());
  return snapshot_from_value(*parsed, options);
}

Result<catalog::Snapshot> snapshot_from_value(const core::json::Value& root, const SnapshotJsonOptions& options) {
  const bool strict = options.reject_unknown_keys;
  if (!root.is_object()) return Error(Code::InvalidArgument, "state: expected a JSON object at the top");
  CST_TRY(check_keys(strict, root, {"generation", "complete", "nodes"}, ""));
  catalog::Snapshot snap;
  CST_TRY_ASSIGN(std::int64_t generation, json::get_int_or(root, "generation", "", 0));
  if (generation < 0) return Error(Code::InvalidArgument, "generation: must not be negative");
  snap.generation = static_cast<std::uint64_t>(generation);
  CST_TRY_ASSIGN(snap.complete, json::get_bool_or(root, "complete", "", true));
  if (const Value* nodes = root.find("nodes"); nodes && !nodes->is_null()) {
    if (!nodes->is_array()) return Error(Code::InvalidArgument, "nodes: expected array, got " + std::string(json::type_name(nodes->type())));
    std::set<std::string> names;
    for (std::size_t i = 0; i < nodes->as_array().size(); ++i) {
      std::string where = "nodes[" + std::to_string(i) + "]";
      CST_TRY_ASSIGN(auto view, parse_node(nodes->as_array()[i], where, strict));
      if (!view.entry.node.name.empty() && !names.insert(view.entry.node.name).second) {
        return Error(Code::InvalidArgument, where + ".name: duplicate node name '" + view.entry.node.name + "'");
      }
      auto id = view.entry.node.id;
      if (!snap.nodes.emplace(id, std::move(view)).second) {
        return Error(Code::InvalidArgument, where + ".id: duplicate node id " + id.to_hex());
      }
    }
  }
  return snap;
}

std::string snapshot_to_json(const catalog::Snapshot& snapshot, int indent) {
  json::Writer w({.sort_keys = false, .ascii_only = false, .indent = indent});
  auto strings = [&](const std::vector<std::string>& v) {
    w.begin_array();
    for (const auto& s : v) w.value(s);
    w.end_array();
  };
  auto map = [&](const std::map<std::string, std::string>& m) {
    w.begin_object();
    for (const auto& [k, v] : m) w.key(k).value(v);
    w.end_object();
  };
  w.begin_object();
  w.key("generation").value(snapshot.generation);
  w.key("complete").value(snapshot.complete);
  w.key("nodes").begin_array();
  for (const auto& [id, view] : snapshot.nodes) {
    const auto& n = view.entry.node;
    w.begin_object();
    w.key("id").value(id.to_hex());
    w.key("name").value(n.name);
    w.key("status").value(catalog::node_status_name(view.status));
    w.key("version").value(view.entry.version);
    w.key("agent_version").value(n.version);
    w.key("roles");
    strings(n.roles);
    w.key("tags");
    strings(n.tags);
    w.key("addresses");
    map(n.addresses);
    w.key("instances").begin_array();
    for (const auto& inst : view.entry.instances) {
      w.begin_object();
      w.key("id").value(inst.id);
      w.key("service").value(inst.service);
      w.key("project").value(inst.project);
      w.key("runtime").value(inst.runtime);
      w.key("runtime_id").value(inst.runtime_id);
      w.key("labels");
      map(inst.labels);
      w.key("ports").begin_array();
      for (const auto& p : inst.ports) {
        w.begin_object();
        w.key("target").value(static_cast<unsigned>(p.target));
        w.key("published").value(static_cast<unsigned>(p.published));
        w.key("protocol").value(p.protocol);
        w.key("host_ip").value(p.host_ip);
        w.end_object();
      }
      w.end_array();
      w.key("networks");
      strings(inst.networks);
      w.key("health").value(catalog::health_name(inst.health));
      w.key("checks").begin_array();
      for (const auto& c : inst.checks) {
        w.begin_object();
        w.key("name").value(c.name).key("status").value(catalog::health_name(c.status)).key("output").value(c.output);
        w.end_object();
      }
      w.end_array();
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.end_object();
  std::string out = std::move(w).take();
  out.push_back('\n');
  return out;
}

}  // namespace constellation::catalog
