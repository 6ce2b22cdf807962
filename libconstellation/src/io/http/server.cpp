// SPDX-License-Identifier: Apache-2.0
#include "io/http/server.hpp"

#include "core/json.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <thread>

namespace constellation::io::http {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

template <class D>
std::pair<time_t, time_t> split_seconds(D d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return {static_cast<time_t>(us / 1000000), static_cast<time_t>(us % 1000000)};
}

}  // namespace

const std::string& Request::header(const std::string& name) const {
  static const std::string empty;
  auto it = headers.find(name);
  return it == headers.end() ? empty : it->second;
}

Response Response::error(int status, std::string_view code, std::string_view message) {
  core::json::Writer w;
  w.begin_object().key("error").begin_object();
  w.key("code").value(code).key("message").value(message);
  w.end_object().end_object();
  Response r;
  r.status = status;
  r.body = std::move(w).take();
  r.body.push_back('\n');
  return r;
}

struct Route {
  std::string method;
  std::string path;
  bool prefix;
  Handler handler;
};

struct Server::Impl {
  ServerOptions options;
  std::unique_ptr<httplib::Server> server;  // a plain or an SSL server
  std::vector<Route> routes;
  std::thread thread;
  int port = 0;

  const Route* match(const std::string& method, const std::string& path, bool& path_known) const {
    const Route* best = nullptr;
    path_known = false;
    for (const auto& r : routes) {
      bool hit = r.prefix ? (path.size() >= r.path.size() && path.compare(0, r.path.size(), r.path) == 0)
                          : path == r.path;
      if (!hit) continue;
      path_known = true;
      if (r.method == method && (!best || r.path.size() > best->path.size())) best = &r;
    }
    return best;
  }

  void dispatch(const httplib::Request& in, httplib::Response& out) {
    Request req;
    req.method = in.method;
    req.path = in.path;
    for (const auto& [k, v] : in.params) req.query[k] = v;
    for (const auto& [k, v] : in.headers) req.headers[lower(k)] = v;
    req.body = in.body;
    req.remote_address = in.remote_addr;
    bool path_known = false;
    const Route* r = match(req.method == "HEAD" ? "GET" : req.method, req.path, path_known);
    Response resp;
    if (!r) {
      resp = path_known ? Response::error(405, "method_not_allowed", "method " + req.method + " is not allowed on " + req.path)
                        : Response::error(404, "not_found", "no such endpoint: " + req.path);
    } else {
      try {
        resp = r->handler(req);
      } catch (const std::exception& e) {
        resp = Response::error(500, "internal", std::string("handler failed: ") + e.what());
      }
    }
    out.status = resp.status;
    for (auto& [k, v] : resp.headers) out.set_header(k, v);
    out.set_content(std::move(resp.body), resp.content_type);
  }
};

namespace {
std::unique_ptr<httplib::Server> make_server(const ServerOptions& o) {
  if (o.tls_cert_file.empty()) return std::make_unique<httplib::Server>();
  return std::make_unique<httplib::SSLServer>(o.tls_cert_file.c_str(), o.tls_key_file.c_str(),
                                              o.tls_client_ca_file.empty() ? nullptr : o.tls_client_ca_file.c_str());
}
}  // namespace

Server::Server(ServerOptions options)
    : impl_(new Impl{options, make_server(options), {}, {}, 0}) {}

Server::~Server() { stop(); }

void Server::route(std::string method, std::string path, Handler handler) {
  bool prefix = path.size() >= 2 && path.ends_with("/*");
  if (prefix) path.resize(path.size() - 1);  // keep the trailing '/'
  impl_->routes.push_back(Route{std::move(method), std::move(path), prefix, std::move(handler)});
}

