// SPDX-License-Identifier: Apache-2.0
#include "io/http/static_server.hpp"

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstring>
#include <ctime>
#include <thread>
#include <unordered_set>

namespace constellation::io::http {

namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// True when the comma-separated header value contains `token` (case-insensitively).
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    if (iequals(trim_ows(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

enum class ParseStatus { Complete, Incomplete, Bad, HeadTooLarge, BodyTooLarge, Unsupported };

struct Parsed {
  StaticRequest request;
  std::size_t head_bytes = 0;
  std::size_t body_bytes = 0;
  bool keep_alive = true;
  bool http10 = false;
};

/// Parses one request from the start of `data`.
ParseStatus parse_request(std::string_view data, const StaticServerOptions& o, Parsed& out) {
  // End of the head: an empty line, tolerating bare LF line ends.
  std::size_t end = std::string_view::npos;
  std::size_t body_start = 0;
  for (std::size_t i = data.find('\n'); i != std::string_view::npos; i = data.find('\n', i + 1)) {
    if (i + 1 < data.size() && data[i + 1] == '\n') {
      end = i + 1;
      body_start = i + 2;
      break;
    }
    if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') {
      end = i + 1;
      body_start = i + 3;
      break;
    }
    if (i > o.max_header_bytes) break;
  }
  if (end == std::string_view::npos) {
    return data.size() > o.max_header_bytes ? ParseStatus::HeadTooLarge : ParseStatus::Incomplete;
  }
  if (body_start > o.max_header_bytes) return ParseStatus::HeadTooLarge;
  std::string_view head = data.substr(0, end);
  auto next_line = [&head]() {
    std::size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  std::string_view line = next_line();
  // Request line: method SP target SP HTTP/1.x
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return ParseStatus::Bad;
  }
  StaticRequest& req = out.request;
  req.headers.clear();  // keeps its capacity: no allocation per request
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  for (char c : req.method) {
    if (!is_tchar(c)) return ParseStatus::Bad;
  }
  if (req.target.empty()) return ParseStatus::Bad;
  for (char c : req.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return ParseStatus::Bad;
  }
  if (version == "HTTP/1.1") {
    out.http10 = false;
  } else if (version == "HTTP/1.0") {
    out.http10 = true;
  } else {
    return ParseStatus::Bad;
  }
  std::size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string_view::npos ? std::string_view() : req.target.substr(q + 1);

  std::size_t content_length = 0;
  bool have_length = false;
  bool close = false, keep_alive = false, chunked = false;
  while (!head.empty()) {
    line = next_line();
    if (line.empty()) continue;
    if (line.front() == ' ' || line.front() == '\t') return ParseStatus::Bad;  // obsolete folding
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return ParseStatus::Bad;
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!is_tchar(c)) return ParseStatus::Bad;
    }
    std::string_view value = trim_ows(line.substr(colon + 1));
    if (req.headers.size() >= 100) return ParseStatus::HeadTooLarge;
    req.headers.emplace_back(name, value);
    if (iequals(name, "content-length")) {
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc() || p != value.data() + value.size()) return ParseStatus::Bad;
      if (have_length && n != content_length) return ParseStatus::Bad;
      content_length = n;
      have_length = true;
    } else if (iequals(name, "transfer-encoding")) {
      chunked = true;
    } else if (iequals(name, "connection")) {
      close = close || has_token(value, "close");
      keep_alive = keep_alive || has_token(value, "keep-alive");
    }
  }
  if (chunked) return ParseStatus::Unsupported;
  if (content_length > o.max_body_bytes) return ParseStatus::BodyTooLarge;
  if (data.size() - body_start < content_length) return ParseStatus::Incomplete;
  out.head_bytes = body_start;
  out.body_bytes = content_length;
  out.request.body = data.substr(body_start, content_length);
  out.keep_alive = out.http10 ? (keep_alive && !close) : !close;
  return ParseStatus::Complete;
}

std::string http_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

class ConnBase {
 public:
  virtual ~ConnBase() = default;
  /// Closes the connection when its deadline has passed.
  virtual void sweep(Clock::time_point now) = 0;
  virtual void close() = 0;
};

struct Worker {
  // Declared before ctx so it outlives the connections destroyed with ctx's handlers.
  std::unordered_set<ConnBase*> conns;
  asio::io_context ctx{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(ctx);
  asio::steady_timer sweep_timer{ctx};
  /// "Date: <IMF-fixdate>\r\n", refreshed once a second.
  std::string date_line;
  /// Coarse clock for deadlines, refreshed with date_line.
  Clock::time_point now = Clock::now();
  std::thread thread;
};

}  // namespace

