// SPDX-License-Identifier: Apache-2.0
// constellation-dnsbot: keeps public DNS records pointing at the cluster's healthy nodes, as a
// standalone process. It reads the cluster snapshot (a file, or an agent's URL), plans the record
// changes and applies them through the configured providers. docs/dns.md ("dnsbot") is the manual.
#include <constellation/dns.hpp>
#include <constellation/version.hpp>

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr const char* kUsage =
    "usage: constellation-dnsbot <command> [options]\n"
    "\n"
    "commands:\n"
    "  plan       list the zones and print the change plan; write nothing (alias: dry-run)\n"
    "  apply      plan, then write the changes in batches\n"
    "  run        apply every --interval seconds until SIGINT/SIGTERM\n"
    "  version    print the version\n"
    "\n"
    "options:\n"
    "  --config FILE         DNS configuration (JSON; docs/dns.md \"Configuration\")   [required]\n"
    "  --snapshot FILE|URL   cluster snapshot: a JSON file, '-' for stdin, or an http(s) URL of an\n"
    "                        agent (e.g. http://127.0.0.1:7400/v1/dns/snapshot)        [required]\n"
    "  --state FILE          where pending deletions (grace periods) are kept between runs\n"
    "  --fencing-token N     token the writes are made under (default 1)\n"
    "  --json                print the plan as JSON instead of text\n"
    "  --interval SECONDS    run: time between cycles (default 60)\n"
    "  --settle SECONDS      run: hold deletions this long after start (default 60)\n"
    "\n"
    "exit status: 0 done; 1 error; 2 usage; 4 the run stopped early (provider error, lease lost)\n";

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

struct Args {
  std::string command;
  std::string config;
  std::string snapshot;
  std::string state;
  std::uint64_t token = 1;
  bool json = false;
  int interval = 60;
  int settle = 60;
};

bool read_file(const std::string& path, std::string& out, std::string& err) {
  if (path == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    out = ss.str();
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

bool fetch_url(const std::string& url, std::string& out, std::string& err) {
  auto scheme_end = url.find("://");
  auto path_start = url.find('/', scheme_end + 3);
  const std::string base = path_start == std::string::npos ? url : url.substr(0, path_start);
  const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  try {
    httplib::Client cli(base);
    cli.set_connection_timeout(5, 0);
    cli.set_read_timeout(10, 0);
    auto res = cli.Get(path);
    if (!res) {
      err = "GET " + url + ": " + httplib::to_string(res.error());
      return false;
    }
    if (res->status != 200) {
      // 503 means the agent does not have a full view yet: do not plan from it.
      err = "GET " + url + ": HTTP " + std::to_string(res->status);
      return false;
    }
    out = res->body;
    return true;
  } catch (const std::exception& e) {
    err = "GET " + url + ": " + e.what();
    return false;
  }
}

bool load_snapshot(const std::string& where, std::string& out, std::string& err) {
  if (where.rfind("http://", 0) == 0 || where.rfind("https://", 0) == 0) return fetch_url(where, out, err);
  return read_file(where, out, err);
}

bool write_state(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << text << "\n";
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// One list-plan-(apply) cycle. `state` carries the grace clocks of pending deletions from one
// cycle to the next (and to --state when given).
int cycle(constellation::dns::Engine& engine, const Args& a, bool apply, std::chrono::milliseconds settle, std::string& state) {
  std::string snapshot, err;
  if (!load_snapshot(a.snapshot, snapshot, err)) {
    std::fprintf(stderr, "constellation-dnsbot: %s\n", err.c_str());
    return 1;
  }
  constellation::dns::RunOptions o;
  o.apply = apply;
  o.fencing_token = a.token;
  o.settle = settle;
  o.state_json = state;
  auto report = engine.run(snapshot, o);
  if (!report) {
    std::fprintf(stderr, "constellation-dnsbot: %s\n", report.error().to_string().c_str());
    return 1;
  }
  if (a.json) {
    std::printf("%s\n", report->plan_json.c_str());
  } else {
    std::fputs(report->plan_text.c_str(), stdout);
    if (apply) {
      std::printf("applied %zu changes with %llu API requests\n", report->applied,
                  static_cast<unsigned long long>(report->requests));
    } else {
      std::printf("dry run: nothing written (%llu API requests)\n", static_cast<unsigned long long>(report->requests));
    }
  }
  std::fflush(stdout);
  if (apply) state = report->state_json;
  if (apply && !a.state.empty() && !write_state(a.state, report->state_json)) {
    std::fprintf(stderr, "constellation-dnsbot: cannot write state file %s\n", a.state.c_str());
    return 1;
  }
  if (report->aborted) {
    std::fprintf(stderr, "constellation-dnsbot: stopped early: %s\n", report->abort_reason.c_str());
    return 4;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  a.command = args[0];
  if (a.command == "version" || a.command == "--version") {
    std::printf("constellation-dnsbot %s\n", std::string(constellation::version()).c_str());
    return 0;
  }
  if (a.command == "help" || a.command == "--help" || a.command == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& k = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string v;
    bool okv = true;
    if (k == "--config") okv = value(a.config);
    else if (k == "--snapshot") okv = value(a.snapshot);
    else if (k == "--state") okv = value(a.state);
    else if (k == "--json") a.json = true;
    else if (k == "--fencing-token") { okv = value(v); a.token = std::strtoull(v.c_str(), nullptr, 10); okv = okv && a.token > 0; }
    else if (k == "--interval") { okv = value(v); a.interval = std::atoi(v.c_str()); okv = okv && a.interval > 0; }
    else if (k == "--settle") { okv = value(v); a.settle = std::atoi(v.c_str()); okv = okv && a.settle >= 0; }
    else {
      std::fprintf(stderr, "constellation-dnsbot: unknown option %s\n%s", k.c_str(), kUsage);
      return 2;
    }
    if (!okv) {
      std::fprintf(stderr, "constellation-dnsbot: %s needs a valid value\n", k.c_str());
      return 2;
    }
  }
  if (a.command != "plan" && a.command != "dry-run" && a.command != "apply" && a.command != "run") {
    std::fprintf(stderr, "constellation-dnsbot: unknown command %s\n%s", a.command.c_str(), kUsage);
    return 2;
  }
  if (a.config.empty() || a.snapshot.empty()) {
    std::fprintf(stderr, "constellation-dnsbot: --config and --snapshot are required\n%s", kUsage);
    return 2;
  }
  std::string config, err;
  if (!read_file(a.config, config, err)) {
    std::fprintf(stderr, "constellation-dnsbot: %s\n", err.c_str());
    return 1;
  }
  auto engine = constellation::dns::Engine::open(config);
  if (!engine) {
    std::fprintf(stderr, "constellation-dnsbot: %s: %s\n", a.config.c_str(), engine.error().to_string().c_str());
    return 1;
  }
  std::string state;
  if (!a.state.empty()) {
    std::string ignored;
    if (!read_file(a.state, state, ignored)) state.clear();  // first run: no state yet
  }
  if (a.command != "run") return cycle(**engine, a, a.command == "apply", std::chrono::milliseconds(0), state);

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const auto start = std::chrono::steady_clock::now();
  while (!g_stop) {
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    auto settle = std::chrono::milliseconds(a.settle * 1000LL) - elapsed;
    cycle(**engine, a, true, settle.count() > 0 ? settle : std::chrono::milliseconds(0), state);
    for (int i = 0; i < a.interval * 10 && !g_stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return 0;
}
