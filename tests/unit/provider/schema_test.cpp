// SPDX-License-Identifier: Apache-2.0
#include "provider/schema.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

using namespace constellation::provider;

namespace {

void collect(const TypeDesc& t, const std::string& prefix, std::set<std::string>& rows,
             std::set<const TypeDesc*>& seen) {
  rows.insert(prefix);
  for (const auto& f : t.fields) {
    CHECK_MESSAGE(find_field(t, f.name) == &f, "duplicate field name " << f.name << " in " << t.name);
    if (f.kind == FieldKind::Struct || f.kind == FieldKind::StructList || f.kind == FieldKind::ServerSlot) {
      REQUIRE(f.type != nullptr);
      if (!f.type->fields.empty()) {
        collect(*f.type, prefix + "." + std::string(f.name) + (f.kind == FieldKind::StructList ? "[i]" : ""), rows,
                seen);
      }
    }
  }
}

}  // namespace

TEST_CASE("field tables are consistent and the label support matrix in docs/traefik.md covers them") {
  std::ifstream in(std::string(CST_SOURCE_DIR) + "/docs/traefik.md");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const auto& s : all_sections()) {
    std::set<std::string> rows;
    std::set<const TypeDesc*> seen;
    std::string root = std::string(s.protocol) + "." + std::string(s.key) +
                       (s.section == Section::TlsStores ? ".default" : ".<name>");
    collect(*s.type, root, rows, seen);
    for (const auto& row : rows) {
      CHECK_MESSAGE(doc.find("| `" + row + "` |") != std::string::npos, "docs/traefik.md lacks the row " << row);
    }
    for (const auto& f : s.type->fields) {
      CHECK_MESSAGE(doc.find("`" + std::string(f.name) + "`") != std::string::npos, f.name);
    }
  }
}

TEST_CASE("lookups are case-insensitive and suggestions are close") {
  const SectionDesc* routers = find_section("HTTP", "Routers");
  REQUIRE(routers);
  CHECK(routers->section == Section::HttpRouters);
  CHECK(find_section("tcp", "serverstransports")->availability == Availability::V3Only);
  CHECK(find_section("udp", "middlewares") == nullptr);
  CHECK(find_field(*routers->type, "ENTRYPOINTS")->name == "entryPoints");
  CHECK(suggest_field(*routers->type, "entrypoint") == "entryPoints");
  CHECK(suggest_field(*routers->type, "zzzzzz").empty());
  CHECK(section_path(Section::TcpServersTransports) == "tcp.serversTransports");
  CHECK(available_in(Availability::Both, TraefikVersion::V2));
  CHECK_FALSE(available_in(Availability::V3Only, TraefikVersion::V2));
  CHECK_FALSE(available_in(Availability::V2Only, TraefikVersion::V3));
}
