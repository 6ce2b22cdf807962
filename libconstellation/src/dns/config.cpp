// SPDX-License-Identifier: Apache-2.0
#include "dns/config.hpp"

#include "dns/name.hpp"

#include <algorithm>
#include <set>

namespace constellation::dns {

namespace json = core::json;

std::string_view policy_name(Policy p) {
  switch (p) {
    case Policy::Sync: return "sync";
    case Policy::UpsertOnly: return "upsert-only";
    case Policy::CreateOnly: return "create-only";
  }
  return "?";
}

Result<Policy> parse_policy(std::string_view s) {
  if (s == "sync") return Policy::Sync;
  if (s == "upsert-only") return Policy::UpsertOnly;
  if (s == "create-only") return Policy::CreateOnly;
  return Error(Code::InvalidArgument, "policy '" + std::string(s) + "' is not one of sync, upsert-only, create-only");
}

std::string_view target_policy_name(TargetPolicy p) {
  switch (p) {
    case TargetPolicy::Ingress: return "ingress";
    case TargetPolicy::Instances: return "instances";
    case TargetPolicy::Cname: return "cname";
  }
  return "?";
}

const ZoneConfig* DnsConfig::zone_for(std::string_view name) const {
  const ZoneConfig* best = nullptr;
  for (const auto& z : zones) {
    if (name_in_zone(name, z.name) && (!best || z.name.size() > best->name.size())) best = &z;
  }
  return best;
}

namespace {

Result<void> check_keys(const json::Value& obj, std::string_view where, std::initializer_list<std::string_view> allowed) {
  if (!obj.is_object()) return Error(Code::InvalidArgument, std::string(where) + ": expected object, got " + std::string(json::type_name(obj.type())));
  for (const auto& [k, v] : obj.as_object()) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      return Error(Code::InvalidArgument, std::string(where) + "." + k + ": unknown key");
    }
  }
  return ok();
}

Result<core::Duration> get_seconds(const json::Value& obj, std::string_view key, std::string_view where, core::Duration fallback) {
  const json::Value* v = obj.find(key);
  if (!v || v->is_null()) return fallback;
  if (!v->is_number() || v->as_double() < 0) {
    return Error(Code::InvalidArgument, std::string(where) + "." + std::string(key) + ": expected a non-negative number of seconds");
  }
  return std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(v->as_double()));
}

Result<std::uint32_t> get_ttl(const json::Value& obj, std::string_view where, std::uint32_t fallback) {
  CST_TRY_ASSIGN(std::int64_t ttl, json::get_int_or(obj, "ttl", where, fallback));
  if (ttl < 1 || ttl > 604800) return Error(Code::InvalidArgument, std::string(where) + ".ttl: must be 1 to 604800 seconds");
  return static_cast<std::uint32_t>(ttl);
}

Result<ZoneConfig> parse_zone(const json::Value& z, const std::string& where) {
  CST_TRY(check_keys(z, where, {"name", "provider", "policy", "targets", "cname_target", "ingress_role", "network",
                                "ipv4", "ipv6", "ttl", "proxied"}));
  ZoneConfig out;
  CST_TRY_ASSIGN(std::string name, json::get_string(z, "name", where));
  auto norm = normalize_name(name);
  if (!norm) return Error(Code::InvalidArgument, where + ".name: " + norm.error().message());
  out.name = *norm;
  CST_TRY_ASSIGN(out.provider, json::get_string(z, "provider", where));
  CST_TRY_ASSIGN(std::string policy, json::get_string_or(z, "policy", where, "sync"));
  auto p = parse_policy(policy);
  if (!p) return Error(Code::InvalidArgument, where + ".policy: " + p.error().message());
  out.policy = *p;
  CST_TRY_ASSIGN(std::string targets, json::get_string_or(z, "targets", where, "ingress"));
  if (targets == "ingress") out.targets = TargetPolicy::Ingress;
  else if (targets == "instances") out.targets = TargetPolicy::Instances;
  else if (targets == "cname") out.targets = TargetPolicy::Cname;
  else return Error(Code::InvalidArgument, where + ".targets: '" + targets + "' is not one of ingress, instances, cname");
  CST_TRY_ASSIGN(std::string cname, json::get_string_or(z, "cname_target", where, ""));
  if (!cname.empty()) {
    auto c = normalize_name(cname);
    if (!c) return Error(Code::InvalidArgument, where + ".cname_target: " + c.error().message());
    out.cname_target = *c;
  }
  if (out.targets == TargetPolicy::Cname && out.cname_target.empty()) {
    return Error(Code::InvalidArgument, where + ".cname_target: required when targets is \"cname\"");
  }
  CST_TRY_ASSIGN(out.ingress_role, json::get_string_or(z, "ingress_role", where, "ingress"));
  CST_TRY_ASSIGN(out.network, json::get_string_or(z, "network", where, "publicnet"));
  CST_TRY_ASSIGN(out.ipv4, json::get_bool_or(z, "ipv4", where, true));
  CST_TRY_ASSIGN(out.ipv6, json::get_bool_or(z, "ipv6", where, true));
  CST_TRY_ASSIGN(out.ttl, get_ttl(z, where, 300));
  CST_TRY_ASSIGN(out.proxied, json::get_bool_or(z, "proxied", where, false));
  return out;
}

}  // namespace

Result<DnsConfig> parse_config(const json::Value& root) {
  CST_TRY(check_keys(root, "dns", {"owner", "zones", "safety", "providers"}));
  DnsConfig cfg;
  CST_TRY_ASSIGN(cfg.marker.owner, json::get_string(root, "owner", "dns"));
  if (auto v = cfg.marker.validate(); !v) return Error(Code::InvalidArgument, "dns.owner: " + v.error().message());
  CST_TRY_ASSIGN(const json::Array* zones, json::get_array(root, "zones", "dns"));
  std::set<std::string> seen;
  for (std::size_t i = 0; i < zones->size(); ++i) {
    const std::string where = "dns.zones[" + std::to_string(i) + "]";
    CST_TRY_ASSIGN(ZoneConfig z, parse_zone((*zones)[i], where));
    if (!seen.insert(z.name).second) return Error(Code::InvalidArgument, where + ".name: zone '" + z.name + "' listed twice");
    cfg.zones.push_back(std::move(z));
  }
  if (const json::Value* s = root.find("safety"); s && !s->is_null()) {
    CST_TRY(check_keys(*s, "dns.safety", {"deletion_grace_seconds", "max_delete_fraction", "delete_floor", "holder_settle_seconds"}));
    CST_TRY_ASSIGN(cfg.safety.deletion_grace, get_seconds(*s, "deletion_grace_seconds", "dns.safety", cfg.safety.deletion_grace));
    CST_TRY_ASSIGN(cfg.safety.holder_settle, get_seconds(*s, "holder_settle_seconds", "dns.safety", cfg.safety.holder_settle));
    if (const json::Value* f = s->find("max_delete_fraction"); f && !f->is_null()) {
      if (!f->is_number() || f->as_double() < 0 || f->as_double() > 1) {
        return Error(Code::InvalidArgument, "dns.safety.max_delete_fraction: expected a number from 0 to 1");
      }
      cfg.safety.max_delete_fraction = f->as_double();
    }
    CST_TRY_ASSIGN(std::int64_t floor, json::get_int_or(*s, "delete_floor", "dns.safety", 3));
    if (floor < 0) return Error(Code::InvalidArgument, "dns.safety.delete_floor: must not be negative");
    cfg.safety.delete_floor = static_cast<std::size_t>(floor);
  }
  return cfg;
}

}  // namespace constellation::dns
