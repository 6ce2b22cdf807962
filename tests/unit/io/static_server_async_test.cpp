// SPDX-License-Identifier: Apache-2.0
// The static server's answer-later mode (start_async): answers from another thread, in order on
// a keep-alive connection with pipelined requests, with the request body handed to the handler.
#include "io/http/static_server.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

using namespace constellation;
using namespace constellation::io::http;

namespace {

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Reads until `n` complete responses (Content-Length framed) arrived; returns their bodies.
std::vector<std::string> read_responses(int fd, std::size_t n) {
  std::string buf;
  std::vector<std::string> bodies;
  char chunk[4096];
  while (bodies.size() < n) {
    const auto head_end = buf.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      const auto cl = buf.find("Content-Length: ");
      REQUIRE(cl != std::string::npos);
      const std::size_t len = std::stoul(buf.substr(cl + 16));
      if (buf.size() >= head_end + 4 + len) {
        bodies.push_back(buf.substr(head_end + 4, len));
        buf.erase(0, head_end + 4 + len);
        continue;
      }
    }
    const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
    REQUIRE(got > 0);
    buf.append(chunk, static_cast<std::size_t>(got));
  }
  return bodies;
}

}  // namespace

TEST_CASE("an async handler answers later from another thread, in request order, with the body it was sent") {
  std::mutex mu;
  std::deque<std::thread> workers;
  auto server = StaticServer::start_async({}, [&](const StaticRequest& rq, StaticResponder respond) {
    // Copy what the answer needs: the request's views die with this call.
    std::string answer = std::string(rq.path) + ":" + std::string(rq.body);
    const bool slow = rq.path == "/slow";
    std::lock_guard<std::mutex> g(mu);
    workers.emplace_back([answer = std::move(answer), slow, respond]() mutable {
      if (slow) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      StaticResponse r;
      r.owned_body = answer;
      respond(r);
      respond(std::move(r));  // a second answer is ignored
    });
  });
  REQUIRE(server.has_value());
  const int fd = connect_to((*server)->port());
  // Two pipelined requests: the slow one first; its answer must still come first.
  const std::string reqs = "PUT /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                           "PUT /fast HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nxy";
  REQUIRE(::send(fd, reqs.data(), reqs.size(), 0) == static_cast<ssize_t>(reqs.size()));
  const auto bodies = read_responses(fd, 2);
  CHECK(bodies[0] == "/slow:abc");
  CHECK(bodies[1] == "/fast:xy");
  ::close(fd);
  (*server)->stop();
  std::lock_guard<std::mutex> g(mu);
  for (auto& t : workers) t.join();
}

TEST_CASE("an async handler that throws answers 500 and the connection stays usable") {
  auto server = StaticServer::start_async({}, [](const StaticRequest& rq, StaticResponder respond) {
    if (rq.path == "/boom") throw std::runtime_error("boom");
    StaticResponse r;
    r.owned_body = "fine";
    respond(std::move(r));
  });
  REQUIRE(server.has_value());
  const int fd = connect_to((*server)->port());
  const std::string reqs = "GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::send(fd, reqs.data(), reqs.size(), 0) == static_cast<ssize_t>(reqs.size()));
  const auto bodies = read_responses(fd, 2);
  CHECK(bodies[0] == "internal error\n");
  CHECK(bodies[1] == "fine");
  ::close(fd);
}

TEST_CASE("start_async refuses a missing handler") {
  auto server = StaticServer::start_async({}, nullptr);
  REQUIRE_FALSE(server.has_value());
  CHECK(server.error().code() == Code::InvalidArgument);
}
