// SPDX-License-Identifier: Apache-2.0
// One Raft member in a process, serving a tiny HTTP client protocol for the integration tests and
// the peer comparison (bench/compare/raft). Prints "raft-node ready http=<port> raft=<port>".
//
//   raft_node run --id N --data-dir D --voter ID=HOST:PORT ... [--cluster-key K] [--http ADDR:PORT]
//                 [--fast] [--join] [--log-level L] [--snapshot-entries N]
//   raft_node recover --data-dir D --voters 1[,2...]
//   raft_node load --http PORT --mode put|acquire|renew --conc N --seconds S [--value BYTES]
//                  (closed-loop HTTP/1.1 keep-alive clients; prints RPS, p50/p99 latency, errors)
//
// HTTP (JSON bodies; errors are {"error":{"code","message"}} with 404/409/503/504):
//   PUT    /v1/kv/<key>?cas=<rev>        body = value           -> {"revision"}
//   GET    /v1/kv/<key>                                          -> {"key","value","revision"}
//   DELETE /v1/kv/<key>
//   GET    /v1/list?prefix=P                                     -> [{"key","value","revision"}]
//   GET    /v1/watch?prefix=P&after=R&wait_ms=W                  -> [{"kind","revision","key","value"}]
//   POST   /v1/lease/<name>/acquire?holder=H&ttl_ms=T&lock_delay_ms=D -> {"token","expiry","applied_at"}
//   POST   /v1/lease/<name>/renew?holder=H&token=T
//   POST   /v1/lease/<name>/release?holder=H&token=T
//   GET    /v1/status                                            -> {"id","role","leader","term",...}
//   POST   /v1/transfer?to=ID
#include <constellation/raft.hpp>

#include "core/json.hpp"
#include "io/http/server.hpp"
#include "io/http/static_server.hpp"

#include <asio.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <optional>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>
#include <iostream>
#include <mutex>
#include <condition_variable>
#include <functional>
#include <map>
#include <string>
#include <vector>

using namespace constellation;
using core::json::Writer;

namespace {

std::mutex g_mu;
std::condition_variable g_cv;
bool g_stop = false;

void on_signal(int) {
  g_stop = true;
  g_cv.notify_all();
}

io::http::Response fail(const Error& e) {
  int status = 500;
  switch (e.code()) {
    case Code::NotFound: status = 404; break;
    case Code::Conflict: status = 409; break;
    case Code::InvalidArgument: status = 400; break;
    case Code::Timeout: status = 504; break;
    case Code::NotLeader:
    case Code::Unavailable: status = 503; break;
    default: break;
  }
  return io::http::Response::error(status, code_name(e.code()), e.message());
}

io::http::Response json(Writer&& w) {
  io::http::Response r;
  r.body = std::move(w).take();
  return r;
}

std::uint64_t qnum(const io::http::Request& rq, const std::string& k, std::uint64_t def = 0) {
  auto it = rq.query.find(k);
  return it == rq.query.end() ? def : std::stoull(it->second);
}
std::string qstr(const io::http::Request& rq, const std::string& k) {
  auto it = rq.query.find(k);
  return it == rq.query.end() ? "" : it->second;
}

Writer grant_json(const LeaseGrant& g) {
  Writer w;
  w.begin_object();
  w.key("token").value(g.token);
  w.key("expiry").value(g.expiry_cluster_ns);
  w.key("valid_ms").value(static_cast<std::int64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(g.valid_until - std::chrono::steady_clock::now()).count()));
  w.end_object();
  return w;
}

void kv_json(Writer& w, const KvEntry& kv) {
  w.begin_object();
  w.key("key").value(kv.key);
  w.key("value").value(kv.value);
  w.key("revision").value(kv.mod_revision);
  w.end_object();
}

// --- the HTTP front ----------------------------------------------------------------------------
// An Asio server (io/http/static_server): writes and lease grants/renewals are answered from the
// Raft node's callbacks (no thread waits per request); the other routes run on a small thread
// pool, since they block (linearizable reads, watches, transfers).

std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += in[i] == '+' ? ' ' : in[i];
    }
  }
  return out;
}

