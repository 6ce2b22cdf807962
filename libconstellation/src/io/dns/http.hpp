// SPDX-License-Identifier: Apache-2.0
//
// The HTTP seam of the HTTP-based providers, so tests and benchmarks can answer in-process.
#pragma once

#include <constellation/result.hpp>

#include "core/time.hpp"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace constellation::io::dns {

struct HttpRequest {
  std::string method;
  /// Path and query, e.g. "/client/v4/zones?name=example.com".
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  /// Lower-cased names.
  std::map<std::string, std::string> headers;
  std::string body;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  /// Sends one request. Errors: Unavailable (connection failed), Timeout.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

/// cpp-httplib client for `base_url` ("https://api.cloudflare.com", "http://127.0.0.1:8081"),
/// keep-alive, TLS with the system's CA store. `timeout` bounds connect, read and write.
/// Errors: InvalidArgument for a malformed URL.
Result<std::unique_ptr<HttpTransport>> make_http_transport(const std::string& base_url, core::Duration timeout);

/// Splits "scheme://host[:port][/prefix]" into base URL and path prefix. Errors: InvalidArgument.
Result<std::pair<std::string, std::string>> split_url(const std::string& url);

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view s);

}  // namespace constellation::io::dns
