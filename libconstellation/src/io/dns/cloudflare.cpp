// SPDX-License-Identifier: Apache-2.0
#include "io/dns/cloudflare.hpp"

#include "io/dns/cloudflare_json.hpp"

#include <algorithm>
#include <mutex>

namespace constellation::io::dns {

namespace json = core::json;
using constellation::dns::ChangeKind;
using constellation::dns::RecordType;

namespace {

class CloudflareProvider final : public Provider {
 public:
  CloudflareProvider(CloudflareOptions o, Marker marker, std::unique_ptr<HttpTransport> t, const core::Clock& clock,
                     std::function<void(core::Duration)> sleep)
      : o_(std::move(o)), marker_(std::move(marker)), http_(std::move(t)), clock_(clock), sleep_(std::move(sleep)),
        bucket_(o_.bucket_capacity, o_.bucket_per_second), zone_ids_(o_.zone_ids) {}

  const std::string& name() const override { return o_.name; }

  ProviderCaps caps() const override {
    ProviderCaps c;
    c.comments = true;
    c.tags = o_.use_tags;
    c.proxied = true;
    c.auto_ttl = true;
    c.min_ttl = 60;
    c.default_ttl = 1;
    c.max_comment = 100;
    c.max_batch_changes = o_.use_batch ? o_.max_batch : 200;
    return c;
  }

  void invalidate() override {
    std::lock_guard lock(mu_);
    cache_.clear();
  }

  ProviderStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }

  Result<std::vector<ObservedRecord>> list(const std::string& zone) override {
    std::lock_guard lock(mu_);
    const core::Instant now = clock_.now();
    if (auto it = cache_.find(zone); it != cache_.end() && now - it->second.at < o_.list_cache_ttl) {
      ++stats_.cache_hits;
      return flatten(it->second);
    }
    CST_TRY_ASSIGN(std::string zid, zone_id(zone));
    Listing l;
    l.at = now;
    for (int page = 1;; ++page) {
      const std::string target = o_.path_prefix + "/zones/" + zid + "/dns_records?per_page=" + std::to_string(o_.per_page) +
                                 "&page=" + std::to_string(page);
      CST_TRY_ASSIGN(HttpResponse r, get(target, true));
      auto p = cloudflare::parse_list(r.body, marker_);
      if (!p) return p.error();
      for (auto& rec : p->records) l.records[rec.id] = std::move(rec);
      for (auto& rec : p->others) l.records[rec.id] = std::move(rec);
      const int got = static_cast<int>(p->records.size() + p->others.size());
      const bool more = p->total_pages > 0 ? page < p->total_pages
                                           : (p->total_count > 0 ? page * o_.per_page < p->total_count : got >= o_.per_page);
      if (!more || got == 0) break;
      if (page >= 10000) return Error(Code::InvalidArgument, "cloudflare: more than 10000 list pages for " + zone);
    }
    cache_[zone] = l;
    return flatten(l);
  }

  ApplyOutcome apply(const Batch& batch, const FenceCheck& fence) override {
    std::lock_guard lock(mu_);
    auto zid = zone_id(batch.zone);
    if (!zid) return {zid.error(), std::nullopt};
    ApplyOutcome out{ok(), std::nullopt};
    if (o_.use_batch) {
      for (std::size_t start = 0; start < batch.changes.size(); start += o_.max_batch) {
        const std::size_t end = std::min(batch.changes.size(), start + o_.max_batch);
        out = send_batch(batch, *zid, start, end, fence);
        if (!out.result) break;
      }
    } else {
      for (const auto& c : batch.changes) {
        out = send_one(batch.zone, *zid, c, fence);
        if (!out.result) break;
      }
    }
    if (!out.result) cache_.erase(batch.zone);  // the zone is in an unknown state: list it again
    return out;
  }

 private:
  struct Listing {
    core::Instant at;
    std::map<std::string, ObservedRecord> records;  // by id
  };

  static std::vector<ObservedRecord> flatten(const Listing& l) {
    std::vector<ObservedRecord> v;
    v.reserve(l.records.size());
    for (const auto& [id, r] : l.records) v.push_back(r);
    return v;
  }

  // Waits for a token of the account's budget (or fails when the wait would be too long).
  Result<void> take_token() {
    core::Duration waited{};
    for (;;) {
      auto wait = bucket_.try_take(clock_.now());
      if (!wait) return ok();
      if (waited + *wait > o_.max_budget_wait) {
        return Error(Code::Unavailable, "cloudflare: request budget exhausted (next request in " + core::format_duration(*wait) + ")");
      }
      sleep_(*wait);
      waited += *wait;
    }
  }

  Result<HttpResponse> send(const std::string& method, const std::string& target, const std::string& body,
                            std::optional<core::Duration>* retry_after = nullptr) {
    CST_TRY(take_token());
    HttpRequest req{method, target, {{"Authorization", "Bearer " + o_.api_token}, {"Accept", "application/json"}}, body};
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    ++stats_.requests;
    auto r = http_->send(req);
    if (!r) {
      ++stats_.errors;
      return Error(r.error().code() == Code::Timeout ? Code::Timeout : Code::Unavailable, "cloudflare: " + r.error().message());
    }
    if (r->status == 429) {
      ++stats_.rate_limited;
      core::Duration wait = o_.default_retry_after;
      if (auto it = r->headers.find("retry-after"); it != r->headers.end()) {
        if (auto ra = constellation::dns::parse_retry_after(it->second)) wait = *ra;
      }
      bucket_.pause_until(clock_.now() + wait);
      if (retry_after) *retry_after = wait;
    }
    if (r->status < 200 || r->status >= 300) {
      ++stats_.errors;
      return cloudflare::response_error(r->status, r->body, "cloudflare " + method + " " + target);
    }
    return r;
  }