io::http::Request to_request(const io::http::StaticRequest& s) {
  io::http::Request rq;
  rq.method = std::string(s.method);
  rq.path = percent_decode(s.path);
  std::string_view q = s.query;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      rq.query[percent_decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  rq.body = std::string(s.body);
  return rq;
}

io::http::StaticResponse to_static(io::http::Response r) {
  io::http::StaticResponse out;
  out.status = r.status;
  out.headers = "Content-Type: " + r.content_type + "\r\n";
  for (const auto& [k, v] : r.headers) out.headers += k + ": " + v + "\r\n";
  out.owned_body = std::move(r.body);
  return out;
}

// Routes by method and path; a path ending in "/*" matches everything below it.
struct Routes {
  struct Route {
    std::string method, path;
    bool prefix;
    io::http::Handler handler;
  };
  std::vector<Route> all;
  void route(std::string method, std::string path, io::http::Handler h) {
    const bool prefix = path.size() >= 2 && path.compare(path.size() - 2, 2, "/*") == 0;
    if (prefix) path.resize(path.size() - 1);
    all.push_back(Route{std::move(method), std::move(path), prefix, std::move(h)});
  }
  io::http::Response serve(const io::http::Request& rq) const {
    for (const auto& r : all) {
      if (r.method != rq.method) continue;
      if (r.prefix ? rq.path.compare(0, r.path.size(), r.path) == 0 : rq.path == r.path) {
        try {
          return r.handler(rq);
        } catch (const std::exception& e) {
          return io::http::Response::error(400, "invalid_argument", e.what());
        }
      }
    }
    return io::http::Response::error(404, "not_found", "no route for " + rq.method + " " + rq.path);
  }
};

int run(int argc, char** argv) {
  RaftOptions o;
  std::string http = "127.0.0.1:0";
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--id") o.id = std::stoull(next());
    else if (a == "--data-dir") o.data_dir = next();
    else if (a == "--voter") {
      std::string v = next();
      auto eq = v.find('=');
      o.voters[std::stoull(v.substr(0, eq))] = v.substr(eq + 1);
    } else if (a == "--cluster-key") o.cluster_key = next();
    else if (a == "--http") http = next();
    else if (a == "--join") o.join = true;
    else if (a == "--log-level") o.log_level = next();
    else if (a == "--fast") o.tick = std::chrono::milliseconds(10);
    else if (a == "--snapshot-entries") o.snapshot_entries = std::stoull(next());
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  auto node_r = RaftNode::open(o);
  if (!node_r) {
    std::cerr << "raft-node: " << node_r.error().to_string() << "\n";
    return 1;
  }
  RaftNode& node = **node_r;
  Routes server;
  server.route("PUT", "/v1/kv/*", [&](const io::http::Request& rq) {
    const std::string key = rq.path.substr(7);
    Result<std::uint64_t> r = rq.query.count("cas") ? node.compare_and_set(key, rq.body, qnum(rq, "cas"))
                                                    : node.put(key, rq.body);
    if (!r) return fail(r.error());
    Writer w;
    w.begin_object().key("revision").value(*r).end_object();
    return json(std::move(w));
  });
  server.route("GET", "/v1/kv/*", [&](const io::http::Request& rq) {
    auto r = node.get(rq.path.substr(7));
    if (!r) return fail(r.error());
    Writer w;
    kv_json(w, *r);
    return json(std::move(w));
  });
  server.route("DELETE", "/v1/kv/*", [&](const io::http::Request& rq) {
    auto r = node.erase(rq.path.substr(7));
    if (!r) return fail(r.error());
    Writer w;
    w.begin_object().key("revision").value(*r).end_object();
    return json(std::move(w));
  });
  server.route("GET", "/v1/list", [&](const io::http::Request& rq) {
    auto r = node.list(qstr(rq, "prefix"));
    if (!r) return fail(r.error());
    Writer w;
    w.begin_array();
    for (const auto& kv : *r) kv_json(w, kv);
    w.end_array();
    return json(std::move(w));
  });
  server.route("GET", "/v1/watch", [&](const io::http::Request& rq) {
    auto r = node.watch(qstr(rq, "prefix"), qnum(rq, "after"), std::chrono::milliseconds(qnum(rq, "wait_ms", 1000)));
    if (!r) return fail(r.error());
    Writer w;
    w.begin_array();
    for (const auto& e : *r) {
      w.begin_object();
      w.key("kind").value(e.kind == WatchEvent::Kind::Put ? "put" : "delete");
      w.key("revision").value(e.revision);
      w.key("key").value(e.kv.key);
      w.key("value").value(e.kv.value);
      w.end_object();
    }
    w.end_array();
    return json(std::move(w));
  });
  // acquire and renew are answered asynchronously by the front (below); release blocks.
  server.route("POST", "/v1/lease/*", [&](const io::http::Request& rq) {
    const std::string rest = rq.path.substr(10);
    const auto slash = rest.rfind('/');
    if (slash == std::string::npos || rest.substr(slash + 1) != "release") {
      return io::http::Response::error(404, "not_found", "no such lease operation");
    }
    auto r = node.release(rest.substr(0, slash), qstr(rq, "holder"), qnum(rq, "token"));
    if (!r) return fail(r.error());
    return json(std::move(Writer().begin_object().end_object()));
  });
  server.route("GET", "/v1/status", [&](const io::http::Request&) {
    const RaftStatus s = node.status();
    Writer w;
    w.begin_object();
    w.key("id").value(s.id);
    w.key("role").value(s.role);
    w.key("leader").value(s.leader);
    w.key("term").value(s.term);
    w.key("commit_index").value(s.commit_index);
    w.key("applied_index").value(s.applied_index);
    w.key("cluster_time").value(s.cluster_time);
    w.key("damage").value(s.damage);
    w.key("voters").begin_array();
    for (auto v : s.voters) w.value(v);
    w.end_array();
    w.end_object();
    return json(std::move(w));
  });
  server.route("POST", "/v1/transfer", [&](const io::http::Request& rq) {
    auto r = node.transfer_leadership(qnum(rq, "to"));
    if (!r) return fail(r.error());
    return json(std::move(Writer().begin_object().end_object()));
  });
  asio::thread_pool blocking(8);  // the routes that wait (reads, watches, transfers)
  auto answer_json = [](io::http::StaticResponder& respond, Writer&& w) {
    io::http::StaticResponse out;
    out.headers = "Content-Type: application/json\r\n";
    out.owned_body = std::move(w).take();
    respond(std::move(out));
  };
  auto handler = [&](const io::http::StaticRequest& srq, io::http::StaticResponder respond) {
    io::http::Request rq = to_request(srq);
    try {
      // The hot paths answer from the node's callback.
      if (rq.method == "PUT" && rq.path.rfind("/v1/kv/", 0) == 0 && !rq.query.count("cas")) {
        node.put_async(rq.path.substr(7), rq.body, [respond, answer_json](Result<std::uint64_t> r) mutable {
          if (!r) return respond(to_static(fail(r.error())));
          Writer w;
          w.begin_object().key("revision").value(*r).end_object();
          answer_json(respond, std::move(w));
        });
        return;
      }
      if (rq.method == "POST" && rq.path.rfind("/v1/lease/", 0) == 0) {
        const std::string rest = rq.path.substr(10);
        const auto slash = rest.rfind('/');
        const std::string op = slash == std::string::npos ? "" : rest.substr(slash + 1);
        auto done = [respond, answer_json](Result<LeaseGrant> r) mutable {
          if (!r) return respond(to_static(fail(r.error())));
          answer_json(respond, grant_json(*r));
        };
        if (op == "acquire") {
          node.acquire_async(rest.substr(0, slash), qstr(rq, "holder"), std::chrono::milliseconds(qnum(rq, "ttl_ms", 10000)),
                             std::chrono::milliseconds(qnum(rq, "lock_delay_ms", 0)), std::move(done));
          return;
        }
        if (op == "renew") {
          node.renew_async(rest.substr(0, slash), qstr(rq, "holder"), qnum(rq, "token"), std::move(done));
          return;
        }
      }
    } catch (const std::exception& e) {  // a malformed number in the query
      return respond(to_static(io::http::Response::error(400, "invalid_argument", e.what())));
    }
    asio::post(blocking, [&server, rq = std::move(rq), respond]() mutable { respond(to_static(server.serve(rq))); });
  };
  io::http::StaticServerOptions so;
  const auto colon = http.rfind(':');
  so.address = http.substr(0, colon);
  so.port = std::stoi(http.substr(colon + 1));
  so.threads = 1;
  so.max_body_bytes = 1u << 20;
  auto started = io::http::StaticServer::start_async(so, handler);
  if (!started) {
    std::cerr << "raft-node: " << started.error().to_string() << "\n";
    return 1;
  }
  auto& front = **started;
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::cout << "raft-node ready http=" << front.port() << " raft=" << node.raft_port() << std::endl;
  {
    std::unique_lock<std::mutex> g(g_mu);
    g_cv.wait_for(g, std::chrono::hours(24 * 365), [] { return g_stop; });
  }
  node.stop();  // hands leadership over first
  front.stop();
  blocking.join();
  return 0;
}

int recover(int argc, char** argv) {
  std::string dir;
  std::vector<std::uint64_t> voters;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--data-dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--voters" && i + 1 < argc) {
      std::string v = argv[++i];
      std::size_t pos = 0;
      while (pos < v.size()) {
        auto comma = v.find(',', pos);
        voters.push_back(std::stoull(v.substr(pos, comma - pos)));
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
    }
  }
  auto r = RaftNode::recover(dir, voters);
  if (!r) {
    std::cerr << "raft-node recover: " << r.error().to_string() << "\n";
    return 1;
  }
  std::cout << "recovered " << dir << "\n";
  return 0;
}


