// SPDX-License-Identifier: Apache-2.0
#include "sim/linearizability.hpp"

#include "core/json.hpp"

#include <algorithm>
#include <map>
#include <unordered_set>

namespace constellation::sim {

namespace {

// The sequential specification of one key: a register with revisions, or a lease.
struct State {
  // KV
  bool exists = false;
  std::string value;
  // The revision of the last write, or — when `revision_unknown` — a lower bound: a write whose
  // outcome the client never learned may have applied at any later revision.
  std::uint64_t revision = 0;
  bool revision_unknown = false;
  // Lease
  std::string holder;
  std::uint64_t token = 0;
  std::uint64_t expiry = 0;
  std::uint64_t lock_until = 0;  // expiry + lock-delay (0 after an explicit release)
  std::uint64_t time = 0;        // latest cluster time seen: lease commands apply in time order

  bool operator==(const State&) const = default;
  std::size_t hash() const {
    std::size_t h = std::hash<std::string>{}(value) ^ (std::hash<std::string>{}(holder) << 1);
    for (std::uint64_t v : {revision, token, expiry, lock_until, time, static_cast<std::uint64_t>(exists),
                            static_cast<std::uint64_t>(revision_unknown)}) {
      h = h * 1000003u ^ std::hash<std::uint64_t>{}(v);
    }
    return h;
  }
};

bool held_by_other(const State& s, const std::string& holder, std::uint64_t at) {
  return !s.holder.empty() && s.holder != holder && at < s.expiry;
}

// Applies op to s. Returns false if the op's recorded outcome is impossible in state s.
bool step(const State& s, const HistoryOp& op, State& out) {
  out = s;
  using K = HistoryOp::Kind;
  if (!op.known) {
    // Unknown outcome. Its return is +infinity, so "never applied" is the search placing it
    // last. Placed earlier, a put takes effect at some revision above the current one, and a
    // release that finds its holder and token frees the lease (a real client whose leader died
    // mid-request cannot tell whether it applied). Other kinds are modelled as having no effect
    // (the simulator resolves its own from the log).
    if (op.kind == K::Put) {
      out.exists = true;
      out.value = op.value;
      out.revision_unknown = true;
    } else if (op.kind == K::Release && !s.holder.empty() && s.holder == op.value && s.token == op.token) {
      out.holder.clear();
      out.lock_until = 0;
    }
    return true;
  }
  switch (op.kind) {
    case K::Put:
      if (!op.ok) return true;  // a refused put changes nothing
      if (op.revision <= s.revision) return false;
      out.exists = true;
      out.value = op.value;
      out.revision = op.revision;
      out.revision_unknown = false;
      return true;
    case K::Cas: {
      if (s.revision_unknown) {
        // The current revision is only bounded below: a refusal fits, and so does a success
        // that names a revision above the bound.
        if (!op.ok) return true;
        if (op.expected <= s.revision || op.revision <= op.expected) return false;
      } else {
        const std::uint64_t current = s.exists ? s.revision : 0;
        if (!op.ok) return current != op.expected;
        if (current != op.expected || op.revision <= s.revision) return false;
      }
      out.exists = true;
      out.value = op.value;
      out.revision = op.revision;
      out.revision_unknown = false;
      return true;
    }
    case K::Delete:
      if (!op.ok) return !s.exists;
      if (!s.exists || op.revision <= s.revision) return false;
      out.exists = false;
      out.value.clear();
      out.revision = op.revision;
      out.revision_unknown = false;
      return true;
    case K::Get:
      if (!op.ok) return true;  // a failed read observed nothing
      if (op.found != s.exists) return false;
      if (!op.found) return true;
      if (op.out_value != s.value) return false;
      if (s.revision_unknown) {
        if (op.revision <= s.revision) return false;
        out.revision = op.revision;  // the read pins the unknown write's revision
        out.revision_unknown = false;
        return true;
      }
      return op.revision == s.revision;
    case K::Acquire: {
      // A refusal whose cluster time is unknown (a real client sees only the error) constrains
      // nothing; successes always carry their time.
      if (!op.ok && op.applied_at == 0) return true;
      if (op.applied_at < s.time) return false;
      out.time = op.applied_at;
      const bool same_holder_renewal = s.holder == op.value && op.applied_at < s.expiry;
      const bool blocked = held_by_other(s, op.value, op.applied_at) ||
                           (!same_holder_renewal && op.applied_at < s.lock_until && op.applied_at >= s.expiry);
      if (!op.ok) return blocked;
      if (blocked) return false;
      if (same_holder_renewal) {
        if (op.revision != s.token) return false;
      } else if (op.revision <= s.token) {
        return false;  // fencing tokens strictly increase
      }
      out.holder = op.value;
      out.token = op.revision;
      out.expiry = op.expiry;
      // A renewal by re-acquiring keeps the lock-delay of the original grant.
      out.lock_until = op.expiry + (same_holder_renewal ? s.lock_until - s.expiry : op.lock_delay);
      return op.expiry == op.applied_at + op.ttl;
    }
    case K::Renew:
    case K::Release: {
      if (!op.ok && op.applied_at == 0) return true;
      if (op.ok && op.applied_at == 0) {
        // A success of unknown time (a real client's release): it held, and now nobody does.
        if (s.holder != op.value || s.token != op.token) return false;
        if (op.kind == K::Release) {
          out.holder.clear();
          out.lock_until = 0;
        }
        return op.kind == K::Release;
      }
      if (op.applied_at < s.time) return false;
      out.time = op.applied_at;
      const bool valid = s.holder == op.value && s.token == op.token && op.applied_at < s.expiry;
      if (!op.ok) return !valid;
      if (!valid) return false;
      if (op.kind == K::Renew) {
        if (op.expiry <= op.applied_at) return false;
        const std::uint64_t delay = s.lock_until - s.expiry;
        out.expiry = op.expiry;
        out.lock_until = op.expiry + delay;
      } else {
        out.holder.clear();
        out.expiry = op.applied_at;
        out.lock_until = 0;
      }
      return true;
    }
  }
  return false;
}

struct Event {
  bool is_call;
  std::size_t op;
  std::uint64_t time;
  Event* prev = nullptr;
  Event* next = nullptr;
  Event* match = nullptr;  // call -> its return
};

struct CacheKey {
  std::vector<std::uint64_t> bits;
  State state;
  bool operator==(const CacheKey&) const = default;
};
struct CacheHash {
  std::size_t operator()(const CacheKey& k) const {
    std::size_t h = k.state.hash();
    for (auto b : k.bits) h = h * 31 + std::hash<std::uint64_t>{}(b);
    return h;
  }
};

std::string describe(const HistoryOp& op) {
  static const char* names[] = {"put", "cas", "delete", "get", "acquire", "renew", "release"};
  std::string s = "client " + std::to_string(op.client) + " " + names[static_cast<int>(op.kind)] + "(" + op.key;
  if (!op.value.empty()) s += ", " + op.value;
  if (op.kind == HistoryOp::Kind::Cas) s += ", expect " + std::to_string(op.expected);
  if (op.token) s += ", token " + std::to_string(op.token);
  s += ") ";
  if (!op.known) return s + "-> unknown";
  s += op.ok ? "-> ok" : "-> refused";
  if (op.kind == HistoryOp::Kind::Get && op.ok) s += op.found ? " '" + op.out_value + "'" : " (none)";
  if (op.revision) s += " rev/token " + std::to_string(op.revision);
  if (op.applied_at) s += " at " + std::to_string(op.applied_at);
  s += " [" + std::to_string(op.call) + ", " + (op.ret == kNever ? std::string("inf") : std::to_string(op.ret)) + "]";
  return s;
}

// Checks one key's sub-history.
CheckResult check_one(const std::vector<HistoryOp>& ops, std::size_t max_states) {
  CheckResult res;
  const std::size_t n = ops.size();
  if (n == 0) return res;
  std::vector<Event> events;
  events.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    events.push_back(Event{true, i, ops[i].call});
    events.push_back(Event{false, i, ops[i].ret});
  }
  // Calls before returns at equal times: concurrent ops may be ordered either way.
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    if (a.time != b.time) return a.time < b.time;
    return a.is_call && !b.is_call;
  });
  std::vector<Event*> ret_of(n, nullptr);
  for (auto& e : events) {
    if (!e.is_call) ret_of[e.op] = &e;
  }
  Event head{false, 0, 0};
  Event* prev = &head;
  for (auto& e : events) {
    e.prev = prev;
    prev->next = &e;
    prev = &e;
    if (e.is_call) e.match = ret_of[e.op];
  }
  auto lift = [](Event* call) {
    call->prev->next = call->next;
    if (call->next) call->next->prev = call->prev;
    Event* r = call->match;
    r->prev->next = r->next;
    if (r->next) r->next->prev = r->prev;
  };
  auto unlift = [](Event* call) {
    Event* r = call->match;
    r->prev->next = r;
    if (r->next) r->next->prev = r;
    call->prev->next = call;
    if (call->next) call->next->prev = call;
  };
  std::vector<std::uint64_t> bits((n + 63) / 64, 0);
  std::unordered_set<CacheKey, CacheHash> cache;
  struct Frame {
    Event* call;
    State state;
  };
  std::vector<Frame> stack;
  State state;
  Event* entry = head.next;
  std::size_t deepest = 0;
  while (head.next != nullptr) {
    if (cache.size() > max_states) {
      res.inconclusive = true;
      break;
    }
    if (entry->is_call) {
      State next_state;
      const HistoryOp& op = ops[entry->op];
      if (step(state, op, next_state)) {
        bits[entry->op / 64] |= 1ull << (entry->op % 64);
        if (cache.insert(CacheKey{bits, next_state}).second) {
          stack.push_back({entry, state});
          state = std::move(next_state);
          lift(entry);
          deepest = std::max(deepest, stack.size());
          entry = head.next;
          continue;
        }
        bits[entry->op / 64] &= ~(1ull << (entry->op % 64));
      }
      entry = entry->next;
    } else {
      // A return whose call cannot be linearized before it: backtrack.
      if (stack.empty()) {
        res.linearizable = false;
        const HistoryOp& stuck = ops[entry->op];
        res.explanation = "no linearization: " + std::to_string(deepest) + " of " + std::to_string(n) +
                          " operations ordered at best; cannot place " + describe(stuck) + "\nhistory:\n";
        for (const auto& o : ops) res.explanation += "  " + describe(o) + "\n";
        break;
      }
      Frame f = stack.back();
      stack.pop_back();
      state = f.state;
      bits[f.call->op / 64] &= ~(1ull << (f.call->op % 64));
      unlift(f.call);
      entry = f.call->next;
    }
  }
  res.states_explored = cache.size();
  return res;
}

}  // namespace

