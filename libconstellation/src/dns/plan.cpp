// SPDX-License-Identifier: Apache-2.0
#include "dns/plan.hpp"

#include "dns/name.hpp"

#include <algorithm>
#include <set>

namespace constellation::dns {

namespace json = core::json;

std::string_view change_kind_name(ChangeKind k) {
  switch (k) {
    case ChangeKind::Create: return "create";
    case ChangeKind::Update: return "update";
    case ChangeKind::Delete: return "delete";
  }
  return "?";
}

std::size_t Plan::count(ChangeKind k) const {
  std::size_t n = 0;
  for (const auto& z : zones) {
    for (const auto& c : z.changes) n += c.kind == k;
  }
  return n;
}
std::size_t Plan::change_count() const {
  std::size_t n = 0;
  for (const auto& z : zones) n += z.changes.size();
  return n;
}
std::size_t Plan::held_count() const {
  std::size_t n = 0;
  for (const auto& z : zones) n += z.held.size();
  return n;
}

namespace {

bool address_type(RecordType t) { return t == RecordType::A || t == RecordType::AAAA || t == RecordType::CNAME; }

std::string describe_diff(const Record& a, const Record& b) {
  std::string out;
  auto add = [&](std::string s) {
    if (!out.empty()) out += ", ";
    out += std::move(s);
  };
  if (a.content != b.content) add("content " + a.content + " -> " + b.content);
  if (a.ttl != b.ttl) add("ttl " + std::to_string(a.ttl) + " -> " + std::to_string(b.ttl));
  if (a.proxied != b.proxied) add(std::string("proxied ") + (a.proxied ? "true" : "false") + " -> " + (b.proxied ? "true" : "false"));
  if (a.comment != b.comment) add("comment");
  if (a.tags != b.tags) add("tags");
  return out;
}

bool same_content(const Record& a, const Record& b) { return a.name == b.name && a.type == b.type && a.content == b.content; }

// Orders changes: deletes, updates, creates; then name, type, content.
bool change_less(const Change& a, const Change& b) {
  auto rank = [](ChangeKind k) { return k == ChangeKind::Delete ? 0 : k == ChangeKind::Update ? 1 : 2; };
  if (rank(a.kind) != rank(b.kind)) return rank(a.kind) < rank(b.kind);
  if (a.name() != b.name()) return a.name() < b.name();
  if (a.type() != b.type()) return a.type() < b.type();
  const std::string& ca = a.after ? a.after->content : a.before->record.content;
  const std::string& cb = b.after ? b.after->content : b.before->record.content;
  return ca < cb;
}

struct NameSides {
  std::map<RecordType, std::vector<Record>> desired;
  std::map<RecordType, std::vector<ObservedRecord>> owned;
  std::vector<ObservedRecord> foreign;
};

}  // namespace

Plan compute_plan(const PlanInput& in, DeletionTracker& tracker) {
  const DnsConfig& cfg = *in.config;
  const SafetyConfig& safety = cfg.safety;
  Plan plan;
  plan.notes = in.desired->notes;

  // --- global guards ----------------------------------------------------------------------------
  std::optional<std::string> hold_all;
  if (!in.snapshot_complete) {
    hold_all = "the cluster view is partial";
  } else if (in.now - in.holder_since < safety.holder_settle) {
    hold_all = "the lease holder is fresh (settles at " + core::format_duration(safety.holder_settle) + ")";
  }

  // Abnormal shrink: count owned names and the names that would lose all their records.
  std::set<std::pair<std::string, std::string>> owned_names, removed_names;
  std::size_t desired_total = 0;
  for (const auto& z : cfg.zones) {
    auto obs = in.observed.find(z.name);
    if (obs == in.observed.end()) continue;
    std::set<std::string> wanted;
    auto d = in.desired->zones.find(z.name);
    if (d != in.desired->zones.end()) {
      for (const auto& r : d->second) wanted.insert(r.name);
      desired_total += d->second.size();
    }
    for (const auto& o : obs->second) {
      if (!o.owned) continue;
      auto name = normalize_name(o.record.name);
      if (!name) continue;
      owned_names.insert({z.name, *name});
      if (!wanted.count(*name)) removed_names.insert({z.name, *name});
    }
  }
  if (!owned_names.empty() && desired_total == 0) {
    plan.refused = "the desired state is empty while " + std::to_string(owned_names.size()) +
                   " owned names exist; refusing to delete any of them";
  } else if (removed_names.size() > safety.delete_floor &&
             static_cast<double>(removed_names.size()) > safety.max_delete_fraction * static_cast<double>(owned_names.size())) {
    plan.refused = "the plan would remove " + std::to_string(removed_names.size()) + " of " +
                   std::to_string(owned_names.size()) + " owned names (more than " +
                   std::to_string(static_cast<int>(safety.max_delete_fraction * 100)) + "%); refusing name removals";
  }
  if (plan.refused) plan.notes.push_back(*plan.refused);

  // Grace tracker: keep entries only for names still pending removal.
  {
    auto& e = tracker.entries();
    for (auto it = e.begin(); it != e.end();) {
      it = removed_names.count(it->first) ? std::next(it) : e.erase(it);
    }
    if (in.snapshot_complete) {
      for (const auto& k : removed_names) e.try_emplace(k, in.now);
    }
  }

  for (const auto& z : cfg.zones) {
    ZonePlan zp;
    zp.zone = z.name;
    zp.provider = z.provider;
    zp.policy = z.policy;
    auto obs = in.observed.find(z.name);
    if (obs == in.observed.end()) {
      plan.notes.push_back("zone " + z.name + " was not listed; nothing planned for it");
      continue;
    }
    ProviderCaps caps;
    if (auto c = in.caps.find(z.name); c != in.caps.end()) caps = c->second;

    std::map<std::string, NameSides> names;
    if (auto d = in.desired->zones.find(z.name); d != in.desired->zones.end()) {
      for (Record r : d->second) {
        r.comment = cfg.marker.comment();
        r.tags = {cfg.marker.tag()};
        auto n = normalize_record(std::move(r), caps);
        if (!n) {
          plan.notes.push_back("zone " + z.name + ": " + n.error().message());
          continue;
        }
        auto& v = names[n->name].desired[n->type];
        if (std::none_of(v.begin(), v.end(), [&](const Record& x) { return x.content == n->content; })) v.push_back(*n);
      }
    }
    for (const auto& o : obs->second) {
      if (Marker::is_registry_name(o.record.name)) continue;
      auto n = normalize_record(o.record, caps);
      if (!n) {
        if (o.owned) plan.notes.push_back("zone " + z.name + ": owned record not understood, left alone: " + n.error().message());
        continue;
      }
      ObservedRecord on{*n, o.id, o.owned};
      // A provider may report a proxied record's real TTL; what counts is what it returns.
      if (o.owned) names[n->name].owned[n->type].push_back(std::move(on));
      else names[n->name].foreign.push_back(std::move(on));
    }

    for (auto& [name, sides] : names) {
      const bool wants = !sides.desired.empty();
      // Conflicts with records we do not own.
      if (wants) {
        bool conflict = false;
        for (const auto& f : sides.foreign) {
          if (address_type(f.record.type) || sides.desired.count(RecordType::CNAME)) conflict = true;
        }
        if (conflict) {
          zp.conflicts.push_back(name);
          continue;
        }
      }
      const bool name_removal = !wants;
      std::vector<Change> deletes, others;
      std::set<RecordType> types;
      for (const auto& [t, v] : sides.desired) types.insert(t);
      for (const auto& [t, v] : sides.owned) types.insert(t);
      for (RecordType t : types) {
        std::vector<Record> want = sides.desired.count(t) ? sides.desired[t] : std::vector<Record>{};
        std::vector<ObservedRecord> have = sides.owned.count(t) ? sides.owned[t] : std::vector<ObservedRecord>{};
        std::sort(want.begin(), want.end());
        std::sort(have.begin(), have.end(), [](const ObservedRecord& a, const ObservedRecord& b) {
          return std::tie(a.record, a.id) < std::tie(b.record, b.id);
        });
        std::vector<bool> want_used(want.size()), have_used(have.size());
        // Same content: update attributes if they differ.
        for (std::size_t i = 0; i < want.size(); ++i) {
          for (std::size_t j = 0; j < have.size(); ++j) {
            if (have_used[j] || !same_content(want[i], have[j].record)) continue;
            want_used[i] = have_used[j] = true;
            if (!(want[i] == have[j].record)) {
              others.push_back(Change{ChangeKind::Update, have[j], want[i], describe_diff(have[j].record, want[i])});
            }
            break;
          }
        }
        // Different content: pair leftovers as updates (keeps provider ids), then create/delete.
        std::size_t j = 0;
        for (std::size_t i = 0; i < want.size(); ++i) {
          if (want_used[i]) continue;
          while (j < have.size() && have_used[j]) ++j;
          if (j < have.size() && z.policy != Policy::CreateOnly) {
            have_used[j] = true;
            others.push_back(Change{ChangeKind::Update, have[j], want[i], describe_diff(have[j].record, want[i])});
          } else {
            others.push_back(Change{ChangeKind::Create, std::nullopt, want[i], "new"});
          }
        }
        for (std::size_t k = 0; k < have.size(); ++k) {
          if (have_used[k]) continue;
          deletes.push_back(Change{ChangeKind::Delete, have[k], std::nullopt, name_removal ? "name no longer wanted" : "target no longer wanted"});
        }
      }
      // Policy and guards on deletions.
      bool held_cname = false, held_other = false;
      for (auto& d : deletes) {
        if (z.policy != Policy::Sync) {
          continue;  // upsert-only / create-only never delete (not even reported as held)
        }
        std::optional<std::string> reason;
        std::optional<core::Instant> eligible;
        if (hold_all) {
          reason = *hold_all;
        } else if (name_removal && plan.refused) {
          reason = "abnormal shrink";
        } else if (name_removal) {
          auto it = tracker.entries().find({z.name, name});
          core::Instant since = it == tracker.entries().end() ? in.now : it->second;
          if (in.now - since < safety.deletion_grace) {
            eligible = since + safety.deletion_grace;
            reason = "grace period";
          }
        }
        if (reason) {
          (d.type() == RecordType::CNAME ? held_cname : held_other) = true;
          zp.held.push_back(HeldChange{d, *reason, eligible});
        } else {
          zp.changes.push_back(d);
        }
      }
      for (auto& c : others) {
        if (c.kind == ChangeKind::Update && z.policy == Policy::CreateOnly) continue;
        // A CNAME cannot coexist with other records: if the deletions it needs are held, so is it.
        const bool clashes = c.type() == RecordType::CNAME ? held_other : (held_cname && address_type(c.type()));
        if (clashes) {
          zp.held.push_back(HeldChange{c, "waits for held deletions on the same name", std::nullopt});
          continue;
        }
        zp.changes.push_back(c);
      }
    }
    std::sort(zp.changes.begin(), zp.changes.end(), change_less);
    std::sort(zp.held.begin(), zp.held.end(), [](const HeldChange& a, const HeldChange& b) { return change_less(a.change, b.change); });
    for (const auto& c : zp.conflicts) plan.notes.push_back("zone " + z.name + ": " + c + " is held by records we do not own; left alone");
    plan.zones.push_back(std::move(zp));
  }
  return plan;
}

namespace {

std::string record_text(const Record& r) {
  std::string s = display_name(r.name) + " " + std::string(type_name(r.type)) + " " + r.content + " ttl=" + std::to_string(r.ttl);
  if (r.proxied) s += " proxied";
  return s;
}

std::string change_text(const Change& c) {
  switch (c.kind) {
    case ChangeKind::Create: return "+ " + record_text(*c.after);
    case ChangeKind::Delete: return "- " + record_text(c.before->record);
    case ChangeKind::Update: return "~ " + record_text(*c.after) + " (" + c.reason + ")";
  }
  return {};
}

}  // namespace

std::string format_plan(const Plan& plan, core::Instant now) {
  std::string out;
  for (const auto& z : plan.zones) {
    std::size_t cr = 0, up = 0, de = 0;
    for (const auto& c : z.changes) {
      cr += c.kind == ChangeKind::Create;
      up += c.kind == ChangeKind::Update;
      de += c.kind == ChangeKind::Delete;
    }
    out += "zone " + z.zone + " (provider " + z.provider + ", policy " + std::string(policy_name(z.policy)) + "): " +
           std::to_string(cr) + " to create, " + std::to_string(up) + " to update, " + std::to_string(de) +
           " to delete, " + std::to_string(z.held.size()) + " held, " + std::to_string(z.conflicts.size()) + " conflicts\n";
    for (const auto& c : z.changes) out += "  " + change_text(c) + "\n";
    for (const auto& h : z.held) {
      out += "  ! " + change_text(h.change) + " held: " + h.reason;
      if (h.eligible_at) out += " (eligible in " + core::format_duration(*h.eligible_at - now) + ")";
      out += "\n";
    }
    for (const auto& c : z.conflicts) out += "  ? " + display_name(c) + " held by records we do not own\n";
  }
  for (const auto& n : plan.notes) out += "note: " + n + "\n";
  if (plan.empty() && plan.held_count() == 0) out += "no changes\n";
  return out;
}

json::Value record_to_json(const Record& r) {
  json::Value v = json::Value::object();
  v["name"] = r.name;
  v["type"] = std::string(type_name(r.type));
  v["content"] = r.content;
  v["ttl"] = static_cast<std::int64_t>(r.ttl);
  v["proxied"] = r.proxied;
  if (!r.comment.empty()) v["comment"] = r.comment;
  if (!r.tags.empty()) {
    json::Value tags = json::Value::array();
    for (const auto& t : r.tags) tags.push_back(t);
    v["tags"] = std::move(tags);
  }
  return v;
}

namespace {
json::Value change_to_json(const Change& c) {
  json::Value v = json::Value::object();
  v["action"] = std::string(change_kind_name(c.kind));
  v["name"] = c.name();
  v["type"] = std::string(type_name(c.type()));
  if (c.before) {
    v["before"] = record_to_json(c.before->record);
    if (!c.before->id.empty()) v["id"] = c.before->id;
  }
  if (c.after) v["after"] = record_to_json(*c.after);
  v["reason"] = c.reason;
  return v;
}
}  // namespace

json::Value plan_to_json(const Plan& plan, core::Instant now) {
  json::Value root = json::Value::object();
  json::Value zones = json::Value::array();
  for (const auto& z : plan.zones) {
    json::Value zv = json::Value::object();
    zv["zone"] = z.zone;
    zv["provider"] = z.provider;
    zv["policy"] = std::string(policy_name(z.policy));
    json::Value changes = json::Value::array();
    for (const auto& c : z.changes) changes.push_back(change_to_json(c));
    zv["changes"] = std::move(changes);
    json::Value held = json::Value::array();
    for (const auto& h : z.held) {
      json::Value hv = change_to_json(h.change);
      hv["held"] = h.reason;
      if (h.eligible_at) hv["eligible_in_seconds"] = std::chrono::duration<double>(*h.eligible_at - now).count();
      held.push_back(std::move(hv));
    }
    zv["held"] = std::move(held);
    json::Value conflicts = json::Value::array();
    for (const auto& c : z.conflicts) conflicts.push_back(c);
    zv["conflicts"] = std::move(conflicts);
    zones.push_back(std::move(zv));
  }
  root["zones"] = std::move(zones);
  json::Value notes = json::Value::array();
  for (const auto& n : plan.notes) notes.push_back(n);
  root["notes"] = std::move(notes);
  root["refused"] = plan.refused ? json::Value(*plan.refused) : json::Value(nullptr);
  json::Value summary = json::Value::object();
  summary["create"] = static_cast<std::int64_t>(plan.count(ChangeKind::Create));
  summary["update"] = static_cast<std::int64_t>(plan.count(ChangeKind::Update));
  summary["delete"] = static_cast<std::int64_t>(plan.count(ChangeKind::Delete));
  summary["held"] = static_cast<std::int64_t>(plan.held_count());
  root["summary"] = std::move(summary);
  return root;
}

}  // namespace constellation::dns
