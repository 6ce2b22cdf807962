// SPDX-License-Identifier: Apache-2.0
#include "io/net/raft_transport.hpp"

#include "core/assert.hpp"
#include "io/net/endpoint.hpp"

#include <asio.hpp>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <deque>

namespace constellation::io::net {

namespace {

using asio::ip::tcp;
using core::json::Value;

// HMAC-SHA256 over (nonce, seq, bytes) with the cluster key; a reusable OpenSSL MAC context.
// The key and digest are set once: each tag then only restarts the context (OpenSSL reuses the
// key when init is given none), which is 2-3x cheaper than setting them again per frame.
class Hmac {
 public:
  explicit Hmac(std::string_view key) : key_(key) {
    mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    ctx_ = mac_ ? EVP_MAC_CTX_new(mac_) : nullptr;
    CST_ASSERT_MSG(ctx_ != nullptr, "OpenSSL has no HMAC");
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    // An empty key still gives a well-defined tag (integrity only); HMAC needs a non-null pointer.
    static const unsigned char kEmpty = 0;
    const auto* k = key_.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key_.data());
    CST_ASSERT_MSG(EVP_MAC_init(ctx_, k, key_.empty() ? 1 : key_.size(), params) == 1, "HMAC-SHA256 init failed");
  }
  ~Hmac() {
    EVP_MAC_CTX_free(ctx_);
    EVP_MAC_free(mac_);
  }
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;

  std::array<std::uint8_t, 32> compute(core::ByteView nonce, std::uint64_t seq, core::ByteView data) {
    std::array<std::uint8_t, 32> out{};
    std::uint8_t seqb[8];
    for (int i = 7; i >= 0; --i) {
      seqb[i] = static_cast<std::uint8_t>(seq);
      seq >>= 8;
    }
    std::size_t len = 0;
    if (EVP_MAC_init(ctx_, nullptr, 0, nullptr) != 1 || EVP_MAC_update(ctx_, nonce.data(), nonce.size()) != 1 ||
        EVP_MAC_update(ctx_, seqb, 8) != 1 || EVP_MAC_update(ctx_, data.data(), data.size()) != 1 ||
        EVP_MAC_final(ctx_, out.data(), &len, out.size()) != 1) {
      CST_ASSERT_MSG(false, "HMAC-SHA256 failed");
    }
    return out;
  }

 private:
  std::string key_;
  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* ctx_ = nullptr;
};

bool equal_ct(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) {
  std::uint8_t d = 0;
  for (std::size_t i = 0; i < n; ++i) d |= static_cast<std::uint8_t>(a[i] ^ b[i]);
  return d == 0;
}

void append_frame(core::Bytes& out, Hmac& mac, std::uint8_t kind, core::ByteView body, core::ByteView nonce,
                  std::uint64_t seq) {
  const std::size_t start = out.size();
  core::ByteWriter w(kFrameHeader + body.size() + kFrameTrailer);
  w.u32be(kFrameMagic);
  w.u8(kFrameVersion);
  w.u8(kind);
  w.u16be(0);
  w.u32be(static_cast<std::uint32_t>(body.size()));
  out.insert(out.end(), w.bytes().begin(), w.bytes().end());
  out.insert(out.end(), body.begin(), body.end());
  const core::ByteView signed_part(out.data() + start, out.size() - start);
  const std::uint32_t crc = core::crc32c(signed_part);
  auto tag = mac.compute(nonce, seq, signed_part);
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(crc >> (8 * i)));
  out.insert(out.end(), tag.begin(), tag.end());
}