CheckResult check_linearizable(const std::vector<HistoryOp>& history, std::size_t max_states) {
  std::map<std::string, std::vector<HistoryOp>> parts;
  for (const auto& op : history) {
    const bool lease = op.kind == HistoryOp::Kind::Acquire || op.kind == HistoryOp::Kind::Renew ||
                       op.kind == HistoryOp::Kind::Release;
    parts[(lease ? "lease:" : "kv:") + op.key].push_back(op);
  }
  CheckResult total;
  for (auto& [key, ops] : parts) {
    CheckResult r = check_one(ops, max_states);
    total.states_explored += r.states_explored;
    total.inconclusive |= r.inconclusive;
    if (!r.linearizable) {
      r.key = key;
      r.states_explored = total.states_explored;
      return r;
    }
  }
  return total;
}

// --- JSON lines --------------------------------------------------------------------------------

namespace {
const char* kind_name(HistoryOp::Kind k) {
  static const char* names[] = {"put", "cas", "delete", "get", "acquire", "renew", "release"};
  return names[static_cast<int>(k)];
}
}  // namespace

std::string history_to_jsonl(const std::vector<HistoryOp>& history) {
  std::string out;
  for (const auto& op : history) {
    core::json::Writer w;
    w.begin_object();
    w.key("kind").value(kind_name(op.kind));
    w.key("client").value(static_cast<std::uint64_t>(op.client));
    w.key("key").value(op.key);
    w.key("call").value(op.call);
    if (op.ret != kNever) w.key("ret").value(op.ret);
    w.key("value").value(op.value);
    w.key("expected").value(op.expected);
    w.key("token").value(op.token);
    w.key("ttl").value(op.ttl);
    w.key("lock_delay").value(op.lock_delay);
    w.key("known").value(op.known);
    w.key("ok").value(op.ok);
    w.key("found").value(op.found);
    w.key("out_value").value(op.out_value);
    w.key("revision").value(op.revision);
    w.key("applied_at").value(op.applied_at);
    w.key("expiry").value(op.expiry);
    w.end_object();
    out += std::move(w).take() + "\n";
  }
  return out;
}

