// SPDX-License-Identifier: Apache-2.0
//
// Router rules as Traefik parses them (pkg/rules, vulcand/predicate over Go expression syntax):
// matcher calls with string arguments (`backquoted` or "Go-quoted"), combined with &&, || and !,
// grouped with parentheses. check_rule() reports the first problem with its byte offset, so a bad
// label gets an error that points at the character, and checks the matchers and argument counts
// of the target syntax:
//
//   HTTP v3: Header(k,v) HeaderRegexp(k,re) Host(d) HostRegexp(re) Method(m) Path(p) PathPrefix(p)
//            PathRegexp(re) Query(k[,v]) QueryRegexp(k[,re]) ClientIP(ip)      — one value each
//   HTTP v2: Headers(k,v...) HeadersRegexp(k,re...) Host(d...) HostHeader(d...) HostRegexp(t...)
//            Method(m...) Path(p...) PathPrefix(p...) Query(k=v...) ClientIP(ip...)
//   TCP  v3: HostSNI(d) HostSNIRegexp(re) ClientIP(ip) ALPN(p)
//   TCP  v2: HostSNI(d...) HostSNIRegexp(t...) ClientIP(ip...) ALPN(p...)
//
// Matcher names are accepted as written in the table, in lower case, in upper case, or with only
// the first letter upper case (Traefik registers those four spellings). Regular expressions are
// not compiled here (they are Go RE2 syntax); everything else Traefik checks when it builds the
// router is checked.
#pragma once

#include <constellation/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace constellation::provider {

enum class RuleSyntax : std::uint8_t { V2, V3 };
enum class RuleKind : std::uint8_t { Http, Tcp };

/// Checks `rule` for a router of `kind` under `syntax`. Errors (InvalidArgument): a syntax error
/// or an unknown matcher (with the byte offset), a wrong argument count, an empty argument, an
/// argument Traefik refuses (a Path not starting with '/', a non-ASCII Host, a bad ClientIP
/// range, an invalid HostSNI). When a v3 rule fails only because it uses v2 syntax, the message
/// says so (and suggests ruleSyntax=v2), and the other way round.
Result<void> check_rule(std::string_view rule, RuleKind kind, RuleSyntax syntax);

/// Decodes one Go string literal starting at text[pos] (a `raw` or "interpreted" string), moving
/// pos past it. Errors: InvalidArgument (unterminated, bad escape) with the offset.
Result<std::string> parse_go_string(std::string_view text, std::size_t& pos);

/// True for an IPv4 or IPv6 address, optionally with a /prefix (as Traefik's ClientIP and
/// ipAllowList accept).
bool is_ip_or_cidr(std::string_view s);

}  // namespace constellation::provider
