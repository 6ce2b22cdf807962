// SPDX-License-Identifier: Apache-2.0
//
// The gossip envelope: what wraps every datagram and every stream frame on the wire
// (docs/protocol.md §1). It carries a version byte, the cluster label in the clear, and either the
// plaintext payload with a CRC-32C or an AES-256-GCM ciphertext whose additional authenticated
// data is the whole clear header, so the label cannot be stripped or swapped and a datagram cannot
// be replayed as a stream frame.
//
// The keyring holds the AES-256 keys of the cluster: the primary seals, every installed key is
// tried on open, so keys rotate with no downtime (install the new key everywhere, use it
// everywhere, remove the old one). Pure: the caller supplies each 12-byte nonce (the transport
// draws it from the OS CSPRNG); nothing here reads a clock or an entropy source.
#pragma once

#include <constellation/result.hpp>

#include "core/bytes.hpp"
#include "gossip/core.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace constellation::gossip {

/// Bytes of an AES-256 key.
inline constexpr std::size_t kKeyBytes = 32;
/// Bytes of a GCM nonce (random per sealed message).
inline constexpr std::size_t kNonceBytes = 12;
/// Bytes of a GCM tag.
inline constexpr std::size_t kTagBytes = 16;
/// Longest cluster label.
inline constexpr std::size_t kMaxLabelBytes = 255;
/// Envelope version (docs/protocol.md §1). Append only; values are on the wire.
inline constexpr std::uint8_t kEnvelopeVersion = 1;
/// Envelope flag bits. Append only; values are on the wire.
inline constexpr std::uint8_t kFlagEncrypted = 0x01;
inline constexpr std::uint8_t kFlagStream = 0x02;

/// Largest envelope overhead for a label of `label_bytes`: what the transport adds to a payload.
constexpr std::size_t envelope_overhead(std::size_t label_bytes) {
  return 3 + label_bytes + 4 + kNonceBytes + kTagBytes;  // header, key id, nonce, tag (≥ plaintext's CRC)
}

/// The AES-256 keys of a cluster, primary first. Not thread-safe: owned by one control loop.
class Keyring {
 public:
  using Key = std::array<std::uint8_t, kKeyBytes>;

  Keyring() = default;
  ~Keyring();
  Keyring(const Keyring&) = default;
  Keyring& operator=(const Keyring&) = default;

  /// Parses a key in its text form (standard base64 of exactly 32 bytes).
  /// Errors: InvalidArgument ("not base64 ...", "key is 16 bytes, AES-256 needs 32").
  static Result<Key> parse(std::string_view base64);
  /// The text form of a key.
  static std::string format(const Key& key);
  /// A key's 4-byte id as sent in the envelope (first bytes of SHA-256 of a label and the key):
  /// a hint that lets open() try the right key first; it reveals nothing usable about the key.
  static std::uint32_t key_id(const Key& key);

  /// Builds a keyring from text keys, the first being the primary. Errors: InvalidArgument.
  static Result<Keyring> from_base64(const std::vector<std::string>& keys);

  /// Adds a key (no-op if present). The first key installed into an empty ring becomes primary.
  void install(const Key& key);
  /// Makes an installed key the primary (the one that seals). Errors: NotFound (not installed).
  Result<void> use(const Key& key);
  /// Removes a key. Errors: NotFound (not installed), Conflict (it is the primary: use another first).
  Result<void> remove(const Key& key);
  /// Keys, primary first, in their text form.
  std::vector<std::string> list() const;
  bool empty() const { return keys_.empty(); }
  std::size_t size() const { return keys_.size(); }
  /// Primary first. Invariant: if non-empty, keys_[0] is the primary.
  const std::vector<Key>& keys() const { return keys_; }
  /// key_id() of each key, in the same order.
  const std::vector<std::uint32_t>& ids() const { return ids_; }

 private:
  std::vector<Key> keys_;
  std::vector<std::uint32_t> ids_;
};

/// What open() found inside an envelope.
struct Opened {
  core::Bytes payload;
  bool encrypted = false;
};

/// Seals and opens envelopes for one cluster label and keyring. Not thread-safe.
class Envelope {
 public:
  /// Errors: InvalidArgument (label longer than 255 bytes).
  static Result<Envelope> make(std::string label, Keyring keyring);

  /// Wraps `payload` for `channel`. With keys, encrypts under the primary with `nonce`
  /// (12 bytes, never reused with the same key: draw it from a CSPRNG); without keys the nonce is
  /// ignored and the payload is sent in the clear with a CRC-32C.
  core::Bytes seal(Channel channel, core::ByteView payload, core::ByteView nonce) const;
  /// Unwraps an envelope received on `channel`. Errors: InvalidArgument (malformed, unknown
  /// version, truncated, bad checksum), PermissionDenied (other cluster label, no installed key
  /// opens it, plaintext received while keys are installed or ciphertext while none are).
  Result<Opened> open(Channel channel, core::ByteView wire) const;

  const std::string& label() const { return label_; }
  Keyring& keyring() { return keyring_; }
  const Keyring& keyring() const { return keyring_; }
  /// Bytes seal() adds to a payload.
  std::size_t overhead() const;

 private:
  Envelope(std::string label, Keyring keyring) : label_(std::move(label)), keyring_(std::move(keyring)) {}
  std::string label_;
  Keyring keyring_;
};

}  // namespace constellation::gossip
