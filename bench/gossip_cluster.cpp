// SPDX-License-Identifier: Apache-2.0
// N Constellation gossip nodes with real sockets in one process (127.0.0.1, one UDP+TCP port
// each), measured the way the memberlist anchor's mlbench measures memberlist
// (../shared/anchors/memberlist/mlbench): storm join of node-1..N-1 to node-0, convergence (every
// node sees all N alive), steady-state CPU/RSS/traffic per node, false "dead" declarations of
// healthy nodes (optionally under outgoing UDP loss), then detection of an abrupt stop of the last
// node (no leave). Prints one JSON object with mlbench's field names (bench/compare/gossip).
//
//   gossip_cluster -n 64 -profile lan|fast [-loss 0.1] [-steady 30] [-settle 5]
//                  [-conv-timeout 90] [-fail-timeout 90]
#include <constellation/gossip.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace constellation;
using Clock = std::chrono::steady_clock;

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string s;
  std::getline(f, s);
  return s;
}

double ms_since(Clock::time_point t0, Clock::time_point t) { return std::chrono::duration<double, std::milli>(t - t0).count(); }

// Sum of a metric's samples in a Prometheus text.
double metric(const std::string& text, const std::string& name) {
  double sum = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : ' ';
    if (next != '{' && next != ' ') continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

struct Totals {
  double packets = 0, bytes = 0, suspicions = 0;
};

struct Shared {
  std::mutex mu;
  int n = 0;
  std::vector<int> alive;                   // per observer: members it holds alive (self included)
  std::vector<double> converged_ms;         // per observer: first time alive == n (-1: never)
  std::map<std::string, int> held_dead;     // target -> observers holding it dead
  bool window = false;                      // counting false deaths
  std::string victim;
  long episodes = 0, observer_events = 0;
  std::set<std::string> false_targets;
  std::vector<double> victim_dead_ms;       // detection times (ms after the stop)
  Clock::time_point t0, tf;
  int converged_count = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int n = 16;
  std::string profile = "lan";
  double loss = 0, steady = 30, settle = 5, conv_timeout = 90, fail_timeout = 90;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "-n") n = std::stoi(v);
    else if (a == "-profile") profile = v;
    else if (a == "-loss") loss = std::stod(v);
    else if (a == "-steady") steady = std::stod(v);
    else if (a == "-settle") settle = std::stod(v);
    else if (a == "-conv-timeout") conv_timeout = std::stod(v);
    else if (a == "-fail-timeout") fail_timeout = std::stod(v);
    else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  const std::string load_start = loadavg();
  const long rss_base = rss_kb();
  Shared sh;
  sh.n = n;
  sh.alive.assign(static_cast<std::size_t>(n), 1);
  sh.converged_ms.assign(static_cast<std::size_t>(n), -1);
  sh.victim = "node-" + std::to_string(n - 1);

  std::vector<std::unique_ptr<Gossip>> nodes;
  auto subscribe = [&](Gossip& g, int idx) {
    g.subscribe([&sh, idx](const GossipEvent& e) {
      const auto now = Clock::now();
      std::lock_guard lock(sh.mu);
      auto& alive = sh.alive[static_cast<std::size_t>(idx)];
      const auto& target = e.member.name;
      if (e.kind == "join" || e.kind == "recover") {
        ++alive;
        if (e.kind == "recover") sh.held_dead[target] = std::max(0, sh.held_dead[target] - 1);
        if (alive == sh.n && sh.converged_ms[static_cast<std::size_t>(idx)] < 0) {
          sh.converged_ms[static_cast<std::size_t>(idx)] = ms_since(sh.t0, now);
          ++sh.converged_count;
        }
      } else if (e.kind == "fail" || e.kind == "leave") {
        --alive;
        if (target == sh.victim && sh.tf != Clock::time_point{}) {
          sh.victim_dead_ms.push_back(ms_since(sh.tf, now));
        } else if (sh.window) {
          ++sh.observer_events;
          sh.false_targets.insert(target);
          if (sh.held_dead[target]++ == 0) ++sh.episodes;
        } else {
          ++sh.held_dead[target];
        }
      }
    });
  };

  sh.t0 = Clock::now();
  GossipOptions o;
  o.name = "node-0";
  o.bind = "127.0.0.1:0";
  o.profile = profile;
  auto seed = Gossip::start(o);
  if (!seed) {
    std::fprintf(stderr, "node-0: %s\n", seed.error().message().c_str());
    return 1;
  }
  nodes.push_back(std::move(*seed));
  subscribe(*nodes[0], 0);
  if (loss > 0) nodes[0]->set_test_datagram_loss(loss);
  const std::string seed_addr = nodes[0]->advertise_address();
  for (int i = 1; i < n; ++i) {
    GossipOptions oi = o;
    oi.name = "node-" + std::to_string(i);
    auto g = Gossip::start(oi);
    if (!g) {
      std::fprintf(stderr, "%s: %s\n", oi.name.c_str(), g.error().message().c_str());
      return 1;
    }
    subscribe(**g, i);  // before joining, so no join event is missed
    if (loss > 0) (*g)->set_test_datagram_loss(loss);
    nodes.push_back(std::move(*g));
  }
  // The storm: every node joins node-0 at (nearly) the same instant, like mlbench.
  for (int i = 1; i < n; ++i) {
    auto r = nodes[static_cast<std::size_t>(i)]->join({seed_addr});
    if (!r) {
      std::fprintf(stderr, "node-%d join: %s\n", i, r.error().message().c_str());
      return 1;
    }
  }
  const double start_all_ms = ms_since(sh.t0, Clock::now());

  // Convergence.
  bool converged = false;
  while (ms_since(sh.t0, Clock::now()) < conv_timeout * 1000) {
    {
      std::lock_guard lock(sh.mu);
      if (sh.converged_count == n) {
        converged = true;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  double converge_ms = -1, median_node_ms = -1;
  int converged_nodes = 0;
  {
    std::lock_guard lock(sh.mu);
    std::vector<double> c;
    for (double v : sh.converged_ms) {
      if (v >= 0) c.push_back(v);
    }
    std::sort(c.begin(), c.end());
    converged_nodes = static_cast<int>(c.size());
    if (!c.empty()) median_node_ms = c[c.size() / 2];
    if (converged) converge_ms = c.back();
  }
  std::fprintf(stderr, "n=%d %s loss=%.2f converged=%d (%d/%d) in %.0f ms (starting the nodes took %.0f ms)\n", n,
               profile.c_str(), loss, converged, converged_nodes, n, converge_ms, start_all_ms);

  // Steady state.
  std::this_thread::sleep_for(std::chrono::duration<double>(settle));
  auto totals = [&] {
    Totals t;
    for (auto& g : nodes) {
      const auto text = g->metrics_text();
      t.packets += metric(text, "gossip_packets_sent_total");
      t.bytes += metric(text, "gossip_bytes_sent_total");
      t.suspicions += metric(text, "gossip_suspicions_total");
    }
    return t;
  };
  const Totals m0 = totals();
  {
    std::lock_guard lock(sh.mu);
    sh.window = true;
  }
  const double cpu0 = cpu_seconds();
  const auto w0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(steady));
  const double cpu1 = cpu_seconds();
  const double el = std::chrono::duration<double>(Clock::now() - w0).count();
  {
    std::lock_guard lock(sh.mu);
    sh.window = false;
  }
  const long rss_steady = rss_kb();
  const Totals m1 = totals();
  const double fn = n;

  // Failure detection: stop the last node without leaving.
  {
    std::lock_guard lock(sh.mu);
    sh.tf = Clock::now();
  }
  nodes.back()->stop();
  bool all_detected = false;
  while (std::chrono::duration<double>(Clock::now() - sh.tf).count() < fail_timeout) {
    {
      std::lock_guard lock(sh.mu);
      if (static_cast<int>(sh.victim_dead_ms.size()) >= n - 1) {
        all_detected = true;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::vector<double> dead;
  long episodes = 0, observer_events = 0;
  std::size_t targets = 0;
  {
    std::lock_guard lock(sh.mu);
    dead = sh.victim_dead_ms;
    episodes = sh.episodes;
    observer_events = sh.observer_events;
    targets = sh.false_targets.size();
  }
  std::sort(dead.begin(), dead.end());
  auto num = [](double v) { return v < 0 ? std::string("null") : std::to_string(v); };
  std::printf(
      "{\"Impl\":\"constellation\",\"N\":%d,\"Profile\":\"%s\",\"Loss\":%g,\"Converged\":%s,\"ConvergedNodes\":%d,"
      "\"ConvergeMs\":%s,\"ConvergeMedianNodeMs\":%s,\"SteadySec\":%.3f,\"CPUSecTotal\":%.4f,\"CPUSecPerNode\":%.6f,"
      "\"RSSPerNodeKB\":%.1f,\"UDPPktsPerNodeSec\":%.3f,\"TotalBytesPerNodeSec\":%.1f,\"SuspectTransitions\":%.0f,"
      "\"FalseDeadEpisodes\":%ld,\"FalseDeadObserverEvents\":%ld,\"FalseDeadTargets\":%zu,\"FailTested\":true,"
      "\"AllDetected\":%s,\"FirstDeadMs\":%s,\"AllDeadMs\":%s,\"LoadAvgStart\":\"%s\"}\n",
      n, profile.c_str(), loss, converged ? "true" : "false", converged_nodes, num(converge_ms).c_str(),
      num(median_node_ms).c_str(), el, cpu1 - cpu0, (cpu1 - cpu0) / fn, static_cast<double>(rss_steady - rss_base) / fn,
      (m1.packets - m0.packets) / fn / el, (m1.bytes - m0.bytes) / fn / el, m1.suspicions - m0.suspicions, episodes,
      observer_events, targets, all_detected ? "true" : "false", num(dead.empty() ? -1 : dead.front()).c_str(),
      num(all_detected ? dead.back() : -1).c_str(), load_start.c_str());
  std::fflush(stdout);
  // Stop every node in parallel (each stop joins its thread).
  std::vector<std::thread> stoppers;
  for (auto& g : nodes) stoppers.emplace_back([&g] { g->stop(); });
  for (auto& t : stoppers) t.join();
  return 0;
}
