// SPDX-License-Identifier: Apache-2.0
//
// Cluster membership by gossip (SWIM with Lifeguard), embeddable in a host program: each node
// learns within a few probe intervals who is alive and what every other node publishes in its
// state map (key -> value, versioned by its owner). Traffic is UDP + TCP on one port, optionally
// encrypted with AES-256-GCM under a keyring that rotates with no downtime, and tagged with a
// cluster label so two clusters on one network never mix. Wire format: docs/protocol.md.
//
// Threads: a Gossip runs on its own thread. Every method may be called from any thread;
// subscribers are called on the gossip thread and must not block (nor call stop() or the
// destructor: that would wait for the thread they run on).
#pragma once

#include <constellation/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace constellation {

/// How to run one gossip node.
struct GossipOptions {
  /// This node's name: its identity in the cluster (unique, stable across restarts and address
  /// changes). Required.
  std::string name;
  /// "host:port" to bind UDP and TCP to (an IP literal: "0.0.0.0:7946", "[::]:7946").
  /// Port 0 picks a free port. Default "127.0.0.1:7946".
  std::string bind = "127.0.0.1:7946";
  /// "host:port" other nodes reach this one at. Empty: the bind address (with the port actually
  /// bound when bind's port is 0). Required when binding a wildcard address.
  std::string advertise;
  /// Seeds to join at start ("host:port" each). Empty: start alone (others may join us).
  /// Joining retries in the background until one seed answers.
  std::vector<std::string> join;
  /// Base64 AES-256 keys (32 bytes each), the first one the primary (used to encrypt). Empty: no
  /// encryption (the label still applies). Every node of a cluster needs the primary of every
  /// other node installed.
  std::vector<std::string> keys;
  /// Cluster label (at most 255 bytes): nodes with different labels ignore each other.
  std::string label;
  /// Timer profile: "lan" (1 s probes, memberlist's LAN defaults) or "fast" (200 ms probes).
  std::string profile = "lan";
  /// Directory where the node keeps its incarnation across restarts (so a restarted node refutes
  /// at once what the cluster believed about its previous life). Empty: nothing persisted.
  std::string data_dir;
};

/// One member as a node sees it.
struct GossipMember {
  std::string name;
  /// "host:port".
  std::string address;
  /// "alive", "suspect", "dead" or "left".
  std::string state;
  std::uint64_t incarnation = 0;
  /// The member's published state.
  std::map<std::string, std::string> state_map;
};

/// A change in membership seen by this node.
struct GossipEvent {
  /// "join" (a member appeared), "leave" (left gracefully), "fail" (declared dead),
  /// "recover" (a dead or left member is alive again), "update" (its state map or address changed).
  std::string kind;
  /// The member as it is after the event.
  GossipMember member;
};

class CST_API Gossip {
 public:
  /// Binds the port, starts the gossip thread and, when options.join is not empty, starts
  /// joining. Errors: InvalidArgument (missing name, bad address, bad key length or base64,
  /// label too long, unknown profile), Io (bind failed: port in use, address not local).
  static Result<std::unique_ptr<Gossip>> start(GossipOptions options);
  /// Stops without leaving (the others will detect a failure). See leave().
  ~Gossip();
  Gossip(const Gossip&) = delete;
  Gossip& operator=(const Gossip&) = delete;

  /// The address others reach this node at ("host:port", the port actually bound).
  std::string advertise_address() const;
  /// This node's name.
  const std::string& name() const;

  /// Publishes key = value in this node's state map (disseminated to every node).
  /// Errors: InvalidArgument (empty key), Unavailable (stopped).
  Result<void> set_state(const std::string& key, std::string value);
  /// Removes a key from this node's state map. Errors: Unavailable (stopped).
  Result<void> erase_state(const std::string& key);
  /// A snapshot of every known member, this node included, sorted by name.
  std::vector<GossipMember> members() const;

  /// Registers fn to be called for every event from now on, on the gossip thread (must not
  /// block). Returns an id for unsubscribe(). Events are not replayed: to see every join, start
  /// with an empty GossipOptions::join, subscribe, then call join() (members() is always complete).
  std::uint64_t subscribe(std::function<void(const GossipEvent&)> fn);
  /// Stops calling the subscriber; once it returns, fn is not running and will not run again
  /// (unless called from fn itself, on the gossip thread).
  void unsubscribe(std::uint64_t id);

  /// Contacts more seeds (retried in the background). Errors: InvalidArgument (bad address),
  /// Unavailable (stopped).
  Result<void> join(const std::vector<std::string>& seeds);
  /// Broadcasts a graceful leave and waits until it has been sent or `timeout` passed; the node
  /// keeps running (stop() or the destructor ends it). Errors: Timeout, Unavailable (stopped).
  Result<void> leave(std::chrono::milliseconds timeout);

  /// Installed keys in base64, the primary first.
  std::vector<std::string> list_keys() const;
  /// Adds a key (base64 of 32 bytes). Errors: InvalidArgument (bad base64 or length).
  Result<void> install_key(const std::string& b64);
  /// Makes an installed key the primary. Errors: InvalidArgument, NotFound (not installed).
  Result<void> use_key(const std::string& b64);
  /// Removes a key. Errors: InvalidArgument, NotFound, Conflict (it is the primary).
  Result<void> remove_key(const std::string& b64);

  /// Prometheus text exposition of this node's gossip metrics (gossip_*, labelled node="name").
  std::string metrics_text() const;

  /// Stops the gossip thread and closes the port (no leave). Idempotent.
  void stop();

  /// TEST ONLY: drop this fraction of outgoing UDP datagrams from now on (loss injection for
  /// tests and benchmarks; 0 restores normal operation).
  void set_test_datagram_loss(double fraction);

  struct Impl;

 private:
  explicit Gossip(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace constellation
