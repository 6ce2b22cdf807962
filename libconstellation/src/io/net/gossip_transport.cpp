// SPDX-License-Identifier: Apache-2.0
#include "io/net/gossip_transport.hpp"

#include "core/assert.hpp"
#include "core/rng.hpp"
#include "io/net/endpoint.hpp"

#include <asio.hpp>
#include <openssl/rand.h>

#include <array>
#include <optional>
#include <deque>
#include <unordered_map>

namespace constellation::io::net {

namespace {

using asio::ip::tcp;
using asio::ip::udp;
using core::json::Value;
using SteadyPoint = std::chrono::steady_clock::time_point;

core::Instant now() { return core::SystemClock::instance().now(); }

SteadyPoint to_steady(core::Instant t) {
  // Instants of SystemClock are steady_clock's time since its epoch.
  const auto cap = now() + std::chrono::hours(1);
  if (t > cap) t = cap;
  return SteadyPoint(std::chrono::duration_cast<std::chrono::steady_clock::duration>(t.since_epoch()));
}

// "host:port" as the core keys addresses: IPv4 dotted (also for v4-mapped IPv6), IPv6 bracketed.
std::string address_text(const asio::ip::address& a, std::uint16_t port) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string() + ":" + std::to_string(port);
  }
  if (a.is_v6()) return "[" + a.to_string() + "]:" + std::to_string(port);
  return a.to_string() + ":" + std::to_string(port);
}

}  // namespace

struct GossipTransport::Impl : std::enable_shared_from_this<GossipTransport::Impl> {
  asio::io_context& io;
  gossip::Core* core_ = nullptr;
  std::optional<gossip::Envelope> envelope_;
  GossipTransportOptions opts;
  AfterStep after_step;
  udp::socket udp_socket;
  tcp::acceptor acceptor;
  asio::steady_timer timer;
  core::Instant armed = core::Instant::max();
  bool timer_pending = false;
  bool v6 = false;
  bool stopped = false;
  bool in_pump = false;
  std::uint16_t bound_port = 0;
  std::array<std::uint8_t, 65536> rbuf{};
  udp::endpoint rfrom;
  core::Rng drop_rng;
  GossipTransportStats stats;
  std::unordered_map<std::string, udp::endpoint> udp_cache;
  std::unordered_map<std::string, std::uint64_t> resolving;  // names being resolved for UDP

  struct Out {
    std::string to;
    tcp::socket socket;
    tcp::resolver resolver;
    asio::steady_timer timer;
    std::deque<core::Bytes> frames;
    bool connected = false, connecting = false, writing = false, dead = false;
    Out(asio::io_context& io, std::string t) : to(std::move(t)), socket(io), resolver(io), timer(io) {}
  };
  std::unordered_map<std::string, std::shared_ptr<Out>> outs;

  struct In {
    tcp::socket socket;
    asio::steady_timer timer;
    std::string from;
    std::array<std::uint8_t, kStreamLengthBytes> len{};
    core::Bytes body;
    In(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
  };
  std::vector<std::weak_ptr<In>> ins;

  // Metrics (null when no registry). Published by publish_metrics() from the counters above and
  // the core's Stats, as deltas since the last publication.
  struct Published {
    core::metrics::Counter* counter;
    std::uint64_t last = 0;
    void set(std::uint64_t v) {
      if (v > last) counter->inc(static_cast<double>(v - last));
      last = v;
    }
  };
  std::vector<std::pair<Published, std::function<std::uint64_t()>>> published;
  core::metrics::Gauge* queue_depth = nullptr;
  core::metrics::Gauge* awareness = nullptr;
  core::metrics::GaugeFamily* members_family = nullptr;

  Impl(asio::io_context& i, GossipTransportOptions o)
      : io(i),
        opts(std::move(o)),
        udp_socket(i),
        acceptor(i),
        timer(i),
        drop_rng(opts.drop_seed) {}

  gossip::Core& core_ref() { return *core_; }
  gossip::Envelope& env() { return *envelope_; }

  // --- driving the core ---------------------------------------------------------------------------

