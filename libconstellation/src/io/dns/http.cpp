// SPDX-License-Identifier: Apache-2.0
#include "io/dns/http.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <optional>

namespace constellation::io::dns {

namespace {

class HttplibTransport final : public HttpTransport {
 public:
  HttplibTransport(const std::string& base, core::Duration timeout) : client_(base) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
    const auto s = static_cast<time_t>(us / 1000000);
    const auto rest = static_cast<time_t>(us % 1000000);
    client_.set_connection_timeout(s, rest);
    client_.set_read_timeout(s, rest);
    client_.set_write_timeout(s, rest);
    client_.set_keep_alive(true);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    client_.enable_server_certificate_verification(true);
#endif
  }

  Result<HttpResponse> send(const HttpRequest& req) override {
    std::lock_guard lock(mu_);
    httplib::Headers h;
    for (const auto& [k, v] : req.headers) h.emplace(k, v);
    auto call = [&]() -> httplib::Result {
      if (req.method == "GET") return client_.Get(req.target, h);
      if (req.method == "POST") return client_.Post(req.target, h, req.body, "application/json");
      if (req.method == "PUT") return client_.Put(req.target, h, req.body, "application/json");
      if (req.method == "PATCH") return client_.Patch(req.target, h, req.body, "application/json");
      return client_.Delete(req.target, h, req.body, "application/json");
    };
    if (req.method != "GET" && req.method != "POST" && req.method != "PUT" && req.method != "PATCH" && req.method != "DELETE") {
      return Error(Code::InvalidArgument, "unsupported HTTP method " + req.method);
    }
    std::optional<httplib::Result> maybe;
    try {
      maybe.emplace(call());
    } catch (const std::exception& e) {
      return Error(Code::Unavailable, req.method + " " + req.target + ": " + e.what());
    }
    httplib::Result& res = *maybe;
    if (!res) {
      auto err = res.error();
      const std::string what = req.method + " " + req.target + ": " + httplib::to_string(err);
      if (err == httplib::Error::Read || err == httplib::Error::Write || err == httplib::Error::ConnectionTimeout) {
        return Error(Code::Timeout, what);
      }
      return Error(Code::Unavailable, what);
    }
    HttpResponse out;
    out.status = res->status;
    out.body = res->body;
    for (const auto& [k, v] : res->headers) {
      std::string lk = k;
      std::transform(lk.begin(), lk.end(), lk.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      out.headers[lk] = v;
    }
    return out;
  }

 private:
  std::mutex mu_;
  httplib::Client client_;
};

}  // namespace

Result<std::pair<std::string, std::string>> split_url(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return Error(Code::InvalidArgument, "URL '" + url + "' has no scheme");
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return Error(Code::InvalidArgument, "URL '" + url + "': scheme must be http or https");
  auto path_start = url.find('/', scheme_end + 3);
  std::string base = path_start == std::string::npos ? url : url.substr(0, path_start);
  std::string prefix = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (base.size() <= scheme_end + 3) return Error(Code::InvalidArgument, "URL '" + url + "' has no host");
  return std::make_pair(base, prefix);
}

Result<std::unique_ptr<HttpTransport>> make_http_transport(const std::string& base_url, core::Duration timeout) {
  CST_TRY_ASSIGN(auto parts, split_url(base_url));
  try {
    return std::unique_ptr<HttpTransport>(std::make_unique<HttplibTransport>(parts.first, timeout));
  } catch (const std::exception& e) {
    return Error(Code::InvalidArgument, "HTTP client for " + base_url + ": " + e.what());
  }
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace constellation::io::dns
