// SPDX-License-Identifier: Apache-2.0
#include "traefik/provider_server.hpp"

#include "core/json.hpp"
#include "io/os/os.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace constellation::traefik {

namespace {

using provider::Format;
using provider::TraefikVersion;

std::size_t vi(TraefikVersion v) { return v == TraefikVersion::V2 ? 0 : 1; }
std::size_t fi(Format f) { return f == Format::Json ? 0 : 1; }

/// A render plus everything the request path needs precomputed.
struct Served {
  std::shared_ptr<const provider::Rendered> rendered;
  /// Header lines per [version][format]: Content-Type, ETag, Cache-Control, generation.
  std::array<std::array<std::string, 2>, 2> headers;
  std::string diagnostics_body;
};

std::string error_body(std::string_view code, std::string_view message) {
  core::json::Writer w;
  w.begin_object().key("error").begin_object();
  w.key("code").value(code).key("message").value(message);
  w.end_object().end_object();
  std::string out = std::move(w).take();
  out.push_back('\n');
  return out;
}

/// Equal in time independent of where the strings differ (the length is not secret).
bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

/// If-None-Match (weak comparison, RFC 9110 §13.1.2): "*" or a list containing the tag.
bool etag_matches(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    std::size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "*") return true;
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == etag) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

constexpr std::array<int, 8> kCodes = {200, 304, 400, 401, 404, 405, 503, 0};

/// Requests by status code, shared with the metrics collector (which may outlive the server).
/// Striped by thread so that serving threads do not contend on one cache line.
struct RequestCounts {
  static constexpr std::size_t kStripes = 8;
  struct alignas(64) Stripe {
    std::array<std::atomic<std::uint64_t>, kCodes.size()> n{};
  };
  std::array<Stripe, kStripes> stripes;
  std::array<std::uint64_t, kCodes.size()> reported{};

  void add(std::size_t code_index) {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t stripe = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
    stripes[stripe].n[code_index].fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t total(std::size_t code_index) const {
    std::uint64_t sum = 0;
    for (const auto& s : stripes) sum += s.n[code_index].load(std::memory_order_relaxed);
    return sum;
  }
};

/// What a serving thread holds on to: a thread-local handle on the current Served, so that the
/// per-request reference count lives in a cache line only that thread touches.
struct ThreadServed {
  const void* owner = nullptr;
  std::uint64_t version = 0;
  std::shared_ptr<const std::shared_ptr<const Served>> handle;
};

}  // namespace

struct ProviderServer::Impl {
  provider::Options options;
  ServeOptions serve;
  core::metrics::Registry* metrics = nullptr;
  const core::Clock* clock = nullptr;
  std::unique_ptr<provider::Renderer> renderer;
  std::unique_ptr<io::http::StaticServer> http;

  mutable std::mutex served_mu;
  std::shared_ptr<const Served> served;
  /// Bumped (under served_mu) whenever `served` changes; read without the lock by serving threads.
  std::atomic<std::uint64_t> served_version{0};

  std::mutex mu;
  std::condition_variable wake;
  std::condition_variable synced;
  std::shared_ptr<const catalog::Snapshot> inbox;
  std::uint64_t published_seq = 0;
  std::uint64_t rendered_seq = 0;
  bool flush_requested = false;
  bool stopping = false;
  std::thread thread;

  // Owned by the render thread; copied into Status under `mu`.
  std::optional<std::uint64_t> written_hash;
  core::Instant file_retry_at = core::Instant::max();
  Status status;

  std::shared_ptr<RequestCounts> requests = std::make_shared<RequestCounts>();

  void count(int code) {
    std::size_t i = 0;
    while (i + 1 < kCodes.size() && kCodes[i] != code) ++i;
    requests->add(i);
  }

  std::shared_ptr<const Served> load() const {
    std::lock_guard lk(served_mu);
    return served;
  }

  /// The current Served for a serving thread, refreshed only when it changed (one relaxed-cost
  /// atomic load per request instead of a lock and a shared reference count).
  const std::shared_ptr<const std::shared_ptr<const Served>>& thread_served() const {
    thread_local ThreadServed tl;
    const std::uint64_t v = served_version.load(std::memory_order_acquire);
    if (tl.owner != this || tl.version != v || !tl.handle) {
      tl.handle = std::make_shared<const std::shared_ptr<const Served>>(load());
      tl.owner = this;
      tl.version = v;
    }
    return tl.handle;
  }