  // Sends what the core produced, lets the owner drain events, and re-arms the tick timer.
  void pump() {
    if (stopped || in_pump || core_ == nullptr) return;
    in_pump = true;
    for (auto& o : core_ref().take_outgoing()) send(o);
    if (after_step) after_step();
    in_pump = false;
    if (stopped) return;
    const auto next = core_ref().next_deadline();
    // Re-arm only when the deadline moved earlier (or nothing is armed): a timer that fires early
    // finds nothing due, ticks harmlessly and re-arms. Avoids a cancel per packet.
    if (!timer_pending || next < armed) arm(next);
  }

  void arm(core::Instant at) {
    armed = at;
    timer_pending = true;
    timer.expires_at(to_steady(at));
    timer.async_wait([self = shared_from_this(), at](std::error_code ec) {
      if (self->stopped || ec == asio::error::operation_aborted) return;
      if (self->armed != at) return;  // superseded by a later arm()
      self->timer_pending = false;
      self->core_ref().tick(now());
      self->pump();
    });
  }

  // --- datagrams ----------------------------------------------------------------------------------

  core::Bytes nonce() {
    core::Bytes n(gossip::kNonceBytes);
    if (!env().keyring().empty()) {
      CST_ASSERT_MSG(RAND_bytes(n.data(), static_cast<int>(n.size())) == 1, "RAND_bytes failed");
    }
    return n;
  }

  std::optional<udp::endpoint> udp_endpoint(const std::string& to) {
    auto it = udp_cache.find(to);
    if (it != udp_cache.end()) return it->second;
    auto ep = Endpoint::parse(to);
    if (!ep) return std::nullopt;
    std::error_code ec;
    auto addr = asio::ip::make_address(ep->host, ec);
    if (ec) {
      resolve_for_udp(to, *ep);
      return std::nullopt;
    }
    if (v6 && addr.is_v4()) addr = asio::ip::make_address_v6(asio::ip::v4_mapped, addr.to_v4());
    if (!v6 && addr.is_v6()) {
      if (!addr.to_v6().is_v4_mapped()) return std::nullopt;  // an IPv4 socket cannot reach it
      addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    }
    if (udp_cache.size() > 8192) udp_cache.clear();
    udp::endpoint out(addr, ep->port);
    udp_cache.emplace(to, out);
    return out;
  }

  // A DNS name: resolve in the background and cache; datagrams sent meanwhile are lost (gossip
  // tolerates loss, and names are rare: members advertise IP literals).
  void resolve_for_udp(const std::string& to, const Endpoint& ep) {
    if (resolving.count(to) != 0 || resolving.size() > 64) return;
    resolving[to] = 1;
    auto resolver = std::make_shared<udp::resolver>(io);
    resolver->async_resolve(ep.host, std::to_string(ep.port),
                            [self = shared_from_this(), resolver, to](std::error_code ec, udp::resolver::results_type r) {
                              self->resolving.erase(to);
                              if (self->stopped || ec) return;
                              for (const auto& e : r) {
                                auto a = e.endpoint().address();
                                if (self->v6 && a.is_v4()) a = asio::ip::make_address_v6(asio::ip::v4_mapped, a.to_v4());
                                if (self->v6 == a.is_v6()) {
                                  self->udp_cache.emplace(to, udp::endpoint(a, e.endpoint().port()));
                                  return;
                                }
                              }
                            });
  }

  void send(gossip::Outgoing& o) {
    if (o.channel == gossip::Channel::Stream) return send_stream(o);
    auto ep = udp_endpoint(o.to);
    if (!ep) {
      stats.send_errors++;
      return;
    }
    auto wire = env().seal(gossip::Channel::Datagram, o.payload, nonce());
    if (opts.drop_outgoing_datagrams > 0 && drop_rng.chance(opts.drop_outgoing_datagrams)) {
      stats.dropped_by_test_hook++;
      return;
    }
    std::error_code ec;
    udp_socket.send_to(asio::buffer(wire), *ep, 0, ec);
    if (ec) {
      stats.send_errors++;
      return;
    }
    stats.packets_out++;
    stats.bytes_out += wire.size();
  }

