// SPDX-License-Identifier: Apache-2.0
//
// Host names in Traefik router rules. Both rule syntaxes are understood:
//   v2: Host(`a.example.com`, `b.example.com`) && PathPrefix(`/api`)   (several values per matcher)
//   v3: Host(`a.example.com`) || Host(`b.example.com`)                  (one value per matcher)
// with &&, ||, !, parentheses, and string literals in backticks, double quotes (with escapes for
// quote and backslash) or single quotes. Host, HostHeader (v2) and HostSNI (TCP routers) name hosts;
// HostRegexp / HostSNIRegexp are patterns, not names, and are ignored; so are hosts under a
// negation ("!Host(`x`)" means "any host but x") and HostSNI(`*`). Matcher names are compared
// case-insensitively, as Traefik v2 does.
#pragma once

#include <constellation/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace constellation::dns {

/// The host names a rule matches, in order of appearance, duplicates removed (not normalised).
/// Errors: InvalidArgument naming the offset of the first syntax error (unbalanced parenthesis,
/// unterminated string, a matcher without arguments, trailing input).
Result<std::vector<std::string>> hosts_from_rule(std::string_view rule);

}  // namespace constellation::dns
