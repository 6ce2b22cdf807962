// SPDX-License-Identifier: Apache-2.0
// constellation::dns::Engine: config → providers; run = reconciler cycle driven synchronously.
#include <constellation/dns.hpp>

#include "core/json.hpp"
#include "core/time.hpp"
#include "dns/name.hpp"
#include "dns/reconciler.hpp"
#include "dns/rule.hpp"
#include "dns/snapshot_json.hpp"
#include "io/dns/provider.hpp"

#include <map>
#include <mutex>

namespace constellation::dns {

namespace json = core::json;
using io::dns::Provider;

namespace {

class FixedLease final : public LeasePort {
 public:
  std::function<std::uint64_t()> fence;
  std::uint64_t token = 1;
  LeaseStatus status(core::Instant) override {
    const std::uint64_t t = fence ? fence() : token;
    LeaseStatus s;
    if (t != 0) s.token = t;
    s.valid_until = core::Instant::max();
    return s;
  }
};

Result<void> import_state(const std::string& text, DeletionTracker& tracker, core::Instant now, core::WallTime wall) {
  if (text.empty()) return ok();
  auto doc = json::parse(text);
  if (!doc) return Error(Code::InvalidArgument, "dns state: " + doc.error().message());
  CST_TRY_ASSIGN(const json::Array* pending, json::get_array(*doc, "pending", "state"));
  for (std::size_t i = 0; i < pending->size(); ++i) {
    const std::string where = "state.pending[" + std::to_string(i) + "]";
    const auto& p = (*pending)[i];
    CST_TRY_ASSIGN(std::string zone, json::get_string(p, "zone", where));
    CST_TRY_ASSIGN(std::string name, json::get_string(p, "name", where));
    CST_TRY_ASSIGN(std::int64_t since_ms, json::get_int(p, "since_unix_ms", where));
    const std::int64_t age_ms = wall.unix_nanos / 1000000 - since_ms;
    // A since in the future (clock stepped back) counts from now: never shortens the grace.
    tracker.entries()[{zone, name}] = age_ms > 0 ? now - std::chrono::milliseconds(age_ms) : now;
  }
  return ok();
}

std::string export_state(DeletionTracker& tracker, core::Instant now, core::WallTime wall) {
  json::Value root = json::Value::object();
  root["version"] = 1;
  json::Value pending = json::Value::array();
  for (const auto& [key, since] : tracker.entries()) {
    json::Value p = json::Value::object();
    p["zone"] = key.first;
    p["name"] = key.second;
    p["since_unix_ms"] = static_cast<std::int64_t>(wall.unix_nanos / 1000000 -
                                                   std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count());
    pending.push_back(std::move(p));
  }
  root["pending"] = std::move(pending);
  return json::serialize(root, {.sort_keys = true});
}

}  // namespace

struct Engine::Impl {
  DnsConfig config;
  std::map<std::string, std::unique_ptr<Provider>> providers;
  std::mutex mu;
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::open(std::string_view config_json) {
  auto doc = json::parse(config_json);
  if (!doc) return Error(Code::InvalidArgument, "dns config: " + doc.error().message());
  const json::Value* root = &*doc;
  if (const json::Value* inner = doc->find("dns"); inner && doc->as_object().size() == 1) root = inner;
  auto impl = std::make_unique<Impl>();
  CST_TRY_ASSIGN(impl->config, parse_config(*root));
  const json::Value* providers = root->find("providers");
  if (!providers) return Error(Code::InvalidArgument, "dns.providers: required");
  CST_TRY_ASSIGN(auto list, io::dns::make_providers(*providers, impl->config.marker));
  for (auto& p : list) impl->providers[p->name()] = std::move(p);
  for (std::size_t i = 0; i < impl->config.zones.size(); ++i) {
    const auto& z = impl->config.zones[i];
    if (!impl->providers.count(z.provider)) {
      return Error(Code::InvalidArgument, "dns.zones[" + std::to_string(i) + "].provider: no provider named '" + z.provider + "'");
    }
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Result<RunReport> Engine::run(std::string_view snapshot_json, const RunOptions& options) {
  std::lock_guard lock(impl_->mu);
  CST_TRY_ASSIGN(catalog::Snapshot snap, parse_snapshot(snapshot_json));
  const core::Clock& clock = core::SystemClock::instance();
  DnsConfig cfg = impl_->config;
  cfg.safety.holder_settle = options.settle;
  FixedLease lease;
  lease.fence = options.fence;
  lease.token = options.fencing_token;
  ReconcilerOptions ro;
  ro.request_timeout = std::chrono::seconds(0);  // the lease here is the caller's; no expiry to respect
  Reconciler rec(cfg, ro, lease);
  for (const auto& [name, p] : impl_->providers) rec.set_provider_caps(name, p->caps());
  rec.set_snapshot(std::make_shared<const catalog::Snapshot>(std::move(snap)));

  std::uint64_t requests_before = 0;
  for (const auto& [name, p] : impl_->providers) requests_before += p->stats().requests;

  RunReport report;
  bool state_loaded = false;
  core::Instant now = clock.now();
  for (int guard = 0; guard < 1000000; ++guard) {
    now = clock.now();
    Step step = rec.poll(now);
    if (!state_loaded && rec.token()) {
      CST_TRY(import_state(options.state_json, rec.tracker(), now, clock.wall_now()));
      state_loaded = true;
    }
    if (step.kind == Step::Kind::Idle) break;
    // One cycle per run: after an error the reconciler would start over; a one-shot run stops.
    if (step.kind == Step::Kind::List && rec.stats().cycles > 1) break;
    Provider& provider = *impl_->providers.at(step.provider);
    if (step.kind == Step::Kind::List) {
      rec.on_listed(step.zone, provider.list(step.zone), clock.now());
      continue;
    }
    if (!options.apply) break;  // dry run: the plan is made, nothing is written
    const std::uint64_t token = step.batch.token;
    auto fence_check = [&]() -> Result<void> {
      auto s = lease.status(clock.now());
      if (!s.token || *s.token != token) return Error(Code::NotLeader, "the dns lease was lost (token " + std::to_string(token) + ")");
      return ok();
    };
    auto out = provider.apply(step.batch, fence_check);
    if (out.result) report.applied += step.batch.changes.size();
    rec.on_applied(step.batch.id, std::move(out.result), clock.now(), out.retry_after);
  }
  if (!rec.last_abort().empty()) {
    report.aborted = true;
    report.abort_reason = rec.last_abort();
  }
  if (!rec.token()) {
    report.aborted = true;
    report.abort_reason = "not the holder of the dns lease";
  }
  if (const auto& plan = rec.last_plan()) {
    report.plan_text = format_plan(*plan, now);
    report.plan_json = json::serialize(plan_to_json(*plan, now), {.sort_keys = true});
    report.creates = plan->count(ChangeKind::Create);
    report.updates = plan->count(ChangeKind::Update);
    report.deletes = plan->count(ChangeKind::Delete);
    report.held = plan->held_count();
    for (const auto& z : plan->zones) report.conflicts += z.conflicts.size();
  }
  report.state_json = export_state(rec.tracker(), now, clock.wall_now());
  std::uint64_t requests_after = 0;
  for (const auto& [name, p] : impl_->providers) requests_after += p->stats().requests;
  report.requests = requests_after - requests_before;
  return report;
}

Result<std::string> normalize_hostname(std::string_view name) { return normalize_name(name); }

Result<std::vector<std::string>> hostnames_from_rule(std::string_view rule) { return hosts_from_rule(rule); }

}  // namespace constellation::dns
