// SPDX-License-Identifier: Apache-2.0
//
// Who is calling the API and what they may do: bearer tokens with read / write / admin roles,
// compared in constant time, stored in the configuration either as the secret or as its SHA-256.
#pragma once

#include <constellation/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace constellation::api {

/// What a caller may do. Each role includes the ones before it: read < write < admin.
enum class Role { Read = 0, Write = 1, Admin = 2 };
std::string_view role_name(Role r);
/// "read", "write" or "admin". Errors: InvalidArgument.
Result<Role> parse_role(std::string_view name);

struct ApiToken {
  /// Who this is, for the audit log.
  std::string name;
  /// The bearer secret itself, or "sha256:<64 hex>" of it (the configuration then holds no secret).
  std::string secret;
  Role role = Role::Read;
};

struct Principal {
  std::string name;
  Role role = Role::Read;
};

/// Lower-case hex SHA-256 of data.
std::string sha256_hex(std::string_view data);

class Authenticator {
 public:
  /// With no tokens every caller is "anonymous" with the admin role: only allowed by the
  /// configuration's validation when the API listens on loopback.
  explicit Authenticator(std::vector<ApiToken> tokens);

  bool open() const { return tokens_.empty(); }

  /// Checks an Authorization header value ("Bearer <secret>"). Errors: PermissionDenied with
  /// "missing bearer token" or "unknown token" (never saying which part was wrong).
  Result<Principal> authenticate(std::string_view authorization_header) const;

 private:
  struct Entry {
    std::string name;
    std::string digest;  // raw 32-byte SHA-256 of the secret
    Role role;
  };
  std::vector<Entry> tokens_;
};

}  // namespace constellation::api
