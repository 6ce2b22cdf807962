// SPDX-License-Identifier: Apache-2.0
#include <constellation/json.hpp>

#include "core/json.hpp"

namespace constellation {

Result<std::string> canonical_json(std::string_view text, const CanonicalJsonOptions& options) {
  core::json::ParseOptions po;
  po.max_depth = options.max_depth;
  CST_TRY_ASSIGN(auto value, core::json::parse(text, po));
  core::json::WriteOptions wo;
  wo.sort_keys = options.sort_keys;
  wo.ascii_only = options.ascii_only;
  wo.indent = options.indent;
  return core::json::serialize(value, wo);
}

}  // namespace constellation
