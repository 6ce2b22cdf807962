// SPDX-License-Identifier: Apache-2.0
#include "io/dns/rfc2136.hpp"

#include "dns/wire.hpp"
#include "io/dns/rrset.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>

namespace constellation::io::dns {

namespace wire = constellation::dns::wire;
using constellation::dns::RecordType;

std::string fence_entry(const std::string& owner, std::uint64_t token) {
  return "constellation-fence owner=" + owner + " token=" + std::to_string(token);
}

namespace {

std::uint16_t wire_type(RecordType t) {
  switch (t) {
    case RecordType::A: return wire::kTypeA;
    case RecordType::AAAA: return wire::kTypeAAAA;
    case RecordType::CNAME: return wire::kTypeCNAME;
    case RecordType::TXT: return wire::kTypeTXT;
  }
  return 0;
}

Result<core::Bytes> rdata_for(RecordType t, const std::string& content) {
  switch (t) {
    case RecordType::A: return wire::rdata_a(content);
    case RecordType::AAAA: return wire::rdata_aaaa(content);
    case RecordType::CNAME: return wire::rdata_name(content);
    case RecordType::TXT: return wire::rdata_txt(content);
  }
  return Error(Code::InvalidArgument, "unknown type");
}

// One TCP connection to the server: length-prefixed messages (RFC 1035 §4.2.2).
class Connection {
 public:
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  Result<void> open(const std::string& host, int port, core::Duration timeout) {
    timeout_ms_ = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string port_s = std::to_string(port);
    if (int rc = ::getaddrinfo(host.c_str(), port_s.c_str(), &hints, &res); rc != 0) {
      return Error(Code::Unavailable, "rfc2136: cannot resolve " + host + ": " + gai_strerror(rc));
    }
    std::string last = "no address";
    for (addrinfo* a = res; a; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
      if (fd < 0) continue;
      int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
      if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        rc = ::poll(&p, 1, timeout_ms_) == 1 ? 0 : -1;
        int err = 0;
        socklen_t len = sizeof err;
        if (rc == 0 && (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)) {
          rc = -1;
          errno = err ? err : ETIMEDOUT;
        } else if (rc != 0) {
          errno = ETIMEDOUT;
        }
      }
      if (rc == 0) {
        fd_ = fd;
        break;
      }
      last = std::strerror(errno);
      ::close(fd);
    }
    ::freeaddrinfo(res);
    if (fd_ < 0) return Error(Code::Unavailable, "rfc2136: cannot connect to " + host + ":" + port_s + ": " + last);
    return ok();
  }
  Result<void> send(const core::Bytes& msg) {
    core::Bytes framed;
    framed.push_back(static_cast<std::uint8_t>(msg.size() >> 8));
    framed.push_back(static_cast<std::uint8_t>(msg.size()));
    framed.insert(framed.end(), msg.begin(), msg.end());
    std::size_t off = 0;
    while (off < framed.size()) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, timeout_ms_) != 1) return Error(Code::Timeout, "rfc2136: send timed out");
      ssize_t n = ::send(fd_, framed.data() + off, framed.size() - off, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) return Error(Code::Unavailable, std::string("rfc2136: send failed: ") + std::strerror(errno));
      off += static_cast<std::size_t>(n);
    }
    return ok();
  }
  Result<core::Bytes> receive() {
    core::Bytes len(2);
    CST_TRY(read_exact(len));
    core::Bytes msg(static_cast<std::size_t>(len[0] << 8 | len[1]));
    CST_TRY(read_exact(msg));
    return msg;
  }

 private:
  Result<void> read_exact(core::Bytes& buf) {
    std::size_t off = 0;
    while (off < buf.size()) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms_) != 1) return Error(Code::Timeout, "rfc2136: receive timed out");
      ssize_t n = ::recv(fd_, buf.data() + off, buf.size() - off, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n == 0) return Error(Code::Unavailable, "rfc2136: the server closed the connection");
      if (n < 0) return Error(Code::Unavailable, std::string("rfc2136: receive failed: ") + std::strerror(errno));
      off += static_cast<std::size_t>(n);
    }
    return ok();
  }
  int fd_ = -1;
  int timeout_ms_ = 5000;
};

class Rfc2136Provider final : public Provider {
 public:
  Rfc2136Provider(Rfc2136Options o, Marker m, const core::Clock& clock)
      : o_(std::move(o)), marker_(std::move(m)), clock_(clock), ids_(std::random_device{}()) {}

