// SPDX-License-Identifier: Apache-2.0
// One gossip node in a process, for the real-process tests (test_gossip_cluster.py,
// gossip_netns_check.py). Public API only. Prints JSON lines on stdout:
//   {"ready":true,"name":N,"advertise":"host:port"}        once started
//   {"event":"join|leave|fail|recover|update","member":{...}}  for every event
//   {"members":[{...}]} / {"keys":[...]} / {"ok":true} / {"error":"..."} in answer to commands
// Commands, one per line on stdin: members | set K V | erase K | join ADDR[,ADDR] | leave MS |
// keys | install K | use K | remove K | metrics | quit.
//
//   gossip_node --name N [--bind ADDR] [--advertise ADDR] [--join A,B] [--key K]... [--label L]
//               [--profile lan|fast] [--data-dir D]
#include <constellation/gossip.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

using namespace constellation;

namespace {

std::mutex g_out;

std::string quote(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o + "\"";
}

std::string member_json(const GossipMember& m) {
  std::string o = "{\"name\":" + quote(m.name) + ",\"address\":" + quote(m.address) + ",\"state\":" + quote(m.state) +
                  ",\"incarnation\":" + std::to_string(m.incarnation) + ",\"state_map\":{";
  bool first = true;
  for (const auto& [k, v] : m.state_map) {
    if (!first) o += ",";
    first = false;
    o += quote(k) + ":" + quote(v);
  }
  return o + "}}";
}

void emit(const std::string& line) {
  std::lock_guard lock(g_out);
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

void answer(const Result<void>& r) { emit(r ? "{\"ok\":true}" : "{\"error\":" + quote(r.error().message()) + "}"); }

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  GossipOptions o;
  o.bind = "127.0.0.1:0";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "gossip_node: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--name") o.name = next();
    else if (a == "--bind") o.bind = next();
    else if (a == "--advertise") o.advertise = next();
    else if (a == "--join") o.join = split(next(), ',');
    else if (a == "--key") o.keys.push_back(next());
    else if (a == "--label") o.label = next();
    else if (a == "--profile") o.profile = next();
    else if (a == "--data-dir") o.data_dir = next();
    else {
      std::fprintf(stderr, "gossip_node: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  // Join only after subscribing, so the first events (the members the seed reports) are printed.
  const auto initial_seeds = std::move(o.join);
  o.join.clear();
  auto g = Gossip::start(o);
  if (!g) {
    emit("{\"error\":" + quote(g.error().message()) + "}");
    return 1;
  }
  auto& node = **g;
  node.subscribe([](const GossipEvent& e) { emit("{\"event\":" + quote(e.kind) + ",\"member\":" + member_json(e.member) + "}"); });
  if (!initial_seeds.empty()) {
    auto r = node.join(initial_seeds);
    if (!r) {
      emit("{\"error\":" + quote(r.error().message()) + "}");
      return 1;
    }
  }
  emit("{\"ready\":true,\"name\":" + quote(node.name()) + ",\"advertise\":" + quote(node.advertise_address()) + "}");

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd == "members") {
      std::string o2 = "{\"members\":[";
      bool first = true;
      for (const auto& m : node.members()) {
        if (!first) o2 += ",";
        first = false;
        o2 += member_json(m);
      }
      emit(o2 + "]}");
    } else if (cmd == "set") {
      std::string k, v;
      in >> k;
      std::getline(in, v);
      if (!v.empty() && v[0] == ' ') v.erase(0, 1);
      answer(node.set_state(k, v));
    } else if (cmd == "erase") {
      std::string k;
      in >> k;
      answer(node.erase_state(k));
    } else if (cmd == "join") {
      std::string seeds;
      in >> seeds;
      answer(node.join(split(seeds, ',')));
    } else if (cmd == "leave") {
      long ms = 2000;
      in >> ms;
      answer(node.leave(std::chrono::milliseconds(ms)));
    } else if (cmd == "keys") {
      std::string o2 = "{\"keys\":[";
      bool first = true;
      for (const auto& k : node.list_keys()) {
        if (!first) o2 += ",";
        first = false;
        o2 += quote(k);
      }
      emit(o2 + "]}");
    } else if (cmd == "install" || cmd == "use" || cmd == "remove") {
      std::string k;
      in >> k;
      answer(cmd == "install" ? node.install_key(k) : cmd == "use" ? node.use_key(k) : node.remove_key(k));
    } else if (cmd == "metrics") {
      emit("{\"metrics\":" + quote(node.metrics_text()) + "}");
    } else if (cmd == "quit") {
      break;
    } else if (!cmd.empty()) {
      emit("{\"error\":" + quote("unknown command " + cmd) + "}");
    }
  }
  node.stop();
  return 0;
}
