// SPDX-License-Identifier: Apache-2.0
#include "spec/service_set.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace constellation::spec {

namespace {

bool is_default_file(std::string_view name) {
  auto slash = name.rfind('/');
  auto base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  return base == "compose.yaml" || base == "compose.yml" || base == "docker-compose.yaml" ||
         base == "docker-compose.yml";
}

std::string stem(std::string_view name) {
  auto slash = name.rfind('/');
  auto base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  auto dot = base.rfind('.');
  return std::string(dot == std::string_view::npos ? base : base.substr(0, dot));
}

Diagnostic error_at(const ServiceSpec& s, int line, int column, std::string field, std::string message) {
  Diagnostic d;
  d.severity = Severity::Error;
  d.file = s.file;
  d.line = line;
  d.column = column;
  d.field = std::move(field);
  d.message = std::move(message);
  return d;
}

}  // namespace

const ServiceSpec* ServiceSet::find(std::string_view name) const {
  for (const auto& p : projects) {
    for (const auto& s : p.services) {
      if (s.name == name) return &s;
    }
  }
  return nullptr;
}

std::vector<const ServiceSpec*> ServiceSet::services() const {
  std::vector<const ServiceSpec*> out;
  for (const auto& p : projects) {
    for (const auto& s : p.services) out.push_back(&s);
  }
  std::sort(out.begin(), out.end(), [](const ServiceSpec* a, const ServiceSpec* b) { return a->name < b->name; });
  return out;
}

ServiceSet load_service_set(const std::vector<SourceFile>& files, const Variables& vars,
                            const std::string& directory_name, ParseOptions options) {
  std::vector<ParseResult> parsed;
  for (const auto& f : files) {
    options.default_project = is_default_file(f.name) ? directory_name : stem(f.name);
    parsed.push_back(parse_compose(f.contents, f.name, vars, options));
  }
  return check_service_set(std::move(parsed));
}

ServiceSet check_service_set(std::vector<ParseResult> parsed) {
  ServiceSet set;
  for (auto& r : parsed) {
    set.diagnostics.insert(set.diagnostics.end(), r.diagnostics.begin(), r.diagnostics.end());
    if (r.project) set.projects.push_back(std::move(*r.project));
  }
  std::sort(set.projects.begin(), set.projects.end(), [](const Project& a, const Project& b) { return a.file < b.file; });

  // Duplicate service names across files; the first definition (by file order) is kept.
  std::map<std::string, const ServiceSpec*> by_name;
  std::set<const ServiceSpec*> dropped;
  for (const auto& p : set.projects) {
    for (const auto& s : p.services) {
      auto [it, inserted] = by_name.emplace(s.name, &s);
      if (!inserted) {
        set.diagnostics.push_back(error_at(s, s.line, 0, "services." + s.name,
                                           "duplicate service name (also defined in " + it->second->file + ":" +
                                               std::to_string(it->second->line) + ")"));
        dropped.insert(&s);
      }
    }
  }

  // Dependencies on unknown services.
  for (const auto& [name, s] : by_name) {
    for (const auto& d : s->depends_on) {
      if (by_name.count(d.service)) continue;
      auto diag = error_at(*s, d.line, d.column, "services." + name + ".depends_on",
                           "depends on unknown service '" + d.service + "'");
      if (!d.required) {
        diag.severity = Severity::Warning;
        diag.message += " (not required; ignored)";
      }
      set.diagnostics.push_back(std::move(diag));
    }
  }

  // Cycles: depth-first search in name order; each cycle is reported once, at the depends_on
  // entry of its alphabetically first member that closes it.
  enum class Mark { None, Active, Done };
  std::map<std::string, Mark> mark;
  std::vector<std::string> stack;
  std::set<std::set<std::string>> reported;
  std::function<void(const std::string&)> visit = [&](const std::string& name) {
    mark[name] = Mark::Active;
    stack.push_back(name);
    const ServiceSpec* s = by_name.at(name);
    for (const auto& d : s->depends_on) {
      auto it = by_name.find(d.service);
      if (it == by_name.end()) continue;
      auto m = mark[d.service];
      if (m == Mark::Active) {
        auto from = std::find(stack.begin(), stack.end(), d.service);
        std::vector<std::string> cycle(from, stack.end());
        std::set<std::string> members(cycle.begin(), cycle.end());
        if (reported.insert(members).second) {
          std::string path;
          for (const auto& c : cycle) path += c + " -> ";
          path += d.service;
          set.diagnostics.push_back(
              error_at(*s, d.line, d.column, "services." + name + ".depends_on", "dependency cycle: " + path));
        }
      } else if (m == Mark::None) {
        visit(d.service);
      }
    }
    stack.pop_back();
    mark[name] = Mark::Done;
  };
  for (const auto& [name, s] : by_name) {
    if (mark[name] == Mark::None) visit(name);
  }

  // Two services publishing the same host port would collide on a node running both.
  std::map<std::tuple<std::string, std::string, int>, const ServiceSpec*> published;
  for (const auto& [name, s] : by_name) {
    for (const auto& p : s->ports) {
      if (p.published == 0) continue;
      for (int port = p.published; port <= p.published_end; ++port) {
        auto key = std::make_tuple(p.host_ip, p.protocol, port);
        auto [it, inserted] = published.emplace(key, s);
        if (!inserted && it->second != s) {
          auto d = error_at(*s, s->line, 0, "services." + name + ".ports",
                            "host port " + std::to_string(port) + "/" + p.protocol + " is also published by " +
                                it->second->name + " (they cannot share a node)");
          d.severity = Severity::Warning;
          set.diagnostics.push_back(std::move(d));
          break;
        }
      }
    }
  }

  if (!dropped.empty()) {
    for (auto& p : set.projects) {
      std::erase_if(p.services, [&](const ServiceSpec& s) { return dropped.count(&s) > 0; });
    }
  }
  std::stable_sort(set.diagnostics.begin(), set.diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
  });
  return set;
}

std::vector<const ServiceSpec*> start_order(const ServiceSet& set) {
  auto all = set.services();
  std::map<std::string, const ServiceSpec*> by_name;
  for (auto* s : all) by_name[s->name] = s;
  std::vector<const ServiceSpec*> out;
  std::set<std::string> placed, visiting;
  std::function<void(const ServiceSpec*)> place = [&](const ServiceSpec* s) {
    if (placed.count(s->name) || !visiting.insert(s->name).second) return;
    std::vector<std::string> deps;
    for (const auto& d : s->depends_on) deps.push_back(d.service);
    std::sort(deps.begin(), deps.end());
    for (const auto& d : deps) {
      auto it = by_name.find(d);
      if (it != by_name.end()) place(it->second);
    }
    placed.insert(s->name);
    out.push_back(s);
  };
  for (auto* s : all) place(s);
  return out;
}

}  // namespace constellation::spec
