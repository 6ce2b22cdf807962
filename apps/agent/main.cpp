// SPDX-License-Identifier: Apache-2.0
// constellation-agent: runs a Constellation node. With no flags it runs the embedded default —
// one node, data in ./constellation-data, everything on loopback.
#include <constellation/agent.hpp>
#include <constellation/services.hpp>
#include <constellation/version.hpp>

#include "client_cmd.hpp"
#include "traefik_cmd.hpp"

#include <pthread.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // the agent could not start or failed
constexpr int kExitUsage = 2;    // bad command line

void usage(std::FILE* out) {
  std::fputs(
      "usage: constellation-agent run [options]     run a node (the embedded default with no options)\n"
      "       constellation-agent traefik render|serve --state FILE  the Traefik provider offline\n"
      "       constellation-agent validate DIR [--json] [--no-env]\n"
      "                                             check the compose files in DIR\n"
      "       constellation-agent version           print the version\n"
      "       constellation-agent <command> ...     talk to a running agent (below)\n"
      "\n"
      "options for run (they override the configuration file and CONSTELLATION_* variables):\n"
      "  --config FILE           YAML configuration file (docs/configuration.md)\n"
      "  --node-name NAME        node name (default: the host name)\n"
      "  --data-dir DIR          data directory (default: ./constellation-data)\n"
      "  --api-address ADDR      HTTP API listen address (default: 127.0.0.1)\n"
      "  --api-port PORT         HTTP API port, 0 for any free port (default: 7400)\n"
      "  --log-level LEVEL       debug, info, warn or error (default: info)\n"
      "  --services-dir DIR      directory of compose files to run\n"
      "SIGHUP reloads the service definitions; SIGINT and SIGTERM stop the agent gracefully.\n\n",
      out);
  std::fputs(client_usage(), out);
}

int parse_port(std::string_view s, int& out) {
  if (s.empty() || s.size() > 5) return -1;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  out = v;
  return 0;
}

int run(int argc, char** argv) {
  constellation::AgentOptions options;
  for (int i = 0; i < argc; ++i) {
    std::string_view flag = argv[i];
    std::string* target = nullptr;
    if (flag == "--config")
      target = &options.config_file;
    else if (flag == "--node-name")
      target = &options.node_name;
    else if (flag == "--data-dir")
      target = &options.data_dir;
    else if (flag == "--api-address")
      target = &options.api_address;
    else if (flag == "--log-level")
      target = &options.log_level;
    else if (flag == "--services-dir")
      target = &options.services_dir;
    else if (flag == "-h" || flag == "--help") {
      usage(stdout);
      return kExitOk;
    } else if (flag != "--api-port") {
      std::fprintf(stderr, "constellation-agent: unknown option '%s'\n", argv[i]);
      usage(stderr);
      return kExitUsage;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "constellation-agent: %s needs a value\n", argv[i]);
      return kExitUsage;
    }
    const char* v = argv[++i];
    if (target) {
      *target = v;
    } else if (parse_port(v, options.api_port) != 0) {
      std::fprintf(stderr, "constellation-agent: --api-port: '%s' is not a port number\n", v);
      return kExitUsage;
    }
  }

  // Block the stop signals before any thread starts, so only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto agent = constellation::Agent::open(options);
  if (!agent) {
    std::fprintf(stderr, "constellation-agent: %s\n", agent.error().to_string().c_str());
    return kExitFailure;
  }
  auto& a = **agent;
  if (auto r = a.start(); !r) {
    std::fprintf(stderr, "constellation-agent: %s\n", r.error().to_string().c_str());
    return kExitFailure;
  }
  std::error_code ec;
  auto data = std::filesystem::absolute(a.data_dir(), ec).lexically_normal().string();
  const std::string url = a.api_url();
  std::printf(
      "Constellation %s: node %s (%s) is running.\n"
      "  health    %s/v1/health\n"
      "  members   %s/v1/members\n"
      "  services  %s/v1/services\n"
      "  traefik   %s/v1/traefik\n"
      "  metrics   %s/metrics\n"
      "  data      %s\n"
      "Logs are JSON lines on stderr. Try `constellation-agent members --api %s`. Stop with Ctrl-C.\n",
      std::string(constellation::version()).c_str(), a.node_name().c_str(), a.node_id().c_str(), url.c_str(),
      url.c_str(), url.c_str(), url.c_str(), url.c_str(), data.c_str(), url.c_str());
  std::fflush(stdout);

  int sig = 0;
  for (;;) {
    sigwait(&stop_signals, &sig);
    if (sig != SIGHUP) break;
    auto r = a.reload();
    if (!r) {
      std::fprintf(stderr, "constellation-agent: reload failed: %s\n", r.error().to_string().c_str());
    } else {
      for (const auto& d : *r) std::fprintf(stderr, "%s\n", d.c_str());
    }
  }
  std::fprintf(stderr, "constellation-agent: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  a.stop();
  return kExitOk;
}

// `validate DIR`: prints every finding as file:line:column and exits 1 if any is an error.
int validate(int argc, char** argv) {
  const char* dir = nullptr;
  bool json = false;
  constellation::ServiceValidationOptions options;
  for (int i = 0; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--json")
      json = true;
    else if (a == "--no-env")
      options.use_process_environment = false;
    else if (!a.empty() && a[0] != '-' && !dir)
      dir = argv[i];
    else {
      std::fprintf(stderr, "constellation-agent validate: unexpected argument '%s'\n", argv[i]);
      return kExitUsage;
    }
  }
  if (!dir) {
    std::fprintf(stderr, "usage: constellation-agent validate DIR [--json] [--no-env]\n");
    return kExitUsage;
  }
  auto r = constellation::validate_services(dir, options);
  if (!r) {
    std::fprintf(stderr, "constellation-agent: %s\n", r.error().to_string().c_str());
    return kExitFailure;
  }
  if (json) {
    std::fputs(r->json.c_str(), stdout);
  } else {
    int errors = 0, warnings = 0;
    for (const auto& d : r->diagnostics) {
      std::fprintf(stderr, "%s\n", d.to_string().c_str());
      (d.error ? errors : warnings)++;
    }
    std::printf("%s: %d file(s), %zu service(s), %d error(s), %d warning(s)\n", dir, r->files, r->services.size(),
                errors, warnings);
  }
  return r->ok() ? kExitOk : kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
  // A peer that closes a TLS connection mid-write (OpenSSL writes with write(2)) must be an error
  // on that connection, not SIGPIPE ending the agent or the CLI. Children do not inherit this:
  // the process supervisor and exec checks reset every signal to its default.
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    usage(stderr);
    return kExitUsage;
  }
  std::string_view cmd = argv[1];
  if (cmd == "run") return run(argc - 2, argv + 2);
  if (cmd == "traefik") return traefik_command(argc - 2, argv + 2);
  if (cmd == "validate") return validate(argc - 2, argv + 2);
  if (cmd == "version" || cmd == "--version") {
    std::printf("constellation-agent %s\n", std::string(constellation::version()).c_str());
    return kExitOk;
  }
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    usage(stdout);
    return kExitOk;
  }
  if (int rc = client_command(argv[1], argc - 2, argv + 2); rc >= 0) return rc;
  std::fprintf(stderr, "constellation-agent: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return kExitUsage;
}