Result<core::ByteView> verify(core::ByteView frame, Hmac& mac, core::ByteView nonce, std::uint64_t seq) {
  if (frame.size() < kFrameHeader + kFrameTrailer) return Error(Code::InvalidArgument, "frame shorter than its header");
  std::uint8_t kind = 0;
  CST_TRY_ASSIGN(const std::uint32_t len, decode_frame_header(frame.first(kFrameHeader), &kind));
  if (frame.size() != kFrameHeader + len + kFrameTrailer) return Error(Code::InvalidArgument, "frame length mismatch");
  const core::ByteView signed_part = frame.first(kFrameHeader + len);
  core::ByteReader r(frame.subspan(kFrameHeader + len, 4));
  if (r.u32be("crc") != core::crc32c(signed_part)) return Error(Code::InvalidArgument, "frame checksum mismatch");
  auto tag = mac.compute(nonce, seq, signed_part);
  if (!equal_ct(tag.data(), frame.data() + kFrameHeader + len + 4, 32)) {
    return Error(Code::PermissionDenied, "frame failed authentication (wrong cluster key?)");
  }
  return frame.subspan(kFrameHeader, len);
}

constexpr std::uint8_t kKindHello = 1;
constexpr std::uint8_t kKindMessage = 2;

}  // namespace

core::Bytes encode_frame(std::uint8_t kind, core::ByteView body, std::string_view key, core::ByteView nonce,
                         std::uint64_t seq) {
  Hmac mac(key);
  core::Bytes out;
  append_frame(out, mac, kind, body, nonce, seq);
  return out;
}

core::Bytes encode_frames(std::uint8_t kind, const std::vector<core::Bytes>& bodies, std::string_view key,
                          core::ByteView nonce, std::uint64_t seq) {
  Hmac mac(key);
  core::Bytes out;
  for (const auto& body : bodies) append_frame(out, mac, kind, body, nonce, seq++);
  return out;
}

Result<std::uint32_t> decode_frame_header(core::ByteView header, std::uint8_t* kind) {
  core::ByteReader r(header);
  const auto magic = r.u32be("magic");
  const auto version = r.u8("version");
  const auto k = r.u8("kind");
  const auto reserved = r.u16be("reserved");
  const auto len = r.u32be("length");
  CST_TRY(r.status());
  if (magic != kFrameMagic) return Error(Code::InvalidArgument, "not a Constellation Raft frame (bad magic)");
  if (version != kFrameVersion) return Error(Code::InvalidArgument, "unsupported frame version " + std::to_string(version));
  if (k != kKindHello && k != kKindMessage) return Error(Code::InvalidArgument, "unknown frame kind " + std::to_string(k));
  if (reserved != 0) return Error(Code::InvalidArgument, "reserved frame bits set");
  if (len > kMaxFrameBody) return Error(Code::InvalidArgument, "frame body of " + std::to_string(len) + " bytes is too large");
  if (kind) *kind = k;
  return len;
}

Result<core::ByteView> verify_frame(core::ByteView frame, std::string_view key, core::ByteView nonce, std::uint64_t seq) {
  Hmac mac(key);
  return verify(frame, mac, nonce, seq);
}

struct RaftTransport::Impl : std::enable_shared_from_this<RaftTransport::Impl> {
  asio::io_context& io;
  RaftTransportOptions opts;
  Receiver on_message;
  Unreachable on_unreachable;
  tcp::acceptor acceptor;
  Hmac mac;
  RaftTransportStats stats;
  bool stopped = false;

  struct Peer {
    std::uint64_t id = 0;
    std::string address;
    std::unique_ptr<tcp::socket> socket;
    tcp::resolver resolver;
    asio::steady_timer timer;
    bool connected = false, connecting = false, writing = false;
    bool flush_posted = false;  // a write of the queue is due at the end of this loop turn
    std::deque<core::Bytes> queue;
    std::size_t queued_bytes = 0;
    std::array<std::uint8_t, 16> nonce{};
    std::uint64_t seq = 0;
    core::Duration backoff{0};
    core::Bytes out;           // frames being written
    std::size_t out_count = 0; // payloads in `out`
    Peer(asio::io_context& io) : resolver(io), timer(io) {}
  };
  std::map<std::uint64_t, std::unique_ptr<Peer>> peers;

  struct Inbound : std::enable_shared_from_this<Inbound> {
    std::shared_ptr<Impl> owner;
    tcp::socket socket;
    core::Bytes buf;             // received bytes; frames are taken from [start, end)
    std::size_t start = 0, end = 0;
    std::uint64_t from = 0;
    std::array<std::uint8_t, 16> nonce{};
    std::uint64_t seq = 0;
    Inbound(std::shared_ptr<Impl> o, tcp::socket s) : owner(std::move(o)), socket(std::move(s)) {}
  };
  std::vector<std::weak_ptr<Inbound>> inbound;

