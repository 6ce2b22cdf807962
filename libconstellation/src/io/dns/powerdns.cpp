// SPDX-License-Identifier: Apache-2.0
#include "io/dns/powerdns.hpp"

#include "io/dns/rrset.hpp"

#include <mutex>

namespace constellation::io::dns {

namespace json = core::json;
using constellation::dns::RecordType;

std::string powerdns_content(RecordType type, const std::string& content) {
  if (type == RecordType::CNAME) return content + ".";
  if (type == RecordType::TXT) {
    std::string out = "\"";
    for (char c : content) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out + "\"";
  }
  return content;
}

std::string from_powerdns_content(RecordType type, const std::string& content) {
  if (type == RecordType::CNAME) return content.ends_with(".") ? content.substr(0, content.size() - 1) : content;
  if (type == RecordType::TXT) {
    // One or more quoted strings, concatenated.
    std::string out;
    bool in = false;
    for (std::size_t i = 0; i < content.size(); ++i) {
      char c = content[i];
      if (c == '"') {
        in = !in;
      } else if (in && c == '\\' && i + 1 < content.size()) {
        out.push_back(content[++i]);
      } else if (in) {
        out.push_back(c);
      }
    }
    return out;
  }
  return content;
}

namespace {

class PowerDnsProvider final : public Provider {
 public:
  PowerDnsProvider(PowerDnsOptions o, Marker m, std::unique_ptr<HttpTransport> t)
      : o_(std::move(o)), marker_(std::move(m)), http_(std::move(t)) {}

  const std::string& name() const override { return o_.name; }
  ProviderCaps caps() const override {
    ProviderCaps c;
    c.default_ttl = o_.default_ttl;
    c.max_batch_changes = 1000;  // one PATCH, one transaction
    return c;
  }
  void invalidate() override {
    std::lock_guard lock(mu_);
    raw_.clear();
  }
  ProviderStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }

  Result<std::vector<ObservedRecord>> list(const std::string& zone) override {
    std::lock_guard lock(mu_);
    CST_TRY_ASSIGN(auto raw, fetch(zone));
    raw_[zone] = raw;
    return constellation::dns::apply_registry(marker_, std::move(raw));
  }

  ApplyOutcome apply(const Batch& batch, const FenceCheck& fence) override {
    std::lock_guard lock(mu_);
    if (!raw_.count(batch.zone)) {
      auto raw = fetch(batch.zone);
      if (!raw) return {raw.error(), std::nullopt};
      raw_[batch.zone] = *raw;
    }
    auto updates = rrset_updates(batch.changes, raw_[batch.zone], marker_);
    json::Value rrsets = json::Value::array();
    for (const auto& u : updates) {
      json::Value r = json::Value::object();
      r["name"] = u.name + ".";
      r["type"] = std::string(constellation::dns::type_name(u.type));
      if (u.contents.empty()) {
        r["changetype"] = "DELETE";
      } else {
        r["changetype"] = "REPLACE";
        r["ttl"] = static_cast<std::int64_t>(u.ttl);
        json::Value records = json::Value::array();
        for (const auto& c : u.contents) {
          json::Value rec = json::Value::object();
          rec["content"] = powerdns_content(u.type, c);
          rec["disabled"] = false;
          records.push_back(std::move(rec));
        }
        r["records"] = std::move(records);
      }
      rrsets.push_back(std::move(r));
    }
    json::Value body = json::Value::object();
    body["rrsets"] = std::move(rrsets);
    if (auto f = fence(); !f) return {f.error(), std::nullopt};
    ++stats_.write_requests;
    auto r = request("PATCH", zone_path(batch.zone), json::serialize(body));
    if (!r) {
      raw_.erase(batch.zone);
      return {r.error(), std::nullopt};
    }
    apply_rrset_updates(raw_[batch.zone], updates);
    return {ok(), std::nullopt};
  }

 private:
  std::string zone_path(const std::string& zone) const {
    return o_.path_prefix + "/api/v1/servers/" + url_encode(o_.server_id) + "/zones/" + url_encode(zone + ".");
  }

  Result<HttpResponse> request(const std::string& method, const std::string& target, const std::string& body) {
    ++stats_.requests;
    HttpRequest req{method, target, {{"X-API-Key", o_.api_key}, {"Accept", "application/json"}}, body};
    auto r = http_->send(req);
    if (!r) {
      ++stats_.errors;
      return Error(r.error().code(), "powerdns: " + r.error().message());
    }
    if (r->status >= 200 && r->status < 300) return r;
    ++stats_.errors;
    std::string detail = r->body.substr(0, 300);
    if (auto doc = json::parse(r->body); doc && doc->is_object()) {
      if (const json::Value* e = doc->find("error"); e && e->is_string()) detail = e->as_string();
    }
    const std::string msg = "powerdns " + method + " " + target + ": HTTP " + std::to_string(r->status) + ": " + detail;
    if (r->status >= 500) return Error(Code::Unavailable, msg);  // e.g. gsqlite3 "database is locked"
    if (r->status == 401 || r->status == 403) return Error(Code::PermissionDenied, msg);
    if (r->status == 404) return Error(Code::NotFound, msg);
    if (r->status == 409 || detail.find("Conflicts with") != std::string::npos) return Error(Code::Conflict, msg);
    return Error(Code::InvalidArgument, msg);
  }

  Result<std::vector<ObservedRecord>> fetch(const std::string& zone) {
    ++stats_.list_requests;
    CST_TRY_ASSIGN(HttpResponse r, request("GET", zone_path(zone), {}));
    auto doc = json::parse(r.body);
    if (!doc) return Error(Code::InvalidArgument, "powerdns: zone answer is not JSON: " + doc.error().message());
    const json::Value* rrsets = doc->find("rrsets");
    if (!rrsets || !rrsets->is_array()) return Error(Code::InvalidArgument, "powerdns: zone answer has no rrsets");
    std::vector<ObservedRecord> out;
    for (const auto& rs : rrsets->as_array()) {
      CST_TRY_ASSIGN(std::string type, json::get_string(rs, "type", "rrset"));
      auto t = constellation::dns::parse_type(type);
      if (!t) continue;  // SOA, NS, MX...: not ours to manage
      CST_TRY_ASSIGN(std::string name, json::get_string(rs, "name", "rrset"));
      if (name.ends_with(".")) name.pop_back();
      for (char& c : name) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      }
      CST_TRY_ASSIGN(std::int64_t ttl, json::get_int_or(rs, "ttl", "rrset", 0));
      CST_TRY_ASSIGN(const json::Array* records, json::get_array(rs, "records", "rrset"));
      for (const auto& rec : *records) {
        CST_TRY_ASSIGN(std::string content, json::get_string(rec, "content", "record"));
        ObservedRecord o;
        o.record = {name, *t, from_powerdns_content(*t, content), static_cast<std::uint32_t>(ttl < 0 ? 0 : ttl), false, {}, {}};
        out.push_back(std::move(o));
      }
    }
    return out;
  }

  PowerDnsOptions o_;
  Marker marker_;
  std::unique_ptr<HttpTransport> http_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<ObservedRecord>> raw_;  // zone → listing incl. registry
  ProviderStats stats_;
};

}  // namespace

std::unique_ptr<Provider> make_powerdns_provider(PowerDnsOptions options, Marker marker, std::unique_ptr<HttpTransport> transport) {
  return std::make_unique<PowerDnsProvider>(std::move(options), std::move(marker), std::move(transport));
}

}  // namespace constellation::io::dns
