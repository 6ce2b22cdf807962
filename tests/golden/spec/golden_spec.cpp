// SPDX-License-Identifier: Apache-2.0
// Golden test of the compose reader: the example directory parses to the checked-in JSON, and
// each broken input gives exactly the checked-in diagnostics. --rewrite regenerates every
// expectation; review the diff.
#include "services/loader.hpp"
#include "spec/dump.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace constellation;

namespace {

bool rewrite = false;
int failures = 0;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void compare(const fs::path& expected_path, const std::string& actual) {
  if (rewrite) {
    std::ofstream(expected_path, std::ios::binary) << actual;
    std::printf("rewrote %s\n", expected_path.string().c_str());
    return;
  }
  if (!fs::exists(expected_path)) {
    std::printf("FAIL %s: missing (run with --rewrite)\n", expected_path.string().c_str());
    ++failures;
    return;
  }
  auto expected = read(expected_path);
  if (expected == actual) {
    std::printf("ok   %s\n", expected_path.filename().string().c_str());
    return;
  }
  ++failures;
  std::printf("FAIL %s differs. Actual output:\n%s\n", expected_path.string().c_str(), actual.c_str());
}

std::string diagnostics_text(const spec::ServiceSet& set) {
  std::string out;
  for (const auto& d : set.diagnostics) out += d.to_string() + "\n";
  return out;
}

services::LoadOptions hermetic() {
  services::LoadOptions o;
  o.use_process_environment = false;  // the files alone decide the output
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--rewrite") rewrite = true;
  }
  const fs::path src = CST_SOURCE_DIR;
  const fs::path golden = src / "tests/golden/spec";

  // 1. The examples.
  auto set = services::load_directory((src / "examples/services").string(), hermetic());
  if (!set) {
    std::printf("FAIL examples: %s\n", set.error().to_string().c_str());
    return 1;
  }
  std::size_t services = 0;
  for (const auto& p : set->projects) {
    compare(golden / "examples" / (p.name + ".json"), spec::to_json(p));
    services += p.services.size();
  }
  compare(golden / "examples" / "diagnostics.txt", diagnostics_text(*set));
  if (!set->ok() || services < 10) {
    std::printf("FAIL examples: %zu services, errors: %s\n", services, set->ok() ? "no" : "yes");
    ++failures;
  }

  // 2. Broken inputs: a file is a one-file directory; a directory is itself.
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(golden / "broken")) {
    auto ext = e.path().extension().string();
    if (e.is_directory() || ext == ".yaml" || ext == ".yml") cases.push_back(e.path());
  }
  std::sort(cases.begin(), cases.end());
  const fs::path scratch = fs::temp_directory_path() / ("cst-golden-spec-" + std::to_string(::getpid()));
  for (const auto& c : cases) {
    std::string dir = c.string();
    if (!fs::is_directory(c)) {
      fs::remove_all(scratch);
      fs::create_directories(scratch);
      fs::copy_file(c, scratch / c.filename());
      dir = scratch.string();
    }
    auto r = services::load_directory(dir, hermetic());
    std::string text = r ? diagnostics_text(*r) : "load failed: " + r.error().to_string() + "\n";
    compare(c.parent_path() / (c.stem().string() + ".expected"), text);
  }
  fs::remove_all(scratch);
  std::printf("%s: %d failure(s), %zu broken cases\n", failures ? "FAILED" : "passed", failures, cases.size());
  return failures ? 1 : 0;
}
