// SPDX-License-Identifier: Apache-2.0
#include "spec/scalars.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::spec;
using namespace std::chrono_literals;

namespace {

template <class T>
const T& value(const Parsed<T>& p) {
  REQUIRE_MESSAGE(!failed(p), std::get<1>(p));
  return std::get<0>(p);
}

template <class T>
std::string error(const Parsed<T>& p) {
  REQUIRE(failed(p));
  return std::get<1>(p);
}

}  // namespace

TEST_CASE("durations in compose's Go syntax") {
  CHECK(value(parse_duration("10s")) == 10s);
  CHECK(value(parse_duration("1m30s")) == 90s);
  CHECK(value(parse_duration("1.5h")) == 5400s);
  CHECK(value(parse_duration("500ms")) == 500ms);
  CHECK(value(parse_duration("250us")) == 250us);
  CHECK(value(parse_duration("2h45m0.5s")) == 2h + 45min + 500ms);
  CHECK(value(parse_duration("0")) == 0s);
  CHECK(error(parse_duration("10")).find("missing unit") != std::string::npos);
  CHECK(error(parse_duration("10x")).find("unknown unit") != std::string::npos);
  CHECK(error(parse_duration("-1s")).find("invalid duration") != std::string::npos);
  CHECK(failed(parse_duration("")));
  CHECK(failed(parse_duration("1..2s")));
  CHECK(failed(parse_duration("99999999999h")));
}

TEST_CASE("byte sizes") {
  CHECK(value(parse_byte_size("10MB")) == 10u << 20);
  CHECK(value(parse_byte_size("512k")) == 512u << 10);
  CHECK(value(parse_byte_size("4096")) == 4096u);
  CHECK(value(parse_byte_size("1g")) == 1ull << 30);
  CHECK(failed(parse_byte_size("10 MB")));
  CHECK(failed(parse_byte_size("MB")));
  CHECK(failed(parse_byte_size("10TB")));
}

TEST_CASE("short port syntax, every form") {
  auto p = value(parse_port_short("3000"));
  CHECK(p.target == 3000);
  CHECK(p.target_end == 3000);
  CHECK(p.published == 0);
  CHECK(p.protocol == "tcp");

  p = value(parse_port_short("3000-3005"));
  CHECK((p.target == 3000 && p.target_end == 3005 && p.published == 0));

  p = value(parse_port_short("8000:8000"));
  CHECK((p.target == 8000 && p.published == 8000));

  p = value(parse_port_short("9090-9091:8080-8081"));
  CHECK((p.published == 9090 && p.published_end == 9091 && p.target == 8080 && p.target_end == 8081));

  p = value(parse_port_short("49100:22"));
  CHECK((p.published == 49100 && p.target == 22));

  p = value(parse_port_short("127.0.0.1:8001:8001"));
  CHECK((p.host_ip == "127.0.0.1" && p.published == 8001));

  p = value(parse_port_short("127.0.0.1:5000-5010:5000-5010"));
  CHECK((p.published_end == 5010 && p.target_end == 5010));

  p = value(parse_port_short("127.0.0.1::5000"));
  CHECK((p.host_ip == "127.0.0.1" && p.published == 0 && p.target == 5000));

  p = value(parse_port_short("6060:6060/udp"));
  CHECK(p.protocol == "udp");

  p = value(parse_port_short("[::1]:6001:6001"));
  CHECK((p.host_ip == "::1" && p.published == 6001));

  p = value(parse_port_short("12400-12500:1240"));
  CHECK((p.published == 12400 && p.published_end == 12500 && p.target == 1240 && p.target_end == 1240));
}

TEST_CASE("bad port specs say what is wrong") {
  CHECK(error(parse_port_short("0")).find("out of range") != std::string::npos);
  CHECK(error(parse_port_short("70000")).find("out of range") != std::string::npos);
  CHECK(error(parse_port_short("80/icmp")).find("unknown protocol") != std::string::npos);
  CHECK(error(parse_port_short("8000-7000")).find("ends before") != std::string::npos);
  CHECK(error(parse_port_short("8080:80-81")).find("differ in length") != std::string::npos);
  CHECK(error(parse_port_short("9000-9002:80-81")).find("differ in length") != std::string::npos);
  CHECK(error(parse_port_short("::1:80:80")).find("brackets") != std::string::npos);
  CHECK(error(parse_port_short("300.1.1.1:80:80")).find("invalid host address") != std::string::npos);
  CHECK(error(parse_port_short("[zz]:80:80")).find("IPv6") != std::string::npos);
  CHECK(error(parse_port_short("http")).find("invalid port") != std::string::npos);
  CHECK(error(parse_port_short("80:")).find("missing container port") != std::string::npos);
  CHECK(failed(parse_port_short("")));
  CHECK(failed(parse_port_short("[::1]80:80")));
}

