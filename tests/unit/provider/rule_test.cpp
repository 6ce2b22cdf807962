// SPDX-License-Identifier: Apache-2.0
#include "provider/rule.hpp"
#include "provider/rule_template.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace constellation;
using namespace constellation::provider;

namespace {

std::string error_of(std::string_view rule, RuleKind kind = RuleKind::Http, RuleSyntax syntax = RuleSyntax::V3) {
  auto r = check_rule(rule, kind, syntax);
  std::string what(rule);
  REQUIRE_MESSAGE(!r, what);
  CHECK(r.error().code() == Code::InvalidArgument);
  return r.error().message();
}

void valid(std::string_view rule, RuleKind kind = RuleKind::Http, RuleSyntax syntax = RuleSyntax::V3) {
  auto r = check_rule(rule, kind, syntax);
  std::string why = std::string(rule) + ": " + (r ? std::string() : r.error().message());
  CHECK_MESSAGE(r, why);
}

std::string render(std::string_view tpl, std::string_view name = "web-shop",
                   const std::map<std::string, std::string>& labels = {}) {
  auto t = RuleTemplate::compile(tpl);
  REQUIRE_MESSAGE(t, (t ? "" : t.error().message()));
  auto out = t->execute(TemplateData{name, "web-1", &labels});
  REQUIRE_MESSAGE(out, (out ? "" : out.error().message()));
  return *out;
}

}  // namespace

TEST_CASE("v3 HTTP rules: matchers, operators, grouping and both string forms") {
  valid("Host(`example.com`)");
  valid("Host(\"example.com\") && PathPrefix(`/api`)");
  valid("(Host(`a.com`) || Host(`b.com`)) && !Method(`POST`)");
  valid("Header(`X-Env`, `prod`) && Query(`debug`) && QueryRegexp(`id`, `^[0-9]+$`)");
  valid("ClientIP(`10.0.0.0/8`) || ClientIP(`fd00::/8`) || ClientIP(`192.0.2.1`)");
  valid("PathRegexp(`^/v[0-9]+/`) && HostRegexp(`^.+\\.example\\.com$`)");
  valid("host(`a`) && HOST(`b`) && Pathprefix(`/x`)");  // predicate's alternate spellings
  valid("Host(`a`,)");                                   // Go allows a trailing comma
  valid("Host(\"a\\x2e\\142\\u0063\")");  // Go escapes: \x, octal, \u
}

TEST_CASE("rule syntax errors point at the offset") {
  CHECK(error_of("Host(`a`") == "at offset 8: expected ',' or ')' after an argument of Host");
  CHECK(error_of("Host(`a`) &&") == "at offset 12: expected a matcher such as Host(`example.com`), got the end of the rule");
  CHECK(error_of("Host(`a`) Path(`/`)") == "at offset 10: unexpected 'P' after a complete expression");
  CHECK(error_of("Host(a)") == "at offset 5: expected a string argument (`...` or \"...\") in Host");
  CHECK(error_of("Host(`a) ") == "at offset 5: unterminated `string`");
  CHECK(error_of("(Host(`a`)") == "at offset 10: expected ')' to close the group");
  CHECK(error_of("") == "at offset 0: the rule is empty");
  CHECK(error_of("Host(\"a\\q\")") == "at offset 7: unknown escape \\q");
  CHECK(error_of(std::string(200, '(')).find("nesting is too deep") != std::string::npos);
}

TEST_CASE("v3 checks matcher names, argument counts and values") {
  CHECK(error_of("Hots(`a`)") == "unknown HTTP matcher Hots at offset 0");
  CHECK(error_of("Host(`a`, `b`)") ==
        "Host at offset 0 takes 1 argument(s), got 2 (v3 matchers take one value: combine them with ||, or set "
        "ruleSyntax=v2)");
  CHECK(error_of("Headers(`a`, `b`)") ==
        "unknown HTTP matcher Headers at offset 0 (it is Traefik v2 rule syntax: use the v3 matcher, or set "
        "ruleSyntax=v2)");
  CHECK(error_of("Header(`a`)") == "Header at offset 0 takes 2 argument(s), got 1");
  CHECK(error_of("Host()") == "Host at offset 0 has no argument");
  CHECK(error_of("Host(``)") == "Host at offset 0 has an empty argument");
  CHECK(error_of("PathPrefix(`api`)") == "PathPrefix at offset 0: path 'api' does not start with '/'");
  CHECK(error_of("Host(`café.com`)").find("non-ASCII") != std::string::npos);
  CHECK(error_of("ClientIP(`10.0.0.0/33`)") == "ClientIP at offset 0: '10.0.0.0/33' is not an IP address or CIDR range");
  CHECK(error_of("ClientIP(`10.0.0.256`)").find("not an IP address") != std::string::npos);
  CHECK(error_of("pathPrefix(`/a`)").find("unknown HTTP matcher") != std::string::npos);
}