// --- load generator ------------------------------------------------------------------------------
//
// Closed-loop clients: `conc` keep-alive HTTP/1.1 connections, each with one request outstanding,
// multiplexed by one epoll thread (as a Go client's goroutines are by its netpoller), so the
// generator's own thread wake-ups do not dominate the machine it shares with the cluster.

struct Client {
  int fd = -1;
  int id = 0;
  std::uint64_t seq = 0;
  std::uint64_t token = 0;
  bool renewing_setup = false;
  std::string out;       // request bytes not yet sent
  std::size_t sent = 0;
  std::string in;        // response bytes received so far
  std::chrono::steady_clock::time_point t0;
};

std::uint64_t json_u64(const std::string& body, const std::string& key) {
  auto p = body.find("\"" + key + "\":");
  return p == std::string::npos ? 0 : std::strtoull(body.c_str() + p + key.size() + 3, nullptr, 10);
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A complete response in `in`: its status and body, removed from `in`; nullopt while incomplete.
std::optional<std::pair<int, std::string>> take_response(std::string& in) {
  const auto head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos) return std::nullopt;
  const auto end = head_end + 4;
  std::size_t len = 0;
  const auto cl = in.find("Content-Length: ");
  if (cl != std::string::npos && cl < end) len = std::strtoul(in.c_str() + cl + 16, nullptr, 10);
  if (in.size() < end + len) return std::nullopt;
  std::pair<int, std::string> r{std::atoi(in.c_str() + 9), in.substr(end, len)};
  in.erase(0, end + len);
  return r;
}

