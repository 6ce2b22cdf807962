// SPDX-License-Identifier: Apache-2.0
#include <constellation/client.hpp>

#include "core/json.hpp"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <mutex>

namespace constellation {

struct Client::Impl {
  ClientOptions options;
  std::string scheme_host_port;
  std::mutex mu;
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::open(ClientOptions options) {
  std::string url = options.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (!(url.starts_with("http://") || url.starts_with("https://")) ||
      url.find('/', url.find("//") + 2) != std::string::npos) {
    return Error(Code::InvalidArgument,
                 "api: expected http://host:port or https://host:port, got '" + options.url + "'");
  }
  auto impl = std::make_unique<Impl>();
  impl->scheme_host_port = url;
  impl->options = std::move(options);
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

namespace {

Code code_for_status(int status) {
  switch (status) {
    case 400: return Code::InvalidArgument;
    case 401:
    case 403: return Code::PermissionDenied;
    case 404: return Code::NotFound;
    case 409: return Code::Conflict;
    case 421: return Code::NotLeader;
    case 429:
    case 503: return Code::Unavailable;
    case 504: return Code::Timeout;
    default: return Code::Internal;
  }
}

std::string error_message(int status, const std::string& body) {
  if (auto v = core::json::parse(body); v && v->is_object()) {
    if (const auto* e = v->find("error"); e && e->is_object()) {
      if (const auto* m = e->find("message"); m && m->is_string()) return m->as_string();
    }
  }
  return "HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + body.substr(0, 200));
}

}  // namespace

Result<ClientAnswer> Client::request(std::string_view method, std::string_view path, std::string_view body,
                                     std::chrono::milliseconds extra_wait) {
  const auto& o = impl_->options;
  httplib::Client cli = o.cert_file.empty() ? httplib::Client(impl_->scheme_host_port)
                                            : httplib::Client(impl_->scheme_host_port, o.cert_file, o.key_file);
  if (impl_->scheme_host_port.starts_with("https://")) {
    cli.enable_server_certificate_verification(true);
    if (!o.ca_file.empty()) cli.set_ca_cert_path(o.ca_file.c_str());
  }
  auto total = o.timeout + extra_wait;
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(total);
  auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(total - secs);
  cli.set_connection_timeout(std::chrono::duration_cast<std::chrono::seconds>(o.timeout).count(), 0);
  cli.set_read_timeout(secs.count(), usecs.count());
  cli.set_write_timeout(secs.count(), usecs.count());
  httplib::Headers headers;
  if (!o.token.empty()) headers.emplace("Authorization", "Bearer " + o.token);
  const std::string p(path), b(body);
  httplib::Result res = method == "GET"      ? cli.Get(p, headers)
                        : method == "PUT"    ? cli.Put(p, headers, b, "application/octet-stream")
                        : method == "POST"   ? cli.Post(p, headers, b, "application/json")
                        : method == "DELETE" ? cli.Delete(p, headers, b, "application/json")
                                             : httplib::Result(nullptr, httplib::Error::Unknown);
  if (method != "GET" && method != "PUT" && method != "POST" && method != "DELETE") {
    return Error(Code::InvalidArgument, "unsupported method " + std::string(method));
  }
  if (!res) {
    return Error(Code::Unavailable,
                 "cannot reach the agent at " + impl_->scheme_host_port + ": " + httplib::to_string(res.error()));
  }
  ClientAnswer a;
  a.status = res->status;
  a.body = res->body;
  if (auto idx = res->get_header_value("X-Constellation-Index"); !idx.empty()) {
    std::from_chars(idx.data(), idx.data() + idx.size(), a.index);
  }
  if (a.status < 200 || a.status >= 300) return Error(code_for_status(a.status), error_message(a.status, a.body));
  return a;
}

Result<std::string> Client::get(std::string_view path) {
  CST_TRY_ASSIGN(auto a, request("GET", path));
  return std::move(a.body);
}

namespace {

std::string cell(const core::json::Value* v) {
  if (!v || v->is_null()) return "-";
  switch (v->type()) {
    case core::json::Type::String: return v->as_string().empty() ? "-" : v->as_string();
    case core::json::Type::Bool: return v->as_bool() ? "yes" : "no";
    case core::json::Type::Array: {
      std::string out;
      for (const auto& item : v->as_array()) out += (out.empty() ? "" : ",") + cell(&item);
      return out.empty() ? "-" : out;
    }
    case core::json::Type::Object: {
      std::string out;
      for (const auto& [k, item] : v->as_object()) out += (out.empty() ? "" : ",") + k + "=" + cell(&item);
      return out.empty() ? "-" : out;
    }
    default: return core::json::serialize(*v);
  }
}

// The member at a dotted path; crossing an array maps the rest of the path over its elements.
core::json::Value at_path(const core::json::Value& v, std::string_view path) {
  if (path.empty()) return v;
  if (v.is_array()) {
    core::json::Value out = core::json::Value::array();
    for (const auto& item : v.as_array()) {
      core::json::Value x = at_path(item, path);
      if (!x.is_null()) out.push_back(std::move(x));
    }
    return out;
  }
  auto dot = path.find('.');
  const core::json::Value* next = v.find(path.substr(0, dot));
  if (!next) return core::json::Value();
  return at_path(*next, dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1));
}

}  // namespace

Result<std::string> format_table(std::string_view json, const std::vector<TableColumn>& columns) {
  CST_TRY_ASSIGN(auto v, core::json::parse(json).with_context("table"));
  core::json::Array rows;
  if (v.is_array())
    rows = v.as_array();
  else if (v.is_object())
    rows.push_back(v);
  else
    return Error(Code::InvalidArgument, "table: expected a JSON array or object");
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> width;
  for (const auto& c : columns) width.push_back(c.heading.size());
  for (const auto& row : rows) {
    std::vector<std::string> line;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      core::json::Value value = at_path(row, columns[i].path);
      line.push_back(cell(&value));
      width[i] = std::max(width[i], line.back().size());
    }
    cells.push_back(std::move(line));
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& line) {
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(width[i] - line[i].size() + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  std::vector<std::string> head;
  for (const auto& c : columns) head.push_back(c.heading);
  emit(head);
  for (const auto& line : cells) emit(line);
  return out;
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace constellation
