// SPDX-License-Identifier: Apache-2.0
#include "io/dns/cloudflare.hpp"
#include "io/dns/powerdns.hpp"
#include "io/dns/provider.hpp"
#include "io/dns/rfc2136.hpp"

#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace constellation::io::dns {

namespace json = core::json;
using constellation::dns::ChangeKind;

namespace {

class MemoryProvider final : public Provider {
 public:
  MemoryProvider(std::string name, Marker marker) : name_(std::move(name)), marker_(std::move(marker)) {}
  const std::string& name() const override { return name_; }
  ProviderCaps caps() const override {
    ProviderCaps c;
    c.comments = true;
    c.max_comment = 500;
    c.max_batch_changes = 1000;
    return c;
  }
  ProviderStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }
  Result<std::vector<ObservedRecord>> list(const std::string& zone) override {
    std::lock_guard lock(mu_);
    ++stats_.requests;
    ++stats_.list_requests;
    std::vector<ObservedRecord> out;
    for (const auto& [id, r] : zones_[zone]) {
      ObservedRecord o = r;
      o.owned = marker_.owns(o.record.comment, o.record.tags);
      out.push_back(std::move(o));
    }
    return out;
  }
  ApplyOutcome apply(const Batch& batch, const FenceCheck& fence) override {
    std::lock_guard lock(mu_);
    if (auto f = fence(); !f) return {f.error(), std::nullopt};
    ++stats_.requests;
    ++stats_.write_requests;
    auto& z = zones_[batch.zone];
    for (const auto& c : batch.changes) {
      if (c.before && !z.count(c.before->id)) {
        return {Error(Code::Conflict, "memory: record " + c.before->id + " no longer exists"), std::nullopt};
      }
    }
    for (const auto& c : batch.changes) {
      if (c.before) z.erase(c.before->id);
      if (c.after) {
        std::string id = c.kind == ChangeKind::Update ? c.before->id : "mem-" + std::to_string(next_id_++);
        z[id] = ObservedRecord{*c.after, id, false};
      }
    }
    return {ok(), std::nullopt};
  }
  void preload(const std::string& zone, const constellation::dns::Record& r) {
    std::string id = "mem-" + std::to_string(next_id_++);
    zones_[zone][id] = ObservedRecord{r, id, false};
  }

 private:
  std::string name_;
  Marker marker_;
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, ObservedRecord>> zones_;
  std::uint64_t next_id_ = 1;
  ProviderStats stats_;
};

Result<std::string> read_secret(const json::Value& p, const std::string& where, std::string_view key) {
  CST_TRY_ASSIGN(std::string value, json::get_string_or(p, key, where, ""));
  CST_TRY_ASSIGN(std::string file, json::get_string_or(p, std::string(key) + "_file", where, ""));
  if (!value.empty() && !file.empty()) {
    return Error(Code::InvalidArgument, where + ": give " + std::string(key) + " or " + std::string(key) + "_file, not both");
  }
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return Error(Code::Io, where + "." + std::string(key) + "_file: cannot read " + file);
    std::stringstream ss;
    ss << in.rdbuf();
    value = ss.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' ')) value.pop_back();
  }
  return value;
}

Result<void> check_keys(const json::Value& obj, const std::string& where, std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : obj.as_object()) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) return Error(Code::InvalidArgument, where + "." + k + ": unknown key");
  }
  return ok();
}

void real_sleep(core::Duration d) { std::this_thread::sleep_for(d); }

}  // namespace

std::unique_ptr<Provider> make_memory_provider(std::string name, const Marker& marker) {
  return std::make_unique<MemoryProvider>(std::move(name), marker);
}

