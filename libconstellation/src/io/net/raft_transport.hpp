// SPDX-License-Identifier: Apache-2.0
//
// The TCP transport between Raft voters. Each node dials every peer once and sends on that
// connection; it receives on the connections peers dial to it. Frames are length-prefixed,
// versioned, CRC32C-checksummed and authenticated with HMAC-SHA256 under the cluster key, bound
// to the connection's random nonce and a per-frame sequence number (no replay across or within
// connections). Lost connections are redialed with exponential backoff and jitter; each peer's
// send queue is bounded by bytes (Raft tolerates the drops, and the core is told the peer is
// unreachable). Runs entirely on the io_context it is given (the node's control loop): no locks.
// Wire format: docs/adr/0024-raft-transport.md.
#pragma once

#include <constellation/result.hpp>

#include "core/bytes.hpp"
#include "core/log.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace asio {
class io_context;
}

namespace constellation::io::net {

struct RaftTransportOptions {
  /// This node's Raft id (sent in the handshake; peers drop frames from unknown ids).
  std::uint64_t self = 0;
  /// "host:port" to listen on ("0.0.0.0:7410", "127.0.0.1:0" picks a port).
  std::string listen = "127.0.0.1:0";
  /// Peer id -> "host:port".
  std::map<std::uint64_t, std::string> peers;
  /// Shared secret of the cluster (at least 16 bytes recommended); frames that fail its HMAC are
  /// dropped and counted. Empty: frames are only checksummed (single-host tests).
  std::string cluster_key;
  /// Bytes queued per peer before new frames are dropped. Default 64 MiB.
  std::size_t max_queue_bytes = 64u << 20;
  /// Reconnect backoff: first delay, cap.
  core::Duration backoff_min = std::chrono::milliseconds(20);
  core::Duration backoff_max = std::chrono::seconds(2);
  core::log::Logger logger;
  /// Called after the messages of one read from a connection were delivered (several frames
  /// often arrive together): the owner can act once for all of them. Optional.
  std::function<void()> on_received;
};

struct RaftTransportStats {
  std::uint64_t frames_sent = 0, frames_received = 0, bytes_sent = 0, bytes_received = 0;
  std::uint64_t dropped_queue_full = 0, rejected_auth = 0, rejected_malformed = 0, reconnects = 0;
};

/// Frame layout (version 1), big-endian:
///   magic "CSTR" (4) | version u8 | kind u8 | reserved u16 | body length u32 | body |
///   crc32c(u32) of everything before it | hmac-sha256 (32) of nonce | seq u64 | everything before the crc
/// kind 1 = hello (body: sender id u64, nonce 16 bytes), kind 2 = raft message (body: opaque).
inline constexpr std::uint32_t kFrameMagic = 0x43535452;
inline constexpr std::uint8_t kFrameVersion = 1;
inline constexpr std::size_t kFrameHeader = 12;
inline constexpr std::size_t kFrameTrailer = 4 + 32;
inline constexpr std::size_t kMaxFrameBody = 128u << 20;

/// Encodes one frame (exposed for the fuzz target and tests).
core::Bytes encode_frame(std::uint8_t kind, core::ByteView body, std::string_view key, core::ByteView nonce,
                         std::uint64_t seq);
/// Encodes consecutive frames (sequence numbers seq, seq + 1, ...) with one MAC context, as a
/// connection does (exposed for tests: every frame must equal encode_frame's).
core::Bytes encode_frames(std::uint8_t kind, const std::vector<core::Bytes>& bodies, std::string_view key,
                          core::ByteView nonce, std::uint64_t seq);
/// Parses the 12-byte header: the body length, or InvalidArgument (bad magic, version, size).
Result<std::uint32_t> decode_frame_header(core::ByteView header, std::uint8_t* kind);
/// Verifies a whole frame (header + body + trailer) and returns a view of its body.
/// Errors: InvalidArgument (malformed, bad checksum), PermissionDenied (bad HMAC).
Result<core::ByteView> verify_frame(core::ByteView frame, std::string_view key, core::ByteView nonce, std::uint64_t seq);

class RaftTransport {
 public:
  using Receiver = std::function<void(std::uint64_t from, core::ByteView payload)>;
  using Unreachable = std::function<void(std::uint64_t peer)>;

  /// Binds the listener. Errors: InvalidArgument (bad address), Io (bind failed).
  static Result<std::unique_ptr<RaftTransport>> start(asio::io_context& io, RaftTransportOptions options,
                                                       Receiver on_message, Unreachable on_unreachable);
  ~RaftTransport();
  RaftTransport(const RaftTransport&) = delete;
  RaftTransport& operator=(const RaftTransport&) = delete;

  /// Queues payload for peer (dialing if needed). Call on the io_context's thread.
  void send(std::uint64_t peer, core::Bytes payload);
  /// Starts writing what send() queued now instead of when the current handler returns (a
  /// caller about to block, as on a disk write, lets its messages leave first). Call on the
  /// io_context's thread.
  void flush();
  /// Adds or changes a peer's address (membership changes). Call on the io_context's thread.
  void set_peer(std::uint64_t peer, std::string address);
  /// The bound listen port.
  std::uint16_t port() const;
  /// Closes every connection and the listener. Call on the io_context's thread.
  void stop();
  const RaftTransportStats& stats() const;

 private:
  struct Impl;
  explicit RaftTransport(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace constellation::io::net