  void read_datagrams() {
    udp_socket.async_receive_from(asio::buffer(rbuf), rfrom, [self = shared_from_this()](std::error_code ec, std::size_t n) {
      if (self->stopped) return;
      if (!ec) {
        self->on_datagram(n);
        // Drain what else is already queued before pumping once (one pump per batch).
        for (int i = 0; i < 64; ++i) {
          std::error_code ec2;
          const std::size_t m = self->udp_socket.receive_from(asio::buffer(self->rbuf), self->rfrom, 0, ec2);
          if (ec2) break;
          self->on_datagram(m);
        }
        self->pump();
      }
      self->read_datagrams();
    });
  }

  void on_datagram(std::size_t n) {
    stats.packets_in++;
    stats.bytes_in += n;
    auto opened = env().open(gossip::Channel::Datagram, core::ByteView(rbuf.data(), n));
    if (!opened) {
      reject("datagram", address_text(rfrom.address(), rfrom.port()), opened.error());
      return;
    }
    core_ref().receive(address_text(rfrom.address(), rfrom.port()), gossip::Channel::Datagram, opened->payload, now());
  }

  void reject(std::string_view what, const std::string& from, const Error& e) {
    // Counted always; logged at debug only (a flood of foreign packets must not flood the log).
    stats.rejected++;
    opts.logger.debug("gossip: dropped a " + std::string(what), {{"from", Value(from)}, {"reason", Value(e.message())}});
  }

  // --- outgoing streams ---------------------------------------------------------------------------

  void send_stream(gossip::Outgoing& o) {
    if (o.payload.size() > core_ref().config().max_stream) {
      opts.logger.warn("gossip: a stream frame exceeds max_stream; not sent",
                       {{"to", Value(o.to)}, {"bytes", Value(static_cast<std::int64_t>(o.payload.size()))}});
      post_failure(o.to);
      return;
    }
    auto& slot = outs[o.to];
    if (!slot) slot = std::make_shared<Out>(io, o.to);
    auto out = slot;
    if (out->frames.size() >= opts.max_stream_queue) {
      post_failure(o.to);
      return;
    }
    auto sealed = env().seal(gossip::Channel::Stream, o.payload, nonce());
    core::Bytes frame;
    frame.reserve(kStreamLengthBytes + sealed.size());
    const auto len = static_cast<std::uint32_t>(sealed.size());
    for (int i = 3; i >= 0; --i) frame.push_back(static_cast<std::uint8_t>(len >> (8 * i)));
    frame.insert(frame.end(), sealed.begin(), sealed.end());
    out->frames.push_back(std::move(frame));
    if (out->connected) {
      write_next(out);
    } else if (!out->connecting) {
      connect(out);
    }
  }

  void post_failure(const std::string& to) {
    stats.stream_failures++;
    asio::post(io, [self = shared_from_this(), to] {
      if (self->stopped) return;
      self->core_ref().stream_failed(to, now());
      self->pump();
    });
  }

  // Fails every frame queued on `out` (one stream_failed) and forgets the connection.
  void fail(const std::shared_ptr<Out>& out, const std::string& why) {
    if (out->dead) return;
    out->dead = true;
    std::error_code ignored;
    out->socket.close(ignored);
    out->timer.cancel();
    out->resolver.cancel();
    auto it = outs.find(out->to);
    if (it != outs.end() && it->second == out) outs.erase(it);
    if (!out->frames.empty()) {
      opts.logger.debug("gossip: stream failed", {{"to", Value(out->to)}, {"reason", Value(why)}});
      post_failure(out->to);
    }
  }

  // Closes an idle connection without failing anything.
  void retire(const std::shared_ptr<Out>& out) {
    out->frames.clear();
    fail(out, "idle");
  }

  void set_deadline(const std::shared_ptr<Out>& out, core::Duration d, bool idle) {
    out->timer.expires_after(d);
    out->timer.async_wait([self = shared_from_this(), out, idle](std::error_code ec) {
      if (ec || self->stopped || out->dead) return;
      if (idle) {
        self->retire(out);
      } else {
        self->fail(out, "timed out");
      }
    });
  }

