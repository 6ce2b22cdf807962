// SPDX-License-Identifier: Apache-2.0
#include "io/dns/cloudflare_fake.hpp"

#include "core/json.hpp"

#include <algorithm>
#include <cstdio>

namespace constellation::io::dns {

namespace json = core::json;

namespace {

class FakeTransport final : public HttpTransport {
 public:
  explicit FakeTransport(FakeCloudflareApi& api) : api_(api) {}
  Result<HttpResponse> send(const HttpRequest& r) override { return api_.handle(r); }

 private:
  FakeCloudflareApi& api_;
};

json::Value to_json(const FakeCloudflareApi::Stored& r, const std::string& zone_id) {
  json::Value v = json::Value::object();
  v["id"] = r.id;
  v["zone_id"] = zone_id;
  v["type"] = r.type;
  v["name"] = r.name;
  v["content"] = r.content;
  v["ttl"] = r.ttl;
  v["proxied"] = r.proxied;
  v["proxiable"] = r.type == "A" || r.type == "AAAA" || r.type == "CNAME";
  if (!r.comment.empty()) v["comment"] = r.comment;
  json::Value tags = json::Value::array();
  for (const auto& t : r.tags) tags.push_back(t);
  v["tags"] = std::move(tags);
  return v;
}

HttpResponse reply(int status, json::Value result, json::Value info = nullptr) {
  json::Value env = json::Value::object();
  env["success"] = status < 300;
  env["errors"] = json::Value::array();
  env["messages"] = json::Value::array();
  env["result"] = std::move(result);
  if (!info.is_null()) env["result_info"] = std::move(info);
  return HttpResponse{status, {{"content-type", "application/json"}}, json::serialize(env)};
}

HttpResponse failure(int status, int code, const std::string& msg) {
  json::Value env = json::Value::object();
  env["success"] = false;
  json::Value e = json::Value::object();
  e["code"] = code;
  e["message"] = msg;
  json::Value errs = json::Value::array();
  errs.push_back(std::move(e));
  env["errors"] = std::move(errs);
  env["messages"] = json::Value::array();
  env["result"] = nullptr;
  return HttpResponse{status, {}, json::serialize(env)};
}

std::string query_param(const std::string& target, const std::string& key) {
  auto q = target.find('?');
  if (q == std::string::npos) return {};
  std::string qs = target.substr(q + 1);
  std::size_t pos = 0;
  while (pos <= qs.size()) {
    auto amp = qs.find('&', pos);
    if (amp == std::string::npos) amp = qs.size();
    std::string kv = qs.substr(pos, amp - pos);
    auto eq = kv.find('=');
    if (eq != std::string::npos && kv.substr(0, eq) == key) return kv.substr(eq + 1);
    pos = amp + 1;
  }
  return {};
}

}  // namespace

FakeCloudflareApi::FakeCloudflareApi(std::string zone, std::string token)
    : zone_(std::move(zone)), zone_id_("0123456789abcdef0123456789abcdef"), token_(std::move(token)) {}

std::unique_ptr<HttpTransport> FakeCloudflareApi::transport() { return std::make_unique<FakeTransport>(*this); }

std::string FakeCloudflareApi::new_id() {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%032llx", static_cast<unsigned long long>(next_++));
  return buf;
}

void FakeCloudflareApi::add(const Stored& r) {
  std::lock_guard lock(mu_);
  Stored s = r;
  if (s.id.empty()) s.id = new_id();
  records_[s.id] = s;
}

std::vector<FakeCloudflareApi::Stored> FakeCloudflareApi::records() const {
  std::lock_guard lock(mu_);
  std::vector<Stored> out;
  for (const auto& [id, r] : records_) out.push_back(r);
  return out;
}

void FakeCloudflareApi::inject(Injected i) {
  std::lock_guard lock(mu_);
  inject_.push_back(std::move(i));
}

std::vector<std::string> FakeCloudflareApi::requests() const {
  std::lock_guard lock(mu_);
  return log_;
}
std::size_t FakeCloudflareApi::request_count() const {
  std::lock_guard lock(mu_);
  return log_.size();
}
void FakeCloudflareApi::clear_requests() {
  std::lock_guard lock(mu_);
  log_.clear();
}

HttpResponse FakeCloudflareApi::handle(const HttpRequest& req) {
  std::lock_guard lock(mu_);
  log_.push_back(req.method + " " + req.target);
  for (auto it = inject_.begin(); it != inject_.end(); ++it) {
    if ((it->method.empty() || it->method == req.method) && req.target.find(it->path_contains) != std::string::npos) {
      HttpResponse r{it->status, it->headers, it->body};
      inject_.erase(it);
      return r;
    }
  }
  bool authed = false;
  for (const auto& [k, v] : req.headers) authed = authed || (k == "Authorization" && v == "Bearer " + token_);
  if (!authed) return failure(401, 10000, "Authentication error");
  const std::string path = req.target.substr(0, req.target.find('?'));
  const std::string records_path = "/client/v4/zones/" + zone_id_ + "/dns_records";
  auto make = [&](const json::Value& b, std::string id) -> Stored {
    Stored s;
    s.id = std::move(id);
    s.type = b.find("type") ? b.find("type")->as_string() : "";
    s.name = b.find("name") ? b.find("name")->as_string() : "";
    s.content = b.find("content") ? b.find("content")->as_string() : "";
    s.ttl = b.find("ttl") ? b.find("ttl")->as_int() : 1;
    s.proxied = b.find("proxied") && b.find("proxied")->as_bool();
    if (s.proxied) s.ttl = 1;
    if (const json::Value* c = b.find("comment"); c && c->is_string()) s.comment = c->as_string();
    if (const json::Value* t = b.find("tags"); t && t->is_array()) {
      for (const auto& x : t->as_array()) s.tags.push_back(x.as_string());
    }
    return s;
  };
  if (path == "/client/v4/zones" && req.method == "GET") {
    json::Value z = json::Value::object();
    z["id"] = zone_id_;
    z["name"] = zone_;
    json::Value arr = json::Value::array();
    if (query_param(req.target, "name") == zone_) arr.push_back(std::move(z));
    return reply(200, std::move(arr));
  }
  if (path == records_path && req.method == "GET") {
    const int page = std::max(1, std::atoi(query_param(req.target, "page").c_str()));
    const int per_page = std::max(1, std::atoi(query_param(req.target, "per_page").c_str()));
    json::Value arr = json::Value::array();
    int i = 0;
    for (const auto& [id, r] : records_) {
      if (i >= (page - 1) * per_page && i < page * per_page) arr.push_back(to_json(r, zone_id_));
      ++i;
    }
    json::Value info = json::Value::object();
    info["page"] = page;
    info["per_page"] = per_page;
    info["count"] = static_cast<std::int64_t>(arr.as_array().size());
    info["total_count"] = static_cast<std::int64_t>(records_.size());
    info["total_pages"] = static_cast<std::int64_t>((records_.size() + static_cast<std::size_t>(per_page) - 1) / static_cast<std::size_t>(per_page));
    return reply(200, std::move(arr), std::move(info));
  }
  auto body = json::parse(req.body.empty() ? "null" : req.body);
  if (!body) return failure(400, 9207, "Request body is invalid.");
  if (path == records_path && req.method == "POST") {
    Stored s = make(*body, new_id());
    records_[s.id] = s;
    return reply(200, to_json(s, zone_id_));
  }
  if (path == records_path + "/batch" && req.method == "POST") {
    auto copy = records_;
    json::Value result = json::Value::object();
    for (const char* key : {"deletes", "patches", "puts", "posts"}) {
      json::Value out = json::Value::array();
      const json::Value* list = body->find(key);
      if (list && list->is_array()) {
        for (const auto& item : list->as_array()) {
          std::string id = item.find("id") ? item.find("id")->as_string() : "";
          if (std::string(key) != "posts" && !copy.count(id)) return failure(404, 81044, "Record does not exist.");
          if (std::string(key) == "deletes") {
            out.push_back(to_json(copy[id], zone_id_));
            copy.erase(id);
            continue;
          }
          Stored s = make(item, std::string(key) == "posts" ? new_id() : id);
          copy[s.id] = s;
          out.push_back(to_json(s, zone_id_));
        }
      }
      result[key] = std::move(out);
    }
    records_ = std::move(copy);
    return reply(200, std::move(result));
  }
  if (path.starts_with(records_path + "/")) {
    const std::string id = path.substr(records_path.size() + 1);
    if (!records_.count(id)) return failure(404, 81044, "Record does not exist.");
    if (req.method == "DELETE") {
      records_.erase(id);
      json::Value r = json::Value::object();
      r["id"] = id;
      return reply(200, std::move(r));
    }
    if (req.method == "PUT") {
      Stored s = make(*body, id);
      records_[id] = s;
      return reply(200, to_json(s, zone_id_));
    }
  }
  return failure(404, 7003, "No route for the URI");
}

}  // namespace constellation::io::dns
