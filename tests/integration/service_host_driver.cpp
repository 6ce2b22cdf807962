// SPDX-License-Identifier: Apache-2.0
// Runs a ServiceHost (public API only) for the integration tests and prints every event as a
// JSON line on stdout. SIGUSR1 prints the status, SIGHUP reloads the directory, SIGTERM/SIGINT
// stop the host and exit.
//   service_host_driver --services DIR --data DIR --node NAME [--keep-running] [--seed N]
//                       [--docker-socket PATH]
#include <constellation/services.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <pthread.h>
#include <string>
#include <string_view>

namespace {

std::mutex out_mu;

void line(const std::string& s) {
  std::lock_guard lock(out_mu);
  std::fputs(s.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  constellation::ServiceHostOptions o;
  o.log_level = "warn";
  for (int i = 1; i + 1 < argc || (i < argc && std::string_view(argv[i]) == "--keep-running"); ++i) {
    std::string_view a = argv[i];
    if (a == "--services") o.services_dir = argv[++i];
    else if (a == "--data") o.data_dir = argv[++i];
    else if (a == "--node") o.node_name = argv[++i];
    else if (a == "--seed") o.seed = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--docker-socket") o.docker_socket = argv[++i];
    else if (a == "--keep-running") o.stop_on_exit = false;
    else {
      std::fprintf(stderr, "service_host_driver: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGUSR1);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  auto host = constellation::ServiceHost::open(o);
  if (!host) {
    std::fprintf(stderr, "service_host_driver: %s\n", host.error().to_string().c_str());
    return 1;
  }
  (*host)->on_event([](const constellation::ServiceEvent& e) {
    line("{\"event\":" + quote(e.kind) + ",\"instance\":" + quote(e.instance) + ",\"fields\":" + e.fields_json + "}");
  });
  if (auto r = (*host)->start(); !r) {
    std::fprintf(stderr, "service_host_driver: %s\n", r.error().to_string().c_str());
    return 1;
  }
  line("{\"ready\":true,\"node_id\":" + quote((*host)->node_id()) + "}");
  while (true) {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (sig == SIGUSR1) {
      line("{\"status\":" + (*host)->status_json() + "}");
      continue;
    }
    if (sig == SIGHUP) {
      auto r = (*host)->reload();
      line(std::string("{\"reloaded\":") + (r && r->ok() ? "true" : "false") + "}");
      continue;
    }
    break;
  }
  (*host)->stop();
  line("{\"stopped\":true}");
  return 0;
}
