// SPDX-License-Identifier: Apache-2.0
// constellation-proxy: the failover TCP/HTTP proxy to healthy instances. Its library capability has not landed yet
// (see docs/architecture.md, "Status"), so only `version` works; anything else exits with 2.
#include <constellation/version.hpp>

#include <cstdio>
#include <string>
#include <string_view>

int main(int argc, char** argv) {
  if (argc >= 2 && (std::string_view(argv[1]) == "version" || std::string_view(argv[1]) == "--version")) {
    std::printf("constellation-proxy %s\n", std::string(constellation::version()).c_str());
    return 0;
  }
  std::fprintf(stderr,
               "usage: constellation-proxy version\n"
               "The failover TCP/HTTP proxy to healthy instances is not implemented in this version.\n");
  return 2;
}