  void handle(const io::http::StaticRequest& req, io::http::StaticResponse& resp);
  void loop();
  void publish_render(const std::shared_ptr<const provider::Rendered>& r, double seconds);
  void write_file(const provider::Rendered& r);
};

void ProviderServer::Impl::handle(const io::http::StaticRequest& req, io::http::StaticResponse& resp) {
  auto fail = [&](int code_number, std::string_view code, std::string_view message, std::string extra = {}) {
    resp.status = code_number;
    resp.headers = "Content-Type: application/json\r\nCache-Control: no-store\r\n" + extra;
    resp.owned_body = error_body(code, message);
    count(code_number);
  };
  if (req.method != "GET" && req.method != "HEAD") {
    return fail(405, "method_not_allowed", "only GET and HEAD are allowed", "Allow: GET, HEAD\r\n");
  }
  if (!serve.token.empty() && !constant_time_equal(req.header(serve.token_header), serve.token)) {
    return fail(401, "unauthorized", "missing or wrong " + serve.token_header + " header");
  }
  constexpr std::string_view kBase = "/v1/traefik";
  std::string_view path = req.path;
  if (!path.starts_with(kBase)) return fail(404, "not_found", "no such endpoint");
  std::string_view rest = path.substr(kBase.size());
  const auto& handle = thread_served();
  const std::shared_ptr<const Served>& current = *handle;
  if (rest == "/diagnostics") {
    if (!current) return fail(503, "unavailable", "nothing rendered yet", "Retry-After: 1\r\n");
    resp.status = 200;
    resp.headers = "Content-Type: application/json\r\nCache-Control: no-store\r\n";
    resp.body = current->diagnostics_body;
    resp.keep = handle;
    count(200);
    return;
  }
  std::optional<TraefikVersion> version;
  if (rest == "/v2") version = TraefikVersion::V2;
  else if (rest == "/v3") version = TraefikVersion::V3;
  else if (!rest.empty()) return fail(404, "not_found", "no such endpoint");
  if (auto q = req.query_param("version"); !q.empty()) {
    auto v = provider::parse_version(q);
    if (!v) return fail(400, "invalid_argument", v.error().message());
    if (version && *version != *v) return fail(400, "invalid_argument", "the path and ?version= disagree");
    version = *v;
  }
  Format format = serve.default_format;
  if (auto q = req.query_param("format"); !q.empty()) {
    auto f = provider::parse_format(q);
    if (!f) return fail(400, "invalid_argument", f.error().message());
    format = *f;
  }
  const TraefikVersion v = version.value_or(serve.default_version);
  if (!current || !current->rendered->complete) {
    return fail(503, "unavailable",
                "this node does not have a complete cluster view yet; Traefik keeps its last configuration",
                "Retry-After: 1\r\n");
  }
  const provider::Body* body = current->rendered->body(v, format);
  if (!body) {
    return fail(404, "not_found", "Traefik " + std::string(provider::version_name(v)) + " is not rendered by this node");
  }
  if (auto inm = req.header("If-None-Match"); !inm.empty() && etag_matches(inm, body->etag)) {
    resp.status = 304;
    resp.headers = "ETag: " + body->etag + "\r\n";
    resp.no_body = true;
    count(304);
    return;
  }
  resp.status = 200;
  resp.headers = current->headers[vi(v)][fi(format)];
  resp.body = body->bytes;
  resp.keep = handle;
  count(200);
}

