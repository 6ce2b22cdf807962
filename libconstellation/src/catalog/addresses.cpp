// SPDX-License-Identifier: Apache-2.0
#include "catalog/addresses.hpp"

#include "catalog/model.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>

namespace constellation::catalog {

std::optional<std::uint32_t> parse_ipv4(std::string_view s) {
  std::uint32_t value = 0;
  int parts = 0;
  std::size_t i = 0;
  while (parts < 4) {
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    std::size_t len = i - start;
    if (len == 0 || len > 3 || (len > 1 && s[start] == '0')) return std::nullopt;
    unsigned octet = 0;
    std::from_chars(s.data() + start, s.data() + i, octet);
    if (octet > 255) return std::nullopt;
    value = (value << 8) | octet;
    ++parts;
    if (parts < 4) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != s.size()) return std::nullopt;
  return value;
}

bool is_ipv6(std::string_view s) {
  if (s.size() < 2 || s.size() > 45) return false;
  int groups = 0;
  bool compressed = false;
  std::size_t i = 0;
  if (s.substr(0, 2) == "::") {
    compressed = true;
    i = 2;
    if (i == s.size()) return true;
  } else if (s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    // An embedded IPv4 tail ("::ffff:1.2.3.4") counts as two groups.
    auto rest = s.substr(i);
    if (rest.find('.') != std::string_view::npos && rest.find(':') == std::string_view::npos) {
      if (!parse_ipv4(rest)) return false;
      groups += 2;
      i = s.size();
      break;
    }
    std::size_t start = i;
    while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i - start == 0 || i - start > 4) return false;
    ++groups;
    if (i == s.size()) break;
    if (s[i] != ':') return false;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (compressed) return false;
      compressed = true;
      ++i;
      if (i == s.size()) break;
    } else if (i == s.size()) {
      return false;  // trailing single colon
    }
  }
  return compressed ? groups < 8 : groups == 8;
}

namespace {

bool in_prefix(std::uint32_t a, std::uint32_t net, int bits) {
  std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (a & mask) == (net & mask);
}
constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) { return (a << 24) | (b << 16) | (c << 8) | d; }

bool is_private4(std::uint32_t a) {
  return in_prefix(a, ip(10, 0, 0, 0), 8) || in_prefix(a, ip(172, 16, 0, 0), 12) || in_prefix(a, ip(192, 168, 0, 0), 16);
}
bool is_cgnat4(std::uint32_t a) { return in_prefix(a, ip(100, 64, 0, 0), 10); }
bool is_special4(std::uint32_t a) {
  return in_prefix(a, ip(127, 0, 0, 0), 8) || in_prefix(a, ip(169, 254, 0, 0), 16) || in_prefix(a, ip(0, 0, 0, 0), 8) ||
         in_prefix(a, ip(224, 0, 0, 0), 4) || in_prefix(a, ip(240, 0, 0, 0), 4);
}
bool is_global6(std::string_view s) {
  if (!is_ipv6(s) || s.empty()) return false;
  char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return c == '2' || c == '3';
}

bool is_tailscale_if(std::string_view name) { return name == "tailscale0" || name.substr(0, 9) == "tailscale"; }
bool is_warp_if(std::string_view name) { return name == "CloudflareWARP" || name.substr(0, 4) == "warp"; }
bool ordinary(const InterfaceAddress& a) {
  return !a.loopback && !is_tailscale_if(a.interface) && !is_warp_if(a.interface);
}

std::optional<std::string> first_of_interface(const AddressFacts& f, std::string_view name) {
  std::optional<std::string> v6;
  for (const auto& a : f.interfaces) {
    if (a.interface != name) continue;
    if (parse_ipv4(a.address)) return a.address;
    if (!v6) v6 = a.address;
  }
  return v6;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

Result<std::map<std::string, std::string>> resolve_addresses(const AddressFacts& f) {
  std::map<std::string, std::string> out;
  for (const auto& [network, value] : f.configured) {
    std::string v = trim(value);
    if (v.rfind("iface:", 0) == 0) {
      auto a = first_of_interface(f, std::string_view(v).substr(6));
      if (!a) {
        return Error(Code::InvalidArgument,
                     "addresses." + network + ": interface '" + v.substr(6) + "' has no address (or does not exist)");
      }
      out[network] = *a;
    } else if (is_ip(v)) {
      out[network] = v;
    } else {
      return Error(Code::InvalidArgument,
                   "addresses." + network + ": '" + v + "' is neither an IP address nor iface:<interface>");
    }
  }

  const std::string tailscale(kNetworkTailscale), warp(kNetworkWarp), pub(kNetworkPublic), backend(kNetworkBackend);
  if (!out.count(tailscale)) {
    if (f.tailscale_output) {
      std::string_view text = *f.tailscale_output;
      while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = trim(text.substr(0, nl));
        if (parse_ipv4(line)) {
          out[tailscale] = line;
          break;
        }
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
      }
    }
    if (!out.count(tailscale)) {
      for (const auto& a : f.interfaces) {
        auto v4 = parse_ipv4(a.address);
        if (is_tailscale_if(a.interface) || (v4 && is_cgnat4(*v4) && !a.loopback)) {
          if (v4) {
            out[tailscale] = a.address;
            break;
          }
        }
      }
    }
  }
  if (!out.count(warp)) {
    for (const auto& a : f.interfaces) {
      if (is_warp_if(a.interface) && parse_ipv4(a.address)) {
        out[warp] = a.address;
        break;
      }
    }
  }
  if (!out.count(pub)) {
    for (const auto& a : f.interfaces) {
      auto v4 = parse_ipv4(a.address);
      if (ordinary(a) && v4 && !is_private4(*v4) && !is_cgnat4(*v4) && !is_special4(*v4)) {
        out[pub] = a.address;
        break;
      }
    }
    if (!out.count(pub)) {
      for (const auto& a : f.interfaces) {
        if (ordinary(a) && is_global6(a.address)) {
          out[pub] = a.address;
          break;
        }
      }
    }
  }
  if (!out.count(backend)) {
    for (const auto& a : f.interfaces) {
      auto v4 = parse_ipv4(a.address);
      if (ordinary(a) && v4 && is_private4(*v4)) {
        out[backend] = a.address;
        break;
      }
    }
    if (!out.count(backend)) out[backend] = out.count(pub) ? out[pub] : "127.0.0.1";
  }
  return out;
}

}  // namespace constellation::catalog
