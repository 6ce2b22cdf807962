// SPDX-License-Identifier: Apache-2.0
// DNS writer benchmarks.
//
//  * BM_ConvergeAfterNodeFailure/<strategy>: 500 host names with A records on two ingress nodes
//    (1,000 records) are converged; then one node fails and the writer converges again (500
//    records to delete). Counters: API requests for the failure cycle (`requests`), of which
//    writes, and the seconds the account's request budget (burst 40, 1 request/s) forces the
//    writer to wait (`budget_wait_s`). Strategies: our batch writer with its cached listing
//    (`batch_cached`), the batch writer listing afresh (`batch_cold`), and the per-record strategy
//    — list (Cloudflare's default 100 per page), then one call per change (`per_record`).
//  * BM_Plan/<records>: time to compute the desired state and the plan for N records (steady
//    state: nothing to change) and BM_PlanNodeFailure/<records> (half of them to delete).
//
// Run: build/dev/bench/bench_dns --benchmark_min_time=0.2
#include "dns/plan.hpp"
#include "dns/reconciler.hpp"
#include "io/dns/cloudflare.hpp"
#include "io/dns/cloudflare_fake.hpp"

#include <benchmark/benchmark.h>

#include <memory>

using namespace constellation;
using namespace std::chrono_literals;

namespace {

core::NodeId node_id(int n) {
  std::array<std::uint8_t, 16> b{};
  b[15] = static_cast<std::uint8_t>(n);
  return core::NodeId(b);
}

catalog::Snapshot make_snapshot(int hosts, bool node2_failed, std::uint64_t generation) {
  catalog::Snapshot s;
  s.complete = true;
  s.generation = generation;
  for (int n = 1; n <= 3; ++n) {
    catalog::NodeView v;
    v.entry.node.id = node_id(n);
    v.entry.node.name = "node-" + std::to_string(n);
    if (n <= 2) v.entry.node.roles = {"ingress"};
    v.entry.node.addresses["publicnet"] = "198.51.100." + std::to_string(n);
    v.status = (n == 2 && node2_failed) ? catalog::NodeStatus::Failed : catalog::NodeStatus::Alive;
    s.nodes[node_id(n)] = v;
  }
  auto& insts = s.nodes[node_id(3)].entry.instances;
  for (int h = 0; h < hosts; ++h) {
    catalog::Instance i;
    i.id = "svc-" + std::to_string(h);
    i.health = catalog::Health::Passing;
    i.labels["traefik.http.routers.r.rule"] = "Host(`host-" + std::to_string(h) + ".example.com`)";
    insts.push_back(std::move(i));
  }
  return s;
}

dns::DnsConfig make_config() {
  dns::DnsConfig c;
  c.marker.owner = "bench";
  dns::ZoneConfig z;
  z.name = "example.com";
  z.provider = "cf";
  c.zones.push_back(z);
  c.safety.holder_settle = 0s;
  c.safety.deletion_grace = 0s;
  return c;
}

struct StaticLease final : dns::LeasePort {
  dns::LeaseStatus status(core::Instant) override { return {1, core::Instant::max()}; }
};

// Drives one full reconciler cycle against the provider; returns when it is idle again.
void converge(dns::Reconciler& rec, io::dns::Provider& p, core::ManualClock& clock) {
  for (int guard = 0; guard < 100000; ++guard) {
    dns::Step s = rec.poll(clock.now());
    if (s.kind == dns::Step::Kind::Idle) return;
    if (s.kind == dns::Step::Kind::List) {
      rec.on_listed(s.zone, p.list(s.zone), clock.now());
    } else {
      auto out = p.apply(s.batch, [] { return ok(); });
      rec.on_applied(s.batch.id, std::move(out.result), clock.now(), out.retry_after);
    }
  }
}

void BM_ConvergeAfterNodeFailure(benchmark::State& state, bool batch, bool cached, int per_page) {
  constexpr int kHosts = 500;
  std::uint64_t requests = 0, writes = 0;
  double budget_wait = 0;
  for (auto _ : state) {
    io::dns::FakeCloudflareApi api;
    core::ManualClock clock(core::Instant::from_nanos(1'000'000'000));
    double waited = 0;
    io::dns::CloudflareOptions o;
    o.name = "cf";
    o.api_token = "token";
    o.use_batch = batch;
    o.per_page = per_page;
    o.max_budget_wait = std::chrono::hours(1);
    auto provider = io::dns::make_cloudflare_provider(o, dns::Marker{"bench"}, api.transport(), clock, [&](core::Duration d) {
      waited += std::chrono::duration<double>(d).count();
      clock.advance(d);
    });
    StaticLease lease;
    dns::ReconcilerOptions ro;
    ro.request_timeout = 0s;
    dns::Reconciler rec(make_config(), ro, lease);
    rec.set_provider_caps("cf", provider->caps());
    rec.set_snapshot(std::make_shared<const catalog::Snapshot>(make_snapshot(kHosts, false, 1)));
    converge(rec, *provider, clock);  // 1,000 records exist
    clock.advance(10min);             // the budget refills; the listing cache expires unless refreshed
    if (cached) provider->invalidate(), (void)provider->list("example.com");
    if (!cached) provider->invalidate();
    api.clear_requests();
    const auto before = provider->stats();
    waited = 0;
    rec.set_snapshot(std::make_shared<const catalog::Snapshot>(make_snapshot(kHosts, true, 2)));
    converge(rec, *provider, clock);
    const auto after = provider->stats();
    requests = after.requests - before.requests;
    writes = after.write_requests - before.write_requests;
    budget_wait = waited;
    if (api.records().size() != kHosts) state.SkipWithError("did not converge");
  }
  state.counters["requests"] = static_cast<double>(requests);
  state.counters["writes"] = static_cast<double>(writes);
  state.counters["budget_wait_s"] = budget_wait;
  state.counters["changes"] = kHosts;
}

BENCHMARK_CAPTURE(BM_ConvergeAfterNodeFailure, batch_cached, true, true, 5000)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ConvergeAfterNodeFailure, batch_cold, true, false, 5000)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ConvergeAfterNodeFailure, per_record, false, false, 100)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ConvergeAfterNodeFailure, per_record_big_pages, false, false, 5000)->Iterations(3)->Unit(benchmark::kMillisecond);

