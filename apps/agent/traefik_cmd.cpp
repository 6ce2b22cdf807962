// SPDX-License-Identifier: Apache-2.0
// `constellation-agent traefik render|serve`: the Traefik provider offline, from a state file
// (docs/traefik.md, "State file").
#include "traefik_cmd.hpp"

#include <constellation/provider.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <pthread.h>
#include <sstream>
#include <string>
#include <string_view>

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitDiagnostics = 3;

void usage(std::FILE* out) {
  std::fputs(
      "usage: constellation-agent traefik render --state FILE [options]\n"
      "       constellation-agent traefik serve  --state FILE [options] [serve options]\n"
      "\n"
      "render prints the Traefik dynamic configuration for the cluster state in FILE ('-' for\n"
      "stdin) and its diagnostics on stderr; serve answers GET /v1/traefik with it (SIGHUP\n"
      "reloads FILE).\n"
      "\n"
      "options:\n"
      "  --version v2|v3               Traefik version (default v3)\n"
      "  --format json|yaml            output syntax (default yaml)\n"
      "  --exposed-by-default BOOL     route instances without traefik.enable (default true)\n"
      "  --default-rule TEMPLATE       rule of routers without one (default Host(`{{ normalize .Name }}`))\n"
      "  --network NAME                cluster network for server addresses\n"
      "  --health passing|warning      lowest health routed to (default passing)\n"
      "  --empty-services keep|drop    services without a routable server (default keep)\n"
      "  --entrypoints A,B             only routers on these entry points\n"
      "render options:\n"
      "  --output FILE                 write the configuration to FILE instead of stdout\n"
      "  --strict                      exit 3 when any diagnostic is an error\n"
      "  --quiet                       do not print diagnostics\n"
      "serve options:\n"
      "  --address ADDR --port PORT    listen address (default 127.0.0.1:7401)\n"
      "  --threads N                   event-loop threads (default 1)\n"
      "  --token TOKEN                 require X-Constellation-Token: TOKEN (or --token-header)\n"
      "  --token-header NAME\n"
      "  --tls-cert FILE --tls-key FILE [--tls-client-ca FILE]   HTTPS, and mTLS with a client CA\n"
      "  --file-output FILE            also write the configuration to FILE (file provider)\n",
      out);
}

std::optional<std::string> read_input(const std::string& path) {
  std::ostringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  ss << in.rdbuf();
  return ss.str();
}

bool parse_bool(std::string_view s, bool& out) {
  if (s == "true" || s == "1" || s == "yes") return out = true, true;
  if (s == "false" || s == "0" || s == "no") return out = false, true;
  return false;
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

struct Args {
  std::string state;
  constellation::TraefikVersion version = constellation::TraefikVersion::V3;
  constellation::TraefikFormat format = constellation::TraefikFormat::Yaml;
  constellation::ProviderOptions options;
  constellation::ProviderServerOptions serve;
  std::string output;
  bool strict = false;
  bool quiet = false;
};

/// Parses the flags; returns an exit code on failure.
std::optional<int> parse(int argc, char** argv, bool serving, Args& a) {
  a.serve.port = 7401;
  for (int i = 0; i < argc; ++i) {
    std::string_view flag = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "constellation-agent traefik: %s needs a value\n", argv[i]);
        return nullptr;
      }
      return argv[++i];
    };
    auto bad = [&](const char* v) {
      std::fprintf(stderr, "constellation-agent traefik: %s: bad value '%s'\n", std::string(flag).c_str(), v);
      return kExitUsage;
    };
    if (flag == "-h" || flag == "--help") {
      usage(stdout);
      return kExitOk;
    }
    if (flag == "--strict" && !serving) { a.strict = true; continue; }
    if (flag == "--quiet" && !serving) { a.quiet = true; continue; }
    const char* v = value();
    if (!v) return kExitUsage;
    std::string_view s = v;
    if (flag == "--state") a.state = v;
    else if (flag == "--version") {
      if (s == "v2" || s == "2") a.version = constellation::TraefikVersion::V2;
      else if (s == "v3" || s == "3") a.version = constellation::TraefikVersion::V3;
      else return bad(v);
    } else if (flag == "--format") {
      if (s == "json") a.format = constellation::TraefikFormat::Json;
      else if (s == "yaml" || s == "yml") a.format = constellation::TraefikFormat::Yaml;
      else return bad(v);
    } else if (flag == "--exposed-by-default") {
      if (!parse_bool(s, a.options.exposed_by_default)) return bad(v);
    } else if (flag == "--default-rule") a.options.default_rule = v;
    else if (flag == "--network") a.options.network = v;
    else if (flag == "--health") {
      if (s == "passing") a.options.health = constellation::HealthPolicy::PassingOnly;
      else if (s == "warning") a.options.health = constellation::HealthPolicy::PassingOrWarning;
      else return bad(v);
    } else if (flag == "--empty-services") {
      if (s == "keep") a.options.empty_services = constellation::EmptyServicePolicy::Keep;
      else if (s == "drop") a.options.empty_services = constellation::EmptyServicePolicy::Drop;
      else return bad(v);
    } else if (flag == "--entrypoints") a.options.entry_points = split_commas(s);
    else if (flag == "--output" && !serving) a.output = v;
    else if (serving && flag == "--address") a.serve.address = v;
    else if (serving && flag == "--port") {
      try {
        a.serve.port = std::stoi(std::string(s));
      } catch (...) {
        return bad(v);
      }
    } else if (serving && flag == "--threads") {
      try {
        a.serve.threads = static_cast<std::size_t>(std::stoul(std::string(s)));
      } catch (...) {
        return bad(v);
      }
    } else if (serving && flag == "--token") a.serve.token = v;
    else if (serving && flag == "--token-header") a.serve.token_header = v;
    else if (serving && flag == "--tls-cert") a.serve.tls_cert_file = v;
    else if (serving && flag == "--tls-key") a.serve.tls_key_file = v;
    else if (serving && flag == "--tls-client-ca") a.serve.tls_client_ca_file = v;
    else if (serving && flag == "--file-output") a.serve.file_output = v;
    else {
      std::fprintf(stderr, "constellation-agent traefik: unknown option '%s'\n", argv[i - 1]);
      usage(stderr);
      return kExitUsage;
    }
  }
  if (a.state.empty()) {
    std::fprintf(stderr, "constellation-agent traefik: --state is required\n");
    return kExitUsage;
  }
  return std::nullopt;
}

