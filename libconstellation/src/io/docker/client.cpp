// SPDX-License-Identifier: Apache-2.0
#include "io/docker/client.hpp"

#include "core/json.hpp"

#include <httplib.h>

#include <sys/socket.h>

#include <cctype>
#include <chrono>
#include <cstdio>

namespace constellation::io::docker {

namespace {

constexpr const char* kApi = "/v1.41";

using core::json::Value;
using core::json::Writer;

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string label_filters(const std::map<std::string, std::string>& labels, bool containers_only) {
  Writer w;
  w.begin_object();
  if (!labels.empty()) {
    w.key("label").begin_array();
    for (const auto& [k, v] : labels) w.value(v.empty() ? k : k + "=" + v);
    w.end_array();
  }
  if (containers_only) w.key("type").begin_array().value("container").end_array();
  w.end_object();
  return url_encode(w.str());
}

std::int64_t nanos(core::Duration d) { return d.count(); }

struct Http {
  std::unique_ptr<httplib::Client> cli;
};

Http connect(const std::string& socket, core::Duration timeout) {
  Http h;
  h.cli = std::make_unique<httplib::Client>(socket);
  h.cli->set_address_family(AF_UNIX);
  // The engine is a Go server: a Host header holding the socket path is "malformed".
  h.cli->set_default_headers({{"Host", "docker"}});
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout);
  h.cli->set_connection_timeout(us);
  h.cli->set_read_timeout(us);
  h.cli->set_write_timeout(us);
  return h;
}

std::string engine_message(const httplib::Response& r) {
  auto v = core::json::parse(r.body);
  if (v) {
    if (const auto* m = v->find("message"); m && m->is_string()) return m->as_string();
  }
  return r.body.substr(0, 300);
}

Error status_error(const std::string& what, const httplib::Response& r) {
  Code c = r.status == 404   ? Code::NotFound
           : r.status == 409 ? Code::Conflict
           : r.status == 400 ? Code::InvalidArgument
           : r.status >= 500 ? Code::Unavailable
                             : Code::Internal;
  return Error(c, what + ": HTTP " + std::to_string(r.status) + ": " + engine_message(r));
}

Error transport_error(const std::string& what, const std::string& socket, httplib::Error e) {
  Code c = e == httplib::Error::Read || e == httplib::Error::Write ? Code::Timeout : Code::Unavailable;
  if (e == httplib::Error::Connection) c = Code::Unavailable;
  return Error(c, what + ": " + socket + ": " + httplib::to_string(e));
}

std::string str(const Value& v, std::string_view key) {
  const auto* x = v.find(key);
  return x && x->is_string() ? x->as_string() : std::string();
}

std::map<std::string, std::string> labels_of(const Value* v) {
  std::map<std::string, std::string> out;
  if (!v || !v->is_object()) return out;
  for (const auto& [k, x] : v->as_object()) {
    if (x.is_string()) out[k] = x.as_string();
  }
  return out;
}

}  // namespace

Client::Client(std::string socket_path, core::Duration timeout) : socket_(std::move(socket_path)), timeout_(timeout) {}

Result<void> Client::ping() {
  try {
    auto h = connect(socket_, timeout_);
    auto r = h.cli->Get("/_ping");
    if (!r) return transport_error("docker ping", socket_, r.error());
    if (r->status != 200) return status_error("docker ping", *r);
    return ok();
  } catch (const std::exception& e) {
    return Error(Code::Internal, std::string("docker ping: ") + e.what());
  }
}

Result<std::string> Client::api_version() {
  try {
    auto h = connect(socket_, timeout_);
    auto r = h.cli->Get("/version");
    if (!r) return transport_error("docker version", socket_, r.error());
    if (r->status != 200) return status_error("docker version", *r);
    auto v = core::json::parse(r->body);
    if (!v) return Error(Code::Internal, "docker version: " + v.error().message());
    return str(*v, "ApiVersion");
  } catch (const std::exception& e) {
    return Error(Code::Internal, std::string("docker version: ") + e.what());
  }
}

