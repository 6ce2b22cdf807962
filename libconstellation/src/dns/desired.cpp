// SPDX-License-Identifier: Apache-2.0
#include "dns/desired.hpp"

#include "dns/name.hpp"
#include "dns/rule.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace constellation::dns {

std::size_t DesiredState::record_count() const {
  std::size_t n = 0;
  for (const auto& [z, rs] : zones) n += rs.size();
  return n;
}

namespace {

// What one instance asks for one host name.
struct Claim {
  TargetPolicy targets;
  std::string cname;  // for Cname
  std::uint32_t ttl;
  bool proxied;
  std::string source;  // "node/instance" for notes
  bool operator==(const Claim& o) const {
    return targets == o.targets && cname == o.cname && ttl == o.ttl && proxied == o.proxied;
  }
};

bool node_live(catalog::NodeStatus s) { return s == catalog::NodeStatus::Alive || s == catalog::NodeStatus::Suspect; }
bool instance_serving(catalog::Health h) { return h == catalog::Health::Passing || h == catalog::Health::Warning; }

std::string label_or(const catalog::Instance& inst, std::string_view key, std::string fallback) {
  auto it = inst.labels.find(std::string(key));
  return it == inst.labels.end() ? fallback : it->second;
}

bool is_false(std::string_view v) { return v == "false" || v == "False" || v == "FALSE" || v == "0" || v == "no"; }

// Host names an instance declares (raw, not normalised), with notes for bad input.
std::vector<std::string> declared_hosts(const catalog::Instance& inst, const std::string& where, std::vector<std::string>& notes) {
  std::vector<std::string> out;
  const bool traefik_on = !is_false(label_or(inst, "traefik.enable", "true"));
  const bool use_rules = !is_false(label_or(inst, kLabelFromRules, "true"));
  if (traefik_on && use_rules) {
    for (const auto& [key, value] : inst.labels) {
      // traefik.http.routers.<name>.rule and traefik.tcp.routers.<name>.rule (keys are
      // case-insensitive in Traefik's label decoder).
      std::string k = key;
      std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      const bool http = k.starts_with("traefik.http.routers.");
      const bool tcp = k.starts_with("traefik.tcp.routers.");
      if ((!http && !tcp) || !k.ends_with(".rule")) continue;
      auto hosts = hosts_from_rule(value);
      if (!hosts) {
        notes.push_back(where + ": label " + key + ": " + hosts.error().message());
        continue;
      }
      out.insert(out.end(), hosts->begin(), hosts->end());
    }
  }
  std::string explicit_hosts = label_or(inst, kLabelHostnames, "");
  std::size_t start = 0;
  while (start < explicit_hosts.size()) {
    std::size_t comma = explicit_hosts.find(',', start);
    if (comma == std::string::npos) comma = explicit_hosts.size();
    std::string h = explicit_hosts.substr(start, comma - start);
    h.erase(0, h.find_first_not_of(" \t"));
    if (auto e = h.find_last_not_of(" \t"); e != std::string::npos) h.erase(e + 1);
    if (!h.empty()) out.push_back(h);
    start = comma + 1;
  }
  return out;
}

}  // namespace

