// SPDX-License-Identifier: Apache-2.0
// The compose reader and the small languages inside it (labels, ports, volumes, durations,
// interpolation, .env, command splitting) driven by arbitrary bytes. Invariants: no crash or
// leak, a project exactly when there is no error, every diagnostic names its file, and the JSON
// of a parsed project is deterministic.
#include "core/assert.hpp"
#include "spec/compose.hpp"
#include "spec/dump.hpp"
#include "spec/scalars.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace constellation::spec;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const Variables vars{{"DOMAIN", "example.com"}, {"EMPTY", ""}, {"TAG", "1.0"}};

  ParseOptions o;
  o.default_project = "fuzz";
  o.max_nodes = 20000;
  o.env_file_reader = [](std::string_view path) -> std::optional<std::string> {
    if (path == "app.env") return std::string("A=1\nB='two'\n");
    return std::nullopt;
  };
  auto r = parse_compose(text, "fuzz.yaml", vars, o);
  CST_ASSERT(r.project.has_value() == !has_errors(r.diagnostics));
  for (const auto& d : r.diagnostics) {
    CST_ASSERT(d.file == "fuzz.yaml");
    CST_ASSERT(d.line >= 0 && d.column >= 0);
    CST_ASSERT(!d.to_string().empty());
  }
  if (r.project) {
    auto a = to_json(*r.project);
    auto b = to_json(*r.project);
    CST_ASSERT(a == b);
    for (const auto& s : r.project->services) {
      CST_ASSERT(!s.name.empty());
      CST_ASSERT(s.replicas >= 0);
      for (const auto& p : s.ports) {
        CST_ASSERT(p.target >= 1 && p.target <= p.target_end);
        CST_ASSERT(p.published <= p.published_end);
      }
      CST_ASSERT(spec_hash(s).size() == 16);
    }
  }

  // The string-level parsers on the raw input (labels are "key=value" list items).
  (void)interpolate(text, vars);
  (void)parse_port_short(text);
  (void)parse_volume_short(text);
  (void)parse_duration(text);
  (void)parse_byte_size(text);
  (void)split_command(text);
  std::vector<EnvFileIssue> issues;
  (void)parse_env_file(text, issues);
  if (size < 4096) {
    std::string labels = "services:\n  s:\n    image: x\n    labels:\n      - \"";
    for (char c : text) {
      if (c == '"' || c == '\\' || c == '\n' || c == '\r') c = '_';
      labels += c;
    }
    labels += "\"\n";
    auto lr = parse_compose(labels, "labels.yaml", vars, o);
    CST_ASSERT(lr.project.has_value() == !has_errors(lr.diagnostics));
  }
  return 0;
}