// Observed state equal to what the snapshot (with node 2 alive) wants.
std::vector<dns::ObservedRecord> observed_for(int hosts) {
  std::vector<dns::ObservedRecord> out;
  dns::Marker m{"bench"};
  for (int h = 0; h < hosts; ++h) {
    for (int n = 1; n <= 2; ++n) {
      out.push_back({{"host-" + std::to_string(h) + ".example.com", dns::RecordType::A, "198.51.100." + std::to_string(n), 300, false,
                      m.comment(), {}},
                     "id" + std::to_string(h * 2 + n), true});
    }
  }
  return out;
}

void run_plan(benchmark::State& state, bool failure) {
  const int records = static_cast<int>(state.range(0));
  const int hosts = records / 2;
  dns::DnsConfig cfg = make_config();
  catalog::Snapshot snap = make_snapshot(hosts, failure, 1);
  auto observed = observed_for(hosts);
  dns::ProviderCaps caps{.comments = true, .tags = false, .proxied = true, .auto_ttl = true, .min_ttl = 60, .default_ttl = 1, .max_comment = 100};
  std::size_t changes = 0;
  for (auto _ : state) {
    dns::DesiredState d = dns::desired_state(snap, cfg);
    dns::PlanInput in;
    in.config = &cfg;
    in.desired = &d;
    in.observed["example.com"] = observed;
    in.caps["example.com"] = caps;
    in.now = core::Instant::from_nanos(0) + 1h;
    in.snapshot_complete = true;
    dns::DeletionTracker tracker;
    auto plan = dns::compute_plan(in, tracker);
    changes = plan.change_count();
    benchmark::DoNotOptimize(plan);
  }
  state.counters["changes"] = static_cast<double>(changes);
  state.counters["records"] = records;
}

void BM_Plan(benchmark::State& state) { run_plan(state, false); }
void BM_PlanNodeFailure(benchmark::State& state) { run_plan(state, true); }
BENCHMARK(BM_Plan)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PlanNodeFailure)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
