// SPDX-License-Identifier: Apache-2.0
// io/dns without sockets: the Cloudflare provider against the in-process fake API (pagination,
// batching, cache, budget, 429 and 5xx handling, fencing), rrset building with the TXT registry,
// PowerDNS content forms, TSIG signing and base64.
#include "dns/wire.hpp"
#include "io/dns/cloudflare.hpp"
#include "io/dns/cloudflare_fake.hpp"
#include "io/dns/cloudflare_json.hpp"
#include "io/dns/powerdns.hpp"
#include "io/dns/rrset.hpp"
#include "io/dns/tsig.hpp"
#include "io/dns/worker.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::io::dns;
using constellation::dns::Change;
using constellation::dns::ChangeKind;
using constellation::dns::Record;
using constellation::dns::RecordType;
using namespace std::chrono_literals;

namespace {

struct Harness {
  FakeCloudflareApi api;
  core::ManualClock clock{core::Instant::from_nanos(1'000'000'000)};
  std::vector<core::Duration> sleeps;
  dns::Marker marker{"unit"};
  std::unique_ptr<Provider> provider;

  explicit Harness(CloudflareOptions o = {}) {
    o.api_token = "token";
    provider = make_cloudflare_provider(o, marker, api.transport(), clock, [this](core::Duration d) {
      sleeps.push_back(d);
      clock.advance(d);
    });
  }
  Record rec(std::string name, std::string ip) {
    return Record{std::move(name), RecordType::A, std::move(ip), 300, false, marker.comment(), {}};
  }
  dns::Batch creates(int n) {
    dns::Batch b;
    b.zone = "example.com";
    b.token = 1;
    for (int i = 0; i < n; ++i) b.changes.push_back(Change{ChangeKind::Create, std::nullopt, rec("h" + std::to_string(i) + ".example.com", "192.0.2.1"), ""});
    return b;
  }
};

const FenceCheck kHolder = [] { return ok(); };

}  // namespace

TEST_CASE("cloudflare: zone lookup once, paginated listing, ownership from the comment") {
  CloudflareOptions o;
  o.per_page = 10;
  Harness h(o);
  for (int i = 0; i < 25; ++i) h.api.add({"", "A", "n" + std::to_string(i) + ".example.com", "192.0.2.9", i == 0 ? h.marker.comment() : "", {}, 300, false});
  h.api.add({"", "MX", "example.com", "mx.example.com", "", {}, 300, false});
  auto list = h.provider->list("example.com");
  REQUIRE(list);
  CHECK(list->size() == 26);
  CHECK(std::count_if(list->begin(), list->end(), [](const auto& r) { return r.owned; }) == 1);
  auto reqs = h.api.requests();
  REQUIRE(reqs.size() == 4);  // zone lookup + 3 pages
  CHECK(reqs[0].find("/zones?name=example.com") != std::string::npos);
  CHECK(reqs[3].find("page=3") != std::string::npos);
  // Cached: no request within the cache TTL; listed again after it.
  h.api.clear_requests();
  CHECK(h.provider->list("example.com")->size() == 26);
  CHECK(h.api.request_count() == 0);
  CHECK(h.provider->stats().cache_hits == 1);
  h.clock.advance(6min);
  CHECK(h.provider->list("example.com"));
  CHECK(h.api.request_count() == 3);
}

TEST_CASE("cloudflare: batches are chunked by max_batch; answers update the cached listing") {
  CloudflareOptions o;
  o.max_batch = 3;
  Harness h(o);
  REQUIRE(h.provider->list("example.com"));
  h.api.clear_requests();
  auto out = h.provider->apply(h.creates(7), kHolder);
  REQUIRE(out.result);
  CHECK(h.api.request_count() == 3);  // 3 + 3 + 1
  CHECK(h.api.records().size() == 7);
  h.api.clear_requests();
  auto list = h.provider->list("example.com");
  CHECK(list->size() == 7);
  CHECK(h.api.request_count() == 0);  // from the updated cache
  CHECK(std::all_of(list->begin(), list->end(), [](const auto& r) { return r.owned && !r.id.empty(); }));
}

TEST_CASE("cloudflare: the fence is checked before every write request") {
  CloudflareOptions o;
  o.max_batch = 2;
  Harness h(o);
  REQUIRE(h.provider->list("example.com"));
  h.api.clear_requests();
  int checks = 0;
  auto out = h.provider->apply(h.creates(6), [&]() -> Result<void> {
    if (++checks > 1) return Error(Code::NotLeader, "lease lost");
    return ok();
  });
  CHECK_FALSE(out.result);
  CHECK(out.result.error().code() == Code::NotLeader);
  CHECK(h.api.request_count() == 1);
  CHECK(h.api.records().size() == 2);
}

TEST_CASE("cloudflare: 429 pauses the account's budget for retry-after; 5xx GETs are retried") {
  Harness h;
  REQUIRE(h.provider->list("example.com"));
  h.api.inject({"POST", "/batch", 429, R"({"success":false,"errors":[{"code":10429,"message":"Rate limited"}]})", {{"retry-after", "20"}}});
  auto out = h.provider->apply(h.creates(1), kHolder);
  REQUIRE_FALSE(out.result);
  CHECK(out.result.error().code() == Code::Unavailable);
  REQUIRE(out.retry_after);
  CHECK(*out.retry_after == 20s);
  CHECK(h.provider->stats().rate_limited == 1);
  // The next request waits out the pause (the sleeper is the injected clock).
  h.sleeps.clear();
  out = h.provider->apply(h.creates(1), kHolder);
  CHECK(out.result);
  REQUIRE_FALSE(h.sleeps.empty());
  CHECK(h.sleeps.front() == 20s);
  // A 503 on a listing is retried with backoff.
  h.provider->invalidate();
  h.api.inject({"GET", "/dns_records", 503, "oops", {}});
  h.sleeps.clear();
  CHECK(h.provider->list("example.com"));
  CHECK(h.sleeps == std::vector<core::Duration>{500ms});
  // 401 is permission denied, with Cloudflare's message.
  h.provider->invalidate();
  h.api.inject({"GET", "/dns_records", 403, R"({"success":false,"errors":[{"code":9109,"message":"Invalid access token"}],"messages":[],"result":null})", {}});
  auto denied = h.provider->list("example.com");
  REQUIRE_FALSE(denied);
  CHECK(denied.error().code() == Code::PermissionDenied);
  CHECK(denied.error().message().find("9109 Invalid access token") != std::string::npos);
}

TEST_CASE("cloudflare: the token bucket keeps a burst well under 1,200 requests per 5 minutes") {
  CloudflareOptions o;
  o.bucket_capacity = 5;
  o.bucket_per_second = 1;
  o.use_batch = false;
  Harness h(o);
  REQUIRE(h.provider->list("example.com"));  // 2 tokens
  core::Instant t0 = h.clock.now();
  REQUIRE(h.provider->apply(h.creates(13), kHolder).result);  // 13 requests: 3 from the burst, 10 paced
  CHECK(h.clock.now() - t0 >= 10s);
  CHECK(h.api.request_count() == 15);
}

TEST_CASE("cloudflare JSON: error mapping and malformed answers") {
  CHECK(cloudflare::response_error(400, R"({"success":false,"errors":[{"code":81053,"message":"exists"}]})", "x").code() == Code::Conflict);
  CHECK(cloudflare::response_error(429, "", "x").code() == Code::Unavailable);
  CHECK(cloudflare::response_error(502, "<html>", "x").code() == Code::Unavailable);
  CHECK(cloudflare::response_error(404, "{}", "x").code() == Code::NotFound);
  dns::Marker m{"unit"};
  CHECK_FALSE(cloudflare::parse_list("[]", m));
  CHECK_FALSE(cloudflare::parse_list(R"({"success":true,"result":{}})", m));
  CHECK_FALSE(cloudflare::parse_list(R"({"success":true,"result":[{"type":"A"}]})", m));
  CHECK_FALSE(cloudflare::parse_zone_id(R"({"success":true,"result":[]})", "example.com"));
  auto body = cloudflare::record_body(Record{"a.example.com", RecordType::TXT, "v", 60, true, "c", {"t:1"}}, true);
  CHECK(core::json::serialize(body, {.sort_keys = true}) == R"({"comment":"c","content":"v","name":"a.example.com","tags":["t:1"],"ttl":60,"type":"TXT"})");
}

TEST_CASE("rrset updates: final sets and the TXT registry, other owners' entries kept") {
  dns::Marker m{"unit"};
  std::vector<dns::ObservedRecord> listing = {
      {{"a.example.test", RecordType::A, "192.0.2.1", 60, false, {}, {}}, {}, true},
      {{"_constellation.a.example.test", RecordType::TXT, m.registry_entry(RecordType::A), 60, false, {}, {}}, {}, false},
      {{"_constellation.a.example.test", RecordType::TXT, "heritage=constellation,owner=other,type=TXT", 60, false, {}, {}}, {}, false},
  };
  std::vector<Change> changes = {
      {ChangeKind::Create, std::nullopt, Record{"a.example.test", RecordType::A, "192.0.2.2", 60, false, {}, {}}, ""},
      {ChangeKind::Create, std::nullopt, Record{"b.example.test", RecordType::AAAA, "2001:db8::1", 120, false, {}, {}}, ""},
  };
  auto u = rrset_updates(changes, listing, m);
  REQUIRE(u.size() == 3);
  CHECK(u[0] == RrsetUpdate{"a.example.test", RecordType::A, 60, {"192.0.2.1", "192.0.2.2"}});
  CHECK(u[1] == RrsetUpdate{"b.example.test", RecordType::AAAA, 120, {"2001:db8::1"}});
  CHECK(u[2].name == "_constellation.b.example.test");
  CHECK(u[2].contents == std::vector<std::string>{m.registry_entry(RecordType::AAAA)});
  // Deleting the last A record removes our registry entry but keeps the other owner's.
  std::vector<Change> del = {{ChangeKind::Delete, listing[0], std::nullopt, ""}};
  u = rrset_updates(del, listing, m);
  REQUIRE(u.size() == 2);
  CHECK(u[0].contents.empty());
  CHECK(u[1].contents == std::vector<std::string>{"heritage=constellation,owner=other,type=TXT"});
  apply_rrset_updates(listing, u);
  CHECK(listing.size() == 1);
}

TEST_CASE("powerdns content forms") {
  CHECK(powerdns_content(RecordType::CNAME, "a.example.test") == "a.example.test.");
  CHECK(powerdns_content(RecordType::TXT, R"(say "hi"\)") == R"("say \"hi\"\\")");
  CHECK(from_powerdns_content(RecordType::TXT, R"("say \"hi\"\\")") == R"(say "hi"\)");
  CHECK(from_powerdns_content(RecordType::TXT, R"("a" "b")") == "ab");
  CHECK(from_powerdns_content(RecordType::CNAME, "x.example.test.") == "x.example.test");
}

TEST_CASE("tsig: signing appends a verifiable record; base64") {
  CHECK(base64_decode("aGVsbG8=").value() == core::Bytes{'h', 'e', 'l', 'l', 'o'});
  CHECK(base64_decode("aGk=").value() == core::Bytes{'h', 'i'});
  CHECK_FALSE(base64_decode("abc"));
  TsigKey key{"upd", core::Bytes(32, 0x42)};
  dns::wire::Message m;
  m.id = 77;
  m.opcode = dns::wire::kOpUpdate;
  m.questions.push_back({"example.test", dns::wire::kTypeSOA, dns::wire::kClassIN});
  auto bytes = dns::wire::encode(m).value();
  auto mac = tsig_sign(bytes, key, 1'700'000'000).value();
  CHECK(mac.size() == 32);
  auto signed_msg = dns::wire::decode(bytes).value();
  REQUIRE(signed_msg.additional.size() == 1);
  CHECK(signed_msg.additional[0].type == dns::wire::kTypeTSIG);
  CHECK(signed_msg.additional[0].name == "upd");
  // An unsigned answer is refused.
  TsigVerifier v(key, mac);
  auto answer = dns::wire::encode(m).value();
  CHECK(v.verify(answer, 1'700'000'000).error().code() == Code::PermissionDenied);
}

TEST_CASE("provider worker: calls run off the loop, results come back through post") {
  // The "control loop" is this thread draining a queue the worker posts to.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> loop;
  auto post = [&](std::function<void()> fn) {
    std::lock_guard lock(mu);
    loop.push_back(std::move(fn));
    cv.notify_one();
  };
  auto drain_one = [&] {
    std::function<void()> fn;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !loop.empty(); });
      fn = std::move(loop.front());
      loop.pop_front();
    }
    fn();
  };
  Harness h;
  ProviderWorker worker(post);
  const auto loop_thread = std::this_thread::get_id();
  std::thread::id listed_on;
  std::size_t listed = 99;
  worker.list(*h.provider, "example.com", [&](Result<std::vector<dns::ObservedRecord>> r) {
    listed_on = std::this_thread::get_id();
    listed = r->size();
  });
  drain_one();
  CHECK(listed == 0);
  CHECK(listed_on == loop_thread);
  std::thread::id fenced_on;
  bool applied = false;
  worker.apply(*h.provider, h.creates(2), [&]() -> Result<void> {
    fenced_on = std::this_thread::get_id();
    return ok();
  }, [&](ApplyOutcome o) { applied = o.result.has_value(); });
  drain_one();
  CHECK(applied);
  CHECK(fenced_on != loop_thread);
  CHECK(h.api.records().size() == 2);
  worker.stop();
  worker.list(*h.provider, "example.com", [&](auto) { FAIL("ran after stop"); });
  CHECK(worker.pending() == 0);
}