Result<int> Server::start() {
  auto& s = *impl_->server;
  const auto& o = impl_->options;
  if (!s.is_valid()) {
    return Error(Code::InvalidArgument, "cannot use TLS certificate " + o.tls_cert_file + " with key " + o.tls_key_file +
                                            (o.tls_client_ca_file.empty() ? "" : " and client CA " + o.tls_client_ca_file) +
                                            " (unreadable, or not a matching PEM certificate and key)");
  }
  const std::size_t threads = std::max<std::size_t>(1, o.threads);
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Responses are written in more than one send(): without TCP_NODELAY, Nagle waits for the
  // client's delayed ACK and every keep-alive request costs ~40 ms.
  s.set_tcp_nodelay(true);
  s.set_keep_alive_max_count(o.keep_alive_max_requests);
  auto [ka_s, ka_us] = split_seconds(o.keep_alive_timeout);
  s.set_keep_alive_timeout(ka_s == 0 && ka_us > 0 ? 1 : ka_s);
  auto [io_s, io_us] = split_seconds(o.io_timeout);
  s.set_read_timeout(io_s, io_us);
  s.set_write_timeout(io_s, io_us);
  s.set_payload_max_length(o.max_body_bytes);
  auto handler = [this](const httplib::Request& in, httplib::Response& out) { impl_->dispatch(in, out); };
  s.Get(".*", handler);
  s.Post(".*", handler);
  s.Put(".*", handler);
  s.Delete(".*", handler);
  s.Patch(".*", handler);
  // Requests httplib refuses before any handler runs still get a JSON error body.
  s.set_error_handler([](const httplib::Request&, httplib::Response& out) {
    if (out.status == 413) {
      auto r = Response::error(413, "payload_too_large", "request body exceeds the limit");
      out.set_content(r.body, r.content_type);
    } else if (out.status == 400 && out.body.empty()) {
      auto r = Response::error(400, "bad_request",
                               "the request could not be read: malformed HTTP, or a POST/PUT without Content-Length "
                               "(send Content-Length: 0 for an empty body, e.g. curl -d '')");
      out.set_content(r.body, r.content_type);
    } else if (out.status >= 400 && out.body.empty()) {
      auto r = Response::error(out.status, "http_" + std::to_string(out.status),
                               "the request was refused before it reached the API (HTTP " +
                                   std::to_string(out.status) + ")");
      out.set_content(r.body, r.content_type);
    }
  });
  // httplib's default also sets SO_REUSEPORT, which lets a second process bind the same port
  // and silently take half the connections. Only SO_REUSEADDR (fast restarts) is wanted.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  int port = o.port;
  bool bound = port == 0 ? (port = s.bind_to_any_port(o.address)) > 0 : s.bind_to_port(o.address, port);
  if (!bound) {
    return Error(Code::Io, "cannot listen on " + o.address + ":" + std::to_string(o.port) +
                               " (address in use, or not an address of this host)");
  }
  impl_->port = port;
  impl_->thread = std::thread([this] { impl_->server->listen_after_bind(); });
  // stop() is a no-op until the accept loop runs (httplib checks is_running()), so do not
  // return before it does: a start() followed at once by stop() must not leave it blocked.
  while (!impl_->server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

void Server::stop() {
  if (!impl_) return;
  if (impl_->thread.joinable()) {
    impl_->server->stop();
    impl_->thread.join();
  }
}

bool Server::running() const { return impl_->server->is_running(); }

Result<ClientResponse> request(const std::string& method, const std::string& host, int port, const std::string& path,
                               const std::string& body, const std::vector<std::pair<std::string, std::string>>& headers,
                               core::Duration timeout) {
  httplib::Client cli(host, port);
  auto [s, us] = split_seconds(timeout);
  cli.set_connection_timeout(s, us);
  cli.set_read_timeout(s, us);
  cli.set_write_timeout(s, us);
  httplib::Headers h;
  for (const auto& [k, v] : headers) h.emplace(k, v);
  if (method != "GET" && method != "POST" && method != "PUT" && method != "DELETE") {
    return Error(Code::InvalidArgument, "unsupported HTTP method " + method);
  }
  httplib::Result res = method == "GET"    ? cli.Get(path, h)
                        : method == "POST" ? cli.Post(path, h, body, "application/json")
                        : method == "PUT"  ? cli.Put(path, h, body, "application/json")
                                           : cli.Delete(path, h, body, "application/json");
  if (!res) {
    auto err = res.error();
    std::string what = httplib::to_string(err);
    if (err == httplib::Error::Read || err == httplib::Error::Write || err == httplib::Error::ConnectionTimeout) {
      return Error(Code::Timeout, method + " http://" + host + ":" + std::to_string(port) + path + ": " + what);
    }
    return Error(Code::Unavailable, method + " http://" + host + ":" + std::to_string(port) + path + ": " + what);
  }
  ClientResponse out;
  out.status = res->status;
  out.body = res->body;
  for (const auto& [k, v] : res->headers) out.headers[lower(k)] = v;
  return out;
}

}  // namespace constellation::io::http