std::string create_body(const ContainerConfig& c) {
  Writer w;
  w.begin_object();
  w.key("Image").value(c.image);
  if (!c.entrypoint.empty()) {
    w.key("Entrypoint").begin_array();
    for (const auto& a : c.entrypoint) w.value(a);
    w.end_array();
  }
  if (!c.cmd.empty()) {
    w.key("Cmd").begin_array();
    for (const auto& a : c.cmd) w.value(a);
    w.end_array();
  }
  w.key("Env").begin_array();
  for (const auto& [k, v] : c.env) w.value(k + "=" + v);
  w.end_array();
  w.key("Labels").begin_object();
  for (const auto& [k, v] : c.labels) w.key(k).value(v);
  w.end_object();
  if (!c.working_dir.empty()) w.key("WorkingDir").value(c.working_dir);
  if (!c.user.empty()) w.key("User").value(c.user);
  if (!c.hostname.empty()) w.key("Hostname").value(c.hostname);
  if (!c.stop_signal.empty()) w.key("StopSignal").value(c.stop_signal);
  w.key("StopTimeout").value(c.stop_timeout);
  if (!c.ports.empty()) {
    w.key("ExposedPorts").begin_object();
    for (const auto& p : c.ports) w.key(std::to_string(p.target) + "/" + p.protocol).begin_object().end_object();
    w.end_object();
  }
  if (c.healthcheck) {
    const auto& h = *c.healthcheck;
    w.key("Healthcheck").begin_object();
    w.key("Test").begin_array();
    for (const auto& t : h.test) w.value(t);
    w.end_array();
    if (h.interval.count()) w.key("Interval").value(nanos(h.interval));
    if (h.timeout.count()) w.key("Timeout").value(nanos(h.timeout));
    if (h.start_period.count()) w.key("StartPeriod").value(nanos(h.start_period));
    if (h.retries) w.key("Retries").value(h.retries);
    w.end_object();
  }
  w.key("HostConfig").begin_object();
  if (!c.network_mode.empty()) w.key("NetworkMode").value(c.network_mode);
  if (c.init) w.key("Init").value(true);
  if (!c.binds.empty()) {
    w.key("Binds").begin_array();
    for (const auto& b : c.binds) w.value(b);
    w.end_array();
  }
  if (!c.ports.empty()) {
    w.key("PortBindings").begin_object();
    std::map<std::string, std::vector<const PortMapping*>> by_key;
    for (const auto& p : c.ports) by_key[std::to_string(p.target) + "/" + p.protocol].push_back(&p);
    for (const auto& [key, list] : by_key) {
      w.key(key).begin_array();
      for (const auto* p : list) {
        w.begin_object().key("HostIp").value(p->host_ip);
        w.key("HostPort").value(p->published ? std::to_string(p->published) : std::string());
        w.end_object();
      }
      w.end_array();
    }
    w.end_object();
  }
  w.key("RestartPolicy").begin_object().key("Name").value("no").end_object();
  w.end_object();
  w.end_object();
  return std::move(w).take();
}

Result<std::string> Client::create(const ContainerConfig& config) {
  try {
    auto h = connect(socket_, timeout_);
    std::string path = std::string(kApi) + "/containers/create";
    if (!config.name.empty()) path += "?name=" + url_encode(config.name);
    auto r = h.cli->Post(path, create_body(config), "application/json");
    if (!r) return transport_error("docker create", socket_, r.error());
    if (r->status != 201) return status_error("docker create " + config.image, *r);
    auto v = core::json::parse(r->body);
    if (!v) return Error(Code::Internal, "docker create: " + v.error().message());
    return str(*v, "Id");
  } catch (const std::exception& e) {
    return Error(Code::Internal, std::string("docker create: ") + e.what());
  }
}

