// SPDX-License-Identifier: Apache-2.0
//
// The default-rule template (Traefik's providers.docker.defaultRule), a subset of Go's
// text/template with the sprig functions such templates use in practice:
//
//   text {{ pipeline }} text        {{- and -}} trim the spaces beside the action
//   pipeline := command ('|' command)*   (the value of each command is the last argument of the next)
//   command  := operand | function operand*
//   operand  := .Name | .ContainerName | .Labels | "string" | `string` | ( pipeline )
//   functions: normalize lower upper trim trimPrefix trimSuffix replace default index
//
// `.Name` is the default service name (the normalised "<service>_<project>"), `.ContainerName`
// the instance id and `.Labels` the instance's labels (use `index .Labels "key"`). `normalize`
// replaces every run of characters other than letters and digits by '-', as Traefik does.
// Anything else (if, range, variables, printf) is refused when the template is compiled.
#pragma once

#include <constellation/result.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace constellation::provider {

/// Traefik's provider.Normalize: runs of non-alphanumeric characters become one '-', and leading
/// and trailing ones are dropped ("web_shop" → "web-shop"). Bytes of multi-byte UTF-8 sequences
/// count as letters.
std::string normalize_name(std::string_view name);

/// What a template can read.
struct TemplateData {
  std::string_view name;
  std::string_view container_name;
  const std::map<std::string, std::string>* labels = nullptr;
};

class RuleTemplate {
 public:
  /// Compiles a template. Errors (InvalidArgument): a syntax error or an unsupported construct,
  /// with its byte offset.
  static Result<RuleTemplate> compile(std::string_view text);

  /// Runs the template. Errors (InvalidArgument): a function given a value of the wrong kind
  /// (e.g. printing .Labels).
  Result<std::string> execute(const TemplateData& data) const;

  struct Node;

 private:
  std::vector<std::shared_ptr<const Node>> pieces_;
};

}  // namespace constellation::provider