std::vector<HistoryOp> history_from_jsonl(const std::string& text, std::string* error) {
  std::vector<HistoryOp> out;
  std::size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    line_no++;
    if (line.empty()) continue;
    auto v = core::json::parse(line);
    if (!v) {
      if (error) *error = "line " + std::to_string(line_no) + ": " + v.error().message();
      return {};
    }
    HistoryOp op;
    const auto& o = *v;
    auto str = [&](const char* k) { auto* m = o.find(k); return m && m->is_string() ? m->as_string() : std::string(); };
    auto num = [&](const char* k, std::uint64_t def = 0) {
      auto* m = o.find(k);
      return m && m->is_integer() ? m->as_uint() : def;
    };
    auto flag = [&](const char* k, bool def) { auto* m = o.find(k); return m && m->is_bool() ? m->as_bool() : def; };
    const std::string kind = str("kind");
    bool matched = false;
    for (int k = 0; k <= static_cast<int>(HistoryOp::Kind::Release); ++k) {
      if (kind == kind_name(static_cast<HistoryOp::Kind>(k))) {
        op.kind = static_cast<HistoryOp::Kind>(k);
        matched = true;
      }
    }
    if (!matched) {
      if (error) *error = "line " + std::to_string(line_no) + ": unknown kind '" + kind + "'";
      return {};
    }
    op.client = num("client");
    op.key = str("key");
    op.call = num("call");
    op.ret = num("ret", kNever);
    op.value = str("value");
    op.expected = num("expected");
    op.token = num("token");
    op.ttl = num("ttl");
    op.lock_delay = num("lock_delay");
    op.known = flag("known", true);
    op.ok = flag("ok", false);
    op.found = flag("found", false);
    op.out_value = str("out_value");
    op.revision = num("revision");
    op.applied_at = num("applied_at");
    op.expiry = num("expiry");
    out.push_back(std::move(op));
  }
  return out;
}

}  // namespace constellation::sim
