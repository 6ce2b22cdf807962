// SPDX-License-Identifier: Apache-2.0
//
// A small deterministic YAML emitter for JSON values: block style, two-space indentation, keys
// sorted bytewise, no anchors, tags or comments, no document markers. Strings are written plain
// only when no YAML 1.1 or 1.2 resolver can read them as anything but that string (letters,
// digits, '_', '-', '.', '/' starting with a letter, and not a boolean or null word such as
// yes/no/on/off/null); everything else is double-quoted, escaping what YAML cannot carry raw
// (control characters, DEL, C1 controls, NEL, U+2028/2029, BOM, U+FFFE/U+FFFF). Invalid UTF-8
// becomes U+FFFD, as in the JSON writer. The same value always gives the same bytes.
#pragma once

#include "core/json.hpp"

#include <string>

namespace constellation::provider {

/// v as a YAML document ending in a newline. An empty object is "{}\n".
std::string to_yaml(const core::json::Value& v);

}  // namespace constellation::provider
