// SPDX-License-Identifier: Apache-2.0
//
// The SWIM + Lifeguard membership state machine: pure logic, no I/O, no clock, no threads.
// Its owner (the Asio transport in io/net, or the simulator in sim) feeds it what arrived and the
// current time, calls tick() at next_deadline(), and sends what take_outgoing() returns.
//
// Addresses are opaque "host:port" strings to the core: it never resolves or parses them beyond
// using them as keys. Payloads handed to and taken from the core are *plaintext* protocol
// messages (docs/protocol.md); encryption, the cluster label and framing on a TCP stream are the
// transport's job (gossip/security.hpp).
//
// Streams: a Stream message is delivered reliably and in order to the address, or not at all
// (the transport opens or reuses a TCP connection and writes one length-prefixed frame). The core
// never waits on a stream: replies (push/pull answers, fallback-probe acks) come back as Stream
// messages to the sender's advertised address. When a stream cannot be opened the transport calls
// stream_failed().
#pragma once

#include "core/bytes.hpp"
#include "core/rng.hpp"
#include "core/time.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace constellation::gossip {

using core::Duration;
using core::Instant;

enum class Channel : std::uint8_t { Datagram, Stream };

/// Timing and sizing. Defaults are a LAN profile (memberlist's DefaultLANConfig timers, so the
/// side-by-side comparison runs both on the same parameters); Config::fast() is the 200 ms profile.
struct Config {
  /// This node's unique name (its identity: survives address changes and restarts).
  std::string name;
  /// The "host:port" other nodes reach this node at (UDP and TCP on the same port).
  std::string advertise;
  /// Incarnation to start from (persisted by the owner across restarts so a restarted node can
  /// refute what the cluster believed about its previous life). The core bumps it as needed.
  std::uint64_t incarnation = 0;

  Duration probe_interval = std::chrono::seconds(1);
  Duration probe_timeout = std::chrono::milliseconds(500);
  Duration gossip_interval = std::chrono::milliseconds(200);
  std::uint32_t gossip_fanout = 3;
  std::uint32_t indirect_checks = 3;
  /// Suspicion timeout = suspicion_mult * log10(max(1, n)) * probe_interval, shrinking from
  /// suspicion_max_mult times that toward it as independent confirmations arrive (Lifeguard).
  std::uint32_t suspicion_mult = 4;
  std::uint32_t suspicion_max_mult = 6;
  /// Each broadcast is retransmitted retransmit_mult * ceil(log10(n + 1)) times.
  std::uint32_t retransmit_mult = 4;
  /// Lifeguard local health: probe interval and timeout are scaled by (1 + awareness), awareness
  /// in [0, awareness_max).
  std::uint32_t awareness_max = 8;
  /// Push/pull anti-entropy with one random peer every push_pull_interval (scaled up with
  /// log2(n / 32) beyond 32 nodes). 0 disables.
  Duration push_pull_interval = std::chrono::seconds(30);
  /// Keep gossiping to nodes declared dead for this long (so they learn it and refute).
  Duration gossip_to_dead = std::chrono::seconds(30);
  /// Forget dead/left members after this long.
  Duration dead_reclaim = std::chrono::seconds(60);
  /// Largest datagram payload the core produces (before the transport's encryption overhead).
  std::size_t max_datagram = 1350;
  /// Largest stream frame accepted or produced (push/pull of big catalogs).
  std::size_t max_stream = 32u << 20;
  /// Payloads of streams larger than this are zstd-compressed.
  std::size_t compress_threshold = 1024;

  static Config lan();
  static Config fast();
};

enum class MemberState : std::uint8_t { Alive, Suspect, Dead, Left };
const char* to_string(MemberState s);

/// What every node knows about one member.
struct Member {
  std::string name;
  std::string address;                            // "host:port"
  std::uint64_t incarnation = 0;
  MemberState state = MemberState::Alive;
  /// The member's application state: key -> value, each versioned by its owner. No small size
  /// cap: values travel in push/pull streams when they do not fit a datagram.
  std::map<std::string, std::string> state_map;
  std::uint64_t state_version = 0;                // owner's version of state_map
  Instant since;                                  // when `state` last changed (local time)
};

struct Event {
  enum class Kind : std::uint8_t { Join, Leave, Fail, Recover, Update };
  Kind kind;
  Member member;  // the member as it is after the event
};
const char* to_string(Event::Kind k);

struct Outgoing {
  std::string to;  // "host:port"
  Channel channel = Channel::Datagram;
  core::Bytes payload;
};

struct Stats {
  std::uint64_t probes = 0, indirect_probes = 0, stream_probes = 0, acks = 0, nacks = 0;
  std::uint64_t suspicions = 0, refutations = 0, deaths = 0;
  std::uint64_t push_pulls = 0, broadcasts_queued = 0, broadcasts_dropped = 0;
  std::uint64_t messages_in = 0, messages_out = 0, bytes_in = 0, bytes_out = 0;
  std::uint64_t malformed = 0;
  std::uint32_t awareness = 0;
  std::size_t queue_depth = 0;
};

struct StringTables;

class Core {
 public:
  /// `strings`: where the core interns member names, addresses and broadcasts (string_table.hpp).
  /// Null, the default, gives it tables of its own. Cores driven by one thread may share one set:
  /// the simulator's N cores then hold each name once instead of N times.
  Core(Config config, core::Rng& rng, Instant now, std::shared_ptr<StringTables> strings = nullptr);
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  /// Contacts the seeds (push/pull over a stream to each); retried with backoff until one answers
  /// or the cluster is found by other means. Seeds may include this node's own address.
  void join(const std::vector<std::string>& seeds, Instant now);
  /// Broadcasts a graceful leave; after it has been sent (or after `timeout`), done_leaving() is true.
  void leave(Instant now);
  bool done_leaving(Instant now) const;

  /// Something arrived from `from` (the sender's address as the transport saw it).
  void receive(const std::string& from, Channel channel, core::ByteView payload, Instant now);
  /// A stream to `to` could not be opened or written.
  void stream_failed(const std::string& to, Instant now);
  /// Runs timers due at `now`.
  void tick(Instant now);
  /// When tick() next has work to do.
  Instant next_deadline() const;

  /// Changes this node's application state (bumps its version; disseminated as a delta).
  void set_state(const std::string& key, std::string value, Instant now);
  void erase_state(const std::string& key, Instant now);
  /// Changes this node's advertised address (identity is the name; others update on refutation).
  void set_advertise(const std::string& address, Instant now);
  /// Queues an opaque user broadcast (bounded; user broadcasts never starve membership messages).
  void broadcast(std::string user_payload, Instant now);

  std::vector<Outgoing> take_outgoing();
  std::vector<Event> take_events();
  /// User broadcasts received from others since the last call.
  std::vector<std::string> take_user_messages();

  const Member& self() const;
  std::vector<Member> members() const;  // every known member, self included, sorted by name
  std::optional<Member> member(const std::string& name) const;
  std::size_t alive_count() const;
  const Stats& stats() const;
  const Config& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace constellation::gossip