int load(int argc, char** argv) {
  int port = 0, conc = 1;
  double seconds = 5;
  std::size_t value_bytes = 256;
  std::string mode = "put";
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--http") port = std::stoi(v);
    else if (a == "--conc") conc = std::stoi(v);
    else if (a == "--seconds") seconds = std::stod(v);
    else if (a == "--mode") mode = v;
    else if (a == "--value") value_bytes = std::stoul(v);
  }
  if (mode != "put" && mode != "acquire" && mode != "renew") {
    std::cerr << "load: --mode must be put, acquire or renew\n";
    return 2;
  }
  const std::string value(value_bytes, 'v');
  std::vector<double> lat;
  lat.reserve(1 << 20);
  std::uint64_t errors = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<Client> clients(static_cast<std::size_t>(conc));

  auto request = [&](Client& c) {
    const std::string holder = "bench-" + std::to_string(c.id);
    std::string method = "POST", path, body;
    if (mode == "put") {
      method = "PUT";
      path = "/v1/kv/bench/c" + std::to_string(c.id) + "/k" + std::to_string(c.seq % 4096);
      body = value;
    } else if (mode == "acquire") {
      path = "/v1/lease/g" + std::to_string(c.id) + "-" + std::to_string(c.seq) + "/acquire?holder=" + holder + "&ttl_ms=60000";
    } else if (c.renewing_setup) {
      path = "/v1/lease/renew-" + std::to_string(c.id) + "/acquire?holder=" + holder + "&ttl_ms=60000";
    } else {
      path = "/v1/lease/renew-" + std::to_string(c.id) + "/renew?holder=" + holder + "&token=" + std::to_string(c.token);
    }
    c.out = method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    c.sent = 0;
    c.t0 = std::chrono::steady_clock::now();
  };
  auto arm = [&](Client& c, bool add) {
    epoll_event ev{};
    ev.events = EPOLLIN | (c.sent < c.out.size() ? EPOLLOUT : 0u);
    ev.data.u32 = static_cast<std::uint32_t>(c.id);
    ::epoll_ctl(ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd, &ev);
  };
  auto open = [&](Client& c) {
    if (c.fd >= 0) {
      ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
    }
    c.in.clear();
    c.fd = connect_to(port);
    if (c.fd < 0) return false;
    request(c);
    arm(c, true);
    return true;
  };
  // Sends what it can; false on a transport error.
  auto flush = [&](Client& c) {
    while (c.sent < c.out.size()) {
      const auto n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN)) break;
      if (n <= 0) return false;
      c.sent += static_cast<std::size_t>(n);
    }
    return true;
  };

  int open_clients = 0;
  for (int i = 0; i < conc; ++i) {
    Client& c = clients[static_cast<std::size_t>(i)];
    c.id = i;
    c.renewing_setup = mode == "renew";
    if (open(c)) ++open_clients;
  }
  std::vector<epoll_event> evs(static_cast<std::size_t>(std::max(conc, 1)));
  char buf[16384];
  while (open_clients > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) break;
    const int wait_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count()) + 1;
    const int n = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), wait_ms);
    for (int k = 0; k < n; ++k) {
      Client& c = clients[evs[static_cast<std::size_t>(k)].data.u32];
      bool ok = true;
      if (evs[static_cast<std::size_t>(k)].events & (EPOLLERR | EPOLLHUP)) ok = false;
      if (ok && (evs[static_cast<std::size_t>(k)].events & EPOLLOUT)) ok = flush(c);
      if (ok && (evs[static_cast<std::size_t>(k)].events & EPOLLIN)) {
        for (;;) {
          const auto r = ::recv(c.fd, buf, sizeof buf, 0);
          if (r > 0) {
            c.in.append(buf, static_cast<std::size_t>(r));
            continue;
          }
          if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
          ok = false;
          break;
        }
        while (ok) {
          auto resp = take_response(c.in);
          if (!resp) break;
          const auto t1 = std::chrono::steady_clock::now();
          if (c.renewing_setup) {
            c.renewing_setup = false;
            if (resp->first == 200) c.token = json_u64(resp->second, "token");
          } else if (resp->first == 200) {
            lat.push_back(std::chrono::duration<double, std::milli>(t1 - c.t0).count());
            c.seq++;
          } else {
            errors++;
          }
          if (t1 >= until) break;
          request(c);
          ok = flush(c);
          if (ok) arm(c, false);
        }
      }
      if (!ok) {
        errors++;
        if (!open(c)) --open_clients;
      } else if (c.sent < c.out.size()) {
        arm(c, false);
      }
    }
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& c : clients) {
    if (c.fd >= 0) ::close(c.fd);
  }
  ::close(ep);
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[static_cast<std::size_t>(p * static_cast<double>(lat.size() - 1))]; };
  std::printf("RPS %.1f\nLAT_P50_MS %.3f\nLAT_P99_MS %.3f\nREQS %zu\nERRS %llu\n", static_cast<double>(lat.size()) / elapsed,
              pct(0.5), pct(0.99), lat.size(), static_cast<unsigned long long>(errors));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "run") return run(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "recover") return recover(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "load") return load(argc, argv);
  std::cerr << "usage: raft_node run|recover|load ...\n";
  return 2;
}