Result<void> Client::start(const std::string& id) {
  try {
    auto h = connect(socket_, timeout_);
    auto r = h.cli->Post(std::string(kApi) + "/containers/" + url_encode(id) + "/start", "", "application/json");
    if (!r) return transport_error("docker start", socket_, r.error());
    if (r->status != 204 && r->status != 304) return status_error("docker start " + id, *r);
    return ok();
  } catch (const std::exception& e) {
    return Error(Code::Internal, std::string("docker start: ") + e.what());
  }
}

Result<void> Client::stop(const std::string& id, int timeout_seconds) {
  try {
    // The engine answers only after the container is gone: wait long enough for it.
    auto h = connect(socket_, timeout_ + std::chrono::seconds(timeout_seconds));
    auto r = h.cli->Post(std::string(kApi) + "/containers/" + url_encode(id) + "/stop?t=" + std::to_string(timeout_seconds),
                         "", "application/json");
    if (!r) return transport_error("docker stop", socket_, r.error());
    if (r->status != 204 && r->status != 304) return status_error("docker stop " + id, *r);
    return ok();
  } catch (const std::exception& e) {
    return Error(Code::Internal, std::string("docker stop: ") + e.what());
  }
}

Result<void> Client::remove(const std::string& id, bool force) {
  try {
    auto h = connect(socket_, timeout_);
    auto r = h.cli->Delete(std::string(kApi) + "/containers/" + url_encode(id) + "?v=1" + (force ? "&force=1" : ""));
    if (!r) return transport_error("docker remove", socket_, r.error());
    if (r->status != 204 && r->status != 200) return status_error("docker remove " + id, *r);
    return ok();
  } catch (const std::exception& e) {
    return Error(Code::Internal, std::string("docker remove: ") + e.what());
  }
}

Result<ContainerInfo> parse_inspect(std::string_view json) {
  auto v = core::json::parse(json);
  if (!v) return v.error().with_context("container JSON");
  if (!v->is_object()) return Error(Code::InvalidArgument, "container JSON: not an object");
  ContainerInfo c;
  c.id = str(*v, "Id");
  c.name = str(*v, "Name");
  if (!c.name.empty() && c.name[0] == '/') c.name.erase(0, 1);
  if (const auto* cfg = v->find("Config"); cfg && cfg->is_object()) {
    c.image = str(*cfg, "Image");
    c.labels = labels_of(cfg->find("Labels"));
  }
  if (const auto* st = v->find("State"); st && st->is_object()) {
    c.state.status = str(*st, "Status");
    if (const auto* r = st->find("Running"); r && r->is_bool()) c.state.running = r->as_bool();
    if (const auto* x = st->find("ExitCode"); x && x->is_integer()) c.state.exit_code = static_cast<int>(x->as_int());
    if (const auto* x = st->find("Pid"); x && x->is_integer()) c.state.pid = static_cast<int>(x->as_int());
    c.state.started_at = str(*st, "StartedAt");
    c.state.finished_at = str(*st, "FinishedAt");
    const Value* health = st->find("Health");
    if (!health || !health->is_object()) health = st->find("Healthcheck");  // podman 4 spells it so too
    if (health && health->is_object()) {
      c.state.health = str(*health, "Status");
      if (const auto* log = health->find("Log"); log && log->is_array() && !log->as_array().empty()) {
        const auto& last = log->as_array().back();
        if (last.is_object()) c.state.health_output = str(last, "Output");
      }
    }
  }
  return c;
}

Result<ContainerInfo> Client::inspect(const std::string& id) {
  try {
    auto h = connect(socket_, timeout_);
    auto r = h.cli->Get(std::string(kApi) + "/containers/" + url_encode(id) + "/json");
    if (!r) return transport_error("docker inspect", socket_, r.error());
    if (r->status != 200) return status_error("docker inspect " + id, *r);
    return parse_inspect(r->body);
  } catch (const std::exception& e) {
    return Error(Code::Internal, std::string("docker inspect: ") + e.what());
  }
}

