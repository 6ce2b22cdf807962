// SPDX-License-Identifier: Apache-2.0
#include "spec/types.hpp"

#include <algorithm>

namespace constellation::spec {

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  out += severity == Severity::Error ? ": error: " : ": warning: ";
  if (!field.empty()) out += field + ": ";
  out += message;
  return out;
}

bool has_errors(const std::vector<Diagnostic>& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::Error; });
}

std::string_view runtime_name(Runtime r) { return r == Runtime::Docker ? "docker" : "process"; }

std::string_view check_kind_name(CheckKind k) {
  switch (k) {
    case CheckKind::Http: return "http";
    case CheckKind::Tcp: return "tcp";
    case CheckKind::Exec: return "exec";
    case CheckKind::Container: return "container";
  }
  return "unknown";
}

std::string_view restart_condition_name(RestartCondition c) {
  switch (c) {
    case RestartCondition::No: return "no";
    case RestartCondition::Always: return "always";
    case RestartCondition::OnFailure: return "on-failure";
    case RestartCondition::UnlessStopped: return "unless-stopped";
  }
  return "unknown";
}

std::string_view dependency_condition_name(DependencyCondition c) {
  switch (c) {
    case DependencyCondition::Started: return "service_started";
    case DependencyCondition::Healthy: return "service_healthy";
    case DependencyCondition::CompletedSuccessfully: return "service_completed_successfully";
  }
  return "unknown";
}

}  // namespace constellation::spec