  void connect(const std::shared_ptr<Out>& out) {
    out->connecting = true;
    auto ep = Endpoint::parse(out->to);
    if (!ep) return fail(out, ep.error().message());
    set_deadline(out, opts.stream_timeout, false);
    std::error_code ec;
    auto addr = asio::ip::make_address(ep->host, ec);
    auto on_connected = [self = shared_from_this(), out](std::error_code ec2) {
      if (self->stopped || out->dead) return;
      if (ec2) return self->fail(out, "connect: " + ec2.message());
      out->connecting = false;
      out->connected = true;
      std::error_code ignored;
      out->socket.set_option(tcp::no_delay(true), ignored);
      self->stats.streams_out++;
      self->write_next(out);
    };
    if (!ec) {
      out->socket.async_connect(tcp::endpoint(addr, ep->port), on_connected);
      return;
    }
    out->resolver.async_resolve(ep->host, std::to_string(ep->port),
                                [self = shared_from_this(), out, on_connected](std::error_code ec2, tcp::resolver::results_type r) {
                                  if (self->stopped || out->dead) return;
                                  if (ec2) return self->fail(out, "resolve: " + ec2.message());
                                  asio::async_connect(out->socket, r,
                                                      [on_connected](std::error_code ec3, const tcp::endpoint&) { on_connected(ec3); });
                                });
  }

  void write_next(const std::shared_ptr<Out>& out) {
    if (out->writing || out->dead) return;
    if (out->frames.empty()) {
      set_deadline(out, opts.stream_idle, true);
      return;
    }
    out->writing = true;
    set_deadline(out, opts.stream_timeout, false);
    asio::async_write(out->socket, asio::buffer(out->frames.front()), [self = shared_from_this(), out](std::error_code ec, std::size_t n) {
      if (self->stopped || out->dead) return;
      out->writing = false;
      if (ec) return self->fail(out, "write: " + ec.message());
      self->stats.frames_out++;
      self->stats.stream_bytes_out += n;
      out->frames.pop_front();
      self->write_next(out);
    });
  }

  // --- incoming streams ---------------------------------------------------------------------------

  void accept() {
    acceptor.async_accept([self = shared_from_this()](std::error_code ec, tcp::socket s) {
      if (self->stopped) return;
      if (!ec) {
        std::erase_if(self->ins, [](const std::weak_ptr<In>& w) { return w.expired(); });
        if (self->ins.size() >= 4096) {
          self->stats.rejected++;  // too many open streams: shed the newest
        } else {
          std::error_code ignored;
          auto remote = s.remote_endpoint(ignored);
          auto in = std::make_shared<In>(std::move(s));
          in->from = address_text(remote.address(), remote.port());
          self->ins.push_back(in);
          self->stats.streams_in++;
          self->read_length(in);
        }
      }
      self->accept();
    });
  }

  void in_deadline(const std::shared_ptr<In>& in, core::Duration d) {
    in->timer.expires_after(d);
    in->timer.async_wait([in](std::error_code ec) {
      if (ec) return;
      std::error_code ignored;
      in->socket.close(ignored);
    });
  }

  void read_length(const std::shared_ptr<In>& in) {
    in_deadline(in, opts.stream_idle);
    asio::async_read(in->socket, asio::buffer(in->len), [self = shared_from_this(), in](std::error_code ec, std::size_t) {
      if (ec || self->stopped) return;
      const std::uint32_t len = (std::uint32_t{in->len[0]} << 24) | (std::uint32_t{in->len[1]} << 16) |
                                (std::uint32_t{in->len[2]} << 8) | std::uint32_t{in->len[3]};
      const std::size_t limit = self->core_ref().config().max_stream + self->env().overhead();
      if (len > limit || len == 0) {
        self->reject("stream", in->from,
                     Error(Code::InvalidArgument, "stream frame of " + std::to_string(len) + " bytes (limit " +
                                                      std::to_string(limit) + ")"));
        std::error_code ignored;
        in->socket.close(ignored);
        in->timer.cancel();
        return;
      }
      in->body.resize(len);
      self->in_deadline(in, self->opts.stream_timeout);
      asio::async_read(in->socket, asio::buffer(in->body), [self, in](std::error_code ec2, std::size_t n) {
        if (ec2 || self->stopped) return;
        self->stats.frames_in++;
        self->stats.stream_bytes_in += n + kStreamLengthBytes;
        auto opened = self->env().open(gossip::Channel::Stream, in->body);
        if (!opened) {
          self->reject("stream frame", in->from, opened.error());
          std::error_code ignored;
          in->socket.close(ignored);
          in->timer.cancel();
          return;
        }
        in->body = core::Bytes();
        self->core_ref().receive(in->from, gossip::Channel::Stream, opened->payload, now());
        self->pump();
        self->read_length(in);
      });
    });
  }

