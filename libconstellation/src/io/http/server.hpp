// SPDX-License-Identifier: Apache-2.0
//
// A small HTTP/1.1 server for the API and the Traefik endpoint, on cpp-httplib (kept inside
// server.cpp). Handlers run on the server's worker threads, so they read only immutable
// snapshots or thread-safe state.
#pragma once

#include <constellation/result.hpp>

#include "core/time.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace constellation::io::http {

struct Request {
  std::string method;
  /// Path without the query string, e.g. "/v1/kv/app/config".
  std::string path;
  /// Query parameters (the last value wins for repeated names).
  std::map<std::string, std::string> query;
  /// Header names lower-cased.
  std::map<std::string, std::string> headers;
  std::string body;
  std::string remote_address;

  /// The header's value, or "" when absent. `name` is lower case.
  const std::string& header(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  /// {"error":{"code":"<code>","message":"<message>"}} with the HTTP status for `code`.
  static Response error(int status, std::string_view code, std::string_view message);
};

using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  /// Address to listen on. Default loopback only.
  std::string address = "127.0.0.1";
  /// TCP port; 0 picks a free one (start() returns it).
  int port = 0;
  /// Worker threads: each keep-alive connection holds one while open. Default 16.
  std::size_t threads = 16;
  /// Larger request bodies get 413. Default 1 MiB.
  std::size_t max_body_bytes = 1u << 20;
  /// How long an idle keep-alive connection stays open. Default 5 s.
  core::Duration keep_alive_timeout = std::chrono::seconds(5);
  /// Requests served on one connection before it is closed. Default 10,000.
  std::size_t keep_alive_max_requests = 10000;
  /// Read/write timeout for a request in progress. Default 10 s.
  core::Duration io_timeout = std::chrono::seconds(10);
  /// PEM certificate chain and key: when both are set the server speaks HTTPS only.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// PEM CA bundle: when set (with TLS), clients must present a certificate signed by it (mTLS).
  std::string tls_client_ca_file;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Serves `method path` with `handler`. A path ending in "/*" matches that prefix and
  /// everything below it. Register routes before start().
  void route(std::string method, std::string path, Handler handler);

  /// Binds and starts serving on a background thread. Returns the bound port.
  /// Errors: Io (address in use, permission denied) naming the address; InvalidArgument (TLS
  /// files that cannot be read or do not form a valid certificate and key).
  Result<int> start();

  /// Stops accepting, closes connections and joins the thread. Idempotent.
  void stop();

  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Minimal blocking client, for tests and for talking to a local agent.
struct ClientResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-cased names
};

/// GET/POST/PUT/DELETE http://host:port/path with optional body and headers.
/// Errors: Unavailable when the connection fails, Timeout when it times out.
Result<ClientResponse> request(const std::string& method, const std::string& host, int port, const std::string& path,
                               const std::string& body = {},
                               const std::vector<std::pair<std::string, std::string>>& headers = {},
                               core::Duration timeout = std::chrono::seconds(10));

}  // namespace constellation::io::http