struct StaticServer::Impl {
  // Destroyed in reverse order: the acceptor and its retry timer go first, then the workers
  // (whose contexts may still own connections that touch `connections`), then the rest.
  StaticServerOptions options;
  StaticHandler handler;             // one of these two is set
  StaticAsyncHandler async_handler;
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> stopped{false};
  std::size_t next_worker = 0;
  int port = 0;
  std::unique_ptr<asio::ssl::context> ssl;
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> accept_retry;

  void accept();
  template <class Stream>
  void start_connection(Worker& w, Stream stream);
};

namespace {

template <class Stream>
tcp::socket& lowest(Stream& s) {
  if constexpr (std::is_same_v<Stream, tcp::socket>) {
    return s;
  } else {
    return s.next_layer();
  }
}

template <class Stream>
class Conn final : public ConnBase, public std::enable_shared_from_this<Conn<Stream>> {
 public:
  Conn(StaticServer::Impl& server, Worker& worker, Stream stream)
      : server_(server), worker_(worker), stream_(std::move(stream)) {
    worker_.conns.insert(this);
    buf_.resize(4096);
  }
  ~Conn() override {
    worker_.conns.erase(this);
    server_.connections.fetch_sub(1, std::memory_order_relaxed);
  }

  void start() {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      wait_for_request();
    } else {
      deadline_ = worker_.now + server_.options.request_timeout;
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](const std::error_code& ec) {
                                if (ec) return self->close();
                                self->wait_for_request();
                              });
    }
  }

  void sweep(Clock::time_point now) override {
    if (now > deadline_) close();
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    std::error_code ignored;
    lowest(stream_).shutdown(tcp::socket::shutdown_both, ignored);
    lowest(stream_).close(ignored);
  }

 private:
  void wait_for_request() {
    deadline_ = worker_.now + (end_ > start_ ? server_.options.request_timeout : server_.options.idle_timeout);
    process();
  }

  void read_more() {
    if (closed_) return;
    if (start_ > 0) {  // compact: unconsumed bytes to the front
      std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
      end_ -= start_;
      start_ = 0;
    }
    if (end_ == buf_.size()) {
      std::size_t limit = server_.options.max_header_bytes + server_.options.max_body_bytes + 4096;
      if (buf_.size() >= limit) return respond_error(431);
      buf_.resize(std::min(limit, buf_.size() * 2));
    }
    stream_.async_read_some(asio::buffer(buf_.data() + end_, buf_.size() - end_),
                            [self = this->shared_from_this()](const std::error_code& ec, std::size_t n) {
                              if (ec) return self->close();
                              if (self->end_ == self->start_) {
                                self->deadline_ = self->worker_.now + self->server_.options.request_timeout;
                              }
                              self->end_ += n;
                              self->process();
                            });
  }

  void process() {
    if (closed_) return;
    if (end_ == start_) return read_more();
    Parsed& parsed = parsed_;
    std::string_view data(buf_.data() + start_, end_ - start_);
    switch (parse_request(data, server_.options, parsed)) {
      case ParseStatus::Incomplete: return read_more();
      case ParseStatus::Bad: return respond_error(400);
      case ParseStatus::HeadTooLarge: return respond_error(431);
      case ParseStatus::BodyTooLarge: return respond_error(413);
      case ParseStatus::Unsupported: return respond_error(501);
      case ParseStatus::Complete: break;
    }
    reset_response();
    const bool head_only = parsed.request.method == "HEAD";
    consumed_ = parsed.head_bytes + parsed.body_bytes;
    if (server_.async_handler) return dispatch_async(parsed, head_only);
    try {
      server_.handler(parsed.request, response_);
    } catch (...) {
      internal_error();
    }
    write(parsed.keep_alive, parsed.http10, head_only);
  }

  void internal_error() {
    reset_response();
    response_.status = 500;
    response_.headers = "Content-Type: text/plain\r\n";
    response_.owned_body = "internal error\n";
  }

  // The answer comes through the responder, possibly from another thread: it is posted back to
  // this connection's thread and written there. Meanwhile the connection waits (no deadline).
  void dispatch_async(const Parsed& parsed, bool head_only) {
    deadline_ = Clock::time_point::max();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    StaticResponder respond = [self = this->shared_from_this(), answered, keep_alive = parsed.keep_alive,
                               http10 = parsed.http10, head_only](StaticResponse r) {
      if (answered->exchange(true)) return;
      asio::post(self->worker_.ctx, [self, r = std::move(r), keep_alive, http10, head_only]() mutable {
        if (self->closed_) return;
        self->response_ = std::move(r);
        self->write(keep_alive, http10, head_only);
      });
    };
    try {
      server_.async_handler(parsed.request, respond);
    } catch (...) {
      StaticResponse r;
      r.status = 500;
      r.headers = "Content-Type: text/plain\r\n";
      r.owned_body = "internal error\n";
      respond(std::move(r));
    }
  }

  /// Clears the response, keeping the capacity of its strings.
  void reset_response() {
    response_.status = 200;
    response_.headers.clear();
    response_.body = {};
    response_.keep.reset();
    response_.owned_body.clear();
    response_.no_body = false;
  }

  void respond_error(int status) {
    reset_response();
    response_.status = status;
    response_.headers = "Content-Type: text/plain\r\n";
    response_.owned_body = std::string(reason_phrase(status)) + "\n";
    consumed_ = end_ - start_;
    write(false, false, false);
  }

  void write(bool keep_alive, bool http10, bool head_only) {
    keep_alive_ = keep_alive;
    std::string_view body = response_.body.empty() ? std::string_view(response_.owned_body) : response_.body;
    head_.clear();
    head_ += "HTTP/1.1 ";
    head_ += std::to_string(response_.status);
    head_ += ' ';
    head_ += reason_phrase(response_.status);
    head_ += "\r\n";
    head_ += worker_.date_line;
    head_ += "Server: constellation\r\n";
    if (!response_.no_body) {
      head_ += "Content-Length: ";
      head_ += std::to_string(body.size());
      head_ += "\r\n";
    }
    head_ += response_.headers;
    if (!keep_alive) {
      head_ += "Connection: close\r\n";
    } else if (http10) {
      head_ += "Connection: keep-alive\r\n";
    }
    head_ += "\r\n";
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::const_buffer()};
    if (!head_only && !response_.no_body) buffers[1] = asio::buffer(body.data(), body.size());
    deadline_ = worker_.now + server_.options.request_timeout;
    asio::async_write(stream_, buffers,
                      [self = this->shared_from_this()](const std::error_code& ec, std::size_t) {
                        self->response_.keep.reset();
                        if (ec) return self->close();
                        self->start_ += self->consumed_;
                        if (!self->keep_alive_) return self->close();
                        self->wait_for_request();
                      });
  }

  StaticServer::Impl& server_;
  Worker& worker_;
  Stream stream_;
  std::vector<char> buf_;
  std::size_t start_ = 0;  // first unconsumed byte
  std::size_t end_ = 0;    // end of received bytes
  std::size_t consumed_ = 0;
  std::string head_;
  Parsed parsed_;
  StaticResponse response_;
  bool keep_alive_ = true;
  bool closed_ = false;
  Clock::time_point deadline_{};
};

