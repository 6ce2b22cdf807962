// SPDX-License-Identifier: Apache-2.0
//
// Service definitions: checking a directory of Docker Compose files the way the agent reads
// them (see docs/services.md for the supported keys and the x-constellation extension).
#pragma once

#include <constellation/result.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace constellation {

/// One finding about a compose file.
struct ServiceDiagnostic {
  /// True for an error (the file is rejected), false for a warning.
  bool error = true;
  /// File name relative to the directory (or as passed to validate_compose()).
  std::string file;
  /// 1-based line and column; 0 when the finding concerns the whole file.
  int line = 0;
  int column = 0;
  /// Path of the field, e.g. "services.web.ports[1]"; empty for file-level findings.
  std::string field;
  std::string message;

  /// "<file>:<line>:<column>: error: <field>: <message>".
  CST_API std::string to_string() const;
};

/// What validation found.
struct ServiceValidation {
  /// Every error and warning, sorted by file, line and column.
  std::vector<ServiceDiagnostic> diagnostics;
  /// Names of the services defined without errors, sorted.
  std::vector<std::string> services;
  /// Compose files read.
  int files = 0;
  /// The services as JSON: {"projects":[...],"diagnostics":[...]} with every field of every
  /// service (durations as text, maps sorted). Byte-for-byte deterministic.
  std::string json;

  /// True when no diagnostic is an error.
  bool ok() const {
    for (const auto& d : diagnostics) {
      if (d.error) return false;
    }
    return true;
  }
};

struct ServiceValidationOptions {
  /// Interpolate with the process environment over the directory's .env (as compose does).
  /// Default true; false makes the result depend on the files alone.
  bool use_process_environment = true;
  /// Extra variables, overriding the environment and .env.
  std::map<std::string, std::string> variables;
};

/// Reads and checks every compose file (*.yaml, *.yml) at the top of `directory`, with its .env
/// and env_file references, as one namespace of services (names unique across files,
/// depends_on across files, no cycles). Problems in the files are diagnostics, not errors.
/// Thread-safe. Errors: NotFound (no such directory), InvalidArgument (not a directory, or no
/// compose file in it), Io (cannot be listed).
CST_API Result<ServiceValidation> validate_services(const std::string& directory,
                                                    const ServiceValidationOptions& options = {});

/// Checks one compose file given as text; `file_name` is used in messages and (without its
/// extension) as the default project name. Variables come from `variables` only; env_file
/// references are reported as missing. Never fails: problems are diagnostics.
CST_API ServiceValidation validate_compose(std::string_view contents, std::string_view file_name,
                                           const std::map<std::string, std::string>& variables = {});

}  // namespace constellation
