// SPDX-License-Identifier: Apache-2.0
//
// Golden tests of the Traefik provider: every cases/<name>.json ({"description", "options",
// "state"}) is rendered for Traefik v2 and v3, in JSON and YAML, and compared byte for byte with
// expected/<name>/{v2,v3}.{json,yaml} and the diagnostics with expected/<name>/{v2,v3}.diagnostics.
// Each case is also rendered a second time, and once more with the instances of every node in
// reverse order and the nodes re-inserted in reverse order, and must give the same bytes.
//
//   golden_provider [--rewrite] [<cases dir> <expected dir>]
//
// --rewrite writes the outputs instead of comparing them (review the diff before committing).
#include "core/json.hpp"
#include "provider/render.hpp"
#include "catalog/snapshot_json.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace constellation;
using namespace constellation::provider;
using catalog::snapshot_from_json;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<Options> options_from(const core::json::Value* v) {
  Options o;
  if (!v || v->is_null()) return o;
  for (const auto& [key, value] : v->as_object()) {
    if (key == "exposed_by_default" && value.is_bool()) o.exposed_by_default = value.as_bool();
    else if (key == "default_rule" && value.is_string()) o.default_rule = value.as_string();
    else if (key == "network" && value.is_string()) o.network = value.as_string();
    else if (key == "health" && value.is_string() && value.as_string() == "warning") o.health = HealthPolicy::PassingOrWarning;
    else if (key == "health" && value.is_string() && value.as_string() == "passing") o.health = HealthPolicy::PassingOnly;
    else if (key == "empty_services" && value.is_string() && value.as_string() == "drop") o.empty_services = EmptyServices::Drop;
    else if (key == "empty_services" && value.is_string() && value.as_string() == "keep") o.empty_services = EmptyServices::Keep;
    else if (key == "entry_points" && value.is_array()) {
      for (const auto& e : value.as_array()) o.entry_points.push_back(e.as_string());
    } else {
      return Error(Code::InvalidArgument, "options." + key + ": unknown option or bad value");
    }
  }
  return o;
}

std::string diagnostics_text(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) out += to_string(d) + "\n";
  return out;
}

/// The same cluster, listed differently: instances reversed within each node, nodes re-inserted
/// in reverse order.
catalog::Snapshot reordered(const catalog::Snapshot& s) {
  catalog::Snapshot out;
  out.generation = s.generation;
  out.complete = s.complete;
  std::vector<std::pair<core::NodeId, catalog::NodeView>> nodes(s.nodes.begin(), s.nodes.end());
  std::reverse(nodes.begin(), nodes.end());
  for (auto& [id, view] : nodes) {
    std::reverse(view.entry.instances.begin(), view.entry.instances.end());
    out.nodes.emplace(id, std::move(view));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  bool rewrite = false;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--rewrite") rewrite = true;
    else dirs.push_back(a);
  }
#ifdef CST_SOURCE_DIR
  if (dirs.empty()) {
    dirs = {std::string(CST_SOURCE_DIR) + "/tests/golden/provider/cases",
            std::string(CST_SOURCE_DIR) + "/tests/golden/provider/expected"};
  }
#endif
  if (dirs.size() != 2) {
    std::cerr << "usage: golden_provider [--rewrite] [<cases dir> <expected dir>]\n";
    return 2;
  }
  const fs::path cases = dirs[0], expected = dirs[1];
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(cases)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << "golden_provider: no cases in " << cases << "\n";
    return 1;
  }
  int failures = 0, written = 0, checked = 0;
  for (const auto& file : files) {
    const std::string name = file.stem().string();
    auto doc = core::json::parse(read(file));
    if (!doc || !doc->is_object() || !doc->find("state")) {
      std::cerr << name << ": not a case document" << (doc ? "" : ": " + doc.error().message()) << "\n";
      ++failures;
      continue;
    }
    auto options = options_from(doc->find("options"));
    auto snapshot = snapshot_from_json(core::json::serialize(*doc->find("state")));
    if (!options || !snapshot) {
      std::cerr << name << ": " << (!options ? options.error().message() : snapshot.error().message()) << "\n";
      ++failures;
      continue;
    }
    const catalog::Snapshot other = reordered(*snapshot);
    for (TraefikVersion v : {TraefikVersion::V2, TraefikVersion::V3}) {
      std::vector<Diagnostic> diagnostics;
      for (Format f : {Format::Json, Format::Yaml}) {
        auto first = render(*snapshot, *options, v, f);
        auto second = render(*snapshot, *options, v, f);
        auto third = render(other, *options, v, f);
        if (!first || !second || !third) {
          std::cerr << name << ": render failed: " << (first ? "" : first.error().message()) << "\n";
          ++failures;
          continue;
        }
        std::string variant = std::string(version_name(v)) + "." + std::string(format_name(f));
        if (first->body != second->body || first->body != third->body || first->diagnostics != third->diagnostics) {
          std::cerr << name << " " << variant << ": rendering is not deterministic (twice, or in another order)\n";
          ++failures;
        }
        diagnostics = first->diagnostics;
        fs::path out = expected / name / variant;
        if (rewrite) {
          fs::create_directories(out.parent_path());
          std::ofstream(out, std::ios::binary | std::ios::trunc) << first->body;
          ++written;
        } else if (!fs::exists(out) || read(out) != first->body) {
          std::cerr << name << " " << variant << ": differs from " << out << " (run with --rewrite and review the diff)\n";
          ++failures;
        } else {
          ++checked;
        }
      }
      fs::path out = expected / name / (std::string(version_name(v)) + ".diagnostics");
      std::string text = diagnostics_text(diagnostics);
      if (rewrite) {
        std::ofstream(out, std::ios::binary | std::ios::trunc) << text;
        ++written;
      } else if (!fs::exists(out) || read(out) != text) {
        std::cerr << name << " " << version_name(v) << ": diagnostics differ from " << out << "\n---\n" << text << "---\n";
        ++failures;
      } else {
        ++checked;
      }
    }
  }
  if (rewrite) {
    std::cout << "golden_provider: wrote " << written << " files for " << files.size() << " cases\n";
    return failures ? 1 : 0;
  }
  std::cout << "golden_provider: " << checked << " outputs of " << files.size() << " cases match, " << failures
            << " failure(s)\n";
  return failures ? 1 : 0;
}
