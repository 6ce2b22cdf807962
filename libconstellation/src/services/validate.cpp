// SPDX-License-Identifier: Apache-2.0
// The public validation API (services.hpp) over spec and the directory loader.
#include <constellation/services.hpp>

#include "core/json.hpp"
#include "services/loader.hpp"
#include "spec/dump.hpp"

#include <set>

namespace constellation {

namespace {

ServiceValidation to_public(const spec::ServiceSet& set, int files) {
  ServiceValidation v;
  v.files = files;
  for (const auto& d : set.diagnostics) {
    v.diagnostics.push_back({d.severity == spec::Severity::Error, d.file, d.line, d.column, d.field, d.message});
  }
  for (const auto* s : set.services()) v.services.push_back(s->name);
  core::json::WriteOptions o;
  o.indent = 2;
  core::json::Writer w(o);
  w.begin_object().key("projects").begin_array();
  for (const auto& p : set.projects) spec::write_project(w, p);
  w.end_array().key("diagnostics").begin_array();
  for (const auto& d : set.diagnostics) spec::write_diagnostic(w, d);
  w.end_array().end_object();
  v.json = std::move(w).take() + "\n";
  return v;
}

}  // namespace

std::string ServiceDiagnostic::to_string() const {
  spec::Diagnostic d{error ? spec::Severity::Error : spec::Severity::Warning, file, line, column, field, message};
  return d.to_string();
}

Result<ServiceValidation> validate_services(const std::string& directory, const ServiceValidationOptions& options) {
  services::LoadOptions lo;
  lo.use_process_environment = options.use_process_environment;
  lo.variables = options.variables;
  CST_TRY_ASSIGN(auto set, services::load_directory(directory, lo));
  std::set<std::string> files;
  for (const auto& d : set.diagnostics) files.insert(d.file);
  for (const auto& p : set.projects) files.insert(p.file);
  files.erase(".env");
  return to_public(set, static_cast<int>(files.size()));
}

ServiceValidation validate_compose(std::string_view contents, std::string_view file_name,
                                   const std::map<std::string, std::string>& variables) {
  auto set = spec::load_service_set({{std::string(file_name), std::string(contents)}}, variables, "default");
  return to_public(set, 1);
}

}  // namespace constellation