DesiredState desired_state(const catalog::Snapshot& snap, const DnsConfig& cfg) {
  DesiredState out;
  std::vector<std::string> notes;
  // host → claims (in node id, instance id order: snapshot order is deterministic)
  std::map<std::string, std::vector<Claim>> claims;
  // host → nodes running an instance that declares it: (node id, serving?)
  std::map<std::string, std::map<core::NodeId, bool>> runners;

  for (const auto& [id, view] : snap.nodes) {
    if (view.status == catalog::NodeStatus::Left) continue;  // a graceful leave withdraws its intent
    for (const auto& inst : view.entry.instances) {
      if (is_false(label_or(inst, kLabelEnable, "true"))) continue;
      const std::string where = view.entry.node.name + "/" + inst.id;
      for (const auto& raw : declared_hosts(inst, where, notes)) {
        auto host = normalize_name(raw);
        if (!host) {
          notes.push_back(where + ": " + host.error().message());
          continue;
        }
        const ZoneConfig* zone = cfg.zone_for(*host);
        if (!zone) {
          notes.push_back(where + ": host name " + *host + " is in no configured zone");
          continue;
        }
        Claim c{zone->targets, zone->cname_target, zone->ttl, zone->proxied, where};
        std::string target = label_or(inst, kLabelTarget, "");
        if (target == "ingress") c.targets = TargetPolicy::Ingress;
        else if (target == "instances") c.targets = TargetPolicy::Instances;
        else if (target.starts_with("cname:")) {
          auto cn = normalize_name(target.substr(6));
          if (!cn) {
            notes.push_back(where + ": label " + std::string(kLabelTarget) + ": " + cn.error().message());
            continue;
          }
          c.targets = TargetPolicy::Cname;
          c.cname = *cn;
        } else if (!target.empty()) {
          notes.push_back(where + ": label " + std::string(kLabelTarget) + ": '" + target +
                          "' is not ingress, instances or cname:<name>");
          continue;
        }
        if (std::string ttl = label_or(inst, kLabelTtl, ""); !ttl.empty()) {
          std::uint32_t v = 0;
          auto [p, ec] = std::from_chars(ttl.data(), ttl.data() + ttl.size(), v);
          if (ec != std::errc() || p != ttl.data() + ttl.size() || v < 1 || v > 604800) {
            notes.push_back(where + ": label " + std::string(kLabelTtl) + ": '" + ttl + "' is not 1 to 604800 seconds");
            continue;
          }
          c.ttl = v;
        }
        if (std::string px = label_or(inst, kLabelProxied, ""); !px.empty()) c.proxied = !is_false(px);
        claims[*host].push_back(c);
        runners[*host][id] |= instance_serving(inst.health) && node_live(view.status);
      }
    }
  }

  for (auto& [host_key, list] : claims) {
    const std::string& host = host_key;  // a plain reference: lambdas cannot capture bindings (C++20)
    out.hostnames.push_back(host);
    const Claim& c = list.front();
    for (const auto& other : list) {
      if (!(other == c)) {
        notes.push_back("host name " + host + ": " + other.source + " asks for other DNS settings than " + c.source +
                        "; using " + c.source + "'s");
        break;
      }
    }
    const ZoneConfig* zone = cfg.zone_for(host);
    std::vector<Record> recs;
    auto add = [&](RecordType t, std::string content) {
      recs.push_back(Record{host, t, std::move(content), c.ttl, c.proxied, {}, {}});
    };
    if (c.targets == TargetPolicy::Cname) {
      if (c.cname == host) {
        notes.push_back("host name " + host + ": CNAME to itself skipped");
        continue;
      }
      add(RecordType::CNAME, c.cname);
    } else {
      std::set<core::NodeId> nodes;
      if (c.targets == TargetPolicy::Ingress) {
        for (const auto& [id, view] : snap.nodes) {
          const auto& roles = view.entry.node.roles;
          if (node_live(view.status) && std::find(roles.begin(), roles.end(), zone->ingress_role) != roles.end()) {
            nodes.insert(id);
          }
        }
      } else {
        const auto& r = runners[host];
        for (const auto& [id, serving] : r) {
          if (serving) nodes.insert(id);
        }
        if (nodes.empty()) {
          // Nothing healthy: keep pointing at the live nodes that run it rather than removing
          // the name (an outage of the service is not a reason to delete its DNS).
          for (const auto& [id, serving] : r) {
            auto it = snap.nodes.find(id);
            if (it != snap.nodes.end() && node_live(it->second.status)) nodes.insert(id);
          }
        }
      }
      std::set<std::string> v4, v6;
      for (const auto& id : nodes) {
        const auto& addrs = snap.nodes.at(id).entry.node.addresses;
        auto it = addrs.find(zone->network);
        if (it == addrs.end()) continue;
        if (it->second.find(':') != std::string::npos) {
          auto a = canonical_ipv6(it->second);
          if (a && zone->ipv6) v6.insert(*a);
          if (!a) notes.push_back("node " + snap.nodes.at(id).entry.node.name + ": " + a.error().message());
        } else {
          auto a = canonical_ipv4(it->second);
          if (a && zone->ipv4) v4.insert(*a);
          if (!a) notes.push_back("node " + snap.nodes.at(id).entry.node.name + ": " + a.error().message());
        }
      }
      for (const auto& a : v4) add(RecordType::A, a);
      for (const auto& a : v6) add(RecordType::AAAA, a);
      if (recs.empty()) notes.push_back("host name " + host + ": no live node serves it on network " + zone->network);
    }
    auto& zrecs = out.zones[zone->name];
    zrecs.insert(zrecs.end(), recs.begin(), recs.end());
  }
  for (auto& [z, recs] : out.zones) std::sort(recs.begin(), recs.end());
  for (const auto& z : cfg.zones) out.zones.try_emplace(z.name);
  std::sort(notes.begin(), notes.end());
  notes.erase(std::unique(notes.begin(), notes.end()), notes.end());
  out.notes = std::move(notes);
  return out;
}

}  // namespace constellation::dns