Result<std::vector<ContainerInfo>> Client::list(const std::map<std::string, std::string>& labels, bool all) {
  try {
    auto h = connect(socket_, timeout_);
    std::string path = std::string(kApi) + "/containers/json?all=" + (all ? "1" : "0");
    if (!labels.empty()) path += "&filters=" + label_filters(labels, false);
    auto r = h.cli->Get(path);
    if (!r) return transport_error("docker list", socket_, r.error());
    if (r->status != 200) return status_error("docker list", *r);
    auto v = core::json::parse(r->body);
    if (!v || !v->is_array()) return Error(Code::Internal, "docker list: unexpected answer");
    std::vector<ContainerInfo> out;
    for (const auto& x : v->as_array()) {
      if (!x.is_object()) continue;
      ContainerInfo c;
      c.id = str(x, "Id");
      if (const auto* names = x.find("Names"); names && names->is_array() && !names->as_array().empty() &&
                                               names->as_array()[0].is_string()) {
        c.name = names->as_array()[0].as_string();
        if (!c.name.empty() && c.name[0] == '/') c.name.erase(0, 1);
      }
      c.image = str(x, "Image");
      c.labels = labels_of(x.find("Labels"));
      c.state.status = str(x, "State");
      c.state.running = c.state.status == "running";
      out.push_back(std::move(c));
    }
    return out;
  } catch (const std::exception& e) {
    return Error(Code::Internal, std::string("docker list: ") + e.what());
  }
}

Result<void> Client::events(const std::map<std::string, std::string>& labels,
                            const std::function<bool(const EngineEvent&)>& on_event, const std::atomic<bool>& stop,
                            core::Duration poll) {
  // Each request streams for at most `poll` (until=now+poll), then the loop re-issues it with
  // since = the last event seen: stop is honoured within `poll` and nothing is missed.
  auto now_secs = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  std::int64_t since_nanos = now_secs() * 1000000000LL;
  auto poll_secs = std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(poll).count());
  bool keep_going = true;
  while (keep_going && !stop.load()) {
    try {
      auto h = connect(socket_, poll + 5s);
      std::int64_t until = now_secs() + poll_secs;
      char since[32];
      std::snprintf(since, sizeof since, "%lld.%09lld", static_cast<long long>(since_nanos / 1000000000LL),
                    static_cast<long long>(since_nanos % 1000000000LL));
      std::string path = std::string(kApi) + "/events?since=" + since + "&until=" + std::to_string(until) +
                         "&filters=" + label_filters(labels, true);
      std::string buffer;
      std::int64_t last_seen = since_nanos;
      auto r = h.cli->Get(path, [&](const char* data, std::size_t len) {
        buffer.append(data, len);
        std::size_t nl;
        while ((nl = buffer.find('\n')) != std::string::npos) {
          auto line = buffer.substr(0, nl);
          buffer.erase(0, nl + 1);
          auto v = core::json::parse(line);
          if (!v || !v->is_object()) continue;
          EngineEvent e;
          e.type = str(*v, "Type");
          e.action = str(*v, "Action");
          if (const auto* actor = v->find("Actor"); actor && actor->is_object()) {
            e.id = str(*actor, "ID");
            e.attributes = labels_of(actor->find("Attributes"));
          }
          if (e.id.empty()) e.id = str(*v, "id");
          if (const auto* t = v->find("timeNano"); t && t->is_integer()) e.time_nanos = t->as_int();
          // "since" is inclusive: skip what the previous request already delivered.
          if (e.time_nanos != 0 && e.time_nanos <= since_nanos) continue;
          last_seen = std::max(last_seen, e.time_nanos);
          if (!on_event(e)) {
            keep_going = false;
            return false;
          }
        }
        return !stop.load();
      });
      if (!r && keep_going && !stop.load() && r.error() == httplib::Error::Connection) {
        return transport_error("docker events", socket_, r.error());
      }
      since_nanos = last_seen;
    } catch (const std::exception& e) {
      return Error(Code::Internal, std::string("docker events: ") + e.what());
    }
  }
  return ok();
}

}  // namespace constellation::io::docker
