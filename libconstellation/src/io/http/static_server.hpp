// SPDX-License-Identifier: Apache-2.0
//
// A minimal HTTP/1.1 server for hot endpoints that answer from bytes already in memory (the
// Traefik configuration): Asio, one io_context per thread, no thread per connection. Keep-alive
// by default (HTTP/1.1) and on request (HTTP/1.0); pipelined requests are answered in order, one
// at a time; request heads are bounded (431), request bodies are bounded (413) and otherwise read
// and discarded; chunked request bodies are refused (501) and the connection closed. Idle and
// slow connections are closed by a once-a-second sweep, which also refreshes the Date header, so
// the request path arms no timer. Optional TLS, and mutual TLS with a client CA.
//
// The existing cpp-httplib Server (server.hpp) stays the general API server; this one serves only
// what its single handler returns, and the handler must not block — it answers at once, or later
// through a responder (start_async) when the answer waits on other work (a Raft commit).
#pragma once

#include <constellation/result.hpp>

#include "core/time.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace constellation::io::http {

/// A request: views into the connection's buffer, valid only during the handler call.
struct StaticRequest {
  std::string_view method;
  /// The request target as sent ("/v1/traefik?version=v2").
  std::string_view target;
  /// The target up to '?'.
  std::string_view path;
  /// The target after '?' ("" when none).
  std::string_view query;
  /// Header fields in the order received; names as sent.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  /// The request body (Content-Length bytes; bounded by max_body_bytes).
  std::string_view body;

  /// The value of header `name` (matched case-insensitively), or "" when absent.
  std::string_view header(std::string_view name) const;
  /// The value of query parameter `name` (no percent-decoding), or "" when absent.
  std::string_view query_param(std::string_view name) const;
};

/// What the handler answers.
struct StaticResponse {
  int status = 200;
  /// Extra header lines, each ending in "\r\n" ("Content-Type: application/json\r\n").
  /// Content-Length, Date, Server and Connection are added by the server.
  std::string headers;
  /// The body; must stay valid while `keep` is held (the server holds it until the write ends).
  std::string_view body;
  std::shared_ptr<const void> keep;
  /// A body owned by the response (small, dynamic answers): used when `body` is empty.
  std::string owned_body;
  /// Do not send a body even for GET (304); Content-Length is then left out too.
  bool no_body = false;
};

/// Runs on the server's threads, possibly concurrently: must be thread-safe and must not block.
using StaticHandler = std::function<void(const StaticRequest&, StaticResponse&)>;

/// Answers one request, from any thread, exactly once (later calls are ignored).
using StaticResponder = std::function<void(StaticResponse)>;
/// A handler that may answer later (when the answer waits on other work): it runs on the
/// server's threads and must not block; the request's views are valid only during the call, so
/// it copies what it needs. The connection reads no further request until the answer is
/// written, and is not timed out meanwhile: the handler must answer.
using StaticAsyncHandler = std::function<void(const StaticRequest&, StaticResponder)>;

struct StaticServerOptions {
  /// Address to listen on (IPv4 or IPv6 literal). Default loopback.
  std::string address = "127.0.0.1";
  /// TCP port; 0 picks a free one (see StaticServer::port()).
  int port = 0;
  /// Event-loop threads, each with its own io_context; connections are spread round-robin.
  /// Default 1.
  std::size_t threads = 1;
  /// Largest request line + headers; bigger heads get 431 and the connection is closed.
  /// Default 8 KiB.
  std::size_t max_header_bytes = 8 * 1024;
  /// Largest request body read (and discarded); bigger ones get 413 and the connection is
  /// closed. Default 64 KiB.
  std::size_t max_body_bytes = 64 * 1024;
  /// A connection with no request in progress is closed after this long. Default 60 s.
  core::Duration idle_timeout = std::chrono::seconds(60);
  /// A request (head and body, or the TLS handshake) must arrive within this. Default 10 s.
  core::Duration request_timeout = std::chrono::seconds(10);
  /// Connections beyond this are closed as soon as they are accepted. Default 10,000.
  std::size_t max_connections = 10000;
  /// PEM certificate chain and key: when set, connections are TLS.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// PEM CA bundle: when set (with TLS), clients must present a certificate it signed (mTLS).
  std::string tls_client_ca_file;
};

class StaticServer {
 public:
  /// Binds, listens and starts the threads. Errors: Io (address in use, not an address of this
  /// host), InvalidArgument (bad option, unreadable or invalid TLS files).
  static Result<std::unique_ptr<StaticServer>> start(StaticServerOptions options, StaticHandler handler);
  /// The same with a handler that answers through a responder (see StaticAsyncHandler).
  static Result<std::unique_ptr<StaticServer>> start_async(StaticServerOptions options, StaticAsyncHandler handler);

  ~StaticServer();
  StaticServer(const StaticServer&) = delete;
  StaticServer& operator=(const StaticServer&) = delete;

  /// The bound port.
  int port() const;

  /// Stops accepting, closes every connection and joins the threads. Idempotent.
  void stop();

  struct Impl;

 private:
  explicit StaticServer(std::unique_ptr<Impl> impl);
  static Result<std::unique_ptr<StaticServer>> start_with(StaticServerOptions options, StaticHandler handler,
                                                          StaticAsyncHandler async_handler);
  std::unique_ptr<Impl> impl_;
};

/// The reason phrase of a status code ("OK", "Service Unavailable"), "Unknown" otherwise.
std::string_view reason_phrase(int status);

}  // namespace constellation::io::http
