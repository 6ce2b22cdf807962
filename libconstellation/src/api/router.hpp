// SPDX-License-Identifier: Apache-2.0
//
// The REST API's front door: every route declares the least role it needs; the router
// authenticates the bearer token, applies the per-client rate limit, runs the handler, maps
// errors to HTTP statuses with a JSON body, counts requests, and hands every write to the audit
// sink (who, what, when, outcome).
#pragma once

#include <constellation/result.hpp>

#include "api/auth.hpp"
#include "api/rate_limit.hpp"
#include "core/json.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "io/http/server.hpp"

#include <functional>
#include <memory>
#include <string>

namespace constellation::api {

struct Call {
  const io::http::Request& request;
  const Principal& principal;
  /// For a prefix route ("/v1/kv/*"): the part of the path after the prefix ("app/config").
  std::string rest;
};

using Handler = std::function<Result<io::http::Response>(const Call&)>;

/// One audited write.
struct AuditRecord {
  core::WallTime time;
  /// The token's name, "anonymous" (no tokens configured) or "unauthenticated" (refused with 401).
  std::string principal;
  /// False when the request was refused for want of a valid token (`role` then means nothing).
  bool authenticated = false;
  Role role = Role::Read;
  std::string method;
  std::string path;
  std::string remote_address;
  int status = 0;
  /// The error message for a refused or failed request, "" on success.
  std::string detail;
};

struct RouterOptions {
  std::vector<ApiToken> tokens;
  /// Requests per second per client (token name, or address when unauthenticated), and burst.
  double rate_limit = 100;
  double rate_burst = 200;
  /// Receives every request that is not a GET or HEAD, after it was answered (also refused ones).
  /// Called on server threads; must be thread-safe.
  std::function<void(const AuditRecord&)> audit;
};

/// The HTTP status for an error code: InvalidArgument 400, PermissionDenied 403, NotFound 404,
/// Conflict 409, NotLeader 421, Unavailable 503, Timeout 504, the rest 500.
int http_status(Code code);

/// {"error":{"code":"not_found","message":"..."}} with http_status(code).
io::http::Response error_response(const Error& e);
/// A JSON body (the value serialised with sorted keys) and status.
io::http::Response json_response(const core::json::Value& v, int status = 200);
/// A JSON body written by the caller.
io::http::Response json_text(std::string body, int status = 200);

class Router {
 public:
  Router(io::http::Server& server, RouterOptions options, const core::Clock& clock,
         core::metrics::Registry* metrics = nullptr);

  /// Serves `method path` (a trailing "/*" matches a prefix) for callers with at least `role`.
  void add(const std::string& method, const std::string& path, Role role, Handler handler);

  const Authenticator& authenticator() const { return auth_; }

 private:
  io::http::Response dispatch(const io::http::Request& req, const std::string& route, bool prefix, Role role,
                              const Handler& handler);
  io::http::Server& server_;
  RouterOptions options_;
  const core::Clock& clock_;
  Authenticator auth_;
  RateLimiter limiter_;
  core::metrics::CounterFamily* requests_ = nullptr;
  core::metrics::HistogramFamily* latency_ = nullptr;
};

}  // namespace constellation::api
