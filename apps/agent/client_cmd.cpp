// SPDX-License-Identifier: Apache-2.0
// The CLI side of the REST API (docs/cli.md). Every command prints a table for people, or the
// agent's JSON with --json. Exit codes scripts can rely on:
//   0 success, 1 other failure, 2 bad command line, 3 not found, 4 conflict (compare-and-set,
//   lease held), 5 unavailable (agent unreachable, no quorum, timeout), 6 permission denied.
#include "client_cmd.hpp"

#include <constellation/client.hpp>
#include <constellation/raft.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

using constellation::Code;

constexpr int kOk = 0, kFailure = 1, kUsage = 2, kNotFound = 3, kConflict = 4, kUnavailable = 5, kDenied = 6;

int exit_code(Code c) {
  switch (c) {
    case Code::NotFound: return kNotFound;
    case Code::Conflict: return kConflict;
    case Code::Unavailable:
    case Code::Timeout:
    case Code::NotLeader: return kUnavailable;
    case Code::PermissionDenied: return kDenied;
    case Code::InvalidArgument: return kFailure;
    default: return kFailure;
  }
}

int fail(const constellation::Error& e) {
  std::fprintf(stderr, "constellation-agent: %s\n", e.to_string().c_str());
  return exit_code(e.code());
}

int usage_error(const std::string& what) {
  std::fprintf(stderr, "constellation-agent: %s\n%s", what.c_str(), client_usage());
  return kUsage;
}

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;  // --name value
  bool json = false;
};

// Flags that take no value.
bool is_switch(std::string_view f) { return f == "--json"; }

bool parse(int argc, char** argv, Args& out, std::string& error) {
  for (int i = 0; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.starts_with("--")) {
      if (is_switch(a)) {
        out.json = true;
        continue;
      }
      auto eq = a.find('=');
      if (eq != std::string_view::npos) {
        out.flags[std::string(a.substr(0, eq))] = std::string(a.substr(eq + 1));
      } else if (i + 1 < argc) {
        out.flags[std::string(a)] = argv[++i];
      } else {
        error = std::string(a) + " needs a value";
        return false;
      }
    } else {
      out.positional.emplace_back(a);
    }
  }
  return true;
}

std::string flag(const Args& a, const std::string& name, const char* env, std::string fallback) {
  if (auto it = a.flags.find(name); it != a.flags.end()) return it->second;
  if (env) {
    if (const char* v = std::getenv(env); v && *v) return v;
  }
  return fallback;
}

int print(const Args& a, const std::string& json, const std::vector<constellation::TableColumn>& columns) {
  if (a.json || columns.empty()) {
    std::fputs(json.c_str(), stdout);
    if (!json.empty() && json.back() != '\n') std::fputc('\n', stdout);
    return kOk;
  }
  auto table = constellation::format_table(json, columns);
  if (!table) return fail(table.error());
  std::fputs(table->c_str(), stdout);
  return kOk;
}

