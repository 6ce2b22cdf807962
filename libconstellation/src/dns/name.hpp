// SPDX-License-Identifier: Apache-2.0
//
// DNS names as the dns module compares them: ASCII, lower case, no trailing dot, each non-ASCII
// label in its IDNA A-label form ("xn--" + RFC 3492 Punycode). Every name that enters the diff —
// from a Traefik rule, a label, the config or a provider listing — goes through normalize_name(),
// so the same host never appears under two spellings (the cause of endless update loops).
#pragma once

#include <constellation/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace constellation::dns {

/// RFC 3492 Punycode of a sequence of Unicode code points (no "xn--" prefix).
/// Errors: InvalidArgument on overflow (inputs far beyond a DNS label's length).
Result<std::string> punycode_encode(const std::u32string& code_points);

/// Decodes RFC 3492 Punycode (no "xn--" prefix). Errors: InvalidArgument for a bad digit,
/// a truncated input, overflow, or a code point outside Unicode.
Result<std::u32string> punycode_decode(std::string_view ascii);

/// Decodes UTF-8 into code points. Errors: InvalidArgument with the byte offset of the first
/// invalid sequence.
Result<std::u32string> utf8_decode(std::string_view text);
/// Encodes code points as UTF-8 (the caller passes valid scalar values).
std::string utf8_encode(const std::u32string& code_points);

/// The canonical form of a host name: trimmed, one trailing dot removed, ASCII letters lower-cased,
/// each label holding non-ASCII characters lower-cased (ASCII, Latin-1, Latin Extended-A, Greek,
/// Cyrillic) and encoded as an A-label ("bücher.example" → "xn--bcher-kva.example"). Labels are
/// 1–63 octets of letters, digits, '-' and '_' (service labels), not starting or ending with '-';
/// a leading "*" label is kept (wildcards); the whole name is at most 253 octets.
/// Existing A-labels are checked by decoding them. Errors: InvalidArgument naming the label.
Result<std::string> normalize_name(std::string_view name);

/// Human form of a normalised name: A-labels decoded back to UTF-8 (for plans and logs). Labels
/// that do not decode are returned unchanged.
std::string display_name(std::string_view normalized);

/// True when `name` equals `zone` or lies below it (both normalised): "a.b.example.com" is in
/// "example.com"; "badexample.com" is not.
bool name_in_zone(std::string_view name, std::string_view zone);

/// The labels of a normalised name, left to right.
std::vector<std::string_view> split_labels(std::string_view name);

}  // namespace constellation::dns
