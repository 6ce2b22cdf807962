// SPDX-License-Identifier: Apache-2.0
// The gossip transport with real sockets on loopback, one io_context driven by the test thread:
// two cores find each other through it; foreign, malformed and oversized input is refused and
// counted; a stream to a closed port is reported to the core; the test loss hook drops datagrams.
#include "core/rng.hpp"
#include "core/time.hpp"
#include "gossip/core.hpp"
#include "gossip/security.hpp"
#include "io/net/gossip_transport.hpp"

#include <asio.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <functional>

using namespace constellation;
using namespace std::chrono_literals;

namespace {

gossip::Envelope envelope(std::string label, std::uint8_t key_fill) {
  gossip::Keyring ring;
  gossip::Keyring::Key k{};
  k.fill(key_fill);
  ring.install(k);
  return *gossip::Envelope::make(std::move(label), ring);
}

struct Node {
  core::Rng rng;
  std::unique_ptr<io::net::GossipTransport> transport;
  std::unique_ptr<gossip::Core> core;
  core::metrics::Registry metrics;
  Node(asio::io_context& io, const std::string& name, gossip::Envelope env, std::uint64_t seed) : rng(seed) {
    io::net::GossipTransportOptions o;
    o.bind = "127.0.0.1:0";
    o.stream_timeout = 1s;
    o.metrics = &metrics;
    o.metric_label_names = {"node"};
    o.metric_label_values = {name};
    auto t = io::net::GossipTransport::open(io, o);
    REQUIRE(t);
    transport = std::move(*t);
    auto c = gossip::Config::fast();
    c.name = name;
    c.advertise = address();
    core = std::make_unique<gossip::Core>(c, rng, core::SystemClock::instance().now());
    transport->run(*core, std::move(env), [] {});
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(transport->port()); }
};

bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    io.run_for(20ms);
    if (done()) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("gossip transport: two cores join over UDP+TCP; foreign and malformed input is counted") {
  asio::io_context io;
  Node a(io, "a", envelope("t", 1), 1);
  Node b(io, "b", envelope("t", 1), 2);
  b.core->join({a.address()}, core::SystemClock::instance().now());
  b.transport->kick();
  REQUIRE(run_until(io, [&] { return a.core->alive_count() == 2 && b.core->alive_count() == 2; }, 5000ms));
  CHECK(a.transport->stats().frames_in > 0);  // the join's push/pull travels on a stream
  CHECK(b.transport->stats().frames_out > 0);
  // Probes follow on UDP.
  CHECK(run_until(io, [&] { return a.transport->stats().packets_in > 0 && b.transport->stats().packets_in > 0; }, 3000ms));

  // Garbage and a datagram of another cluster: dropped and counted, nothing else happens.
  asio::ip::udp::socket raw(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const asio::ip::udp::endpoint to(asio::ip::make_address("127.0.0.1"), a.transport->port());
  raw.send_to(asio::buffer(std::string("not an envelope")), to);
  auto other = envelope("other", 1);
  const std::uint8_t nonce[12] = {};
  auto foreign = other.seal(gossip::Channel::Datagram, core::Bytes{1, 2, 3}, core::ByteView(nonce, 12));
  raw.send_to(asio::buffer(foreign), to);
  const auto rejected_before = a.transport->stats().rejected;
  REQUIRE(run_until(io, [&] { return a.transport->stats().rejected >= rejected_before + 2; }, 2000ms));

  // A stream frame announcing more than max_stream: the connection is closed, counted.
  asio::ip::tcp::socket tcp(io);
  tcp.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), a.transport->port()));
  const std::uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
  asio::write(tcp, asio::buffer(huge, 4));
  const auto rejected_mid = a.transport->stats().rejected;
  REQUIRE(run_until(io, [&] { return a.transport->stats().rejected > rejected_mid; }, 2000ms));
  std::uint8_t byte = 0;
  std::error_code ec;
  io.run_for(50ms);
  tcp.non_blocking(true);
  tcp.read_some(asio::buffer(&byte, 1), ec);
  CHECK((ec == asio::error::eof || ec == asio::error::connection_reset));

  a.transport->publish_metrics();
  const auto text = a.metrics.render();
  CHECK(text.find("gossip_rejected_total{node=\"a\"}") != std::string::npos);
  CHECK(text.find("gossip_members{node=\"a\",state=\"alive\"} 2") != std::string::npos);
  a.transport->stop();
  b.transport->stop();
}

TEST_CASE("gossip transport: a node with another key never joins; the loss hook drops everything") {
  asio::io_context io;
  Node a(io, "a", envelope("t", 1), 1);
  Node b(io, "b", envelope("t", 2), 2);  // wrong key
  b.core->join({a.address()}, core::SystemClock::instance().now());
  b.transport->kick();
  run_until(io, [] { return false; }, 1500ms);
  CHECK(a.core->alive_count() == 1);
  CHECK(b.core->alive_count() == 1);
  CHECK(a.transport->stats().rejected > 0);

  // A seed nobody listens on: the failed stream is reported (and counted).
  std::uint16_t closed_port = 0;
  {
    asio::ip::tcp::acceptor probe(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  b.core->join({"127.0.0.1:" + std::to_string(closed_port)}, core::SystemClock::instance().now());
  b.transport->kick();
  CHECK(run_until(io, [&] { return b.transport->stats().stream_failures > 0; }, 3000ms));

  Node c(io, "c", envelope("t", 1), 3);
  c.transport->set_test_drop(1.0);
  c.core->join({a.address()}, core::SystemClock::instance().now());
  c.transport->kick();
  run_until(io, [] { return false; }, 500ms);
  CHECK(c.transport->stats().packets_out == 0);
  a.transport->stop();
  b.transport->stop();
  c.transport->stop();
}
