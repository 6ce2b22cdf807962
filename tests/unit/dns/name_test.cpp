// SPDX-License-Identifier: Apache-2.0
#include "dns/name.hpp"
#include "dns/record.hpp"
#include "dns/rule.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::dns;

namespace {
std::string enc(std::u32string s) { return punycode_encode(s).value(); }
}  // namespace

TEST_CASE("punycode: RFC 3492 section 7.1 samples encode and decode") {
  struct Sample { std::u32string unicode; const char* puny; };
  const Sample samples[] = {
      {U"\u0644\u064A\u0647\u0645\u0627\u0628\u062A\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064A\u061F", "egbpdaj6bu4bxfgehfvwxn"},
      {U"\u4ED6\u4EEC\u4E3A\u4EC0\u4E48\u4E0D\u8BF4\u4E2D\u6587", "ihqwcrb4cv8a8dqg056pqjye"},
      {U"\u0033\u5E74\u0042\u7D44\u91D1\u516B\u5148\u751F", "3B-ww4c5e180e575a65lsy2b"},
      {U"\u0050\u0061\u0066\u0065\u0072\u0020\u007A\u0062\u0061\u0020\u0062\u0065\u0073\u0068\u0077\u0061\u0020\u0065\u0073", "Pafer zba beshwa es-"},
      {U"\u305D\u306E\u30B9\u30D4\u30FC\u30C9\u3067", "d9juau41awczczp"},
      {U"b\u00FCcher", "bcher-kva"},
      {U"m\u00FCnchen", "mnchen-3ya"},
  };
  for (const auto& s : samples) {
    CHECK(enc(s.unicode) == s.puny);
    auto back = punycode_decode(s.puny);
    REQUIRE(back);
    CHECK(*back == s.unicode);
  }
}

TEST_CASE("punycode: malformed input is rejected") {
  CHECK_FALSE(punycode_decode("a!b"));          // bad digit
  CHECK_FALSE(punycode_decode("99999999999"));  // overflow
  CHECK_FALSE(punycode_decode("bcher-kv"));     // truncated / decodes past Unicode bounds
  CHECK(punycode_decode("").value().empty());
}

TEST_CASE("normalize_name: case, trailing dot, IDNA, wildcard, limits") {
  CHECK(normalize_name("App.Example.COM.").value() == "app.example.com");
  CHECK(normalize_name(" api.example.com ").value() == "api.example.com");
  CHECK(normalize_name("B\xC3\x9C" "cher.example").value() == "xn--bcher-kva.example");  // "BÜcher": Ü lower-cased
  CHECK(normalize_name("xn--bcher-kva.example").value() == "xn--bcher-kva.example");
  CHECK(normalize_name("*.apps.example.com").value() == "*.apps.example.com");
  CHECK(normalize_name("_acme.example.com").value() == "_acme.example.com");
  CHECK(display_name("xn--bcher-kva.example") == "b\xC3\xBC" "cher.example");
  CHECK_FALSE(normalize_name(""));
  CHECK_FALSE(normalize_name("a..b"));
  CHECK_FALSE(normalize_name("-a.example"));
  CHECK_FALSE(normalize_name("a b.example"));
  CHECK_FALSE(normalize_name("a.*.example"));
  CHECK_FALSE(normalize_name(std::string(64, 'a') + ".example"));
  CHECK_FALSE(normalize_name("xn--a!b.example"));
  CHECK_FALSE(normalize_name("\xFF.example"));
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'a') + ".";
  CHECK_FALSE(normalize_name(long_name + "com"));
  CHECK(name_in_zone("a.b.example.com", "example.com"));
  CHECK(name_in_zone("example.com", "example.com"));
  CHECK_FALSE(name_in_zone("badexample.com", "example.com"));
}

TEST_CASE("record normalisation: content, proxied TTL, comments, tags") {
  ProviderCaps cf{.comments = true, .tags = true, .proxied = true, .auto_ttl = true, .min_ttl = 60, .default_ttl = 300, .max_comment = 100};
  ProviderCaps plain{};
  Record r{"App.Example.com.", RecordType::AAAA, "2001:DB8:0:0:0:0:0:1", 300, true, "x\ny", {"b:2", "Owner:x", "b:2"}};
  auto n = normalize_record(r, cf).value();
  CHECK(n.name == "app.example.com");
  CHECK(n.content == "2001:db8::1");
  CHECK(n.ttl == 1);  // proxied ⇒ automatic TTL, as Cloudflare returns it
  CHECK(n.comment == "x y");
  CHECK(n.tags == std::vector<std::string>{"b:2", "owner:x"});
  auto p = normalize_record(r, plain).value();
  CHECK_FALSE(p.proxied);
  CHECK(p.ttl == 300);
  CHECK(p.comment.empty());
  CHECK(p.tags.empty());
  Record small{"a.example.com", RecordType::A, "192.0.2.1", 5, false, {}, {}};
  CHECK(normalize_record(small, cf).value().ttl == 60);
  Record cname{"a.example.com", RecordType::CNAME, "Target.Example.NET.", 1, false, {}, {}};
  auto c = normalize_record(cname, plain).value();
  CHECK(c.content == "target.example.net");
  CHECK(c.ttl == 300);  // "automatic" where the provider has none
  CHECK_FALSE(normalize_record(Record{"a.example.com", RecordType::A, "192.0.2.256", 60, false, {}, {}}, plain));
  CHECK(canonical_ipv6("::ffff:192.0.2.1").value() == "::ffff:c000:201");
  CHECK(canonical_ipv6("2001:db8:0:1:0:0:0:1").value() == "2001:db8:0:1::1");
  CHECK(canonical_ipv6("2001:0:0:1:0:0:0:1").value() == "2001:0:0:1::1");
  CHECK_FALSE(canonical_ipv6("1::2::3"));
  CHECK_FALSE(canonical_ipv6("1:2:3:4:5:6:7:8:9"));
}