void ProviderServer::Impl::publish_render(const std::shared_ptr<const provider::Rendered>& r, double seconds) {
  auto s = std::make_shared<Served>();
  s->rendered = r;
  for (TraefikVersion v : {TraefikVersion::V2, TraefikVersion::V3}) {
    for (Format f : {Format::Json, Format::Yaml}) {
      const provider::Body* b = r->body(v, f);
      if (!b) continue;
      s->headers[vi(v)][fi(f)] = std::string("Content-Type: ") +
                                 (f == Format::Json ? "application/json" : "application/yaml") +
                                 "\r\nETag: " + b->etag + "\r\nCache-Control: no-cache\r\nX-Constellation-Generation: " +
                                 std::to_string(r->generation) + "\r\n";
    }
  }
  core::json::Writer w;
  w.begin_object();
  w.key("generation").value(r->generation);
  w.key("complete").value(r->complete);
  w.key("versions").begin_object();
  for (TraefikVersion v : {TraefikVersion::V2, TraefikVersion::V3}) {
    const provider::VersionOutput* out = r->version(v);
    if (!out) continue;
    w.key(provider::version_name(v)).begin_object();
    w.key("routers").value(static_cast<std::uint64_t>(out->routers));
    w.key("services").value(static_cast<std::uint64_t>(out->services));
    w.key("diagnostics").raw(provider::diagnostics_json(out->diagnostics));
    w.end_object();
  }
  w.end_object().end_object();
  s->diagnostics_body = std::move(w).take();
  s->diagnostics_body.push_back('\n');
  {
    std::lock_guard lk(served_mu);
    served = std::move(s);
    served_version.fetch_add(1, std::memory_order_release);
  }
  if (metrics) {
    metrics->counter("constellation_traefik_renders_total", "Renders of the Traefik configuration").get().inc();
    metrics->histogram("constellation_traefik_render_seconds", "Time to render the Traefik configuration",
                       core::metrics::default_latency_buckets())
        .get()
        .observe(seconds);
    metrics->gauge("constellation_traefik_ready", "1 when the endpoint serves a complete cluster view")
        .get()
        .set(r->complete ? 1 : 0);
    for (TraefikVersion v : {TraefikVersion::V2, TraefikVersion::V3}) {
      const provider::VersionOutput* out = r->version(v);
      if (!out) continue;
      std::string vn(provider::version_name(v));
      metrics->gauge("constellation_traefik_routers", "Routers in the rendered configuration", {"version"})
          .labels({vn})
          .set(static_cast<double>(out->routers));
      metrics->gauge("constellation_traefik_services", "Services in the rendered configuration", {"version"})
          .labels({vn})
          .set(static_cast<double>(out->services));
      std::size_t errors = 0;
      for (const auto& d : out->diagnostics) errors += d.severity == provider::Severity::Error ? 1 : 0;
      auto& diag = metrics->gauge("constellation_traefik_diagnostics", "Problems found in the last render",
                                  {"version", "severity"});
      diag.labels({vn, "error"}).set(static_cast<double>(errors));
      diag.labels({vn, "warning"}).set(static_cast<double>(out->diagnostics.size() - errors));
    }
  }
}

void ProviderServer::Impl::write_file(const provider::Rendered& r) {
  if (serve.file_output.empty() || !r.complete) return;
  const provider::Body* body = r.body(serve.file_version, serve.file_format);
  if (!body || (written_hash && *written_hash == body->hash)) return;
  auto w = io::os::write_file_atomic(serve.file_output, body->bytes, 0644);
  std::lock_guard lk(mu);
  if (!w) {
    status.file_error = w.error().message();
    file_retry_at = clock->now() + std::chrono::seconds(1);
    if (metrics) metrics->counter("constellation_traefik_file_errors_total", "Failed writes of the file output").get().inc();
    return;
  }
  written_hash = body->hash;
  status.file_error.clear();
  ++status.file_writes;
  file_retry_at = core::Instant::max();
  if (metrics) metrics->counter("constellation_traefik_file_writes_total", "Writes of the file output").get().inc();
}

void ProviderServer::Impl::loop() {
  std::unique_lock lk(mu);
  for (;;) {
    core::Instant deadline = std::min(renderer->deadline(), file_retry_at);
    if (!stopping && !inbox && !flush_requested) {
      if (deadline == core::Instant::max()) {
        wake.wait(lk, [&] { return stopping || inbox || flush_requested; });
      } else {
        auto wait = deadline - clock->now();
        if (wait > core::Duration::zero()) {
          wake.wait_for(lk, wait, [&] { return stopping || inbox || flush_requested; });
        }
      }
    }
    if (stopping) return;
    auto snapshot = std::move(inbox);
    inbox.reset();
    const std::uint64_t seq = published_seq;
    const bool flush = flush_requested;
    flush_requested = false;
    lk.unlock();

    const core::Instant now = clock->now();
    if (snapshot) renderer->offer(std::move(snapshot), now);
    const std::uint64_t before = renderer->renders();
    const auto t0 = std::chrono::steady_clock::now();
    bool changed = flush ? renderer->flush() : renderer->poll(now);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (renderer->renders() != before && (changed || !load())) publish_render(renderer->latest(), seconds);
    if (auto latest = renderer->latest(); latest && (changed || file_retry_at <= clock->now())) write_file(*latest);

    lk.lock();
    status.renders = renderer->renders();
    if (renderer->deadline() == core::Instant::max() && !inbox) {
      rendered_seq = seq;
      synced.notify_all();
    }
  }
}

