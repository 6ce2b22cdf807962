// SPDX-License-Identifier: Apache-2.0
//
// Reads a directory of compose files: every *.yaml / *.yml at its top level (sorted, hidden
// files skipped), the directory's .env file, env_file references relative to the directory, and
// (optionally) the process environment, which overrides .env as in compose.
#pragma once

#include <constellation/result.hpp>

#include "spec/service_set.hpp"

#include <map>
#include <string>

namespace constellation::services {

struct LoadOptions {
  /// Overlay the process environment on .env for interpolation. Off for hermetic tests.
  bool use_process_environment = true;
  /// Extra variables, overriding both.
  std::map<std::string, std::string> variables;
  /// Parser limits (default_project and env_file_reader are set by the loader).
  spec::ParseOptions parse;
};

/// Loads and checks the directory. Findings about the files are diagnostics in the result;
/// Errors: NotFound (no such directory), Io (it cannot be listed), InvalidArgument (it holds
/// no compose file).
Result<spec::ServiceSet> load_directory(const std::string& dir, const LoadOptions& options = {});

}  // namespace constellation::services