  Impl(asio::io_context& i, RaftTransportOptions o, Receiver r, Unreachable u)
      : io(i), opts(std::move(o)), on_message(std::move(r)), on_unreachable(std::move(u)), acceptor(i), mac(opts.cluster_key) {}

  void accept() {
    acceptor.async_accept([self = shared_from_this()](std::error_code ec, tcp::socket s) {
      if (self->stopped) return;
      if (!ec) {
        s.set_option(tcp::no_delay(true), ec);
        auto in = std::make_shared<Inbound>(self, std::move(s));
        std::erase_if(self->inbound, [](const std::weak_ptr<Inbound>& w) { return w.expired(); });
        self->inbound.push_back(in);
        self->read_frames(in);
      }
      self->accept();
    });
  }

  // Reads whatever has arrived and delivers every complete frame in it, then tells the owner
  // once (on_received): one system call and one wake-up for a burst of frames.
  void read_frames(const std::shared_ptr<Inbound>& in) {
    constexpr std::size_t kReadChunk = 64 * 1024;
    if (in->start > 0) {  // keep the unconsumed tail at the front
      std::memmove(in->buf.data(), in->buf.data() + in->start, in->end - in->start);
      in->end -= in->start;
      in->start = 0;
    }
    if (in->buf.size() < in->end + kReadChunk) in->buf.resize(in->end + kReadChunk);
    in->socket.async_read_some(asio::buffer(in->buf.data() + in->end, in->buf.size() - in->end),
                               [this, in](std::error_code ec, std::size_t n) {
                                 if (ec || stopped) return;
                                 in->end += n;
                                 bool delivered = false;
                                 for (;;) {
                                   const std::size_t have = in->end - in->start;
                                   if (have < kFrameHeader) break;
                                   const core::ByteView at(in->buf.data() + in->start, have);
                                   std::uint8_t kind = 0;
                                   auto len = decode_frame_header(at.first(kFrameHeader), &kind);
                                   if (!len) {
                                     stats.rejected_malformed++;
                                     opts.logger.warn("dropping a raft connection: malformed frame",
                                                      {{"reason", Value(len.error().message())}});
                                     if (delivered && opts.on_received) opts.on_received();
                                     return;  // the connection closes when `in` goes away
                                   }
                                   const std::size_t total = kFrameHeader + *len + kFrameTrailer;
                                   if (have < total) break;  // the rest is still on its way
                                   if (!handle_frame(*in, kind, at.first(total))) {
                                     if (delivered && opts.on_received) opts.on_received();
                                     return;
                                   }
                                   in->start += total;
                                   delivered = true;
                                 }
                                 if (delivered && opts.on_received) opts.on_received();
                                 read_frames(in);
                               });
  }

  bool handle_frame(Inbound& in, std::uint8_t kind, core::ByteView frame) {
    if (in.from == 0) {
      // The first frame is the hello: sender id and the nonce every later frame is bound to.
      if (kind != kKindHello || frame.size() != kFrameHeader + 24 + kFrameTrailer) {
        stats.rejected_malformed++;
        return false;
      }
      core::ByteReader r(frame.subspan(kFrameHeader, 24));
      const std::uint64_t from = r.u64be("from");
      auto nonce = r.bytes("nonce", 16);
      auto ok_frame = verify(frame, mac, nonce, 0);
      if (!ok_frame) {
        stats.rejected_auth++;
        opts.logger.warn("rejecting a raft connection", {{"reason", Value(ok_frame.error().message())}, {"claimed_peer", Value(static_cast<std::int64_t>(from))}});
        return false;
      }
      if (opts.peers.count(from) == 0) {
        stats.rejected_auth++;
        opts.logger.warn("rejecting a raft connection from an unknown member", {{"peer", Value(static_cast<std::int64_t>(from))}});
        return false;
      }
      in.from = from;
      std::copy(nonce.begin(), nonce.end(), in.nonce.begin());
      in.seq = 1;
      return true;
    }
    auto body = verify(frame, mac, in.nonce, in.seq);
    if (!body || kind != kKindMessage) {
      (body ? stats.rejected_malformed : stats.rejected_auth)++;
      opts.logger.warn("dropping a raft connection: bad frame",
                       {{"peer", Value(static_cast<std::int64_t>(in.from))}, {"reason", Value(body ? "unexpected kind" : body.error().message())}});
      return false;
    }
    in.seq++;
    stats.frames_received++;
    stats.bytes_received += frame.size();
    on_message(in.from, *body);
    return true;
  }