std::string key_path(const std::string& key) {
  // "/" + the key, keeping '/' as the separator it is and encoding everything else that needs it.
  std::string out;
  std::size_t start = 0;
  for (;;) {
    auto slash = key.find('/', start);
    out += "/" +
           constellation::url_encode(key.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

int needs(const Args& a, std::size_t n, const char* form) {
  if (a.positional.size() != n) return usage_error(std::string("usage: constellation-agent ") + form);
  return kOk;
}

}  // namespace

const char* client_usage() {
  return "commands that talk to a running agent (--api URL, --token T, --ca FILE, --cert FILE --key FILE,\n"
         "--json; or CONSTELLATION_API, CONSTELLATION_TOKEN, CONSTELLATION_CA, CONSTELLATION_CLIENT_CERT/KEY):\n"
         "  status                                 this node at a glance\n"
         "  members                                the nodes of the cluster\n"
         "  services [NAME]                        services and their instances\n"
         "  health                                 this node's instances and checks\n"
         "  leases                                 leases, holders and fencing tokens\n"
         "  audit [--limit N]                      recent API writes: who, what, when (admin token)\n"
         "  kv get KEY | kv put KEY VALUE [--cas REV] | kv del KEY [--cas REV] | kv list [PREFIX]\n"
         "  keyring list | keyring install KEY | keyring use KEY | keyring remove KEY\n"
         "  render traefik [--version v2|v3] [--format yaml|json]\n"
         "  raft peers | raft transfer-leader [NODE]\n"
         "  raft recover --data-dir DIR --voters NAME,NAME,...   (offline, the agent stopped)\n";
}

int client_command(const char* command, int argc, char** argv) {
  static const std::map<std::string_view, int> kKnown = {{"status", 0}, {"members", 0}, {"services", 0}, {"health", 0},
                                                         {"leases", 0}, {"kv", 0},      {"keyring", 0},  {"render", 0},
                                                         {"raft", 0},   {"audit", 0}};
  std::string_view cmd = command;
  if (!kKnown.count(cmd)) return -1;
  Args a;
  std::string error;
  if (!parse(argc, argv, a, error)) return usage_error(error);

  // Offline: recovery works on the data directory of a stopped agent.
  if (cmd == "raft" && !a.positional.empty() && a.positional[0] == "recover") {
    std::string dir = flag(a, "--data-dir", nullptr, "");
    std::string voters = flag(a, "--voters", nullptr, "");
    if (dir.empty() || voters.empty())
      return usage_error("usage: constellation-agent raft recover --data-dir DIR --voters NAME,...");
    std::vector<std::uint64_t> ids;
    std::size_t start = 0;
    while (start <= voters.size()) {
      auto comma = voters.find(',', start);
      if (comma == std::string::npos) comma = voters.size();
      std::string name = voters.substr(start, comma - start);
      if (!name.empty()) {
        // The agent derives a node's Raft id from its name (FNV-1a 64, never 0).
        std::uint64_t h = 1469598103934665603ull;
        for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
        ids.push_back(h == 0 ? 1 : h);
      }
      start = comma + 1;
    }
    if (auto r = constellation::RaftNode::recover(dir + "/raft", ids); !r) return fail(r.error());
    std::printf("recovered %s: the configuration is now %s; start those agents again\n", dir.c_str(), voters.c_str());
    return kOk;
  }

  constellation::ClientOptions co;
  co.url = flag(a, "--api", "CONSTELLATION_API", co.url);
  co.token = flag(a, "--token", "CONSTELLATION_TOKEN", "");
  co.ca_file = flag(a, "--ca", "CONSTELLATION_CA", "");
  co.cert_file = flag(a, "--cert", "CONSTELLATION_CLIENT_CERT", "");  // mTLS
  co.key_file = flag(a, "--key", "CONSTELLATION_CLIENT_KEY", "");
  if (co.cert_file.empty() != co.key_file.empty()) return usage_error("--cert and --key go together");
  auto client = constellation::Client::open(co);
  if (!client) return fail(client.error());
  auto& c = **client;
  auto get = [&](const std::string& path, const std::vector<constellation::TableColumn>& cols) {
    auto body = c.get(path);
    if (!body) return fail(body.error());
    return print(a, *body, cols);
  };
  const auto& p = a.positional;

  if (cmd == "status") return get("/v1/status", {});
  if (cmd == "members") {
    return get("/v1/members", {{"NAME", "name"},
                               {"STATUS", "status"},
                               {"ADDRESSES", "addresses"},
                               {"ROLES", "roles"},
                               {"INSTANCES", "instances"},
                               {"VERSION", "version"},
                               {"ID", "id"}});
  }
  if (cmd == "services") {
    if (p.size() > 1) return usage_error("usage: constellation-agent services [NAME]");
    if (p.size() == 1) {
      auto body = c.get("/v1/services/" + constellation::url_encode(p[0]));
      if (!body) return fail(body.error());
      if (a.json) return print(a, *body, {});
      // Show the instances of the one service.
      std::string inst = *body;
      auto pos = inst.find("\"instances\":");
      if (pos != std::string::npos) inst = inst.substr(pos + 12, inst.rfind(']') - pos - 11);
      return print(a, inst,
                   {{"INSTANCE", "id"},
                    {"NODE", "node"},
                    {"HEALTH", "health"},
                    {"RUNTIME", "runtime"},
                    {"NETWORKS", "networks"},
                    {"NODE STATUS", "node_status"}});
    }
    return get("/v1/services", {{"SERVICE", "name"}, {"PASSING", "passing"}, {"INSTANCES", "instances.id"}});
  }
  if (cmd == "health") {
    auto body = c.get("/v1/checks");
    if (!body) return fail(body.error());
    if (a.json) return print(a, *body, {});
    std::string inst = *body;
    auto pos = inst.find("\"instances\":");
    if (pos != std::string::npos) inst = inst.substr(pos + 12, inst.rfind(']') - pos - 11);
    return print(a, inst,
                 {{"INSTANCE", "id"},
                  {"SERVICE", "service"},
                  {"STATE", "state"},
                  {"HEALTH", "health"},
                  {"RESTARTS", "restarts"},
                  {"CHECKS", "checks.status"}});
  }
  if (cmd == "leases") {
    return get("/v1/leases", {{"LEASE", "name"}, {"HOLDER", "holder"}, {"TOKEN", "token"}, {"HELD", "held"}});
  }
  if (cmd == "audit") {
    if (!p.empty()) return usage_error("usage: constellation-agent audit [--limit N] [--json]");
    std::string limit = flag(a, "--limit", nullptr, "100");
    if (limit.empty() || limit.size() > 5 || limit.find_first_not_of("0123456789") != std::string::npos ||
        std::atoi(limit.c_str()) < 1 || std::atoi(limit.c_str()) > 10000) {
      return usage_error("--limit: expected an integer from 1 to 10000, got '" + limit + "'");
    }
    return get("/v1/audit?limit=" + limit, {{"TIME", "time"},
                                            {"PRINCIPAL", "principal"},
                                            {"ROLE", "role"},
                                            {"METHOD", "method"},
                                            {"PATH", "path"},
                                            {"STATUS", "status"},
                                            {"REMOTE", "remote_address"}});
  }
  if (cmd == "kv") {
    if (p.empty()) return usage_error("usage: constellation-agent kv get|put|del|list ...");
    const std::string& verb = p[0];
    std::string cas = flag(a, "--cas", nullptr, "");
    std::string q = cas.empty() ? "" : "?cas=" + cas;
    if (verb == "get") {
      if (int r = needs(a, 2, "kv get KEY")) return r;
      auto body = c.get("/v1/kv" + key_path(p[1]));
      if (!body) return fail(body.error());
      if (a.json) return print(a, *body, {});
      // A table for people; a binary value (value_base64) prints as the JSON record. Scripts use
      // --json (`constellation-agent kv get k --json | jq -r .value`).
      auto pos = body->find("\"value\":\"");
      if (pos == std::string::npos) return print(a, *body, {});
      return print(a, *body, {{"KEY", "key"}, {"VALUE", "value"}, {"REVISION", "mod_revision"}});
    }
    if (verb == "put") {
      if (int r = needs(a, 3, "kv put KEY VALUE [--cas REV]")) return r;
      auto ans = c.request("PUT", "/v1/kv" + key_path(p[1]) + q, p[2]);
      if (!ans) return fail(ans.error());
      return print(a, ans->body, {{"KEY", "key"}, {"REVISION", "revision"}});
    }
    if (verb == "del" || verb == "delete") {
      if (int r = needs(a, 2, "kv del KEY [--cas REV]")) return r;
      auto ans = c.request("DELETE", "/v1/kv" + key_path(p[1]) + q);
      if (!ans) return fail(ans.error());
      return print(a, ans->body, {{"KEY", "key"}, {"REVISION", "revision"}});
    }
    if (verb == "list") {
      if (p.size() > 2) return usage_error("usage: constellation-agent kv list [PREFIX]");
      std::string prefix = p.size() == 2 ? p[1] : "";
      return get("/v1/kv?prefix=" + constellation::url_encode(prefix),
                 {{"KEY", "key"}, {"VALUE", "value"}, {"REVISION", "mod_revision"}});
    }
    return usage_error("unknown kv command '" + verb + "'");
  }
  if (cmd == "keyring") {
    if (p.empty() || p[0] == "list") {
      return get("/v1/keyring", {{"KEY", "id"}, {"PRIMARY", "primary"}, {"NODES", "nodes"}});
    }
    if (p.size() != 2 || (p[0] != "install" && p[0] != "use" && p[0] != "remove")) {
      return usage_error("usage: constellation-agent keyring list|install KEY|use KEY|remove KEY");
    }
    auto ans = c.request("POST", "/v1/keyring/" + p[0], "{\"key\":\"" + p[1] + "\"}");
    if (!ans) return fail(ans.error());
    return print(a, ans->body, {});
  }
  if (cmd == "render") {
    if (p.size() != 1 || p[0] != "traefik")
      return usage_error("usage: constellation-agent render traefik [--version v2|v3] [--format yaml|json]");
    std::string path = "/v1/traefik?version=" + flag(a, "--version", nullptr, "v3") +
                       "&format=" + flag(a, "--format", nullptr, "yaml");
    auto body = c.get(path);
    if (!body) return fail(body.error());
    std::fputs(body->c_str(), stdout);
    return kOk;
  }
  if (cmd == "raft") {
    if (p.empty() || p[0] == "peers") {
      return get("/v1/raft", {{"NODE", "node"},
                              {"ROLE", "role"},
                              {"TERM", "term"},
                              {"LEADER", "leader"},
                              {"COMMIT", "commit_index"},
                              {"VOTERS", "voters"},
                              {"LEARNERS", "learners"}});
    }
    if (p[0] == "transfer-leader") {
      std::string to = p.size() > 1 ? p[1] : "";
      auto ans = c.request("POST", "/v1/raft/transfer-leader", "{\"to\":\"" + to + "\"}");
      if (!ans) return fail(ans.error());
      return print(a, ans->body, {});
    }
    return usage_error("unknown raft command '" + p[0] + "'");
  }
  return -1;
}
