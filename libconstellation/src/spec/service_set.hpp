// SPDX-License-Identifier: Apache-2.0
//
// A directory's worth of compose files checked together (ADR 0030). Service names are one
// namespace across the directory: instances are named after their service, the catalog and the
// Traefik provider key on it. So a name defined in two files is an error, and depends_on may
// name a service of another file. Cycles in depends_on are errors; so are dependencies on
// unknown services (a warning when the dependency is marked required: false).
#pragma once

#include "spec/compose.hpp"
#include "spec/types.hpp"

#include <string>
#include <vector>

namespace constellation::spec {

struct SourceFile {
  /// Name used in messages (relative to the directory, e.g. "shop.yaml").
  std::string name;
  std::string contents;
};

struct ServiceSet {
  /// Only files without errors, sorted by file name.
  std::vector<Project> projects;
  /// Every finding, sorted by file, line, column.
  std::vector<Diagnostic> diagnostics;

  bool ok() const { return !has_errors(diagnostics); }
  /// The service named `name`, or nullptr.
  const ServiceSpec* find(std::string_view name) const;
  /// Every service of every project, sorted by name.
  std::vector<const ServiceSpec*> services() const;
};

/// Parses each file (with `options`, whose default_project is replaced per file by the stem of
/// its name, or `directory_name` for compose.yaml, compose.yml, docker-compose.yaml and
/// docker-compose.yml) and checks the set.
ServiceSet load_service_set(const std::vector<SourceFile>& files, const Variables& vars,
                            const std::string& directory_name, ParseOptions options = {});

/// The cross-file checks alone, on already-parsed results (for tests and tools).
ServiceSet check_service_set(std::vector<ParseResult> parsed);

/// Services in an order that starts every dependency before its dependents (ties by name).
/// Only meaningful for a set without cycles.
std::vector<const ServiceSpec*> start_order(const ServiceSet& set);

}  // namespace constellation::spec
