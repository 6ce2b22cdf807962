// SPDX-License-Identifier: Apache-2.0
#include "api/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace constellation::api {

std::string_view role_name(Role r) {
  switch (r) {
    case Role::Read: return "read";
    case Role::Write: return "write";
    case Role::Admin: return "admin";
  }
  return "read";
}

Result<Role> parse_role(std::string_view name) {
  if (name == "read") return Role::Read;
  if (name == "write") return Role::Write;
  if (name == "admin") return Role::Admin;
  return Error(Code::InvalidArgument, "expected read, write or admin, got '" + std::string(name) + "'");
}

namespace {
std::string sha256_raw(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string from_hex(std::string_view hex) {
  std::string out;
  auto val = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(val(hex[i]) * 16 + val(hex[i + 1])));
  return out;
}
}  // namespace

std::string sha256_hex(std::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string raw = sha256_raw(data), out;
  for (unsigned char c : raw) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

Authenticator::Authenticator(std::vector<ApiToken> tokens) {
  for (auto& t : tokens) {
    std::string digest =
        t.secret.starts_with("sha256:") ? from_hex(std::string_view(t.secret).substr(7)) : sha256_raw(t.secret);
    tokens_.push_back(Entry{std::move(t.name), std::move(digest), t.role});
  }
}

Result<Principal> Authenticator::authenticate(std::string_view header) const {
  if (tokens_.empty()) return Principal{"anonymous", Role::Admin};
  constexpr std::string_view kBearer = "Bearer ";
  if (!header.starts_with(kBearer) || header.size() == kBearer.size()) {
    return Error(Code::PermissionDenied, "missing bearer token (Authorization: Bearer <token>)");
  }
  // Compare digests, so the time taken depends on neither the secret nor the presented token.
  const std::string presented = sha256_raw(header.substr(kBearer.size()));
  const Entry* match = nullptr;
  for (const auto& e : tokens_) {
    if (e.digest.size() == presented.size() &&
        CRYPTO_memcmp(e.digest.data(), presented.data(), presented.size()) == 0) {
      match = &e;
    }
  }
  if (!match) return Error(Code::PermissionDenied, "unknown token");
  return Principal{match->name, match->role};
}

}  // namespace constellation::api