TEST_CASE("v2 syntax takes several values and the v2 matchers") {
  valid("Host(`a.com`, `b.com`) && Headers(`X-A`, `1`, `X-B`, `2`)", RuleKind::Http, RuleSyntax::V2);
  valid("HostHeader(`a`) && Query(`a=1`, `b`) && HostRegexp(`{sub:[a-z]+}.example.com`)", RuleKind::Http,
        RuleSyntax::V2);
  CHECK(error_of("Headers(`X-A`, `1`, `X-B`)", RuleKind::Http, RuleSyntax::V2) ==
        "Headers at offset 0 takes an even number of arguments (key, value pairs), got 3");
  CHECK(error_of("Header(`X-A`, `1`)", RuleKind::Http, RuleSyntax::V2) ==
        "unknown HTTP matcher Header at offset 0 (it is a Traefik v3 matcher; the target is v2)");
}

TEST_CASE("TCP rules") {
  valid("HostSNI(`*`)", RuleKind::Tcp);
  valid("HostSNI(`db.example.com`) && ClientIP(`10.0.0.0/8`) || ALPN(`h2`)", RuleKind::Tcp);
  valid("HostSNI(`a`, `b`)", RuleKind::Tcp, RuleSyntax::V2);
  CHECK(error_of("Host(`a`)", RuleKind::Tcp) ==
        "unknown TCP matcher Host at offset 0 (TCP routers match on HostSNI, HostSNIRegexp, ClientIP or ALPN)");
  CHECK(error_of("HostSNI(`a b`)", RuleKind::Tcp) == "HostSNI at offset 0: 'a b' is not a valid host name or IP");
  CHECK(error_of("ALPN(`acme-tls/1`)", RuleKind::Tcp).find("reserved") != std::string::npos);
}

TEST_CASE("IP and CIDR validation") {
  CHECK(is_ip_or_cidr("10.1.2.3"));
  CHECK(is_ip_or_cidr("10.0.0.0/8"));
  CHECK(is_ip_or_cidr("::1"));
  CHECK(is_ip_or_cidr("fe80::1/64"));
  CHECK(is_ip_or_cidr("2001:db8::ffff:192.0.2.1"));
  CHECK(is_ip_or_cidr("1:2:3:4:5:6:7:8"));
  CHECK_FALSE(is_ip_or_cidr("1:2:3:4:5:6:7:8:9"));
  CHECK_FALSE(is_ip_or_cidr("1::2::3"));
  CHECK_FALSE(is_ip_or_cidr("01.2.3.4"));
  CHECK_FALSE(is_ip_or_cidr("1.2.3"));
  CHECK_FALSE(is_ip_or_cidr("10.0.0.0/"));
  CHECK_FALSE(is_ip_or_cidr("example.com"));
  CHECK_FALSE(is_ip_or_cidr(":1"));
}

TEST_CASE("normalize follows Traefik") {
  CHECK(normalize_name("web_shop") == "web-shop");
  CHECK(normalize_name("__a..b--c__") == "a-b-c");
  CHECK(normalize_name("My.App_v2") == "My-App-v2");
  CHECK(normalize_name("") == "");
}

TEST_CASE("default rule templates") {
  CHECK(render("Host(`{{ normalize .Name }}`)") == "Host(`web-shop`)");
  CHECK(render("Host(`{{ .Name }}.example.com`)") == "Host(`web-shop.example.com`)");
  CHECK(render("Host(`{{ .Name | trimSuffix \"-shop\" | upper }}`)") == "Host(`WEB`)");
  CHECK(render("{{ index .Labels \"host\" | default \"none\" }}", "x", {{"host", "a.example.com"}}) == "a.example.com");
  CHECK(render("{{ index .Labels \"host\" | default \"none\" }}", "x") == "none");
  CHECK(render("{{ replace \"-\" \".\" .Name }}") == "web.shop");
  CHECK(render("{{ normalize (index .Labels \"com.docker.compose.service\") }}", "x",
               {{"com.docker.compose.service", "my_svc"}}) == "my-svc");
  CHECK(render("a  {{- .ContainerName -}}  b {{/* note */}}") == "aweb-1b ");
  CHECK(render("{{ `raw` }}{{ trim \"  x \" }}{{ lower \"AB\" }}{{ trimPrefix \"web-\" .Name }}") == "rawxabshop");

  auto bad = [](std::string_view t) {
    auto r = RuleTemplate::compile(t);
    REQUIRE_FALSE(r);
    return r.error().message();
  };
  CHECK(bad("{{ if .Name }}x{{ end }}").find("unsupported function or keyword 'if'") != std::string::npos);
  CHECK(bad("{{ .Nmae }}").find("unknown field '.Nmae'") != std::string::npos);
  CHECK(bad("Host({{ .Name )").find("unclosed action") != std::string::npos);
  CHECK(bad("Host(`{{ .Name }`)").find("unterminated `string`") != std::string::npos);
  CHECK(bad("{{ lower }}").find("lower takes 1 argument(s), got 0") != std::string::npos);
  CHECK(bad("{{ .Name | .Name }}").find("cannot take a piped argument") != std::string::npos);
  auto t = RuleTemplate::compile("{{ .Labels }}");
  REQUIRE(t);
  CHECK_FALSE(t->execute(TemplateData{"a", "b", nullptr}));
}
