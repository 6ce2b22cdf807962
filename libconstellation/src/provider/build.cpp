// SPDX-License-Identifier: Apache-2.0
#include "provider/build.hpp"

#include "provider/labels.hpp"
#include "provider/rule.hpp"

#include <algorithm>
#include <map>
#include <optional>

namespace constellation::provider {

namespace {

using catalog::Health;
using catalog::NodeStatus;

/// Everything the per-instance steps report against.
struct Context {
  const catalog::NodeView& node;
  const catalog::Instance& instance;
  std::vector<Diagnostic>& diagnostics;

  void report(Severity sev, std::string resource, std::string label, std::string message) const {
    std::string service = instance.project.empty() ? instance.service : instance.project + "/" + instance.service;
    diagnostics.push_back(Diagnostic{sev, node.entry.node.name, instance.id, std::move(service), std::move(resource),
                                     std::move(label),
                                     std::move(message)});
  }
};

std::string resource_path(Section s, const std::string& name) { return section_path(s) + "." + name; }

/// The label prefix of a resource as the docs write it: "traefik.http.services.<name>".
std::string label_prefix(Section s, const std::string& name) {
  std::string p = "traefik." + section_path(s);
  for (char& c : p) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return p + "." + name;
}

bool is_wildcard(std::string_view ip) { return ip.empty() || ip == "0.0.0.0" || ip == "::" || ip == "[::]"; }

bool is_loopback(std::string_view ip) { return ip.starts_with("127.") || ip == "::1" || ip == "[::1]"; }

std::string join_host_port(std::string_view host, std::uint16_t port) {
  std::string out;
  if (host.find(':') != std::string_view::npos && !host.starts_with("[")) {
    out = "[" + std::string(host) + "]";
  } else {
    out = std::string(host);
  }
  return out + ":" + std::to_string(port);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "none" : out;
}

/// The published host:port other nodes reach for container port `port` (or the lowest port of
/// `protocol` when absent). Errors are sentences for a diagnostic.
Result<std::string> resolve_address(const catalog::NodeView& node, const catalog::Instance& inst,
                                    const std::string& network_label, const Options& options,
                                    std::optional<std::int64_t> port, std::string_view protocol) {
  const catalog::PortBinding* binding = nullptr;
  for (const auto& b : inst.ports) {
    if (b.protocol != protocol) continue;
    if (port ? b.target == *port : (!binding || b.target < binding->target)) binding = &b;
    if (port && binding) break;
  }
  if (!binding) {
    std::vector<std::string> ports;
    for (const auto& b : inst.ports) ports.push_back(std::to_string(b.target) + "/" + b.protocol);
    if (port) {
      return Error(Code::InvalidArgument, "port " + std::to_string(*port) + "/" + std::string(protocol) +
                                              " is not one of the instance's ports (" + join(ports) + ")");
    }
    return Error(Code::InvalidArgument, "port is missing: the instance has no " + std::string(protocol) +
                                            " port (ports: " + join(ports) + "); set the server.port label");
  }
  if (binding->published == 0) {
    return Error(Code::InvalidArgument, "port " + std::to_string(binding->target) + "/" + std::string(protocol) +
                                            " is not published on the node, so other nodes cannot reach it");
  }
  if (!is_wildcard(binding->host_ip) && !is_loopback(binding->host_ip)) {
    return join_host_port(binding->host_ip, binding->published);
  }
  const auto& addresses = node.entry.node.addresses;
  std::string network;
  const auto& nets = inst.networks;
  auto on = [&](const std::string& n) { return std::find(nets.begin(), nets.end(), n) != nets.end(); };
  if (!network_label.empty()) {
    network = network_label;
  } else if (nets.size() == 1) {
    network = nets.front();
  } else if (!options.network.empty() && (nets.empty() || on(options.network))) {
    network = options.network;
  } else if (nets.empty() && addresses.size() == 1) {
    network = addresses.begin()->first;
  } else {
    std::vector<std::string> have;
    for (const auto& [n, _] : addresses) have.push_back(n);
    return Error(Code::InvalidArgument, "cannot choose a network (instance networks: " + join(nets) +
                                            "; node addresses on: " + join(have) +
                                            "): set traefik.constellation.network or the provider's network option");
  }
  auto it = addresses.find(network);
  if (it == addresses.end() || it->second.empty()) {
    return Error(Code::InvalidArgument, "node " + node.entry.node.name + " has no address on network '" + network + "'");
  }
  if (is_loopback(binding->host_ip)) {
    // Only a node that is itself reached over loopback on this network (a single-node cluster,
    // the embedded default) can serve a port published on loopback.
    if (!is_loopback(it->second)) {
      return Error(Code::InvalidArgument, "port " + std::to_string(binding->target) + " is published on " +
                                              binding->host_ip + " only, which other nodes cannot reach");
    }
    return join_host_port(binding->host_ip, binding->published);
  }
  return join_host_port(it->second, binding->published);
}

/// A URL as Traefik's server.url wants it: scheme://host[:port][/path].
bool plausible_url(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  for (char c : url.substr(0, sep)) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  std::string_view rest = url.substr(sep + 3);
  return !rest.empty() && rest.front() != '/' && rest.find(' ') == std::string_view::npos;
}

Value take_member(Value& obj, std::string_view key) {
  if (!obj.is_object()) return {};
  auto& members = obj.as_object();
  for (auto it = members.begin(); it != members.end(); ++it) {
    if (it->first == key) {
      Value v = std::move(it->second);
      members.erase(it);
      return v;
    }
  }
  return {};
}

/// Sets obj[key] keeping the members sorted (obj's members are sorted already).
void set_member(Value& obj, std::string_view key, Value v) {
  auto& members = obj.as_object();
  auto it = std::lower_bound(members.begin(), members.end(), key,
                             [](const auto& m, std::string_view k) { return m.first < k; });
  if (it != members.end() && it->first == key) {
    it->second = std::move(v);
  } else {
    members.emplace(it, std::string(key), std::move(v));
  }
}

/// Which health a policy routes to.
bool routable(Health h, HealthPolicy p) {
  return h == Health::Passing || (h == Health::Warning && p == HealthPolicy::PassingOrWarning);
}

bool node_routable(NodeStatus s) { return s == NodeStatus::Alive || s == NodeStatus::Suspect; }

std::string local_name(const std::string& ref) {
  if (ref.size() > 5 && ref.ends_with("@http")) return ref.substr(0, ref.size() - 5);
  return ref;
}

bool is_foreign(const std::string& ref) { return local_name(ref).find('@') != std::string::npos; }

}  // namespace

std::string default_service_name(const catalog::Instance& instance) {
  if (!instance.service.empty()) {
    return normalize_name(instance.project.empty() ? instance.service : instance.service + "_" + instance.project);
  }
  return normalize_name(instance.id);
}

Result<Builder> Builder::create(const Options& options, TraefikVersion version) {
  CST_TRY(validate(options));
  auto t = RuleTemplate::compile(options.default_rule);
  if (!t) return Error(Code::InvalidArgument, "default_rule: " + t.error().message());
  return Builder(options, version, std::move(*t));
}

Config Builder::build_instance(const catalog::NodeView& node, const catalog::Instance& inst,
                               std::vector<Diagnostic>& diagnostics) const {
  Context ctx{node, inst, diagnostics};
  DecodedLabels decoded = decode_labels(inst.labels, version_);
  for (auto& issue : decoded.issues) ctx.report(issue.severity, std::move(issue.resource), std::move(issue.label), std::move(issue.message));
  if (decoded.enable_invalid) return {};
  if (!decoded.enable.value_or(options_.exposed_by_default)) return {};

  Config& c = decoded.config;
  const std::string service_name = default_service_name(inst);
  if (service_name.empty()) {
    ctx.report(Severity::Error, "", "", "the instance has no service name or id to name its service after");
    return {};
  }
  const bool has_server = node_routable(node.status) && routable(inst.health, options_.health);
  const bool labelled = std::any_of(inst.labels.begin(), inst.labels.end(), [](const auto& kv) {
    return kv.first.size() > 8 && iequals(std::string_view(kv.first).substr(0, 8), "traefik.");
  });

  // Adds this instance's server to the load balancer of service `name` in `section`; false when
  // the service had to be dropped.
  auto add_server = [&](Section section, const std::string& name, Value& service, std::string_view protocol) -> bool {
    auto resource = [&] { return resource_path(section, name); };
    auto prefix = [&] { return label_prefix(section, name) + ".loadbalancer.server"; };
    Value* lb = service.find("loadBalancer");
    if (!lb) {
      ctx.report(Severity::Error, resource(), "",
                 "only load-balancer services can be defined with labels (Traefik's Docker provider refuses the "
                 "others too); define it in a file and refer to it as " + name + "@file");
      return false;
    }
    Value slot = take_member(*lb, "server");
    if (!has_server) {
      set_member(*lb, "servers", Value::array());
      return true;
    }
    std::optional<std::int64_t> port;
    if (const Value* p = slot.find("port")) port = p->as_int();
    Value server = Value::object();
    if (section == Section::HttpServices) {
      const Value* url = slot.find("url");
      const Value* scheme = slot.find("scheme");
      if (url) {
        if (port || scheme) {
          ctx.report(Severity::Error, resource(), prefix() + ".url",
                     "server.url is set together with server.port or server.scheme; use one or the other");
          return false;
        }
        if (!plausible_url(url->as_string())) {
          ctx.report(Severity::Error, resource(), prefix() + ".url",
                     "'" + url->as_string() + "' is not a URL such as http://10.0.0.5:8080");
          return false;
        }
        server["url"] = *url;
      } else {
        auto address = resolve_address(node, inst, decoded.network, options_, port, protocol);
        if (!address) {
          if (!labelled && inst.ports.empty()) {
            ctx.report(Severity::Warning, resource(), "",
                       "exposed by default but publishes no port, so it is not routed (label it traefik.enable=false "
                       "to say so)");
          } else {
            ctx.report(Severity::Error, resource(), port ? prefix() + ".port" : "", address.error().message());
          }
          return false;
        }
        server["url"] = (scheme ? scheme->as_string() : std::string("http")) + "://" + *address;
      }
      if (const Value* w = slot.find("weight")) server["weight"] = *w;
      if (const Value* pp = slot.find("preservePath")) server["preservePath"] = *pp;
    } else {
      auto address = resolve_address(node, inst, decoded.network, options_, port, protocol);
      if (!address) {
        ctx.report(Severity::Error, resource(), port ? prefix() + ".port" : "", address.error().message());
        return false;
      }
      server["address"] = *address;
      if (const Value* tls = slot.find("tls")) server["tls"] = *tls;
    }
    sort_members(server);
    Value servers = Value::array();
    servers.push_back(std::move(server));
    set_member(*lb, "servers", std::move(servers));
    return true;
  };

  std::vector<std::string> dropped_services;
  auto add_servers = [&](Section section, std::string_view protocol) {
    auto& services = c[section];
    for (auto it = services.begin(); it != services.end();) {
      if (add_server(section, it->first, it->second, protocol)) {
        ++it;
      } else {
        dropped_services.push_back(it->first);
        it = services.erase(it);
      }
    }
  };

  // Rule syntax of a router in the target version; nullopt (after reporting) when invalid.
  auto syntax_of = [&](Section section, const std::string& name, const Value& router) -> std::optional<RuleSyntax> {
    if (version_ == TraefikVersion::V2) return RuleSyntax::V2;
    const Value* rs = router.find("ruleSyntax");
    if (!rs) return RuleSyntax::V3;
    if (rs->as_string() == "v2") return RuleSyntax::V2;
    if (rs->as_string() == "v3") return RuleSyntax::V3;
    ctx.report(Severity::Error, resource_path(section, name), label_prefix(section, name) + ".rulesyntax",
               "ruleSyntax must be v2 or v3, got '" + rs->as_string() + "'");
    return std::nullopt;
  };

  // Binds routers without a service to the single service, as Traefik does; drops the ones it
  // cannot bind or whose rule is missing or invalid.
  auto bind_routers = [&](Section routers_section, Section services_section, std::optional<RuleKind> rule_kind,
                          bool default_rule) {
    auto& routers = c[routers_section];
    const auto& services = c[services_section];
    for (auto it = routers.begin(); it != routers.end();) {
      const std::string& name = it->first;
      Value& router = it->second;
      auto resource = [&] { return resource_path(routers_section, name); };
      bool keep = true;
      if (rule_kind) {
        const Value* rule = router.find("rule");
        bool default_used = false;
        if (!rule && default_rule) {
          TemplateData data{service_name, inst.id, &inst.labels};
          auto text = default_rule_.execute(data);
          if (!text || text->empty()) {
            ctx.report(Severity::Error, resource(), "",
                       text ? "the default rule is empty for this instance" : text.error().message());
            keep = false;
          } else {
            set_member(router, "rule", Value(*text));
            rule = router.find("rule");
            default_used = true;
          }
        } else if (!rule) {
          ctx.report(Severity::Error, resource(), "", "has no rule (a TCP router needs one, e.g. HostSNI(`*`))");
          keep = false;
        }
        if (keep) {
          auto syntax = syntax_of(routers_section, name, router);
          if (!syntax) {
            keep = false;
          } else if (auto r = check_rule(rule->as_string(), *rule_kind, *syntax); !r) {
            ctx.report(Severity::Error, resource(), default_used ? "" : label_prefix(routers_section, name) + ".rule",
                       (default_used ? "default rule '" : "rule '") + rule->as_string() + "': " + r.error().message());
            keep = false;
          }
        }
      }
      if (keep && !router.find("service")) {
        if (services.size() == 1) {
          set_member(router, "service", Value(services.begin()->first));
        } else if (services.empty() && !dropped_services.empty()) {
          ctx.report(Severity::Error, resource(), "",
                     "dropped: the instance's service '" + dropped_services.front() + "' was dropped (see its error)");
          keep = false;
        } else {
          ctx.report(Severity::Error, resource(), "",
                     services.empty() ? "has no service, and the instance defines none to bind it to"
                                      : "has no service, and the instance defines several (set " +
                                            label_prefix(routers_section, name) + ".service)");
          keep = false;
        }
      }
      it = keep ? std::next(it) : routers.erase(it);
    }
  };

  bool tcp_or_udp = false;
  if (!c[Section::TcpRouters].empty() || !c[Section::TcpServices].empty()) {
    tcp_or_udp = true;
    if (c[Section::TcpServices].empty()) {
      Value svc = Value::object();
      svc["loadBalancer"] = Value::object();
      c[Section::TcpServices][service_name] = std::move(svc);
    }
    add_servers(Section::TcpServices, "tcp");
    bind_routers(Section::TcpRouters, Section::TcpServices, RuleKind::Tcp, false);
  }
  if (!c[Section::UdpRouters].empty() || !c[Section::UdpServices].empty()) {
    tcp_or_udp = true;
    if (c[Section::UdpServices].empty()) {
      Value svc = Value::object();
      svc["loadBalancer"] = Value::object();
      c[Section::UdpServices][service_name] = std::move(svc);
    }
    add_servers(Section::UdpServices, "udp");
    bind_routers(Section::UdpRouters, Section::UdpServices, std::nullopt, false);
  }
  const bool http_labels = !c[Section::HttpRouters].empty() || !c[Section::HttpMiddlewares].empty() ||
                           !c[Section::HttpServices].empty();
  if (tcp_or_udp && !http_labels) return std::move(c);

  if (c[Section::HttpServices].empty()) {
    Value svc = Value::object();
    svc["loadBalancer"] = Value::object();
    c[Section::HttpServices][service_name] = std::move(svc);
  }
  const std::size_t services_before = c[Section::HttpServices].size();
  add_servers(Section::HttpServices, "tcp");
  if (c[Section::HttpRouters].empty()) {
    if (services_before > 1) {
      ctx.report(Severity::Warning, "", "",
                 "defines several HTTP services and no router, so no router is created (as in Traefik)");
    } else if (!c[Section::HttpServices].empty()) {
      c[Section::HttpRouters][service_name] = Value::object();
    }
  }
  bind_routers(Section::HttpRouters, Section::HttpServices, RuleKind::Http, true);
  return std::move(c);
}

Config Builder::build(const catalog::Snapshot& snapshot, std::vector<Diagnostic>& diagnostics,
                      InstanceCache* cache) const {
  std::vector<Contribution> contributions;
  if (cache) {
    ++cache->epoch_;
    cache->hits_ = cache->misses_ = 0;
  }
  for (const auto& [id, view] : snapshot.nodes) {
    if (!node_routable(view.status)) continue;
    const auto& node = view.entry.node;
    for (const auto& inst : view.entry.instances) {
      std::shared_ptr<const Config> config;
      if (cache) {
        auto& e = cache->entries_[{id, inst.id}];
        const bool same_version = view.entry.version != 0 && e.entry_version == view.entry.version;
        if (e.config && e.status == view.status &&
            (same_version || (e.node_name == node.name && e.addresses == node.addresses && e.instance == inst))) {
          ++cache->hits_;
        } else {
          ++cache->misses_;
          e.diagnostics.clear();
          e.config = std::make_shared<const Config>(build_instance(view, inst, e.diagnostics));
          e.entry_version = view.entry.version;
          e.node_name = node.name;
          e.status = view.status;
          e.addresses = node.addresses;
          e.instance = inst;
        }
        e.epoch = cache->epoch_;
        diagnostics.insert(diagnostics.end(), e.diagnostics.begin(), e.diagnostics.end());
        config = e.config;
      } else {
        config = std::make_shared<const Config>(build_instance(view, inst, diagnostics));
      }
      if (!config->empty()) contributions.push_back(Contribution{node.name, inst.id, std::move(config)});
    }
  }
  if (cache) {
    std::erase_if(cache->entries_, [&](const auto& kv) { return kv.second.epoch != cache->epoch_; });
  }
  MergeResult merged = merge(contributions, diagnostics);
  finalize(merged, options_, diagnostics);
  normalize(diagnostics);
  return std::move(merged.config);
}

namespace {

bool is_service_section(Section s) {
  return s == Section::HttpServices || s == Section::TcpServices || s == Section::UdpServices;
}

/// Two resource bodies (members sorted) equal, except for load-balancer servers when `service`.
bool same_definition(const Value& a, const Value& b, bool service) {
  if (!service) return a == b;
  if (!a.is_object() || !b.is_object()) return a == b;
  const auto& ma = a.as_object();
  const auto& mb = b.as_object();
  if (ma.size() != mb.size()) return false;
  for (std::size_t i = 0; i < ma.size(); ++i) {
    if (ma[i].first != mb[i].first) return false;
    if (ma[i].first != "loadBalancer") {
      if (!(ma[i].second == mb[i].second)) return false;
      continue;
    }
    if (!ma[i].second.is_object() || !mb[i].second.is_object()) return false;
    // Compare the load balancers member by member, skipping "servers" on both sides.
    const auto& la = ma[i].second.as_object();
    const auto& lb = mb[i].second.as_object();
    std::size_t x = 0, y = 0;
    for (;;) {
      while (x < la.size() && la[x].first == "servers") ++x;
      while (y < lb.size() && lb[y].first == "servers") ++y;
      if (x == la.size() || y == lb.size()) {
        if (x != la.size() || y != lb.size()) return false;
        break;
      }
      if (la[x].first != lb[y].first || !(la[x].second == lb[y].second)) return false;
      ++x;
      ++y;
    }
  }
  return true;
}

}  // namespace

MergeResult merge(const std::vector<Contribution>& contributions, std::vector<Diagnostic>& diagnostics) {
  struct Definition {
    const Value* body;  // the first contribution's; equal to every other one of this definition
    std::vector<const std::string*> origins;
    std::vector<const Value*> servers;
  };
  std::array<std::map<std::string_view, std::vector<Definition>>, kSectionCount> groups;
  std::vector<std::string> origins;
  origins.reserve(contributions.size());
  for (const auto& c : contributions) origins.push_back(c.node + "/" + c.instance);

  for (std::size_t ci = 0; ci < contributions.size(); ++ci) {
    const Config& config = *contributions[ci].config;
    for (const auto& desc : all_sections()) {
      const bool service = is_service_section(desc.section);
      for (const auto& [name, resource_body] : config[desc.section]) {
        const Value& body = resource_body;  // a plain reference: lambdas cannot capture bindings in clang 14
        auto& defs = groups[static_cast<std::size_t>(desc.section)][name];
        auto it = std::find_if(defs.begin(), defs.end(),
                               [&](const Definition& d) { return same_definition(*d.body, body, service); });
        if (it == defs.end()) {
          defs.push_back(Definition{&body, {}, {}});
          it = std::prev(defs.end());
        }
        it->origins.push_back(&origins[ci]);
        if (service) {
          if (const Value* lb = body.find("loadBalancer")) {
            if (const Value* servers = lb->find("servers"); servers && servers->is_array()) {
              for (const auto& s : servers->as_array()) it->servers.push_back(&s);
            }
          }
        }
      }
    }
  }

  MergeResult out;
  for (const auto& desc : all_sections()) {
    auto& resources = out.config[desc.section];
    for (auto& [name_view, defs] : groups[static_cast<std::size_t>(desc.section)]) {
      const std::string name(name_view);
      auto by_name = [](const std::string* a, const std::string* b) { return *a < *b; };
      for (auto& d : defs) std::sort(d.origins.begin(), d.origins.end(), by_name);
      std::sort(defs.begin(), defs.end(),
                [](const Definition& a, const Definition& b) { return *a.origins.front() < *b.origins.front(); });
      const std::string resource = resource_path(desc.section, name);
      if (defs.size() > 1) {
        std::string msg = "defined differently by " + std::to_string(defs.size()) + " groups of instances (";
        for (std::size_t i = 0; i < defs.size(); ++i) {
          if (i) msg += " | ";
          for (std::size_t k = 0; k < defs[i].origins.size(); ++k) msg += (k ? ", " : "") + *defs[i].origins[k];
        }
        Value a = *defs[0].body, b = *defs[1].body;
        for (Value* v : {&a, &b}) {
          if (Value* lb = v->find("loadBalancer")) take_member(*lb, "servers");
        }
        msg += "); first difference: " + first_difference(a, b) + "; dropped until the definitions agree";
        diagnostics.push_back(Diagnostic{Severity::Error, "", "", "", resource, "", std::move(msg)});
        out.conflicts.insert(resource);
        continue;
      }
      const Definition& d = defs.front();
      Value body = *d.body;
      if (Value* lb = body.find("loadBalancer")) {
        const std::string_view key = desc.section == Section::HttpServices ? "url" : "address";
        // One server per URL; equal URLs with different extras resolve to the smallest, so the
        // result does not depend on input order.
        std::map<std::string_view, const Value*> by_key;
        for (const Value* s : d.servers) {
          const Value* k = s->find(key);
          std::string_view kv = k && k->is_string() ? std::string_view(k->as_string()) : std::string_view();
          auto [it, inserted] = by_key.emplace(kv, s);
          if (!inserted && !(*s == *it->second) &&
              core::json::serialize(*s, {.sort_keys = true}) < core::json::serialize(*it->second, {.sort_keys = true})) {
            it->second = s;
          }
        }
        Value servers = Value::array();
        servers.as_array().reserve(by_key.size());
        for (const auto& [k, s] : by_key) servers.push_back(*s);
        (*lb)["servers"] = std::move(servers);
      }
      resources.emplace(name, std::move(body));
    }
  }
  return out;
}

void finalize(MergeResult& merged, const Options& options, std::vector<Diagnostic>& diagnostics) {
  Config& c = merged.config;
  std::map<std::string, std::string> emptied;  // resource → why it was dropped

  for (Section s : {Section::HttpServices, Section::TcpServices, Section::UdpServices}) {
    auto& services = c[s];
    for (auto it = services.begin(); it != services.end();) {
      const Value* lb = it->second.find("loadBalancer");
      const Value* servers = lb ? lb->find("servers") : nullptr;
      if (!servers || !servers->is_array() || !servers->as_array().empty()) {
        ++it;
        continue;
      }
      const std::string resource = resource_path(s, it->first);
      if (options.empty_services == EmptyServices::Keep) {
        diagnostics.push_back(Diagnostic{Severity::Warning, "", "", "", resource, "",
                                         "no routable server: kept with an empty server list, so Traefik answers 503"});
        ++it;
      } else {
        diagnostics.push_back(Diagnostic{Severity::Warning, "", "", "", resource, "",
                                         "no routable server: dropped with its routers (empty_services=drop)"});
        emptied.emplace(resource, "no routable server (empty_services=drop)");
        it = services.erase(it);
      }
    }
  }

  struct RouterKind {
    Section routers, services, middlewares;
    bool has_middlewares;
  };
  const RouterKind kinds[] = {
      {Section::HttpRouters, Section::HttpServices, Section::HttpMiddlewares, true},
      {Section::TcpRouters, Section::TcpServices, Section::TcpMiddlewares, true},
      {Section::UdpRouters, Section::UdpServices, Section::UdpServices, false},
  };
  for (const auto& k : kinds) {
    auto& routers = c[k.routers];
    for (auto it = routers.begin(); it != routers.end();) {
      const std::string resource = resource_path(k.routers, it->first);
      std::optional<Diagnostic> drop;
      if (const Value* svc = it->second.find("service"); svc && svc->is_string() && !is_foreign(svc->as_string())) {
        const std::string name = local_name(svc->as_string());
        if (!c[k.services].count(name)) {
          const std::string target = resource_path(k.services, name);
          if (auto e = emptied.find(target); e != emptied.end()) {
            drop = Diagnostic{Severity::Warning, "", "", "", resource, "",
                              "dropped: its service '" + name + "' has " + e->second};
          } else if (merged.conflicts.count(target)) {
            drop = Diagnostic{Severity::Error, "", "", "", resource, "",
                              "dropped: its service '" + name + "' was dropped (conflicting definitions)"};
          } else {
            drop = Diagnostic{Severity::Error, "", "", "", resource, "",
                              "dropped: its service '" + name +
                                  "' is not defined by any instance (a service of another provider is written " + name +
                                  "@file, " + name + "@docker, ...)"};
          }
        }
      }
      if (!drop && k.has_middlewares) {
        if (const Value* mws = it->second.find("middlewares"); mws && mws->is_array()) {
          for (const auto& mw : mws->as_array()) {
            if (!mw.is_string() || is_foreign(mw.as_string())) continue;
            const std::string name = local_name(mw.as_string());
            if (c[k.middlewares].count(name)) continue;
            const std::string target = resource_path(k.middlewares, name);
            drop = Diagnostic{Severity::Error, "", "", "", resource, "",
                              merged.conflicts.count(target)
                                  ? "dropped: its middleware '" + name + "' was dropped (conflicting definitions)"
                                  : "dropped: its middleware '" + name +
                                        "' is not defined by any instance (a middleware of another provider is "
                                        "written " + name + "@file, ...)"};
            break;
          }
        }
      }
      if (drop) {
        diagnostics.push_back(std::move(*drop));
        it = routers.erase(it);
      } else {
        ++it;
      }
    }
  }

  if (!options.entry_points.empty()) {
    for (Section s : {Section::HttpRouters, Section::TcpRouters, Section::UdpRouters}) {
      auto& routers = c[s];
      for (auto it = routers.begin(); it != routers.end();) {
        const Value* eps = it->second.find("entryPoints");
        bool keep = !eps || !eps->is_array() || eps->as_array().empty();
        if (!keep) {
          for (const auto& ep : eps->as_array()) {
            if (ep.is_string() && std::find(options.entry_points.begin(), options.entry_points.end(), ep.as_string()) !=
                                      options.entry_points.end()) {
              keep = true;
              break;
            }
          }
        }
        it = keep ? std::next(it) : routers.erase(it);
      }
    }
  }
}

}  // namespace constellation::provider
