// SPDX-License-Identifier: Apache-2.0
#include "gossip/security.hpp"

#include "core/assert.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>

namespace constellation::gossip {

namespace {

constexpr std::string_view kKeyIdContext = "constellation gossip key id v1";
constexpr std::size_t kFixedHeader = 3;  // version, flags, label length

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

CipherCtx new_ctx() {
  CipherCtx c(EVP_CIPHER_CTX_new());
  CST_ASSERT_MSG(c != nullptr, "EVP_CIPHER_CTX_new failed (out of memory)");
  return c;
}

int to_int(std::size_t n) { return static_cast<int>(n); }

// AES-256-GCM encryption of `plain` into `out` (appended: ciphertext then tag).
void gcm_seal(const Keyring::Key& key, core::ByteView nonce, core::ByteView aad, core::ByteView plain, core::Bytes& out) {
  auto ctx = new_ctx();
  int len = 0;
  const std::size_t start = out.size();
  out.resize(start + plain.size() + kTagBytes);
  bool ok = EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, to_int(kNonceBytes), nullptr) == 1 &&
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce.data()) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), to_int(aad.size())) == 1;
  int written = 0;
  if (ok && !plain.empty()) {
    ok = EVP_EncryptUpdate(ctx.get(), out.data() + start, &len, plain.data(), to_int(plain.size())) == 1;
    written = len;
  }
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), out.data() + start + written, &len) == 1 &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, to_int(kTagBytes), out.data() + start + plain.size()) == 1;
  CST_ASSERT_MSG(ok, "AES-256-GCM encryption failed");
}

// AES-256-GCM decryption; false when the tag does not verify.
bool gcm_open(const Keyring::Key& key, core::ByteView nonce, core::ByteView aad, core::ByteView sealed, core::Bytes& out) {
  if (sealed.size() < kTagBytes) return false;
  const std::size_t clen = sealed.size() - kTagBytes;
  auto ctx = new_ctx();
  out.assign(clen, 0);
  int len = 0;
  std::array<std::uint8_t, kTagBytes> tag{};
  std::copy_n(sealed.data() + clen, kTagBytes, tag.begin());
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, to_int(kNonceBytes), nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce.data()) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), to_int(aad.size())) != 1) {
    return false;
  }
  int written = 0;
  if (clen > 0) {
    if (EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data(), to_int(clen)) != 1) return false;
    written = len;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, to_int(kTagBytes), tag.data()) != 1) return false;
  std::uint8_t scratch[16];
  return EVP_DecryptFinal_ex(ctx.get(), clen > 0 ? out.data() + written : scratch, &len) == 1;
}

void cleanse(Keyring::Key& k) { OPENSSL_cleanse(k.data(), k.size()); }

}  // namespace

// --- Keyring ---------------------------------------------------------------------------------------

Keyring::~Keyring() {
  for (auto& k : keys_) cleanse(k);
}

Result<Keyring::Key> Keyring::parse(std::string_view base64) {
  auto raw = core::base64_decode(base64);
  if (!raw) return Error(Code::InvalidArgument, "gossip key is not valid base64: " + raw.error().message());
  if (raw->size() != kKeyBytes) {
    const auto n = raw->size();
    OPENSSL_cleanse(raw->data(), raw->size());
    return Error(Code::InvalidArgument,
                 "gossip key is " + std::to_string(n) + " bytes, AES-256 needs 32 (e.g. `openssl rand -base64 32`)");
  }
  Key k{};
  std::copy(raw->begin(), raw->end(), k.begin());
  OPENSSL_cleanse(raw->data(), raw->size());
  return k;
}

std::string Keyring::format(const Key& key) { return core::base64_encode(key); }

std::uint32_t Keyring::key_id(const Key& key) {
  std::uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  auto md = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const bool ok = md && EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(md.get(), kKeyIdContext.data(), kKeyIdContext.size()) == 1 &&
                  EVP_DigestUpdate(md.get(), key.data(), key.size()) == 1 &&
                  EVP_DigestFinal_ex(md.get(), digest, &len) == 1;
  CST_ASSERT_MSG(ok && len >= 4, "SHA-256 failed");
  return (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16) | (std::uint32_t{digest[2]} << 8) |
         std::uint32_t{digest[3]};
}

Result<Keyring> Keyring::from_base64(const std::vector<std::string>& keys) {
  Keyring ring;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto k = parse(keys[i]);
    if (!k) return std::move(k).error().with_context("key " + std::to_string(i + 1));
    ring.install(*k);
  }
  return ring;
}

void Keyring::install(const Key& key) {
  if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) return;
  keys_.push_back(key);
  ids_.push_back(key_id(key));
}

Result<void> Keyring::use(const Key& key) {
  auto it = std::find(keys_.begin(), keys_.end(), key);
  if (it == keys_.end()) return Error(Code::NotFound, "use key: the key is not installed (install it first)");
  const auto i = it - keys_.begin();
  std::rotate(keys_.begin(), it, it + 1);
  std::rotate(ids_.begin(), ids_.begin() + i, ids_.begin() + i + 1);
  return ok();
}

Result<void> Keyring::remove(const Key& key) {
  auto it = std::find(keys_.begin(), keys_.end(), key);
  if (it == keys_.end()) return Error(Code::NotFound, "remove key: the key is not installed");
  if (it == keys_.begin()) return Error(Code::Conflict, "remove key: it is the primary key (use another key first)");
  cleanse(*it);
  ids_.erase(ids_.begin() + (it - keys_.begin()));
  keys_.erase(it);
  return ok();
}

