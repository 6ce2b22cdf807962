// SPDX-License-Identifier: Apache-2.0
#include "io/dns/rrset.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace constellation::io::dns {

using constellation::dns::Change;
using constellation::dns::Marker;
using constellation::dns::ObservedRecord;
using constellation::dns::RecordType;

std::vector<RrsetUpdate> rrset_updates(const std::vector<Change>& changes, const std::vector<ObservedRecord>& listing,
                                       const Marker& marker) {
  using Key = std::pair<std::string, RecordType>;
  std::map<Key, std::set<std::string>> current;
  for (const auto& o : listing) current[{o.record.name, o.record.type}].insert(o.record.content);
  std::map<Key, std::set<std::string>> after;
  std::map<Key, std::uint32_t> ttl;
  for (const auto& c : changes) {
    Key k{c.name(), c.type()};
    if (!after.count(k)) after[k] = current[k];
    if (c.before) after[k].erase(c.before->record.content);
    if (c.after) {
      after[k].insert(c.after->content);
      ttl[k] = std::max(ttl[k], c.after->ttl);
    }
  }
  std::vector<RrsetUpdate> out;
  std::set<std::string> touched_names;
  for (const auto& [k, contents] : after) {
    std::uint32_t t = ttl.count(k) ? ttl[k] : 0;
    if (t == 0) {
      for (const auto& o : listing) {
        if (o.record.name == k.first && o.record.type == k.second) t = std::max(t, o.record.ttl);
      }
    }
    out.push_back({k.first, k.second, t == 0 ? 300 : t, {contents.begin(), contents.end()}});
    touched_names.insert(k.first);
  }
  // Registry sets: our entry for every type the name holds after the batch (as far as we
  // own it: sets we touched are ours; untouched sets keep their existing claims).
  for (const auto& name : touched_names) {
    const std::string reg = Marker::registry_name(name);
    std::set<std::string> entries = current[{reg, RecordType::TXT}];
    for (RecordType t : {RecordType::A, RecordType::AAAA, RecordType::CNAME, RecordType::TXT}) {
      auto it = after.find({name, t});
      if (it == after.end()) continue;
      if (it->second.empty()) entries.erase(marker.registry_entry(t));
      else entries.insert(marker.registry_entry(t));
    }
    if (entries == current[{reg, RecordType::TXT}]) continue;
    out.push_back({reg, RecordType::TXT, 300, {entries.begin(), entries.end()}});
  }
  return out;
}

void apply_rrset_updates(std::vector<ObservedRecord>& listing, const std::vector<RrsetUpdate>& updates) {
  for (const auto& u : updates) {
    std::erase_if(listing, [&](const ObservedRecord& o) { return o.record.name == u.name && o.record.type == u.type; });
    for (const auto& c : u.contents) {
      listing.push_back(ObservedRecord{{u.name, u.type, c, u.ttl, false, {}, {}}, {}, false});
    }
  }
}

}  // namespace constellation::io::dns