  // --- metrics ------------------------------------------------------------------------------------

  void register_metrics() {
    auto* reg = opts.metrics;
    if (!reg) return;
    const auto& names = opts.metric_label_names;
    const auto& values = opts.metric_label_values;
    auto counter = [&](std::string_view name, std::string_view help, std::function<std::uint64_t()> read) {
      auto& c = reg->counter(name, help, names).labels(values);
      published.push_back({Published{&c, 0}, std::move(read)});
    };
    const auto& st = core_ref().stats();
    counter("gossip_probes_total", "Direct probes (pings) this node sent.", [&st] { return st.probes; });
    counter("gossip_indirect_probes_total", "Indirect probe requests this node sent.", [&st] { return st.indirect_probes; });
    counter("gossip_stream_probes_total", "Fallback probes over TCP this node sent.", [&st] { return st.stream_probes; });
    counter("gossip_suspicions_total", "Members this node started suspecting.", [&st] { return st.suspicions; });
    counter("gossip_refutations_total", "Suspicions of itself this node refuted.", [&st] { return st.refutations; });
    counter("gossip_deaths_total", "Members this node declared dead.", [&st] { return st.deaths; });
    counter("gossip_push_pulls_total", "Push/pull anti-entropy exchanges.", [&st] { return st.push_pulls; });
    counter("gossip_malformed_total", "Messages the core refused as malformed.", [&st] { return st.malformed; });
    counter("gossip_broadcasts_dropped_total", "Broadcasts dropped from a full queue.", [&st] { return st.broadcasts_dropped; });
    counter("gossip_packets_received_total", "UDP datagrams received.", [this] { return stats.packets_in; });
    counter("gossip_packets_sent_total", "UDP datagrams sent.", [this] { return stats.packets_out; });
    counter("gossip_bytes_received_total", "Bytes received (UDP datagrams and TCP frames, with envelopes).",
            [this] { return stats.bytes_in + stats.stream_bytes_in; });
    counter("gossip_bytes_sent_total", "Bytes sent (UDP datagrams and TCP frames, with envelopes).",
            [this] { return stats.bytes_out + stats.stream_bytes_out; });
    counter("gossip_stream_frames_received_total", "TCP frames received.", [this] { return stats.frames_in; });
    counter("gossip_stream_frames_sent_total", "TCP frames sent.", [this] { return stats.frames_out; });
    counter("gossip_stream_failures_total", "Streams that could not be opened or written.", [this] { return stats.stream_failures; });
    counter("gossip_rejected_total", "Datagrams and frames dropped: other cluster label, wrong key, malformed env().",
            [this] { return stats.rejected; });
    queue_depth = &reg->gauge("gossip_broadcast_queue_depth", "Broadcasts waiting to be piggybacked.", names).labels(values);
    awareness = &reg->gauge("gossip_local_health", "Lifeguard local health score (0 = healthy).", names).labels(values);
    auto member_labels = names;
    member_labels.push_back("state");
    members_family = &reg->gauge("gossip_members", "Members known to this node, by state.", member_labels);
  }

