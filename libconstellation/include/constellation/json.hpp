// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <constellation/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace constellation {

struct CanonicalJsonOptions {
  /// Object members sorted by key (bytewise). Default on.
  bool sort_keys = true;
  /// Escape every non-ASCII character as \uXXXX. Default off (UTF-8 is kept).
  bool ascii_only = false;
  /// 0 for compact output, else spaces per nesting level. Default 0.
  int indent = 0;
  /// Deepest nesting accepted. Default 64.
  std::size_t max_depth = 64;
};

/// Parses JSON text and writes it back in the library's deterministic form: the same value
/// always gives the same bytes. Thread-safe.
/// Errors: InvalidArgument with what is wrong (invalid UTF-8 with its offset, too deep, a
/// duplicate key with its path, a syntax error).
CST_API Result<std::string> canonical_json(std::string_view text, const CanonicalJsonOptions& options = {});

}  // namespace constellation
