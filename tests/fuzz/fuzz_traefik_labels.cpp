// SPDX-License-Identifier: Apache-2.0
// The Traefik label decoder, rule parser and renderer on arbitrary labels (one "key=value" per
// line): never crashes; every problem is reported with a message and a label or resource; the
// rendering is deterministic and its JSON parses back; the YAML is valid UTF-8.
#include "core/assert.hpp"
#include "core/json.hpp"
#include "provider/build.hpp"
#include "provider/labels.hpp"
#include "provider/render.hpp"
#include "provider/rule.hpp"

#include <cstdint>
#include <string_view>

using namespace constellation;
using namespace constellation::provider;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size > 16384) return 0;
  std::map<std::string, std::string> labels;
  while (!text.empty() && labels.size() < 64) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    labels[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  for (const auto& [k, v] : labels) {
    for (RuleKind kind : {RuleKind::Http, RuleKind::Tcp}) {
      for (RuleSyntax syntax : {RuleSyntax::V2, RuleSyntax::V3}) {
        auto r = check_rule(v, kind, syntax);
        CST_ASSERT(r || !r.error().message().empty());
      }
    }
  }

  catalog::Snapshot snap;
  snap.complete = true;
  catalog::NodeView view;
  view.entry.node.name = "n1";
  view.entry.node.addresses["backend"] = "10.0.0.1";
  catalog::Instance inst;
  inst.id = "app-1";
  inst.service = "app";
  inst.project = "fuzz";
  inst.labels = labels;
  inst.ports = {{80, 8080, "tcp", ""}, {53, 1053, "udp", ""}};
  inst.networks = {"backend"};
  inst.health = catalog::Health::Passing;
  view.entry.instances = {inst, inst};
  view.entry.instances[1].id = "app-2";
  snap.nodes.emplace(view.entry.node.id, view);

  for (TraefikVersion v : {TraefikVersion::V2, TraefikVersion::V3}) {
    DecodedLabels d = decode_labels(labels, v);
    for (const auto& issue : d.issues) {
      CST_ASSERT(!issue.message.empty());
      CST_ASSERT(!issue.label.empty() || !issue.resource.empty());
    }
    auto a = render(snap, Options{}, v, Format::Json);
    auto b = render(snap, Options{}, v, Format::Json);
    CST_ASSERT(a && b);
    CST_ASSERT_MSG(a->body == b->body, "rendering is not deterministic");
    for (const auto& diag : a->diagnostics) CST_ASSERT(!diag.message.empty());
    auto parsed = core::json::parse(a->body);
    CST_ASSERT_MSG(parsed.has_value(), "rendered JSON does not parse");
    auto y = render(snap, Options{}, v, Format::Yaml);
    CST_ASSERT(y);
    CST_ASSERT(core::json::find_invalid_utf8(y->body) == std::string_view::npos);
  }
  return 0;
}
