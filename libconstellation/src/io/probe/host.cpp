// SPDX-License-Identifier: Apache-2.0
#include "io/probe/host.hpp"

#include "io/probe/probe.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace constellation::io::probe {

std::vector<catalog::InterfaceAddress> interface_addresses() {
  std::vector<catalog::InterfaceAddress> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || !(a->ifa_flags & IFF_UP)) continue;
    char buf[INET6_ADDRSTRLEN] = {};
    if (a->ifa_addr->sa_family == AF_INET) {
      auto* sin = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
      inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr)) continue;
      inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
    } else {
      continue;
    }
    out.push_back({a->ifa_name, buf, (a->ifa_flags & IFF_LOOPBACK) != 0});
  }
  freeifaddrs(list);
  return out;
}

namespace {

bool in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

}  // namespace

catalog::AddressFacts gather_address_facts(std::map<std::string, std::string> configured) {
  catalog::AddressFacts f;
  f.configured = std::move(configured);
  f.interfaces = interface_addresses();
  if (!f.configured.count(std::string(catalog::kNetworkTailscale)) && in_path("tailscale")) {
    Probe p;
    p.kind = Kind::Exec;
    p.command = {"tailscale", "ip", "-4"};
    p.timeout = 2s;
    auto r = run_exec(p);
    if (r.outcome == health::Outcome::Pass) {
      auto colon = r.output.find(": ");
      if (colon != std::string::npos) f.tailscale_output = r.output.substr(colon + 2);
    }
  }
  return f;
}

Result<std::map<std::string, std::string>> node_addresses(std::map<std::string, std::string> configured) {
  return catalog::resolve_addresses(gather_address_facts(std::move(configured)));
}

}  // namespace constellation::io::probe