int render(int argc, char** argv) {
  Args a;
  if (auto rc = parse(argc, argv, false, a)) return *rc;
  auto state = read_input(a.state);
  if (!state) {
    std::fprintf(stderr, "constellation-agent traefik: cannot read %s\n", a.state.c_str());
    return kExitFailure;
  }
  auto r = constellation::render_traefik(*state, a.version, a.format, a.options);
  if (!r) {
    std::fprintf(stderr, "constellation-agent traefik: %s: %s\n", a.state.c_str(), r.error().to_string().c_str());
    return kExitFailure;
  }
  bool errors = false;
  for (const auto& d : r->diagnostics) {
    errors = errors || d.error;
    if (!a.quiet) std::fprintf(stderr, "%s\n", d.to_string().c_str());
  }
  if (a.output.empty()) {
    std::fwrite(r->body.data(), 1, r->body.size(), stdout);
  } else {
    std::ofstream out(a.output, std::ios::binary | std::ios::trunc);
    out << r->body;
    if (!out) {
      std::fprintf(stderr, "constellation-agent traefik: cannot write %s\n", a.output.c_str());
      return kExitFailure;
    }
  }
  return a.strict && errors ? kExitDiagnostics : kExitOk;
}

int serve(int argc, char** argv) {
  Args a;
  if (auto rc = parse(argc, argv, true, a)) return *rc;
  a.serve.default_version = a.version;
  a.serve.default_format = a.format;
  a.serve.file_version = a.version;
  a.serve.file_format = a.format;

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = constellation::ProviderServer::start(a.options, a.serve);
  if (!server) {
    std::fprintf(stderr, "constellation-agent traefik: %s\n", server.error().to_string().c_str());
    return kExitFailure;
  }
  auto load = [&]() -> bool {
    auto state = read_input(a.state);
    if (!state) {
      std::fprintf(stderr, "constellation-agent traefik: cannot read %s\n", a.state.c_str());
      return false;
    }
    if (auto r = (*server)->update(*state); !r) {
      std::fprintf(stderr, "constellation-agent traefik: %s: %s\n", a.state.c_str(), r.error().to_string().c_str());
      return false;
    }
    (*server)->sync();
    for (const auto& d : (*server)->diagnostics(a.version)) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    return true;
  };
  if (!load()) return kExitFailure;
  std::printf("serving %s/v1/traefik (etag %s); SIGHUP reloads %s\n", (*server)->url().c_str(),
              (*server)->etag(a.version, a.format).c_str(), a.state.c_str());
  std::fflush(stdout);
  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      load();
      continue;
    }
    break;
  }
  (*server)->stop();
  return kExitOk;
}

}  // namespace

int traefik_command(int argc, char** argv) {
  if (argc < 1) {
    usage(stderr);
    return kExitUsage;
  }
  std::string_view cmd = argv[0];
  if (cmd == "render") return render(argc - 1, argv + 1);
  if (cmd == "serve") return serve(argc - 1, argv + 1);
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    usage(stdout);
    return kExitOk;
  }
  std::fprintf(stderr, "constellation-agent traefik: unknown command '%s'\n", argv[0]);
  usage(stderr);
  return kExitUsage;
}
