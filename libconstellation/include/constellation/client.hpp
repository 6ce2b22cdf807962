// SPDX-License-Identifier: Apache-2.0
//
// A client of a running agent's REST API (docs/api.md), as the constellation-agent CLI uses it:
// requests return the JSON body of a successful answer, and failures come back as the same error
// codes the agent used (a 404 is NotFound, a 409 Conflict, and so on).
#pragma once

#include <constellation/result.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace constellation {

struct ClientOptions {
  /// The agent's API, "http://host:port" or "https://host:port". Default http://127.0.0.1:7400.
  std::string url = "http://127.0.0.1:7400";
  /// Bearer token; empty for an agent without tokens.
  std::string token;
  /// Deadline of one request (a blocking query waits up to its own wait parameter on top).
  std::chrono::milliseconds timeout{10000};
  /// CA bundle to verify an https agent's certificate with; empty: the system's.
  std::string ca_file;
  /// Client certificate and key for an agent that requires mTLS.
  std::string cert_file;
  std::string key_file;
};

/// An answer: status, body, and the X-Constellation-Index of blocking queries (0 if absent).
struct ClientAnswer {
  int status = 0;
  std::string body;
  std::uint64_t index = 0;
};

class CST_API Client {
 public:
  /// Checks the options; nothing is contacted. Errors: InvalidArgument (a bad URL).
  static Result<std::unique_ptr<Client>> open(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Sends `method path` with `body`. A 2xx answer is returned; anything else is an error with the
  /// agent's message and the code for its status (400 InvalidArgument, 401/403 PermissionDenied,
  /// 404 NotFound, 409 Conflict, 421 NotLeader, 429/503 Unavailable, 504 Timeout, other
  /// Internal); a failed connection is Unavailable. Thread-safe.
  Result<ClientAnswer> request(std::string_view method, std::string_view path, std::string_view body = {},
                               std::chrono::milliseconds extra_wait = std::chrono::milliseconds(0));

  /// request() for GET, returning the body.
  Result<std::string> get(std::string_view path);

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// One column of format_table(): its heading and the member it shows (a dotted path such as
/// "addresses.backend"; arrays are joined with ","; a missing member shows "-").
struct TableColumn {
  std::string heading;
  std::string path;
};

/// A JSON array of objects as an aligned text table, one row per element, for people. A single
/// object is shown as one row. Errors: InvalidArgument (not JSON, not an array or object).
CST_API Result<std::string> format_table(std::string_view json, const std::vector<TableColumn>& columns);

/// Percent-encodes one path segment or query value (RFC 3986 unreserved characters are kept).
CST_API std::string url_encode(std::string_view s);

}  // namespace constellation