TEST_CASE("marker: comment, tag and TXT registry") {
  Marker m{"prod-eu"};
  CHECK(m.validate());
  CHECK_FALSE(Marker{"has space"}.validate());
  CHECK(m.owns("managed-by=constellation owner=prod-eu", {}));
  CHECK(m.owns("hand-written", {"constellation-owner:prod-eu"}));
  CHECK_FALSE(m.owns("managed-by=constellation owner=other", {"constellation-owner:other"}));
  CHECK(Marker::registry_name("app.example.com") == "_constellation.app.example.com");
  CHECK(Marker::registry_name("*.example.com") == "_constellation-wildcard.example.com");
  CHECK(m.parse_registry_entry(m.registry_entry(RecordType::AAAA)) == RecordType::AAAA);
  CHECK_FALSE(m.parse_registry_entry(Marker{"other"}.registry_entry(RecordType::A)));

  std::vector<ObservedRecord> listing = {
      {{"app.example.com", RecordType::A, "192.0.2.1", 60, false, {}, {}}, "", false},
      {{"app.example.com", RecordType::AAAA, "2001:db8::1", 60, false, {}, {}}, "", false},
      {{"_constellation.app.example.com", RecordType::TXT, m.registry_entry(RecordType::A), 60, false, {}, {}}, "", false},
      {{"other.example.com", RecordType::A, "192.0.2.9", 60, false, {}, {}}, "", false},
  };
  std::vector<ObservedRecord> reg;
  auto out = apply_registry(m, listing, &reg);
  REQUIRE(out.size() == 3);
  CHECK(out[0].owned);        // A claimed by the registry
  CHECK_FALSE(out[1].owned);  // AAAA not claimed
  CHECK_FALSE(out[2].owned);
  CHECK(reg.size() == 1);
}

TEST_CASE("Traefik rules: every host form, v2 and v3") {
  auto hosts = [](std::string_view rule) { return hosts_from_rule(rule).value(); };
  using V = std::vector<std::string>;
  CHECK(hosts("Host(`a.example.com`)") == V{"a.example.com"});
  CHECK(hosts("Host(`a.example.com`, `b.example.com`)") == V{"a.example.com", "b.example.com"});  // v2
  CHECK(hosts("Host(`a.example.com`) || Host(`b.example.com`)") == V{"a.example.com", "b.example.com"});  // v3
  CHECK(hosts("Host(\"q.example.com\") && PathPrefix(`/api`)") == V{"q.example.com"});
  CHECK(hosts("(Host(`a.example.com`) || Host(`b.example.com`)) && !Path(`/x`)") == V{"a.example.com", "b.example.com"});
  CHECK(hosts("HostRegexp(`{sub:[a-z]+}.example.com`)").empty());
  CHECK(hosts("HostRegexp(`^.+\\.example\\.com$`) || Host(`c.example.com`)") == V{"c.example.com"});
  CHECK(hosts("!Host(`not.example.com`) && PathPrefix(`/`)").empty());
  CHECK(hosts("!(!Host(`twice.example.com`))") == V{"twice.example.com"});
  CHECK(hosts("HostHeader(`hh.example.com`)") == V{"hh.example.com"});
  CHECK(hosts("host(`lower.example.com`)") == V{"lower.example.com"});
  CHECK(hosts("HostSNI(`tcp.example.com`)") == V{"tcp.example.com"});
  CHECK(hosts("HostSNI(`*`)").empty());
  CHECK(hosts("Host(`a.example.com`) || Host(`a.example.com`)") == V{"a.example.com"});
  CHECK(hosts("Header(`X-Env`, `prod`) && Host('s.example.com')") == V{"s.example.com"});
  CHECK_FALSE(hosts_from_rule("Host(`a.example.com`"));
  CHECK_FALSE(hosts_from_rule("Host(`a.example.com)"));
  CHECK_FALSE(hosts_from_rule("Host()"));
  CHECK_FALSE(hosts_from_rule("Host(`a`) ||"));
  CHECK_FALSE(hosts_from_rule("Host(`a`) garbage"));
  CHECK_FALSE(hosts_from_rule(std::string(200, '(') + "Host(`a`)" + std::string(200, ')')));
}
