// SPDX-License-Identifier: Apache-2.0
#include <constellation/json.hpp>
#include <constellation/version.hpp>

#include <cstdio>
#include <string>

int main() {
  if (constellation::version_number() != CST_VERSION_NUMBER) {
    std::fprintf(stderr, "header/library version mismatch\n");
    return 1;
  }
  auto r = constellation::canonical_json(R"({"z":1,"a":[true]})");
  if (!r || *r != R"({"a":[true],"z":1})") {
    std::fprintf(stderr, "canonical_json failed\n");
    return 1;
  }
  auto bad = constellation::canonical_json("{");
  if (bad || bad.error().code() != constellation::Code::InvalidArgument) return 1;
  std::printf("consumer (C++) ok: constellation %s\n", std::string(constellation::version()).c_str());
  return 0;
}