  Result<HttpResponse> get(const std::string& target, bool is_list) {
    core::Duration backoff = std::chrono::milliseconds(500);
    for (int attempt = 0;; ++attempt) {
      if (is_list) ++stats_.list_requests;
      auto r = send("GET", target, {});
      if (r || attempt >= o_.get_retries || r.error().code() != Code::Unavailable ||
          r.error().message().find("rate limited") != std::string::npos) {
        return r;
      }
      sleep_(backoff);
      backoff *= 2;
    }
  }

  Result<std::string> zone_id(const std::string& zone) {
    if (auto it = zone_ids_.find(zone); it != zone_ids_.end()) return it->second;
    CST_TRY_ASSIGN(HttpResponse r, get(o_.path_prefix + "/zones?name=" + url_encode(zone), false));
    CST_TRY_ASSIGN(std::string id, cloudflare::parse_zone_id(r.body, zone));
    zone_ids_[zone] = id;
    return id;
  }

  ApplyOutcome send_batch(const Batch& batch, const std::string& zid, std::size_t start, std::size_t end, const FenceCheck& fence) {
    json::Value deletes = json::Value::array(), puts = json::Value::array(), posts = json::Value::array();
    for (std::size_t i = start; i < end; ++i) {
      const auto& c = batch.changes[i];
      if (c.kind == ChangeKind::Delete) {
        json::Value d = json::Value::object();
        d["id"] = c.before->id;
        deletes.push_back(std::move(d));
      } else if (c.kind == ChangeKind::Update) {
        json::Value p = cloudflare::record_body(*c.after, o_.use_tags);
        p["id"] = c.before->id;
        puts.push_back(std::move(p));
      } else {
        posts.push_back(cloudflare::record_body(*c.after, o_.use_tags));
      }
    }
    json::Value body = json::Value::object();
    if (!deletes.as_array().empty()) body["deletes"] = std::move(deletes);
    if (!puts.as_array().empty()) body["puts"] = std::move(puts);
    if (!posts.as_array().empty()) body["posts"] = std::move(posts);
    if (auto f = fence(); !f) return {f.error(), std::nullopt};
    std::optional<core::Duration> retry_after;
    ++stats_.write_requests;
    auto r = send("POST", o_.path_prefix + "/zones/" + zid + "/dns_records/batch", json::serialize(body), &retry_after);
    if (!r) return {r.error(), retry_after};
    auto parsed = cloudflare::parse_batch(r->body, marker_);
    auto it = cache_.find(batch.zone);
    if (!parsed) {
      cache_.erase(batch.zone);
    } else if (it != cache_.end()) {
      for (std::size_t i = start; i < end; ++i) {
        const auto& c = batch.changes[i];
        if (c.before) it->second.records.erase(c.before->id);
      }
      for (const auto& id : parsed->deleted_ids) it->second.records.erase(id);
      for (auto& w : parsed->written) it->second.records[w.id] = std::move(w);
    }
    return {ok(), std::nullopt};
  }

  ApplyOutcome send_one(const std::string& zone, const std::string& zid, const constellation::dns::Change& c, const FenceCheck& fence) {
    if (auto f = fence(); !f) return {f.error(), std::nullopt};
    std::optional<core::Duration> retry_after;
    const std::string base = o_.path_prefix + "/zones/" + zid + "/dns_records";
    Result<HttpResponse> r = Error(Code::Internal, "unreachable");
    ++stats_.write_requests;
    switch (c.kind) {
      case ChangeKind::Delete: r = send("DELETE", base + "/" + c.before->id, {}, &retry_after); break;
      case ChangeKind::Update: r = send("PUT", base + "/" + c.before->id, json::serialize(cloudflare::record_body(*c.after, o_.use_tags)), &retry_after); break;
      case ChangeKind::Create: r = send("POST", base, json::serialize(cloudflare::record_body(*c.after, o_.use_tags)), &retry_after); break;
    }
    if (!r) return {r.error(), retry_after};
    auto it = cache_.find(zone);
    if (it != cache_.end()) {
      if (c.before) it->second.records.erase(c.before->id);
      if (c.kind != ChangeKind::Delete) {
        auto rec = cloudflare::parse_single(r->body, marker_);
        if (rec) it->second.records[rec->id] = std::move(*rec);
        else cache_.erase(it);
      }
    }
    return {ok(), std::nullopt};
  }

  CloudflareOptions o_;
  Marker marker_;
  std::unique_ptr<HttpTransport> http_;
  const core::Clock& clock_;
  std::function<void(core::Duration)> sleep_;
  mutable std::mutex mu_;
  constellation::dns::TokenBucket bucket_;
  std::map<std::string, std::string> zone_ids_;
  std::map<std::string, Listing> cache_;
  ProviderStats stats_;
};

}  // namespace

std::unique_ptr<Provider> make_cloudflare_provider(CloudflareOptions options, Marker marker, std::unique_ptr<HttpTransport> transport,
                                                   const core::Clock& clock, std::function<void(core::Duration)> sleep) {
  return std::make_unique<CloudflareProvider>(std::move(options), std::move(marker), std::move(transport), clock, std::move(sleep));
}

}  // namespace constellation::io::dns
