// SPDX-License-Identifier: Apache-2.0
//
// Reads one Docker Compose file into a Project. Pure: the caller passes the contents, the file's
// name (for messages), the variables for interpolation and a reader for env_file references.
//
// Every finding names the file, line, column and field. Errors: YAML syntax, wrong types,
// missing required fields (image for the docker runtime, command for the process runtime), bad
// port, volume, duration and size specs, invalid names, duplicate keys, references to
// undeclared networks or volumes, malformed interpolation. Warnings: unknown keys, compose
// features Constellation ignores (build, secrets, configs, ...), unset variables.
#pragma once

#include "spec/scalars.hpp"
#include "spec/types.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace constellation::spec {

/// Reads an env_file named in a compose file (path as written, relative to the compose file).
/// nullopt when it does not exist or cannot be read.
using EnvFileReader = std::function<std::optional<std::string>(std::string_view path)>;

struct ParseOptions {
  /// Project name when the file has no top-level `name:` (the loader passes the directory name
  /// for compose.yaml / docker-compose.yml and the file stem otherwise).
  std::string default_project;
  /// Larger files are rejected. Default 1 MiB.
  std::size_t max_bytes = 1u << 20;
  /// Upper bound on YAML nodes visited (aliases can make a small file large). Default 200,000.
  std::size_t max_nodes = 200000;
  /// Reads env_file references; when empty, any env_file is an error.
  EnvFileReader env_file_reader;
};

struct ParseResult {
  /// Set when the file has no errors.
  std::optional<Project> project;
  std::vector<Diagnostic> diagnostics;
};

/// Parses one compose file. Never throws; every problem is a diagnostic.
ParseResult parse_compose(std::string_view contents, std::string_view file, const Variables& vars,
                          const ParseOptions& options = {});

}  // namespace constellation::spec
