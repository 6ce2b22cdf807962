// SPDX-License-Identifier: Apache-2.0
// The Docker Engine API client from the command line, for test_docker_api.py:
//   docker_tool SOCKET version
//   docker_tool SOCKET create NAME IMAGE HEALTH_CMD LABEL=VALUE -- CMD...   (HEALTH_CMD "" for none)
//   docker_tool SOCKET start|inspect|remove ID
//   docker_tool SOCKET stop ID SECONDS
//   docker_tool SOCKET list LABEL[=VALUE]
//   docker_tool SOCKET events LABEL=VALUE SECONDS    (prints "ACTION ID" lines)
// Errors print "error <code>: <message>" and exit 1.
#include "core/json.hpp"
#include "io/docker/client.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using namespace constellation;

namespace {

int fail(const Error& e) {
  std::printf("error %s: %s\n", std::string(code_name(e.code())).c_str(), e.message().c_str());
  return 1;
}

std::pair<std::string, std::string> split_label(const std::string& s) {
  auto eq = s.find('=');
  if (eq == std::string::npos) return {s, ""};
  return {s.substr(0, eq), s.substr(eq + 1)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  io::docker::Client c(argv[1], std::chrono::seconds(30));
  std::string cmd = argv[2];
  std::vector<std::string> args(argv + 3, argv + argc);
  if (cmd == "version") {
    auto v = c.api_version();
    if (!v) return fail(v.error());
    std::printf("%s\n", v->c_str());
  } else if (cmd == "create" && args.size() >= 4) {
    io::docker::ContainerConfig cfg;
    cfg.name = args[0];
    cfg.image = args[1];
    if (!args[2].empty()) {
      io::docker::Healthcheck h;
      h.test = {"CMD-SHELL", args[2]};
      h.interval = std::chrono::seconds(30);
      h.timeout = std::chrono::seconds(5);
      h.retries = 1;
      cfg.healthcheck = h;
    }
    auto [k, v] = split_label(args[3]);
    cfg.labels[k] = v;
    cfg.network_mode = "none";
    cfg.stop_timeout = 2;
    std::size_t i = 4;
    if (i < args.size() && args[i] == "--") ++i;
    for (; i < args.size(); ++i) cfg.cmd.push_back(args[i]);
    cfg.env["FROM_CONSTELLATION"] = "yes";
    auto id = c.create(cfg);
    if (!id) return fail(id.error());
    std::printf("%s\n", id->c_str());
  } else if (cmd == "start" && args.size() == 1) {
    if (auto r = c.start(args[0]); !r) return fail(r.error());
  } else if (cmd == "stop" && args.size() == 2) {
    if (auto r = c.stop(args[0], std::atoi(args[1].c_str())); !r) return fail(r.error());
  } else if (cmd == "remove" && args.size() == 1) {
    if (auto r = c.remove(args[0], true); !r) return fail(r.error());
  } else if (cmd == "inspect" && args.size() == 1) {
    auto info = c.inspect(args[0]);
    if (!info) return fail(info.error());
    core::json::Writer w;
    w.begin_object().key("id").value(info->id).key("name").value(info->name).key("image").value(info->image);
    w.key("status").value(info->state.status).key("running").value(info->state.running);
    w.key("exit_code").value(info->state.exit_code).key("pid").value(info->state.pid);
    w.key("health").value(info->state.health).key("labels").begin_object();
    for (const auto& [k, v] : info->labels) w.key(k).value(v);
    w.end_object().end_object();
    std::printf("%s\n", w.str().c_str());
  } else if (cmd == "list" && args.size() == 1) {
    auto [k, v] = split_label(args[0]);
    auto list = c.list({{k, v}}, true);
    if (!list) return fail(list.error());
    for (const auto& x : *list) std::printf("%s %s %s\n", x.id.c_str(), x.name.c_str(), x.state.status.c_str());
  } else if (cmd == "events" && args.size() == 2) {
    auto [k, v] = split_label(args[0]);
    std::atomic<bool> stop{false};
    std::thread timer([&] {
      std::this_thread::sleep_for(std::chrono::seconds(std::atoi(args[1].c_str())));
      stop = true;
    });
    auto r = c.events({{k, v}}, [](const io::docker::EngineEvent& e) {
      std::printf("%s %s\n", e.action.c_str(), e.id.c_str());
      std::fflush(stdout);
      return true;
    }, stop);
    timer.join();
    if (!r) return fail(r.error());
  } else {
    std::fprintf(stderr, "docker_tool: bad command line\n");
    return 2;
  }
  return 0;
}