void schedule_sweep(Worker& w) {
  w.now = Clock::now();
  w.date_line = "Date: " + http_date(std::time(nullptr)) + "\r\n";
  w.sweep_timer.expires_after(std::chrono::seconds(1));
  w.sweep_timer.async_wait([&w](const std::error_code& ec) {
    if (ec) return;
    w.now = Clock::now();
    // Copy: sweeping may destroy connections, which erase themselves from the set.
    std::vector<ConnBase*> conns(w.conns.begin(), w.conns.end());
    for (ConnBase* c : conns) c->sweep(w.now);
    schedule_sweep(w);
  });
}

}  // namespace

template <class Stream>
void StaticServer::Impl::start_connection(Worker& w, Stream stream) {
  std::make_shared<Conn<Stream>>(*this, w, std::move(stream))->start();
}

void StaticServer::Impl::accept() {
  if (stopped.load()) return;
  Worker& w = *workers[next_worker++ % workers.size()];
  acceptor->async_accept(w.ctx, [this, &w](const std::error_code& ec, tcp::socket socket) {
    if (stopped.load()) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // Out of descriptors or similar: back off briefly instead of spinning.
      accept_retry->expires_after(std::chrono::milliseconds(50));
      accept_retry->async_wait([this](const std::error_code& e) {
        if (!e) accept();
      });
      return;
    }
    if (connections.fetch_add(1, std::memory_order_relaxed) >= options.max_connections) {
      connections.fetch_sub(1, std::memory_order_relaxed);
      std::error_code ignored;
      socket.close(ignored);
    } else {
      std::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      asio::post(w.ctx, [this, &w, s = std::move(socket)]() mutable {
        if (ssl) {
          start_connection(w, asio::ssl::stream<tcp::socket>(std::move(s), *ssl));
        } else {
          start_connection(w, std::move(s));
        }
      });
    }
    accept();
  });
}

