// SPDX-License-Identifier: Apache-2.0
#include "io/dns/cloudflare_json.hpp"

namespace constellation::io::dns::cloudflare {

namespace json = core::json;
using constellation::dns::parse_type;

namespace {

json::ParseOptions parse_options() {
  json::ParseOptions o;
  o.max_bytes = 256u << 20;
  o.max_depth = 32;
  o.allow_duplicate_keys = true;
  return o;
}

std::vector<ApiError> envelope_errors(const json::Value& root) {
  std::vector<ApiError> out;
  const json::Value* errs = root.find("errors");
  if (!errs || !errs->is_array()) return out;
  for (const auto& e : errs->as_array()) {
    ApiError a;
    if (const json::Value* c = e.find("code"); c && c->is_integer()) a.code = static_cast<int>(c->as_int());
    if (const json::Value* m = e.find("message"); m && m->is_string()) a.message = m->as_string();
    out.push_back(std::move(a));
  }
  return out;
}

std::string describe(const std::vector<ApiError>& errs) {
  std::string s;
  for (const auto& e : errs) {
    if (!s.empty()) s += "; ";
    s += std::to_string(e.code) + " " + e.message;
  }
  return s;
}

// Parses the envelope and returns its "result" when success is true.
Result<json::Value> success_result(std::string_view body) {
  auto doc = json::parse(body, parse_options());
  if (!doc) return Error(Code::InvalidArgument, "cloudflare: answer is not JSON: " + doc.error().message());
  if (!doc->is_object()) return Error(Code::InvalidArgument, "cloudflare: answer is not an object");
  const json::Value* ok_v = doc->find("success");
  if (!ok_v || !ok_v->is_bool()) return Error(Code::InvalidArgument, "cloudflare: answer has no boolean 'success'");
  if (!ok_v->as_bool()) return Error(Code::InvalidArgument, "cloudflare: request failed: " + describe(envelope_errors(*doc)));
  json::Value* result = doc->find("result");
  json::Value out = result ? std::move(*result) : json::Value(nullptr);
  // Keep result_info beside the result for lists.
  if (const json::Value* info = doc->find("result_info")) {
    json::Value wrapped = json::Value::object();
    wrapped["result"] = std::move(out);
    wrapped["result_info"] = *info;
    return wrapped;
  }
  json::Value wrapped = json::Value::object();
  wrapped["result"] = std::move(out);
  return wrapped;
}

Result<ObservedRecord> parse_record(const json::Value& v, const Marker& marker, bool& managed_type) {
  if (!v.is_object()) return Error(Code::InvalidArgument, "cloudflare: record is not an object");
  ObservedRecord o;
  CST_TRY_ASSIGN(o.id, json::get_string(v, "id", "record"));
  CST_TRY_ASSIGN(std::string type, json::get_string(v, "type", "record"));
  CST_TRY_ASSIGN(o.record.name, json::get_string(v, "name", "record"));
  CST_TRY_ASSIGN(o.record.content, json::get_string_or(v, "content", "record", ""));
  const json::Value* ttl = v.find("ttl");
  if (ttl && ttl->is_number()) {
    const double t = ttl->as_double();
    o.record.ttl = t < 0 ? 0 : t > 4294967295.0 ? 4294967295u : static_cast<std::uint32_t>(t);
  } else {
    o.record.ttl = 1;
  }
  CST_TRY_ASSIGN(o.record.proxied, json::get_bool_or(v, "proxied", "record", false));
  const json::Value* comment = v.find("comment");
  if (comment && comment->is_string()) o.record.comment = comment->as_string();
  if (const json::Value* tags = v.find("tags"); tags && tags->is_array()) {
    for (const auto& t : tags->as_array()) {
      if (t.is_string()) o.record.tags.push_back(t.as_string());
    }
  }
  auto t = parse_type(type);
  managed_type = t.has_value();
  o.record.type = t ? *t : constellation::dns::RecordType::TXT;
  o.owned = managed_type && marker.owns(o.record.comment, o.record.tags);
  return o;
}

}  // namespace

Error response_error(int status, std::string_view body, std::string_view what) {
  std::string detail;
  std::vector<ApiError> errs;
  if (auto doc = json::parse(body, parse_options()); doc && doc->is_object()) errs = envelope_errors(*doc);
  detail = errs.empty() ? std::string(body.substr(0, 200)) : describe(errs);
  const std::string msg = std::string(what) + ": HTTP " + std::to_string(status) + (detail.empty() ? "" : ": " + detail);
  for (const auto& e : errs) {
    if (e.code == 81053 || e.code == 81057 || e.code == 81058) return Error(Code::Conflict, msg);
    if (e.code == 10429 || e.code == 10100 || e.code == 10300 || e.code == 971) return Error(Code::Unavailable, "rate limited: " + msg);
  }
  if (status == 429) return Error(Code::Unavailable, "rate limited: " + msg);
  if (status >= 500) return Error(Code::Unavailable, msg);
  if (status == 401 || status == 403) return Error(Code::PermissionDenied, msg);
  if (status == 404) return Error(Code::NotFound, msg);
  return Error(Code::InvalidArgument, msg);
}

Result<ListPage> parse_list(std::string_view body, const Marker& marker) {
  CST_TRY_ASSIGN(json::Value w, success_result(body));
  const json::Value& result = *w.find("result");
  if (!result.is_array()) return Error(Code::InvalidArgument, "cloudflare: list result is not an array");
  ListPage page;
  for (const auto& r : result.as_array()) {
    bool managed = false;
    CST_TRY_ASSIGN(ObservedRecord o, parse_record(r, marker, managed));
    (managed ? page.records : page.others).push_back(std::move(o));
  }
  if (const json::Value* info = w.find("result_info"); info && info->is_object()) {
    auto num = [&](std::string_view k) {
      const json::Value* n = info->find(k);
      if (!n || !n->is_number()) return 0;
      const double d = n->as_double();
      return d < 0 ? 0 : d > 1e9 ? 1000000000 : static_cast<int>(d);
    };
    page.page = num("page");
    page.per_page = num("per_page");
    page.count = num("count");
    page.total_count = num("total_count");
    page.total_pages = num("total_pages");
  }
  return page;
}

Result<std::string> parse_zone_id(std::string_view body, std::string_view zone) {
  CST_TRY_ASSIGN(json::Value w, success_result(body));
  const json::Value& result = *w.find("result");
  if (!result.is_array()) return Error(Code::InvalidArgument, "cloudflare: zones result is not an array");
  for (const auto& z : result.as_array()) {
    const json::Value* name = z.find("name");
    const json::Value* id = z.find("id");
    if (name && id && name->is_string() && id->is_string() && name->as_string() == zone) return id->as_string();
  }
  return Error(Code::NotFound, "cloudflare: zone " + std::string(zone) + " is not visible to this API token");
}

Result<ObservedRecord> parse_single(std::string_view body, const Marker& marker) {
  CST_TRY_ASSIGN(json::Value w, success_result(body));
  bool managed = false;
  return parse_record(*w.find("result"), marker, managed);
}

Result<BatchResult> parse_batch(std::string_view body, const Marker& marker) {
  CST_TRY_ASSIGN(json::Value w, success_result(body));
  const json::Value& result = *w.find("result");
  if (!result.is_object()) return Error(Code::InvalidArgument, "cloudflare: batch result is not an object");
  BatchResult out;
  for (std::string_view key : {"deletes", "patches", "puts", "posts"}) {
    const json::Value* list = result.find(key);
    if (!list || list->is_null()) continue;
    if (!list->is_array()) return Error(Code::InvalidArgument, "cloudflare: batch result." + std::string(key) + " is not an array");
    for (const auto& r : list->as_array()) {
      if (key == "deletes") {
        const json::Value* id = r.find("id");
        if (!id || !id->is_string()) return Error(Code::InvalidArgument, "cloudflare: batch delete without id");
        out.deleted_ids.push_back(id->as_string());
        continue;
      }
      bool managed = false;
      CST_TRY_ASSIGN(ObservedRecord o, parse_record(r, marker, managed));
      out.written.push_back(std::move(o));
    }
  }
  return out;
}

json::Value record_body(const Record& r, bool with_tags) {
  json::Value v = json::Value::object();
  v["type"] = std::string(constellation::dns::type_name(r.type));
  v["name"] = r.name;
  v["content"] = r.content;
  v["ttl"] = static_cast<std::int64_t>(r.ttl);
  if (constellation::dns::proxiable(r.type)) v["proxied"] = r.proxied;
  if (!r.comment.empty()) v["comment"] = r.comment;
  if (with_tags) {
    json::Value tags = json::Value::array();
    for (const auto& t : r.tags) tags.push_back(t);
    v["tags"] = std::move(tags);
  }
  return v;
}

}  // namespace constellation::io::dns::cloudflare
