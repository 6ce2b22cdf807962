// SPDX-License-Identifier: Apache-2.0
//
// Files compiled into the library: the example services the embedded default runs
// (examples/services/local.yaml with its .env and static content), so a fresh node started with
// no configuration has real, healthy services to show.
#pragma once

#include <string>
#include <vector>

namespace constellation::agent {

struct EmbeddedFile {
  /// Path relative to the services directory ("local.yaml", "static/index.html").
  std::string path;
  std::string contents;
};

/// The embedded default's services directory, file by file.
const std::vector<EmbeddedFile>& embedded_services();

}  // namespace constellation::agent