  Peer& peer(std::uint64_t id) {
    auto it = peers.find(id);
    if (it != peers.end()) return *it->second;
    auto p = std::make_unique<Peer>(io);
    p->id = id;
    auto a = opts.peers.find(id);
    p->address = a == opts.peers.end() ? "" : a->second;
    return *peers.emplace(id, std::move(p)).first->second;
  }

  void connect(Peer& p) {
    if (p.connected || p.connecting || stopped) return;
    auto ep = Endpoint::parse(p.address);
    if (!ep) {
      opts.logger.error("bad peer address", {{"peer", Value(static_cast<std::int64_t>(p.id))}, {"reason", Value(ep.error().message())}});
      return;
    }
    p.connecting = true;
    p.resolver.async_resolve(ep->host, std::to_string(ep->port),
                             [this, &p, self = shared_from_this()](std::error_code ec, tcp::resolver::results_type results) {
                               if (stopped) return;
                               if (ec) return connect_failed(p);
                               p.socket = std::make_unique<tcp::socket>(io);
                               asio::async_connect(*p.socket, results, [this, &p, self](std::error_code ec2, const tcp::endpoint&) {
                                 if (stopped) return;
                                 if (ec2) return connect_failed(p);
                                 std::error_code ignored;
                                 p.socket->set_option(tcp::no_delay(true), ignored);
                                 p.connecting = false;
                                 p.connected = true;
                                 p.backoff = core::Duration(0);
                                 RAND_bytes(p.nonce.data(), static_cast<int>(p.nonce.size()));
                                 p.seq = 0;
                                 core::ByteWriter hello;
                                 hello.u64be(opts.self);
                                 hello.raw(core::ByteView(p.nonce.data(), p.nonce.size()));
                                 p.out.clear();
                                 append_frame(p.out, mac, kKindHello, hello.view(), p.nonce, p.seq++);
                                 p.out_count = 0;
                                 write(p, true);
                               });
                             });
  }