TEST_CASE("short volume syntax") {
  auto v = value(parse_volume_short("/data"));
  CHECK((v.type == "volume" && v.source.empty() && v.target == "/data"));
  v = value(parse_volume_short("./static:/usr/share/nginx/html:ro"));
  CHECK((v.type == "bind" && v.source == "./static" && v.read_only));
  v = value(parse_volume_short("pgdata:/var/lib/postgresql/data"));
  CHECK((v.type == "volume" && v.source == "pgdata" && !v.read_only));
  v = value(parse_volume_short("/etc/ssl:/etc/ssl:ro,z"));
  CHECK((v.read_only && v.mode == "z"));
  CHECK(error(parse_volume_short("data:relative")).find("absolute") != std::string::npos);
  CHECK(error(parse_volume_short("./a:/b:rx")).find("unknown volume mode") != std::string::npos);
  CHECK(error(parse_volume_short("a/b:/c")).find("contains '/'") != std::string::npos);
  CHECK(failed(parse_volume_short("a:b:c:d")));
}

TEST_CASE("command strings split like a shell without expansions") {
  CHECK(value(split_command("python3 -m http.server 8080")) ==
        std::vector<std::string>{"python3", "-m", "http.server", "8080"});
  CHECK(value(split_command(R"(sh -c 'echo "hi there"; exit 1')")) ==
        std::vector<std::string>{"sh", "-c", R"(echo "hi there"; exit 1)"});
  CHECK(value(split_command(R"(a "b \"c\" $d" e\ f)")) == std::vector<std::string>{"a", R"(b "c" $d)", "e f"});
  CHECK(value(split_command("  ")).empty());
  CHECK(value(split_command("''")) == std::vector<std::string>{""});
  CHECK(failed(split_command("echo 'oops")));
  CHECK(failed(split_command("echo \"oops")));
}

TEST_CASE("interpolation as compose does it") {
  Variables vars{{"HOST", "shop.example.com"}, {"EMPTY", ""}, {"PORT", "8080"}};
  auto v = [&](std::string_view s) { return value(interpolate(s, vars)).value; };
  CHECK(v("Host(`${HOST}`)") == "Host(`shop.example.com`)");
  CHECK(v("$HOST:$PORT") == "shop.example.com:8080");
  CHECK(v("${MISSING:-fallback}") == "fallback");
  CHECK(v("${EMPTY:-fallback}") == "fallback");
  CHECK(v("${EMPTY-fallback}") == "");
  CHECK(v("${MISSING-fallback}") == "fallback");
  CHECK(v("${PORT:+set}") == "set");
  CHECK(v("${MISSING:+set}") == "");
  CHECK(v("${MISSING:-${PORT}}") == "8080");
  CHECK(v("${MISSING:-${ALSO:-deep}}") == "deep");
  CHECK(v("user:$$apr1$$x") == "user:$apr1$x");
  CHECK(v("cost $") == "cost $");
  auto unset = value(interpolate("a${NOPE}b$ALSO_NOPE", vars));
  CHECK(unset.value == "ab");
  CHECK(unset.unset == std::vector<std::string>{"NOPE", "ALSO_NOPE"});
  CHECK(error(interpolate("${NEEDED:?set it please}", vars)) == "required variable NEEDED is not set: set it please");
  CHECK(error(interpolate("${EMPTY:?}", vars)) == "required variable EMPTY is empty");
  CHECK(failed(interpolate("${", vars)));
  CHECK(failed(interpolate("${HOST", vars)));
  CHECK(failed(interpolate("${1abc}", vars)));
  CHECK(failed(interpolate("${HOST!}", vars)));
  CHECK(failed(interpolate("$(cmd)", vars)));
  CHECK(failed(interpolate("${A:-${B:-unterminated}", vars)));
}

TEST_CASE(".env files") {
  std::vector<EnvFileIssue> issues;
  auto env = parse_env_file(
      "# comment\n"
      "A=1\n"
      "export B = two words  # trailing comment\n"
      "C='lit$eral # kept'\n"
      "D=\"multi\nline \\\"q\\\"\"\n"
      "\n"
      "E=\n"
      "not a pair\n"
      "1BAD=x\n"
      "F='open\n",
      issues);
  CHECK(env.at("A") == "1");
  CHECK(env.at("B") == "two words");
  CHECK(env.at("C") == "lit$eral # kept");
  CHECK(env.at("D") == "multi\nline \"q\"");
  CHECK(env.at("E") == "");
  CHECK(env.size() == 5);
  REQUIRE(issues.size() == 3);
  CHECK(issues[0].line == 9);
  CHECK(issues[1].line == 10);
  CHECK(issues[2].line == 11);
}

TEST_CASE("names") {
  CHECK(valid_service_name("web"));
  CHECK(valid_service_name("web_1.a-b"));
  CHECK_FALSE(valid_service_name("-web"));
  CHECK_FALSE(valid_service_name("we b"));
  CHECK_FALSE(valid_service_name(""));
  CHECK(valid_project_name("shop-2"));
  CHECK_FALSE(valid_project_name("Shop"));
  CHECK(normalize_project_name("My Shop_App") == "myshop_app");
}
