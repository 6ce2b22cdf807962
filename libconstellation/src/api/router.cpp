// SPDX-License-Identifier: Apache-2.0
#include "api/router.hpp"

#include <exception>

namespace constellation::api {

int http_status(Code code) {
  switch (code) {
    case Code::InvalidArgument: return 400;
    case Code::PermissionDenied: return 403;
    case Code::NotFound: return 404;
    case Code::Conflict: return 409;
    case Code::NotLeader: return 421;
    case Code::Unavailable: return 503;
    case Code::Timeout: return 504;
    case Code::Io:
    case Code::Corrupt:
    case Code::Internal: return 500;
  }
  return 500;
}

io::http::Response error_response(const Error& e) {
  auto r = io::http::Response::error(http_status(e.code()), code_name(e.code()), e.message());
  if (e.code() == Code::Unavailable) r.headers.emplace_back("Retry-After", "1");
  return r;
}

io::http::Response json_text(std::string body, int status) {
  io::http::Response r;
  r.status = status;
  r.body = std::move(body);
  if (r.body.empty() || r.body.back() != '\n') r.body.push_back('\n');
  return r;
}

io::http::Response json_response(const core::json::Value& v, int status) {
  core::json::WriteOptions o;
  o.sort_keys = true;
  return json_text(core::json::serialize(v, o), status);
}

Router::Router(io::http::Server& server, RouterOptions options, const core::Clock& clock,
               core::metrics::Registry* metrics)
    : server_(server),
      options_(std::move(options)),
      clock_(clock),
      auth_(options_.tokens),
      limiter_(options_.rate_limit, options_.rate_burst, clock) {
  if (metrics) {
    requests_ = &metrics->counter("constellation_api_requests_total", "API requests answered, by route and status.",
                                  {"route", "status"});
    latency_ = &metrics->histogram("constellation_api_request_duration_seconds", "API request handling time, by route.",
                                   core::metrics::default_latency_buckets(), {"route"});
  }
}

void Router::add(const std::string& method, const std::string& path, Role role, Handler handler) {
  const bool prefix = path.ends_with("/*");
  const std::string base = prefix ? path.substr(0, path.size() - 1) : path;
  server_.route(method, path,
                [this, route = path, base, prefix, role, handler = std::move(handler)](const io::http::Request& req) {
                  const core::Instant started = clock_.now();
                  io::http::Response resp = dispatch(req, base, prefix, role, handler);
                  if (requests_) requests_->labels({route, std::to_string(resp.status)}).inc();
                  if (latency_)
                    latency_->labels({route}).observe(std::chrono::duration<double>(clock_.now() - started).count());
                  return resp;
                });
}

io::http::Response Router::dispatch(const io::http::Request& req, const std::string& base, bool prefix, Role role,
                                    const Handler& handler) {
  const bool write = req.method != "GET" && req.method != "HEAD";
  AuditRecord audit{clock_.wall_now(), "", false, Role::Read, req.method, req.path, req.remote_address, 0, ""};
  auto finish = [&](io::http::Response resp, std::string detail) {
    if (write && options_.audit) {
      audit.status = resp.status;
      audit.detail = std::move(detail);
      options_.audit(audit);
    }
    return resp;
  };

  auto principal = auth_.authenticate(req.header("authorization"));
  if (!principal) {
    audit.principal = "unauthenticated";
    // Callers without a valid token are limited by address too: no unlimited token guessing, and
    // no flooding of the audit log.
    if (!limiter_.allow(req.remote_address)) {
      auto resp = io::http::Response::error(429, "rate_limited", "too many requests from " + req.remote_address);
      resp.headers.emplace_back("Retry-After", std::to_string(limiter_.retry_after_seconds(req.remote_address)));
      return finish(std::move(resp), "rate limited");
    }
    auto resp = io::http::Response::error(401, "unauthorized", principal.error().message());
    resp.headers.emplace_back("WWW-Authenticate", "Bearer");
    return finish(std::move(resp), principal.error().message());
  }
  audit.principal = principal->name;
  audit.authenticated = true;
  audit.role = principal->role;
  const std::string client = auth_.open() ? req.remote_address : principal->name;
  if (!limiter_.allow(client)) {
    auto resp = io::http::Response::error(429, "rate_limited", "too many requests from " + client);
    resp.headers.emplace_back("Retry-After", std::to_string(limiter_.retry_after_seconds(client)));
    return finish(std::move(resp), "rate limited");
  }
  if (principal->role < role) {
    std::string msg = "token '" + principal->name + "' has role " + std::string(role_name(principal->role)) +
                      "; this needs " + std::string(role_name(role));
    return finish(io::http::Response::error(403, "permission_denied", msg), msg);
  }
  Call call{req, *principal, prefix ? req.path.substr(std::min(base.size(), req.path.size())) : std::string()};
  try {
    auto r = handler(call);
    if (!r) return finish(error_response(r.error()), r.error().message());
    return finish(std::move(*r), "");
  } catch (const std::exception& e) {
    std::string msg = std::string("handler failed: ") + e.what();
    return finish(io::http::Response::error(500, "internal", msg), msg);
  }
}

}  // namespace constellation::api