std::string_view StaticRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

std::string_view StaticRequest::query_param(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    std::size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return {};
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

StaticServer::StaticServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StaticServer::~StaticServer() { stop(); }

int StaticServer::port() const { return impl_->port; }

Result<std::unique_ptr<StaticServer>> StaticServer::start(StaticServerOptions options, StaticHandler handler) {
  if (!handler) return Error(Code::InvalidArgument, "static server: no handler");
  return start_with(std::move(options), std::move(handler), {});
}

Result<std::unique_ptr<StaticServer>> StaticServer::start_async(StaticServerOptions options, StaticAsyncHandler handler) {
  if (!handler) return Error(Code::InvalidArgument, "static server: no handler");
  return start_with(std::move(options), {}, std::move(handler));
}

Result<std::unique_ptr<StaticServer>> StaticServer::start_with(StaticServerOptions options, StaticHandler handler,
                                                               StaticAsyncHandler async_handler) {
  if (options.threads == 0 || options.threads > 256) {
    return Error(Code::InvalidArgument, "threads: must be between 1 and 256");
  }
  if (options.port < 0 || options.port > 65535) {
    return Error(Code::InvalidArgument, "port: " + std::to_string(options.port) + " is not a port number");
  }
  if (options.max_header_bytes < 256) return Error(Code::InvalidArgument, "max_header_bytes: must be >= 256");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return Error(Code::InvalidArgument, "tls: the certificate and the key go together");
  }
  if (!options.tls_client_ca_file.empty() && options.tls_cert_file.empty()) {
    return Error(Code::InvalidArgument, "tls: a client CA (mTLS) needs a server certificate and key");
  }
  std::error_code ec;
  auto address = asio::ip::make_address(options.address, ec);
  if (ec) return Error(Code::InvalidArgument, "address: '" + options.address + "' is not an IP address");

  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->handler = std::move(handler);
  impl->async_handler = std::move(async_handler);
  const auto& o = impl->options;
  if (!o.tls_cert_file.empty()) {
    impl->ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    impl->ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    impl->ssl->use_certificate_chain_file(o.tls_cert_file, ec);
    if (ec) return Error(Code::InvalidArgument, "tls_cert_file: " + o.tls_cert_file + ": " + ec.message());
    impl->ssl->use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) return Error(Code::InvalidArgument, "tls_key_file: " + o.tls_key_file + ": " + ec.message());
    if (!o.tls_client_ca_file.empty()) {
      impl->ssl->load_verify_file(o.tls_client_ca_file, ec);
      if (ec) return Error(Code::InvalidArgument, "tls_client_ca_file: " + o.tls_client_ca_file + ": " + ec.message());
      impl->ssl->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    }
  }
  for (std::size_t i = 0; i < o.threads; ++i) impl->workers.push_back(std::make_unique<Worker>());
  auto& first = *impl->workers.front();
  impl->acceptor = std::make_unique<tcp::acceptor>(first.ctx);
  tcp::endpoint endpoint(address, static_cast<unsigned short>(o.port));
  impl->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor->bind(endpoint, ec);
  if (!ec) impl->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error(Code::Io, "cannot listen on " + o.address + ":" + std::to_string(o.port) + ": " + ec.message());
  }
  impl->port = impl->acceptor->local_endpoint().port();
  impl->accept_retry = std::make_unique<asio::steady_timer>(first.ctx);
  Impl* raw = impl.get();
  for (auto& w : raw->workers) {
    schedule_sweep(*w);
    Worker* wp = w.get();
    wp->thread = std::thread([wp] { wp->ctx.run(); });
  }
  asio::post(first.ctx, [raw] { raw->accept(); });
  return std::unique_ptr<StaticServer>(new StaticServer(std::move(impl)));
}

void StaticServer::stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  Impl* raw = impl_.get();
  auto& first = *raw->workers.front();
  asio::post(first.ctx, [raw] {
    std::error_code ignored;
    raw->acceptor->close(ignored);
    raw->accept_retry->cancel();
  });
  for (auto& w : raw->workers) {
    Worker* wp = w.get();
    asio::post(wp->ctx, [wp] {
      wp->sweep_timer.cancel();
      std::vector<ConnBase*> conns(wp->conns.begin(), wp->conns.end());
      for (ConnBase* c : conns) c->close();
    });
    wp->guard.reset();
  }
  for (auto& w : raw->workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  raw->accept_retry.reset();
  raw->acceptor.reset();
}

}  // namespace constellation::io::http