Result<std::vector<std::unique_ptr<Provider>>> make_providers(const json::Value& providers, const Marker& marker) {
  std::vector<std::unique_ptr<Provider>> out;
  if (!providers.is_object()) return Error(Code::InvalidArgument, "dns.providers: expected object");
  for (const auto& [name, p] : providers.as_object()) {
    const std::string where = "dns.providers." + name;
    if (!p.is_object()) return Error(Code::InvalidArgument, where + ": expected object");
    CST_TRY_ASSIGN(std::string type, json::get_string(p, "type", where));
    if (type == "cloudflare") {
      CST_TRY(check_keys(p, where, {"type", "api_token", "api_token_file", "url", "zone_ids", "per_page", "batch", "max_batch",
                                    "list_cache_seconds", "requests_per_second", "burst", "tags", "timeout_seconds"}));
      CloudflareOptions o;
      o.name = name;
      CST_TRY_ASSIGN(o.api_token, read_secret(p, where, "api_token"));
      if (o.api_token.empty()) return Error(Code::InvalidArgument, where + ": api_token or api_token_file is required");
      CST_TRY_ASSIGN(std::string url, json::get_string_or(p, "url", where, "https://api.cloudflare.com/client/v4"));
      auto parts = split_url(url);
      if (!parts) return Error(Code::InvalidArgument, where + ".url: " + parts.error().message());
      o.path_prefix = parts->second;
      if (const json::Value* ids = p.find("zone_ids"); ids && ids->is_object()) {
        for (const auto& [z, id] : ids->as_object()) {
          if (!id.is_string()) return Error(Code::InvalidArgument, where + ".zone_ids." + z + ": expected string");
          o.zone_ids[z] = id.as_string();
        }
      }
      CST_TRY_ASSIGN(std::int64_t per_page, json::get_int_or(p, "per_page", where, 5000));
      if (per_page < 5 || per_page > 5000) return Error(Code::InvalidArgument, where + ".per_page: must be 5 to 5000");
      o.per_page = static_cast<int>(per_page);
      CST_TRY_ASSIGN(o.use_batch, json::get_bool_or(p, "batch", where, true));
      CST_TRY_ASSIGN(std::int64_t max_batch, json::get_int_or(p, "max_batch", where, 200));
      if (max_batch < 1 || max_batch > 3500) return Error(Code::InvalidArgument, where + ".max_batch: must be 1 to 3500");
      o.max_batch = static_cast<std::size_t>(max_batch);
      CST_TRY_ASSIGN(std::int64_t cache_s, json::get_int_or(p, "list_cache_seconds", where, 300));
      o.list_cache_ttl = std::chrono::seconds(std::max<std::int64_t>(0, cache_s));
      if (const json::Value* r = p.find("requests_per_second"); r && r->is_number()) {
        if (r->as_double() <= 0 || r->as_double() > 4) return Error(Code::InvalidArgument, where + ".requests_per_second: must be above 0 and at most 4 (Cloudflare allows 1,200 per 5 minutes)");
        o.bucket_per_second = r->as_double();
      }
      CST_TRY_ASSIGN(std::int64_t burst, json::get_int_or(p, "burst", where, 40));
      if (burst < 1 || burst > 200) return Error(Code::InvalidArgument, where + ".burst: must be 1 to 200");
      o.bucket_capacity = static_cast<double>(burst);
      CST_TRY_ASSIGN(o.use_tags, json::get_bool_or(p, "tags", where, false));
      CST_TRY_ASSIGN(std::int64_t timeout, json::get_int_or(p, "timeout_seconds", where, 10));
      CST_TRY_ASSIGN(auto transport, make_http_transport(parts->first, std::chrono::seconds(timeout)));
      out.push_back(make_cloudflare_provider(std::move(o), marker, std::move(transport), core::SystemClock::instance(), real_sleep));
    } else if (type == "powerdns") {
      CST_TRY(check_keys(p, where, {"type", "url", "api_key", "api_key_file", "server_id", "default_ttl", "timeout_seconds"}));
      PowerDnsOptions o;
      o.name = name;
      CST_TRY_ASSIGN(std::string url, json::get_string(p, "url", where));
      auto parts = split_url(url);
      if (!parts) return Error(Code::InvalidArgument, where + ".url: " + parts.error().message());
      o.path_prefix = parts->second;
      CST_TRY_ASSIGN(o.api_key, read_secret(p, where, "api_key"));
      CST_TRY_ASSIGN(o.server_id, json::get_string_or(p, "server_id", where, "localhost"));
      CST_TRY_ASSIGN(std::int64_t ttl, json::get_int_or(p, "default_ttl", where, 300));
      o.default_ttl = static_cast<std::uint32_t>(std::clamp<std::int64_t>(ttl, 1, 604800));
      CST_TRY_ASSIGN(std::int64_t timeout, json::get_int_or(p, "timeout_seconds", where, 10));
      CST_TRY_ASSIGN(auto transport, make_http_transport(parts->first, std::chrono::seconds(timeout)));
      out.push_back(make_powerdns_provider(std::move(o), marker, std::move(transport)));
    } else if (type == "rfc2136") {
      CST_TRY(check_keys(p, where, {"type", "server", "tsig_name", "tsig_secret", "tsig_secret_file", "tsig_algorithm",
                                    "default_ttl", "timeout_seconds", "fence"}));
      Rfc2136Options o;
      o.name = name;
      CST_TRY_ASSIGN(std::string server, json::get_string(p, "server", where));
      auto colon = server.rfind(':');
      if (colon == std::string::npos || colon + 1 >= server.size()) return Error(Code::InvalidArgument, where + ".server: expected host:port");
      o.host = server.substr(0, colon);
      if (o.host.size() > 2 && o.host.front() == '[' && o.host.back() == ']') o.host = o.host.substr(1, o.host.size() - 2);
      o.port = std::atoi(server.c_str() + colon + 1);
      if (o.port <= 0 || o.port > 65535) return Error(Code::InvalidArgument, where + ".server: bad port");
      CST_TRY_ASSIGN(o.key.name, json::get_string(p, "tsig_name", where));
      CST_TRY_ASSIGN(std::string alg, json::get_string_or(p, "tsig_algorithm", where, "hmac-sha256"));
      if (alg != "hmac-sha256") return Error(Code::InvalidArgument, where + ".tsig_algorithm: only hmac-sha256 is supported");
      CST_TRY_ASSIGN(std::string secret, read_secret(p, where, "tsig_secret"));
      auto decoded = base64_decode(secret);
      if (!decoded || decoded->empty()) return Error(Code::InvalidArgument, where + ".tsig_secret: not base64");
      o.key.secret = *decoded;
      CST_TRY_ASSIGN(std::int64_t ttl, json::get_int_or(p, "default_ttl", where, 300));
      o.default_ttl = static_cast<std::uint32_t>(std::clamp<std::int64_t>(ttl, 1, 604800));
      CST_TRY_ASSIGN(std::int64_t timeout, json::get_int_or(p, "timeout_seconds", where, 5));
      o.timeout = std::chrono::seconds(std::max<std::int64_t>(1, timeout));
      CST_TRY_ASSIGN(o.fence, json::get_bool_or(p, "fence", where, true));
      out.push_back(make_rfc2136_provider(std::move(o), marker, core::SystemClock::instance()));
    } else if (type == "memory") {
      CST_TRY(check_keys(p, where, {"type", "records"}));
      auto mem = std::make_unique<MemoryProvider>(name, marker);
      if (const json::Value* recs = p.find("records"); recs && recs->is_array()) {
        for (std::size_t i = 0; i < recs->as_array().size(); ++i) {
          const auto& r = recs->as_array()[i];
          const std::string rw = where + ".records[" + std::to_string(i) + "]";
          constellation::dns::Record rec;
          CST_TRY_ASSIGN(std::string zone, json::get_string(r, "zone", rw));
          CST_TRY_ASSIGN(rec.name, json::get_string(r, "name", rw));
          CST_TRY_ASSIGN(std::string t, json::get_string(r, "type", rw));
          auto tt = constellation::dns::parse_type(t);
          if (!tt) return Error(Code::InvalidArgument, rw + ".type: " + tt.error().message());
          rec.type = *tt;
          CST_TRY_ASSIGN(rec.content, json::get_string(r, "content", rw));
          CST_TRY_ASSIGN(std::int64_t ttl, json::get_int_or(r, "ttl", rw, 300));
          rec.ttl = static_cast<std::uint32_t>(ttl);
          CST_TRY_ASSIGN(rec.comment, json::get_string_or(r, "comment", rw, ""));
          mem->preload(zone, rec);
        }
      }
      out.push_back(std::move(mem));
    } else {
      return Error(Code::InvalidArgument, where + ".type: '" + type + "' is not one of cloudflare, powerdns, rfc2136, memory");
    }
  }
  return out;
}

}  // namespace constellation::io::dns