std::vector<std::string> Keyring::list() const {
  std::vector<std::string> out;
  out.reserve(keys_.size());
  for (const auto& k : keys_) out.push_back(format(k));
  return out;
}

// --- Envelope --------------------------------------------------------------------------------------

Result<Envelope> Envelope::make(std::string label, Keyring keyring) {
  if (label.size() > kMaxLabelBytes) {
    return Error(Code::InvalidArgument,
                 "cluster label is " + std::to_string(label.size()) + " bytes, at most 255 are allowed");
  }
  return Envelope(std::move(label), std::move(keyring));
}

std::size_t Envelope::overhead() const {
  return keyring_.empty() ? kFixedHeader + label_.size() + 4 : kFixedHeader + label_.size() + 4 + kNonceBytes + kTagBytes;
}

core::Bytes Envelope::seal(Channel channel, core::ByteView payload, core::ByteView nonce) const {
  const bool encrypt = !keyring_.empty();
  std::uint8_t flags = channel == Channel::Stream ? kFlagStream : 0;
  if (encrypt) flags |= kFlagEncrypted;
  core::Bytes out;
  out.reserve(overhead() + payload.size());
  out.push_back(kEnvelopeVersion);
  out.push_back(flags);
  out.push_back(static_cast<std::uint8_t>(label_.size()));
  out.insert(out.end(), label_.begin(), label_.end());
  if (!encrypt) {
    out.insert(out.end(), payload.begin(), payload.end());
    const std::uint32_t crc = core::crc32c(out);
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(crc >> (8 * i)));
    return out;
  }
  CST_ASSERT_MSG(nonce.size() == kNonceBytes, "a GCM nonce is 12 bytes");
  const auto& key = keyring_.keys().front();
  const std::uint32_t id = keyring_.ids().front();
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(id >> (8 * i)));
  const std::size_t aad_len = out.size();
  out.insert(out.end(), nonce.begin(), nonce.end());
  // The AAD is the clear header (version, flags, label, key id): copy it, `out` grows below.
  const core::Bytes aad(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(aad_len));
  gcm_seal(key, nonce, aad, payload, out);
  return out;
}

Result<Opened> Envelope::open(Channel channel, core::ByteView wire) const {
  core::ByteReader r(wire);
  const auto version = r.u8("envelope version");
  const auto flags = r.u8("envelope flags");
  const auto label_len = r.u8("label length");
  const auto label = core::as_chars(r.bytes("label", label_len));
  CST_TRY(r.status());
  if (version != kEnvelopeVersion) {
    return Error(Code::InvalidArgument, "unsupported gossip envelope version " + std::to_string(version));
  }
  if ((flags & ~(kFlagEncrypted | kFlagStream)) != 0) {
    return Error(Code::InvalidArgument, "unknown envelope flag bits " + std::to_string(flags));
  }
  if (((flags & kFlagStream) != 0) != (channel == Channel::Stream)) {
    return Error(Code::InvalidArgument, channel == Channel::Stream ? "datagram envelope received on a stream"
                                                                   : "stream envelope received as a datagram");
  }
  if (label != label_) {
    return Error(Code::PermissionDenied, "cluster label '" + std::string(label) + "' is not ours ('" + label_ + "')");
  }
  const bool encrypted = (flags & kFlagEncrypted) != 0;
  Opened out;
  out.encrypted = encrypted;
  if (!encrypted) {
    if (!keyring_.empty()) return Error(Code::PermissionDenied, "plaintext envelope refused: this node requires encryption");
    if (r.remaining() < 4) return Error(Code::InvalidArgument, "plaintext envelope shorter than its checksum");
    const std::size_t body_end = wire.size() - 4;
    core::ByteReader c(wire.subspan(body_end));
    if (c.u32be("crc") != core::crc32c(wire.first(body_end))) {
      return Error(Code::InvalidArgument, "plaintext envelope checksum mismatch");
    }
    const auto body = wire.subspan(r.offset(), body_end - r.offset());
    out.payload.assign(body.begin(), body.end());
    return out;
  }
  if (keyring_.empty()) return Error(Code::PermissionDenied, "encrypted envelope but this node has no gossip keys");
  const auto id = r.u32be("key id");
  const auto nonce = r.bytes("nonce", kNonceBytes);
  CST_TRY(r.status());
  const auto aad = wire.first(r.offset() - kNonceBytes);
  const auto sealed = r.rest();
  if (sealed.size() < kTagBytes) return Error(Code::InvalidArgument, "encrypted envelope shorter than its tag");
  // The key whose id matches first, then every other installed key (ids are hints, and a
  // rotation in progress must never drop traffic).
  const auto& keys = keyring_.keys();
  std::vector<std::size_t> order;
  order.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keyring_.ids()[i] == id) order.push_back(i);
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (std::find(order.begin(), order.end(), i) == order.end()) order.push_back(i);
  }
  for (auto i : order) {
    if (gcm_open(keys[i], nonce, aad, sealed, out.payload)) return out;
  }
  return Error(Code::PermissionDenied, "no installed gossip key decrypts the envelope (wrong key or tampered)");
}

}  // namespace constellation::gossip
