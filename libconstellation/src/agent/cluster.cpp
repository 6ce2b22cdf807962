// SPDX-License-Identifier: Apache-2.0
#include "agent/cluster.hpp"

#include "api/auth.hpp"
#include "catalog/catalog.hpp"
#include "catalog/codec.hpp"
#include "core/bytes.hpp"

#include <algorithm>

namespace constellation::agent {

namespace {

catalog::NodeStatus status_of(const std::string& gossip_state) {
  if (gossip_state == "suspect") return catalog::NodeStatus::Suspect;
  if (gossip_state == "dead") return catalog::NodeStatus::Failed;
  if (gossip_state == "left") return catalog::NodeStatus::Left;
  return catalog::NodeStatus::Alive;
}

// How long a node with seeds waits for its first full view before it calls the view complete
// anyway (a seed that is down must not keep the node from serving what it knows).
constexpr auto kCompleteAfter = std::chrono::seconds(5);
constexpr auto kReconcileEvery = std::chrono::seconds(1);

}  // namespace

std::string key_fingerprint(const std::string& base64_key) {
  auto raw = core::base64_decode(base64_key);
  if (!raw) return "invalid";
  std::string hex = api::sha256_hex(std::string_view(reinterpret_cast<const char*>(raw->data()), raw->size()));
  return hex.substr(0, 16);
}

Cluster::Cluster(Gossip& gossip, services::Host& host, ControlLoop& loop, ClusterOptions options)
    : gossip_(gossip), host_(host), loop_(loop), opts_(std::move(options)) {}

Cluster::~Cluster() { stop(); }

void Cluster::start() {
  (void)gossip_.set_state("raft", opts_.raft_address);
  publish_keys();
  {
    std::lock_guard g(mu_);
    raft_addresses_[raft_id_for(opts_.node_name)] = opts_.raft_address;
    alive_raft_ids_.insert(raft_id_for(opts_.node_name));
  }
  subscription_ = gossip_.subscribe([this](const GossipEvent& e) { on_event(e); });
  // Members gossip knew before we subscribed.
  for (const auto& m : gossip_.members()) on_event(GossipEvent{"join", m});

  host_.post([this](catalog::Catalog& cat) {
    catalog_subscription_ = cat.subscribe([this](const catalog::SnapshotPtr& s, const catalog::Change&) {
      on_snapshot(s);
    });
    on_snapshot(cat.snapshot());
  });
  if (!opts_.alone) {
    complete_timer_ = loop_.after(kCompleteAfter, [this] {
      if (stopped_) return;
      host_.post([](catalog::Catalog& cat) {
        if (!cat.snapshot() || !cat.snapshot()->complete) {
          cat.set_complete(true);
          cat.publish();
        }
      });
    });
  }
  reconcile_timer_ = loop_.every(kReconcileEvery, [this] { reconcile_raft(); });
}

void Cluster::stop() {
  if (stopped_.exchange(true)) return;
  if (subscription_) gossip_.unsubscribe(subscription_);
  if (reconcile_timer_) loop_.cancel(reconcile_timer_);
  if (complete_timer_) loop_.cancel(complete_timer_);
  cv_.notify_all();
}

void Cluster::set_raft_address(const std::string& address) {
  {
    std::lock_guard g(mu_);
    opts_.raft_address = address;
    raft_addresses_[raft_id_for(opts_.node_name)] = address;
  }
  (void)gossip_.set_state("raft", address);
}

void Cluster::set_api_url(const std::string& url) { (void)gossip_.set_state("api", url); }

void Cluster::publish_keys() {
  std::string fps;
  for (const auto& k : gossip_.list_keys()) {
    if (!fps.empty()) fps += ",";
    fps += key_fingerprint(k);
  }
  (void)gossip_.set_state("keys", fps);
}

// On the catalog thread: our own entry changed → gossip it.
void Cluster::on_snapshot(const catalog::SnapshotPtr& s) {
  if (!s || stopped_) return;
  auto it = s->nodes.find(opts_.node_id);
  if (it == s->nodes.end()) return;
  const catalog::NodeEntry& own = it->second.entry;
  if (have_published_ && own.version == published_version_) return;
  core::Bytes bytes = catalog::encode(own);
  (void)gossip_.set_state("catalog", std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  published_version_ = own.version;
  have_published_ = true;
}

// On the gossip thread.
void Cluster::on_event(const GossipEvent& e) {
  if (stopped_ || e.member.name == opts_.node_name) return;
  const auto& st = e.member.state_map;
  const catalog::NodeStatus status = status_of(e.member.state);
  const bool alive = status == catalog::NodeStatus::Alive || status == catalog::NodeStatus::Suspect;
  {
    std::lock_guard g(mu_);
    const std::uint64_t rid = raft_id_for(e.member.name);
    if (auto r = st.find("raft"); r != st.end() && !r->second.empty()) raft_addresses_[rid] = r->second;
    if (alive) {
      alive_raft_ids_.insert(rid);
    } else {
      alive_raft_ids_.erase(rid);
    }
    if (raft_) {
      if (auto a = raft_addresses_.find(rid); a != raft_addresses_.end()) raft_->set_peer_address(rid, a->second);
    }
  }
  cv_.notify_all();

  std::optional<catalog::NodeEntry> entry;
  if (auto c = st.find("catalog"); c != st.end()) {
    auto decoded = catalog::decode(core::ByteView(reinterpret_cast<const std::uint8_t*>(c->second.data()), c->second.size()));
    if (!decoded) {
      opts_.log.warn("a member gossips a catalog entry that does not decode; ignored",
                     {{"member", e.member.name}, {"error", decoded.error().message()}});
    } else if (decoded->node.name != e.member.name) {
      opts_.log.warn("a member gossips a catalog entry of another node; ignored",
                     {{"member", e.member.name}, {"entry_node", decoded->node.name}});
    } else {
      entry = std::move(*decoded);
    }
  }
  std::optional<core::NodeId> id;
  {
    std::lock_guard g(mu_);
    if (entry) node_ids_[e.member.name] = entry->node.id;
    if (auto n = node_ids_.find(e.member.name); n != node_ids_.end()) id = n->second;
  }
  if (!id) return;  // nothing of this node in the catalog yet
  host_.post([entry = std::move(entry), id = *id, status, alone = opts_.alone](catalog::Catalog& cat) mutable {
    if (entry) cat.merge(std::move(*entry));
    cat.set_status(id, status);
    // The first entry merged from a peer came with a full state exchange (gossip's join is a
    // push/pull): the view is complete.
    if (!alone && (!cat.snapshot() || !cat.snapshot()->complete)) cat.set_complete(true);
    cat.publish();
  });
}

std::map<std::uint64_t, std::string> Cluster::raft_addresses() const {
  std::lock_guard g(mu_);
  return raft_addresses_;
}

Result<std::map<std::uint64_t, std::string>> Cluster::wait_for_voters(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  std::vector<std::string> missing;
  auto all_known = [&] {
    missing.clear();
    for (const auto& v : opts_.voters) {
      if (!raft_addresses_.count(raft_id_for(v))) missing.push_back(v);
    }
    return missing.empty() || stopped_;
  };
  if (!cv_.wait_for(lock, timeout, all_known)) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
    return Error(Code::Timeout, "the Raft addresses of voters " + names + " are not known (no gossip from them yet)");
  }
  if (stopped_) return Error(Code::Unavailable, "the agent is stopping");
  std::map<std::uint64_t, std::string> out;
  for (const auto& v : opts_.voters) out[raft_id_for(v)] = raft_addresses_.at(raft_id_for(v));
  return out;
}

void Cluster::attach_raft(RaftNode* raft) {
  std::lock_guard g(mu_);
  raft_ = raft;
  if (raft_) {
    for (const auto& [id, addr] : raft_addresses_) raft_->set_peer_address(id, addr);
  }
}

// On the control loop, every second: the Raft leader adds alive non-voters as learners (one
// change at a time; the next round picks up the rest).
void Cluster::reconcile_raft() {
  if (stopped_ || opts_.voters.empty()) return;
  RaftNode* raft = nullptr;
  std::map<std::uint64_t, std::string> candidates;
  {
    std::lock_guard g(mu_);
    raft = raft_;
    for (std::uint64_t id : alive_raft_ids_) {
      if (auto a = raft_addresses_.find(id); a != raft_addresses_.end()) candidates[id] = a->second;
    }
  }
  if (!raft) return;
  const RaftStatus st = raft->status();
  if (st.role != "leader") return;
  for (const auto& [id, addr] : candidates) {
    const bool member = std::find(st.voters.begin(), st.voters.end(), id) != st.voters.end() ||
                        std::find(st.learners.begin(), st.learners.end(), id) != st.learners.end();
    if (member) continue;
    auto r = raft->add_learner(id, addr, std::chrono::milliseconds(500));
    if (r) {
      opts_.log.info("added a Raft learner", {{"id", core::json::Value(static_cast<unsigned long long>(id))},
                                              {"address", addr}});
    } else {
      opts_.log.debug("adding a Raft learner failed; will retry",
                      {{"id", core::json::Value(static_cast<unsigned long long>(id))}, {"error", r.error().message()}});
    }
    return;  // one change at a time
  }
}

}  // namespace constellation::agent