  const std::string& name() const override { return o_.name; }
  ProviderCaps caps() const override {
    ProviderCaps c;
    c.default_ttl = o_.default_ttl;
    // One UPDATE per zone per cycle: ~1,000 changes (plus registry and fence records) stay well
    // inside a 64 KiB message; bigger plans take several UPDATEs, each fenced.
    c.max_batch_changes = 1000;
    return c;
  }
  void invalidate() override {
    std::lock_guard lock(mu_);
    zones_.clear();
  }
  ProviderStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }

  Result<std::vector<ObservedRecord>> list(const std::string& zone) override {
    std::lock_guard lock(mu_);
    CST_TRY_ASSIGN(ZoneState z, transfer(zone));
    zones_[zone] = z;
    return constellation::dns::apply_registry(marker_, z.records);
  }

  ApplyOutcome apply(const Batch& batch, const FenceCheck& fence) override {
    std::lock_guard lock(mu_);
    if (!zones_.count(batch.zone)) {
      auto z = transfer(batch.zone);
      if (!z) return {z.error(), std::nullopt};
      zones_[batch.zone] = *z;
    }
    ZoneState& z = zones_[batch.zone];
    const std::string fence_name = "_constellation-fence." + batch.zone;
    const std::string fence_prefix = "constellation-fence owner=" + marker_.owner + " token=";
    std::optional<std::string> our_fence;
    for (const auto& f : z.fence) {
      if (f.starts_with(fence_prefix)) our_fence = f;
    }
    if (o_.fence && our_fence) {
      const std::uint64_t written = std::strtoull(our_fence->c_str() + fence_prefix.size(), nullptr, 10);
      if (written > batch.token) {
        return {Error(Code::Conflict, "rfc2136: fencing token " + std::to_string(batch.token) + " is older than token " +
                                          std::to_string(written) + " already written to " + batch.zone),
                std::nullopt};
      }
    }
    auto updates = rrset_updates(batch.changes, z.records, marker_);
    wire::Message m;
    m.id = next_id();
    m.opcode = wire::kOpUpdate;
    m.questions.push_back({batch.zone, wire::kTypeSOA, wire::kClassIN});
    const std::string new_fence = fence_entry(marker_.owner, batch.token);
    if (o_.fence) {
      if (z.fence.empty()) {
        m.answers.push_back({fence_name, wire::kTypeTXT, wire::kClassNONE, 0, {}});  // rrset does not exist
      } else {
        for (const auto& f : z.fence) m.answers.push_back({fence_name, wire::kTypeTXT, wire::kClassIN, 0, wire::rdata_txt(f)});
      }
    }
    for (const auto& u : updates) {
      m.authority.push_back({u.name, wire_type(u.type), wire::kClassANY, 0, {}});  // delete the set
      for (const auto& c : u.contents) {
        auto rd = rdata_for(u.type, c);
        if (!rd) return {rd.error(), std::nullopt};
        m.authority.push_back({u.name, wire_type(u.type), wire::kClassIN, u.ttl, std::move(*rd)});
      }
    }
    if (o_.fence && our_fence != new_fence) {
      if (our_fence) m.authority.push_back({fence_name, wire::kTypeTXT, wire::kClassNONE, 0, wire::rdata_txt(*our_fence)});
      m.authority.push_back({fence_name, wire::kTypeTXT, wire::kClassIN, 60, wire::rdata_txt(new_fence)});
    }
    auto bytes = wire::encode(m);
    if (!bytes) return {bytes.error(), std::nullopt};
    if (auto f = fence(); !f) return {f.error(), std::nullopt};
    ++stats_.write_requests;
    auto answer = exchange(*bytes, m.id);
    if (!answer) {
      zones_.erase(batch.zone);
      return {answer.error(), std::nullopt};
    }
    const auto rcode = answer->rcode;
    if (rcode != 0) {
      zones_.erase(batch.zone);
      const std::string msg = "rfc2136: UPDATE of " + batch.zone + " refused: " + wire::rcode_name(rcode);
      if (rcode == static_cast<std::uint8_t>(wire::Rcode::NxRrset) || rcode == static_cast<std::uint8_t>(wire::Rcode::YxRrset)) {
        return {Error(Code::Conflict, msg + " (the fence changed: another writer holds a newer token)"), std::nullopt};
      }
      if (rcode == static_cast<std::uint8_t>(wire::Rcode::NotAuth) || rcode == static_cast<std::uint8_t>(wire::Rcode::Refused)) {
        return {Error(Code::PermissionDenied, msg), std::nullopt};
      }
      return {Error(Code::Unavailable, msg), std::nullopt};
    }
    apply_rrset_updates(z.records, updates);
    if (o_.fence) {
      std::erase_if(z.fence, [&](const std::string& f) { return f.starts_with(fence_prefix); });
      z.fence.push_back(new_fence);
    }
    return {ok(), std::nullopt};
  }

 private:
  struct ZoneState {
    std::vector<ObservedRecord> records;  // registry records included
    std::vector<std::string> fence;       // the fence TXT set, every owner's string
  };

  std::uint16_t next_id() { return static_cast<std::uint16_t>(ids_()); }
  std::uint64_t unix_now() const { return static_cast<std::uint64_t>(clock_.wall_now().unix_nanos / 1000000000); }

  // Sends a signed request and returns the verified answer (one message).
  Result<wire::Message> exchange(core::Bytes msg, std::uint16_t id) {
    CST_TRY_ASSIGN(core::Bytes mac, tsig_sign(msg, o_.key, unix_now()));
    Connection c;
    CST_TRY(c.open(o_.host, o_.port, o_.timeout));
    ++stats_.requests;
    CST_TRY(c.send(msg));
    CST_TRY_ASSIGN(core::Bytes answer, c.receive());
    auto m = wire::decode(answer);
    if (!m) return m.error();
    if (m->id != id) return Error(Code::InvalidArgument, "rfc2136: answer id does not match the request");
    if (m->rcode == static_cast<std::uint8_t>(wire::Rcode::NotAuth) && (m->additional.empty() || m->additional.back().type != wire::kTypeTSIG)) {
      return *m;  // an unsigned NOTAUTH (bad key): reported by the caller
    }
    TsigVerifier v(o_.key, std::move(mac));
    CST_TRY(v.verify(answer, unix_now()));
    return m;
  }

  Result<ZoneState> transfer(const std::string& zone) {
    ++stats_.list_requests;
    wire::Message q;
    q.id = next_id();
    q.questions.push_back({zone, wire::kTypeAXFR, wire::kClassIN});
    CST_TRY_ASSIGN(core::Bytes msg, wire::encode(q));
    CST_TRY_ASSIGN(core::Bytes mac, tsig_sign(msg, o_.key, unix_now()));
    Connection c;
    CST_TRY(c.open(o_.host, o_.port, o_.timeout));
    ++stats_.requests;
    CST_TRY(c.send(msg));
    TsigVerifier v(o_.key, std::move(mac));
    ZoneState z;
    const std::string fence_name = "_constellation-fence." + zone;
    int soa_seen = 0;
    for (int messages = 0; soa_seen < 2; ++messages) {
      if (messages > 100000) return Error(Code::InvalidArgument, "rfc2136: zone transfer of " + zone + " does not end");
      CST_TRY_ASSIGN(core::Bytes answer, c.receive());
      CST_TRY_ASSIGN(wire::Message m, wire::decode(answer));
      if (m.id != q.id) return Error(Code::InvalidArgument, "rfc2136: transfer answer id does not match");
      if (m.rcode != 0) {
        const std::string msg_text = "rfc2136: transfer of " + zone + " refused: " + wire::rcode_name(m.rcode);
        return Error(m.rcode == 5 || m.rcode == 9 ? Code::PermissionDenied : Code::Unavailable, msg_text);
      }
      CST_TRY(v.verify(answer, unix_now()));
      for (const auto& rr : m.answers) {
        if (rr.type == wire::kTypeSOA) {
          ++soa_seen;
          continue;
        }
        std::string name = rr.name;
        for (char& ch : name) {
          if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
        }
        RecordType t;
        if (rr.type == wire::kTypeA) t = RecordType::A;
        else if (rr.type == wire::kTypeAAAA) t = RecordType::AAAA;
        else if (rr.type == wire::kTypeCNAME) t = RecordType::CNAME;
        else if (rr.type == wire::kTypeTXT) t = RecordType::TXT;
        else continue;
        CST_TRY_ASSIGN(std::string content, wire::rdata_text(rr.type, rr.rdata));
        if (t == RecordType::TXT && name == fence_name) {
          z.fence.push_back(content);
          continue;
        }
        if (t == RecordType::CNAME) {
          for (char& ch : content) {
            if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
          }
        }
        z.records.push_back(ObservedRecord{{name, t, content, rr.ttl, false, {}, {}}, {}, false});
      }
      if (m.answers.empty()) return Error(Code::InvalidArgument, "rfc2136: empty transfer message for " + zone);
    }
    if (!v.last_signed()) return Error(Code::PermissionDenied, "rfc2136: the transfer did not end on a signed message");
    return z;
  }

  Rfc2136Options o_;
  Marker marker_;
  const core::Clock& clock_;
  mutable std::mutex mu_;
  std::mt19937 ids_;
  std::map<std::string, ZoneState> zones_;
  ProviderStats stats_;
};

}  // namespace

std::unique_ptr<Provider> make_rfc2136_provider(Rfc2136Options options, Marker marker, const core::Clock& clock) {
  return std::make_unique<Rfc2136Provider>(std::move(options), std::move(marker), clock);
}

}  // namespace constellation::io::dns
