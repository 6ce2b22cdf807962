// SPDX-License-Identifier: Apache-2.0
//
// The small languages inside compose values: durations ("1m30s"), port specs, volume specs,
// byte sizes ("10MB"), variable interpolation ("${VAR:-default}"), .env files and shell-like
// word splitting of string commands. Each parser returns a value or an error message (without
// location: the caller knows the file, line and field).
#pragma once

#include "core/time.hpp"
#include "spec/types.hpp"

#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace constellation::spec {

/// A value or an error message.
template <class T>
using Parsed = std::variant<T, std::string>;

template <class T>
bool failed(const Parsed<T>& p) {
  return p.index() == 1;
}

/// Go-style duration as compose writes it: a sequence of decimal numbers with units
/// ns, us (µs), ms, s, m, h, e.g. "10s", "1m30s", "1.5h", "500ms". No sign.
Parsed<core::Duration> parse_duration(std::string_view s);

/// Byte size: a number with an optional unit b, k/kb, m/mb, g/gb (binary multiples, case
/// insensitive), e.g. "10MB", "512k", "1048576".
Parsed<std::uint64_t> parse_byte_size(std::string_view s);

/// A port or port range "80", "8000-8010" (1..65535, start <= end).
Parsed<std::pair<std::uint16_t, std::uint16_t>> parse_port_range(std::string_view s);

/// Compose short port syntax: "[host_ip:][published[-end]:]target[-end][/protocol]", IPv6 host
/// addresses in brackets ("[::1]:8080:80"). Ranges on both sides must have the same length,
/// except a published range with a single target port.
Parsed<PortSpec> parse_port_short(std::string_view s);

/// Compose short volume syntax "[source:]target[:mode]". A source starting with ".", "/" or "~"
/// is a bind mount; any other source names a volume; no source is an anonymous volume.
Parsed<VolumeSpec> parse_volume_short(std::string_view s);

/// Splits a command string into words as a POSIX shell would without expansions: blanks
/// separate words, single quotes are literal, double quotes allow \" \\ \$ \`, a backslash
/// escapes the next character outside quotes. Error on an unterminated quote.
Parsed<std::vector<std::string>> split_command(std::string_view s);

/// Variables for interpolation (the process environment overlaid on the project's .env file).
using Variables = std::map<std::string, std::string>;

/// Result of interpolating one value.
struct Interpolated {
  std::string value;
  /// Variables referenced without a default that are not set (compose warns and uses "").
  std::vector<std::string> unset;
};

/// Compose interpolation: $VAR, ${VAR}, ${VAR:-default} (unset or empty), ${VAR-default}
/// (unset), ${VAR:?message} / ${VAR?message} (error), ${VAR:+alt} / ${VAR+alt}, nested
/// references inside defaults, and $$ for a literal $. Error for a malformed reference or a
/// required variable that is missing.
Parsed<Interpolated> interpolate(std::string_view s, const Variables& vars);

/// One problem in a .env file.
struct EnvFileIssue {
  int line = 0;
  std::string message;
};

/// Parses a .env file: KEY=VALUE lines, optional "export " prefix, # comments, blank lines,
/// single-quoted (literal), double-quoted (\n \t \" \\ escapes, may span lines) or bare values
/// (trailing " #comment" removed, surrounding blanks trimmed). Values are not interpolated.
/// Bad lines are reported and skipped.
std::map<std::string, std::string> parse_env_file(std::string_view contents, std::vector<EnvFileIssue>& issues);

/// True for a compose-valid service name: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
bool valid_service_name(std::string_view s);
/// True for a compose-valid project name: [a-z0-9][a-z0-9_-]*.
bool valid_project_name(std::string_view s);
/// Lower-cases and drops characters compose does not allow in project names.
std::string normalize_project_name(std::string_view s);

}  // namespace constellation::spec