ProviderServer::ProviderServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ProviderServer::~ProviderServer() { stop(); }

Result<std::unique_ptr<ProviderServer>> ProviderServer::start(provider::Options options, ServeOptions serve,
                                                              core::metrics::Registry* metrics,
                                                              const core::Clock& clock) {
  auto impl = std::make_unique<Impl>();
  provider::Renderer::Settings settings;
  settings.options = options;
  settings.versions = serve.versions;
  settings.quiet = serve.debounce_quiet;
  settings.max_delay = serve.debounce_max;
  auto renderer = provider::Renderer::create(std::move(settings));
  if (!renderer) return std::move(renderer).error();
  auto served_version = [&](TraefikVersion v) {
    return std::find(serve.versions.begin(), serve.versions.end(), v) != serve.versions.end();
  };
  if (!served_version(serve.default_version)) {
    return Error(Code::InvalidArgument, "default_version: " + std::string(provider::version_name(serve.default_version)) +
                                            " is not among the rendered versions");
  }
  if (!serve.file_output.empty() && !served_version(serve.file_version)) {
    return Error(Code::InvalidArgument, "file_version: " + std::string(provider::version_name(serve.file_version)) +
                                            " is not among the rendered versions");
  }
  if (!serve.token.empty() && serve.token_header.empty()) {
    return Error(Code::InvalidArgument, "token_header: must not be empty when a token is set");
  }
  impl->renderer = std::make_unique<provider::Renderer>(std::move(*renderer));
  impl->options = std::move(options);
  impl->serve = std::move(serve);
  impl->metrics = metrics;
  impl->clock = &clock;
  Impl* raw = impl.get();
  if (impl->serve.serve_http) {
    auto http = io::http::StaticServer::start(
        impl->serve.http, [raw](const io::http::StaticRequest& req, io::http::StaticResponse& resp) { raw->handle(req, resp); });
    if (!http) return std::move(http).error();
    impl->http = std::move(*http);
  }
  if (metrics) {
    auto& family = metrics->counter("constellation_traefik_requests_total", "Requests to the Traefik endpoint", {"code"});
    metrics->on_collect([counts = impl->requests, &family] {
      for (std::size_t i = 0; i < kCodes.size(); ++i) {
        std::uint64_t n = counts->total(i);
        std::uint64_t delta = n - counts->reported[i];
        counts->reported[i] = n;
        if (delta) family.labels({kCodes[i] ? std::to_string(kCodes[i]) : std::string("other")}).inc(static_cast<double>(delta));
      }
    });
  }
  impl->thread = std::thread([raw] { raw->loop(); });
  return std::unique_ptr<ProviderServer>(new ProviderServer(std::move(impl)));
}

void ProviderServer::publish(std::shared_ptr<const catalog::Snapshot> snapshot) {
  if (!snapshot) return;
  {
    std::lock_guard lk(impl_->mu);
    impl_->inbox = std::move(snapshot);
    ++impl_->published_seq;
  }
  impl_->wake.notify_one();
}

void ProviderServer::sync() {
  std::unique_lock lk(impl_->mu);
  const std::uint64_t target = impl_->published_seq;
  impl_->flush_requested = true;
  impl_->wake.notify_one();
  impl_->synced.wait(lk, [&] { return impl_->stopping || impl_->rendered_seq >= target; });
}

std::shared_ptr<const provider::Rendered> ProviderServer::current() const {
  auto s = impl_->load();
  return s ? s->rendered : nullptr;
}

void ProviderServer::handle(const io::http::StaticRequest& request, io::http::StaticResponse& response) const {
  impl_->handle(request, response);
}

int ProviderServer::port() const { return impl_->http ? impl_->http->port() : 0; }

ProviderServer::Status ProviderServer::status() const {
  std::lock_guard lk(impl_->mu);
  return impl_->status;
}

void ProviderServer::stop() {
  if (!impl_) return;
  {
    std::lock_guard lk(impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->synced.notify_all();
  if (impl_->http) impl_->http->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace constellation::traefik
