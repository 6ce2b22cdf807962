// SPDX-License-Identifier: Apache-2.0
// The API audit trail: every write request is written as a JSON log line and as a row of the
// `audit` table in <data>/agent.db; GET /v1/audit (admin) reads the table back (docs/api.md).
#include "agent/agent_impl.hpp"
#include "core/json.hpp"

#include <charconv>

namespace constellation {

namespace {

namespace json = core::json;

constexpr std::uint64_t kDefaultLimit = 100;
constexpr std::uint64_t kMaxLimit = 10000;

json::Value audit_json(const io::store::AuditEntry& e) {
  json::Value v;
  v["id"] = static_cast<long long>(e.id);
  v["time"] = core::WallTime{e.unix_nanos}.to_rfc3339();
  v["principal"] = e.principal;
  v["role"] = e.role;
  v["method"] = e.method;
  v["path"] = e.path;
  v["remote_address"] = e.remote_address;
  v["status"] = e.status;
  v["detail"] = e.detail;
  return v;
}

}  // namespace

Result<void> Agent::Impl::open_audit() {
  auto opened = io::store::AuditLog::open(config.data_dir + "/agent.db");
  if (!opened) return opened.error().with_context("audit log");
  audit = std::move(*opened);
  audit_failures =
      &metrics
           .counter("constellation_audit_write_failures_total", "Audit records that could not be stored in agent.db.")
           .get();
  return ok();
}

void Agent::Impl::record_audit(const api::AuditRecord& a) {
  const std::string role = a.authenticated ? std::string(api::role_name(a.role)) : "";
  audit_log.info("api write", {{"principal", json::Value(a.principal)},
                               {"role", json::Value(role)},
                               {"method", json::Value(a.method)},
                               {"path", json::Value(a.path)},
                               {"remote", json::Value(a.remote_address)},
                               {"status", json::Value(a.status)},
                               {"detail", json::Value(a.detail)}});
  if (!audit) return;
  io::store::AuditEntry e;
  e.unix_nanos = a.time.unix_nanos;
  e.principal = a.principal;
  e.role = role;
  e.method = a.method;
  e.path = a.path;
  e.remote_address = a.remote_address;
  e.status = a.status;
  e.detail = a.detail;
  if (auto r = audit->append(e); !r) {
    // The request itself was answered; the failure is counted and logged, never hidden.
    if (audit_failures) audit_failures->inc();
    audit_log.error("audit record not stored", {{"error", json::Value(r.error().message())}});
  }
}

void Agent::Impl::add_audit_routes() {
  // GET /v1/audit?limit=N: the newest N records (default 100, at most 10,000), newest first.
  router->add("GET", "/v1/audit", api::Role::Admin, [this](const api::Call& call) -> Result<io::http::Response> {
    std::uint64_t limit = kDefaultLimit;
    if (auto it = call.request.query.find("limit"); it != call.request.query.end()) {
      const std::string& s = it->second;
      auto r = std::from_chars(s.data(), s.data() + s.size(), limit);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size() || limit == 0 || limit > kMaxLimit) {
        return Error(Code::InvalidArgument, "query parameter limit: expected an integer from 1 to " +
                                                std::to_string(kMaxLimit) + ", got '" + s + "'");
      }
    }
    if (!audit) return Error(Code::Unavailable, "the audit log is not open");
    CST_TRY_ASSIGN(auto rows, audit->recent(static_cast<std::size_t>(limit)));
    json::Value out = json::Value::array();
    for (const auto& e : rows) out.push_back(audit_json(e));
    return api::json_response(out);
  });
}

}  // namespace constellation