  void publish() {
    if (!opts.metrics) return;
    for (auto& [p, read] : published) p.set(read());
    const auto& st = core_ref().stats();
    queue_depth->set(static_cast<double>(st.queue_depth));
    awareness->set(static_cast<double>(st.awareness));
    std::map<std::string, double> by_state{{"alive", 0}, {"suspect", 0}, {"dead", 0}, {"left", 0}};
    for (const auto& m : core_ref().members()) by_state[gossip::to_string(m.state)] += 1;
    for (const auto& [state, n] : by_state) {
      auto labels = opts.metric_label_values;
      labels.push_back(state);
      members_family->labels(labels).set(n);
    }
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    std::error_code ignored;
    udp_socket.close(ignored);
    acceptor.close(ignored);
    timer.cancel();
    for (auto& [to, out] : outs) {
      out->dead = true;
      out->socket.close(ignored);
      out->timer.cancel();
      out->resolver.cancel();
    }
    outs.clear();
    for (auto& w : ins) {
      if (auto in = w.lock()) {
        in->socket.close(ignored);
        in->timer.cancel();
      }
    }
    ins.clear();
  }
};

Result<std::unique_ptr<GossipTransport>> GossipTransport::open(asio::io_context& io, GossipTransportOptions options) {
  CST_TRY_ASSIGN(Endpoint ep, Endpoint::parse_listen(options.bind));
  std::error_code ec;
  auto addr = asio::ip::make_address(ep.host, ec);
  if (ec) return Error(Code::InvalidArgument, "gossip bind address '" + options.bind + "' must be an IP literal");
  auto impl = std::make_shared<Impl>(io, std::move(options));
  impl->v6 = addr.is_v6();
  const auto bind_text = impl->opts.bind;
  // TCP first: with port 0 the kernel picks a port, and UDP then binds the same number (retrying
  // a few times in the rare case that UDP port is taken).
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::error_code e;
    tcp::endpoint tep(addr, ep.port);
    impl->acceptor.open(tep.protocol(), e);
    if (!e) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), e);
    if (!e) impl->acceptor.bind(tep, e);
    if (!e) impl->acceptor.listen(asio::socket_base::max_listen_connections, e);
    if (e) return Error(Code::Io, "cannot listen on " + bind_text + " (tcp) for gossip: " + e.message());
    const auto port = impl->acceptor.local_endpoint().port();
    impl->udp_socket.open(tep.protocol() == tcp::v6() ? udp::v6() : udp::v4(), e);
    if (!e) impl->udp_socket.bind(udp::endpoint(addr, port), e);
    if (!e) {
      impl->bound_port = port;
      break;
    }
    std::error_code ignored;
    impl->acceptor.close(ignored);
    impl->udp_socket.close(ignored);
    if (ep.port != 0) return Error(Code::Io, "cannot bind " + bind_text + " (udp) for gossip: " + e.message());
  }
  if (impl->bound_port == 0) return Error(Code::Io, "cannot find a free port for gossip on " + bind_text);
  impl->udp_socket.non_blocking(true, ec);
  // Large socket buffers absorb bursts (a join storm) instead of dropping acks.
  impl->udp_socket.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
  impl->udp_socket.set_option(asio::socket_base::send_buffer_size(1 << 20), ec);
  return std::unique_ptr<GossipTransport>(new GossipTransport(std::move(impl)));
}

GossipTransport::GossipTransport(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
GossipTransport::~GossipTransport() {
  if (impl_) impl_->stop();
}
std::uint16_t GossipTransport::port() const { return impl_->bound_port; }
void GossipTransport::run(gossip::Core& core, gossip::Envelope envelope, AfterStep after_step) {
  CST_ASSERT_MSG(impl_->core_ == nullptr, "GossipTransport::run called twice");
  impl_->core_ = &core;
  impl_->envelope_.emplace(std::move(envelope));
  impl_->after_step = std::move(after_step);
  impl_->register_metrics();
  impl_->read_datagrams();
  impl_->accept();
  impl_->pump();
}
void GossipTransport::kick() { impl_->pump(); }
void GossipTransport::set_test_drop(double fraction) { impl_->opts.drop_outgoing_datagrams = fraction; }
gossip::Envelope& GossipTransport::envelope() { return impl_->env(); }
void GossipTransport::stop() { impl_->stop(); }
const GossipTransportStats& GossipTransport::stats() const { return impl_->stats; }
void GossipTransport::publish_metrics() { impl_->publish(); }

}  // namespace constellation::io::net
