// SPDX-License-Identifier: Apache-2.0
#include "services/loader.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

extern char** environ;

namespace constellation::services {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_text(const fs::path& p, std::size_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  auto size = fs::file_size(p, ec);
  if (ec || size > max_bytes) return std::nullopt;
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Result<spec::ServiceSet> load_directory(const std::string& dir, const LoadOptions& options) {
  std::error_code ec;
  fs::path root(dir);
  if (!fs::exists(root, ec)) return Error(Code::NotFound, dir + ": no such directory");
  if (!fs::is_directory(root, ec)) return Error(Code::InvalidArgument, dir + ": not a directory");

  std::vector<fs::path> paths;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const auto& p = it->path();
    auto name = p.filename().string();
    auto ext = p.extension().string();
    if (name.empty() || name[0] == '.' || (ext != ".yaml" && ext != ".yml")) continue;
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;
    paths.push_back(p);
  }
  if (ec) return Error(Code::Io, dir + ": cannot list: " + ec.message());
  if (paths.empty()) return Error(Code::InvalidArgument, dir + ": no compose files (*.yaml, *.yml)");
  std::sort(paths.begin(), paths.end());

  spec::ServiceSet extra;
  spec::Variables vars;
  if (auto dotenv = read_text(root / ".env", options.parse.max_bytes)) {
    std::vector<spec::EnvFileIssue> issues;
    vars = spec::parse_env_file(*dotenv, issues);
    for (const auto& i : issues) {
      extra.diagnostics.push_back({spec::Severity::Error, ".env", i.line, 0, "", i.message});
    }
  }
  if (options.use_process_environment) {
    for (char** e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      auto eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      vars[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
  }
  for (const auto& [k, v] : options.variables) vars[k] = v;

  std::vector<spec::SourceFile> files;
  for (const auto& p : paths) {
    auto text = read_text(p, options.parse.max_bytes);
    auto name = p.filename().string();
    if (!text) {
      extra.diagnostics.push_back({spec::Severity::Error, name, 0, 0, "",
                                   "cannot be read (or is larger than " + std::to_string(options.parse.max_bytes) +
                                       " bytes)"});
      continue;
    }
    files.push_back({name, std::move(*text)});
  }

  spec::ParseOptions po = options.parse;
  po.env_file_reader = [root, max = po.max_bytes](std::string_view path) -> std::optional<std::string> {
    fs::path p(path);
    return read_text(p.is_absolute() ? p : root / p, max);
  };
  auto name = fs::absolute(root, ec).lexically_normal().filename().string();
  if (name.empty()) name = fs::absolute(root, ec).lexically_normal().parent_path().filename().string();
  auto set = spec::load_service_set(files, vars, name, po);
  set.diagnostics.insert(set.diagnostics.begin(), extra.diagnostics.begin(), extra.diagnostics.end());
  return set;
}

}  // namespace constellation::services
