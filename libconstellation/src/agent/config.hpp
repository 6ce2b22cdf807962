// SPDX-License-Identifier: Apache-2.0
//
// The agent's configuration: one YAML file (every field optional — the defaults are the embedded
// default), then environment overrides, then what the caller set explicitly. Every error names the
// file, line, column and field; unknown keys are warnings, never silently ignored.
// docs/configuration.md lists every field; keep the two in step.
#pragma once

#include <constellation/result.hpp>

#include "api/auth.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace constellation::agent {

using api::ApiToken;
using api::Role;

struct Config {
  // --- node ------------------------------------------------------------------------------------
  /// Unique node name. Empty: the host name.
  std::string node_name;
  /// Node identity, Raft log, state, service logs. Created (0700) and locked.
  std::string data_dir = "constellation-data";
  std::vector<std::string> roles;
  std::vector<std::string> tags;
  /// Named network → this node's address on it: an IP literal or "iface:<name>" (that
  /// interface's address). Networks not listed are detected (catalog/addresses.hpp): backend,
  /// publicnet, tailscale (the `tailscale ip` command) and warp.
  std::map<std::string, std::string> addresses;

  // --- gossip ----------------------------------------------------------------------------------
  /// UDP+TCP address the gossip layer listens on.
  std::string gossip_bind = "127.0.0.1:7946";
  /// Address other nodes use to reach this one (behind NAT); empty: the bind address.
  std::string gossip_advertise;
  /// Seeds to join ("host:port"); empty: a cluster of one until someone joins us.
  std::vector<std::string> join;
  /// Base64 AES-256 keys; the first encrypts, all decrypt. Empty: no encryption (a warning
  /// unless every address is loopback).
  std::vector<std::string> gossip_keys;
  /// Cluster label: nodes with different labels never talk.
  std::string cluster_label;
  /// Timing profile: "lan" (default: 1 s probes) or "fast" (200 ms probes, for small LANs).
  std::string gossip_profile = "lan";

  // --- raft ------------------------------------------------------------------------------------
  /// Names of the voting members (3 or 5 for a fault-tolerant cluster). Empty: this node alone
  /// is the only voter (the embedded default). Nodes not listed follow as learners.
  std::vector<std::string> raft_voters;
  /// TCP address of the Raft transport.
  std::string raft_bind = "127.0.0.1:7947";
  /// Address other members use to reach this one's Raft transport; empty: the bind address.
  std::string raft_advertise;
  /// Shared secret authenticating Raft traffic (at least 16 characters); required with more than
  /// one voter.
  std::string raft_key;
  /// Timing: "default" (elections after 0.5–1 s of silence) or "fast" (100–200 ms, for LANs).
  std::string raft_profile = "default";

  // --- api -------------------------------------------------------------------------------------
  std::string api_listen = "127.0.0.1:7400";
  /// Bearer tokens. Empty: unauthenticated access, allowed only when api_listen is loopback.
  std::vector<ApiToken> api_tokens;
  std::string api_tls_cert;
  std::string api_tls_key;
  /// CA bundle clients must present certificates from (mTLS); empty: no client certificates.
  std::string api_tls_client_ca;
  std::uint64_t api_max_body_bytes = 1u << 20;
  /// Requests per second allowed per client address (token bucket), and its burst.
  double api_rate_limit = 100;
  double api_rate_burst = 200;

  // --- services --------------------------------------------------------------------------------
  /// Directory of compose files this node runs. Empty: none (the embedded default points it at
  /// the bundled examples).
  std::string services_dir;
  /// "process" or "docker": the default runtime for services that do not choose.
  std::string services_runtime = "process";
  std::string docker_socket = "/var/run/docker.sock";

  // --- traefik ---------------------------------------------------------------------------------
  /// "v2" or "v3": the default version of GET /v1/traefik.
  std::string traefik_version = "v3";
  /// Route to instances in warning as well as passing ones.
  bool traefik_include_warning = false;
  /// Also write the dynamic configuration to this file (Traefik's file provider). Empty: no.
  std::string traefik_file;
  /// Shared token Traefik must send in X-Constellation-Token. Empty: none.
  std::string traefik_token;

  // --- dns -------------------------------------------------------------------------------------
  /// Run the DNS writer on this node while it holds the "dns" lease.
  bool dns_enabled = false;
  /// Seconds between DNS reconciliations. Default 60.
  int dns_interval_seconds = 60;
  /// The rest of the dns section (owner, zones, providers, safety; docs/dns.md) as the JSON
  /// document dns::Engine::open takes ("" when there is no dns section).
  std::string dns_json;

  // --- log -------------------------------------------------------------------------------------
  std::string log_level = "info";
};

/// A problem that does not stop the agent, e.g. an unknown key.
struct ConfigWarning {
  std::string where;  // file:line:column
  std::string message;
};

/// Parses a configuration file's text. `file` is used in messages only.
/// Errors: InvalidArgument naming file:line:column and the field (YAML syntax, wrong type, bad
/// value); unknown keys are appended to `warnings`.
Result<Config> parse_config(std::string_view yaml, std::string_view file, std::vector<ConfigWarning>& warnings);

/// Applies CONSTELLATION_* environment variables (e.g. CONSTELLATION_NODE_NAME,
/// CONSTELLATION_API_LISTEN, CONSTELLATION_JOIN=a:1,b:2). Unknown CONSTELLATION_* names are
/// warnings. Errors: InvalidArgument naming the variable.
Result<void> apply_environment(Config& config, const std::map<std::string, std::string>& env,
                               std::vector<ConfigWarning>& warnings);

/// Cross-field checks after everything is applied (addresses parse, tokens are well formed, TLS
/// files come in pairs, no unauthenticated API on a non-loopback address). Errors: InvalidArgument.
Result<void> validate(const Config& config);

}  // namespace constellation::agent