  void connect_failed(Peer& p) {
    p.connecting = false;
    p.connected = false;
    if (p.socket) {
      std::error_code ignored;
      p.socket->close(ignored);
    }
    stats.reconnects++;
    on_unreachable(p.id);
    // Exponential backoff with jitter, so a restarted cluster does not dial in lockstep.
    p.backoff = p.backoff.count() == 0 ? opts.backoff_min : std::min(p.backoff * 2, opts.backoff_max);
    std::uint16_t jitter = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&jitter), sizeof jitter);
    const auto delay = p.backoff / 2 + core::Duration(static_cast<std::int64_t>((p.backoff.count() / 2) * (jitter / 65535.0)));
    p.timer.expires_after(delay);
    p.timer.async_wait([this, &p, self = shared_from_this()](std::error_code ec) {
      if (ec || stopped) return;
      if (!p.queue.empty()) connect(p);
    });
  }

  // Writes p.out (already holding a hello when `prepared`), then batches queued payloads.
  void write(Peer& p, bool prepared) {
    if (!p.connected || p.writing) return;
    if (!prepared) {
      if (p.queue.empty()) return;
      p.out.clear();
      p.out_count = 0;
      for (auto it = p.queue.begin(); it != p.queue.end() && p.out.size() < (1u << 20); ++it) {
        append_frame(p.out, mac, kKindMessage, *it, p.nonce, p.seq++);
        p.out_count++;
      }
    }
    p.writing = true;
    asio::async_write(*p.socket, asio::buffer(p.out), [this, &p, self = shared_from_this()](std::error_code ec, std::size_t n) {
      p.writing = false;
      if (stopped) return;
      if (ec) {
        // Frames not confirmed written are dropped with the connection (Raft resends).
        for (std::size_t i = 0; i < p.out_count && !p.queue.empty(); ++i) {
          p.queued_bytes -= p.queue.front().size();
          p.queue.pop_front();
        }
        return connect_failed(p);
      }
      stats.bytes_sent += n;
      stats.frames_sent += p.out_count;
      for (std::size_t i = 0; i < p.out_count; ++i) {
        p.queued_bytes -= p.queue.front().size();
        p.queue.pop_front();
      }
      p.out_count = 0;
      write(p, false);
    });
  }

  void send(std::uint64_t id, core::Bytes payload) {
    if (stopped || id == opts.self) return;
    Peer& p = peer(id);
    if (p.address.empty()) return;
    if (p.queued_bytes + payload.size() > opts.max_queue_bytes) {
      stats.dropped_queue_full++;
      on_unreachable(id);
      return;
    }
    p.queued_bytes += payload.size();
    p.queue.push_back(std::move(payload));
    if (!p.connected) {
      connect(p);
    } else if (!p.writing && !p.flush_posted) {
      // Written once the current handler returns: every message this turn produces for the
      // peer (appends, acknowledgements of a group commit) leaves in one write, and the peer
      // wakes once for all of them.
      p.flush_posted = true;
      asio::post(io, [this, &p, self = shared_from_this()] {
        p.flush_posted = false;
        if (!stopped) write(p, false);
      });
    }
  }

  void flush() {
    if (stopped) return;
    // The posted write (flush_posted) still runs; it finds the peer writing or its queue empty.
    for (auto& [id, p] : peers) {
      if (p->flush_posted) write(*p, false);
    }
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    std::error_code ignored;
    acceptor.close(ignored);
    for (auto& [id, p] : peers) {
      p->timer.cancel();
      p->resolver.cancel();
      if (p->socket) p->socket->close(ignored);
    }
    for (auto& w : inbound) {
      if (auto in = w.lock()) in->socket.close(ignored);
    }
  }
};

RaftTransport::RaftTransport(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
RaftTransport::~RaftTransport() { impl_->stop(); }

Result<std::unique_ptr<RaftTransport>> RaftTransport::start(asio::io_context& io, RaftTransportOptions options,
                                                            Receiver on_message, Unreachable on_unreachable) {
  // Port 0 (pick a free port) is valid for a listener, not for an endpoint to dial.
  std::string listen = options.listen;
  const bool any_port = listen.size() > 2 && listen.compare(listen.size() - 2, 2, ":0") == 0;
  if (any_port) listen.replace(listen.size() - 1, 1, "1");
  CST_TRY_ASSIGN(Endpoint ep, Endpoint::parse(listen));
  if (any_port) ep.port = 0;
  std::error_code ec;
  auto addr = asio::ip::make_address(ep.host, ec);
  if (ec) return Error(Code::InvalidArgument, "raft listen address '" + options.listen + "' must be an IP literal");
  auto impl = std::make_shared<Impl>(io, std::move(options), std::move(on_message), std::move(on_unreachable));
  tcp::endpoint endpoint(addr, ep.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error(Code::Io, "cannot listen on " + impl->opts.listen + " for raft: " + ec.message());
  impl->accept();
  return std::unique_ptr<RaftTransport>(new RaftTransport(std::move(impl)));
}

void RaftTransport::send(std::uint64_t peer, core::Bytes payload) { impl_->send(peer, std::move(payload)); }
void RaftTransport::flush() { impl_->flush(); }
void RaftTransport::set_peer(std::uint64_t peer, std::string address) {
  impl_->opts.peers[peer] = address;
  auto it = impl_->peers.find(peer);
  if (it != impl_->peers.end()) it->second->address = std::move(address);
}
std::uint16_t RaftTransport::port() const {
  std::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}
void RaftTransport::stop() { impl_->stop(); }
const RaftTransportStats& RaftTransport::stats() const { return impl_->stats; }

}  // namespace constellation::io::net
