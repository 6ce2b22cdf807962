// SPDX-License-Identifier: Apache-2.0
#include "catalog/codec.hpp"

#include <algorithm>
#include <string>

namespace constellation::catalog {

namespace {

void put(core::ByteWriter& w, std::string_view s) { w.prefixed(s); }

void put_list(core::ByteWriter& w, const std::vector<std::string>& v) {
  w.varint(v.size());
  for (const auto& s : v) put(w, s);
}

void put_map(core::ByteWriter& w, const std::map<std::string, std::string>& m) {
  w.varint(m.size());
  for (const auto& [k, v] : m) {
    put(w, k);
    put(w, v);
  }
}

bool valid_protocol(std::string_view p) { return p == "tcp" || p == "udp" || p == "sctp"; }

Error invalid(std::string field, std::string_view what) {
  return Error(Code::InvalidArgument, field + ": " + std::string(what));
}

// Field names are only built when a check fails: validate() runs on every merge and encode.
template <class Name>
Result<void> check_len(Name&& field, std::string_view s, std::size_t max) {
  if (s.size() > max) {
    return invalid(std::string(field()), "is " + std::to_string(s.size()) + " bytes, more than " + std::to_string(max));
  }
  return ok();
}

template <class Name>
Result<void> check_list(Name&& field, const std::vector<std::string>& v, std::size_t max_items, std::size_t max_len) {
  if (v.size() > max_items) return invalid(std::string(field()), "has more than " + std::to_string(max_items) + " items");
  for (std::size_t i = 0; i < v.size(); ++i) {
    CST_TRY(check_len([&] { return std::string(field()) + "[" + std::to_string(i) + "]"; }, v[i], max_len));
  }
  return ok();
}

// Decoding helpers. Each returns an empty value once the reader has failed; callers check
// r.ok() at the end (the first error sticks).
class Decoder {
 public:
  explicit Decoder(core::ByteView bytes) : r_(bytes) {}

  std::string str(std::string_view field, std::size_t max) { return std::string(r_.prefixed_string(field, max)); }

  std::vector<std::string> list(std::string_view field, std::size_t max_items, std::size_t max_len) {
    std::vector<std::string> out;
    auto n = r_.varint_max(field, max_items);
    // Every item needs at least one byte: refuse counts the input cannot hold before reserving.
    if (n > r_.remaining()) {
      r_.fail(field, "count exceeds the remaining input");
      return out;
    }
    out.reserve(n);
    for (std::uint64_t i = 0; i < n && r_.ok(); ++i) out.push_back(str(field, max_len));
    return out;
  }

  std::map<std::string, std::string> map(std::string_view field, std::size_t max_items, std::size_t max_key,
                                         std::size_t max_value) {
    std::map<std::string, std::string> out;
    auto n = r_.varint_max(field, max_items);
    if (n > r_.remaining()) {
      r_.fail(field, "count exceeds the remaining input");
      return out;
    }
    for (std::uint64_t i = 0; i < n && r_.ok(); ++i) {
      auto k = str(field, max_key);
      auto v = str(field, max_value);
      if (!r_.ok()) break;
      if (!out.empty() && !(out.rbegin()->first < k)) {
        corrupt(std::string(field) + ": keys not strictly increasing at '" + k + "'");
        break;
      }
      out.emplace_hint(out.end(), std::move(k), std::move(v));
    }
    return out;
  }

  core::ByteReader& reader() { return r_; }

  void corrupt(std::string what) {
    if (corrupt_.empty() && r_.ok()) corrupt_ = std::move(what);
    r_.fail("entry", "corrupt");
  }

  Result<void> status() const {
    if (!corrupt_.empty()) return Error(Code::Corrupt, corrupt_);
    return r_.finish("node entry");
  }

 private:
  core::ByteReader r_;
  std::string corrupt_;
};

}  // namespace

Result<void> validate(const NodeEntry& e) {
  const auto& n = e.node;
  auto name = [](const char* f) { return [f] { return std::string(f); }; };
  if (n.id.is_zero()) return invalid("node.id", "is zero");
  if (n.name.empty()) return invalid("node.name", "is empty");
  CST_TRY(check_len(name("node.name"), n.name, Limits::kMaxName));
  CST_TRY(check_list(name("node.roles"), n.roles, Limits::kMaxListItems, Limits::kMaxShort));
  CST_TRY(check_list(name("node.tags"), n.tags, Limits::kMaxListItems, Limits::kMaxShort));
  CST_TRY(check_len(name("node.version"), n.version, Limits::kMaxShort));
  if (n.addresses.size() > Limits::kMaxListItems) return invalid("node.addresses", "has too many networks");
  for (const auto& address : n.addresses) {
    const auto& net = address.first;
    const auto& addr = address.second;
    CST_TRY(check_len(name("node.addresses"), net, Limits::kMaxShort));
    CST_TRY(check_len([&] { return "node.addresses." + net; }, addr, Limits::kMaxShort));
  }
  if (e.instances.size() > Limits::kMaxInstances) return invalid("instances", "too many instances");
  for (std::size_t i = 0; i < e.instances.size(); ++i) {
    const auto& in = e.instances[i];
    auto where = [i](const char* field) {
      return [i, field] { return "instances[" + std::to_string(i) + "]" + field; };
    };
    if (in.id.empty()) return invalid(where(".id")(), "is empty");
    if (i > 0 && !(e.instances[i - 1].id < in.id)) {
      return invalid(where(".id")(), "'" + in.id + "' is not after '" + e.instances[i - 1].id + "' (sorted, unique)");
    }
    CST_TRY(check_len(where(".id"), in.id, Limits::kMaxName));
    CST_TRY(check_len(where(".service"), in.service, Limits::kMaxName));
    CST_TRY(check_len(where(".project"), in.project, Limits::kMaxName));
    CST_TRY(check_len(where(".runtime"), in.runtime, Limits::kMaxShort));
    CST_TRY(check_len(where(".runtime_id"), in.runtime_id, Limits::kMaxName));
    if (in.labels.size() > Limits::kMaxLabels) return invalid(where(".labels")(), "too many labels");
    for (const auto& label : in.labels) {
      // Named, not structured, bindings: clang 14 cannot capture structured bindings.
      const auto& k = label.first;
      const auto& v = label.second;
      CST_TRY(check_len(where(".labels"), k, Limits::kMaxLabelKey));
      CST_TRY(check_len([&] { return where(".labels.")() + k; }, v, Limits::kMaxLabelValue));
    }
    if (in.ports.size() > Limits::kMaxPorts) return invalid(where(".ports")(), "too many ports");
    for (const auto& p : in.ports) {
      if (p.target == 0) return invalid(where(".ports")(), "target port 0");
      if (!valid_protocol(p.protocol)) return invalid(where(".ports")(), "protocol '" + p.protocol + "'");
      CST_TRY(check_len(where(".ports.host_ip"), p.host_ip, Limits::kMaxShort));
    }
    CST_TRY(check_list(where(".networks"), in.networks, Limits::kMaxListItems, Limits::kMaxShort));
    if (static_cast<unsigned>(in.health) > static_cast<unsigned>(Health::Maintenance)) {
      return invalid(where(".health")(), "unknown value");
    }
    if (in.checks.size() > Limits::kMaxListItems) return invalid(where(".checks")(), "too many checks");
    for (const auto& c : in.checks) {
      CST_TRY(check_len(where(".checks.name"), c.name, Limits::kMaxName));
      CST_TRY(check_len(where(".checks.output"), c.output, Limits::kMaxCheckOutput));
      if (static_cast<unsigned>(c.status) > static_cast<unsigned>(Health::Maintenance)) {
        return invalid(where(".checks.status")(), "unknown value");
      }
    }
  }
  return ok();
}

void encode(const NodeEntry& e, core::ByteWriter& w) {
  CST_ASSERT_MSG(validate(e).has_value(), "encoding an invalid NodeEntry");
  w.u8(kEntryFormat);
  w.raw(core::ByteView(e.node.id.bytes()));
  put(w, e.node.name);
  put_list(w, e.node.roles);
  put_list(w, e.node.tags);
  put(w, e.node.version);
  put_map(w, e.node.addresses);
  w.varint(e.version);
  w.varint(e.instances.size());
  for (const auto& in : e.instances) {
    put(w, in.id);
    put(w, in.service);
    put(w, in.project);
    put(w, in.runtime);
    put(w, in.runtime_id);
    put_map(w, in.labels);
    w.varint(in.ports.size());
    for (const auto& p : in.ports) {
      w.varint(p.target);
      w.varint(p.published);
      put(w, p.protocol);
      put(w, p.host_ip);
    }
    put_list(w, in.networks);
    w.u8(static_cast<std::uint8_t>(in.health));
    w.varint(in.checks.size());
    for (const auto& c : in.checks) {
      put(w, c.name);
      w.u8(static_cast<std::uint8_t>(c.status));
      put(w, c.output);
    }
  }
}

core::Bytes encode(const NodeEntry& entry) {
  core::ByteWriter w(256 + entry.instances.size() * 256);
  encode(entry, w);
  return std::move(w).take();
}

Result<NodeEntry> decode(core::ByteView bytes) {
  if (bytes.size() > Limits::kMaxEntryBytes) {
    return Error(Code::InvalidArgument, "node entry: " + std::to_string(bytes.size()) + " bytes exceeds the limit");
  }
  Decoder d(bytes);
  auto& r = d.reader();
  NodeEntry e;
  auto format = r.u8("format");
  if (r.ok() && format != kEntryFormat) {
    return Error(Code::Corrupt, "node entry: unknown format " + std::to_string(format));
  }
  auto id = r.bytes("node.id", 16);
  if (r.ok()) {
    std::array<std::uint8_t, 16> raw{};
    std::copy(id.begin(), id.end(), raw.begin());
    e.node.id = core::NodeId(raw);
  }
  e.node.name = d.str("node.name", Limits::kMaxName);
  e.node.roles = d.list("node.roles", Limits::kMaxListItems, Limits::kMaxShort);
  e.node.tags = d.list("node.tags", Limits::kMaxListItems, Limits::kMaxShort);
  e.node.version = d.str("node.version", Limits::kMaxShort);
  e.node.addresses = d.map("node.addresses", Limits::kMaxListItems, Limits::kMaxShort, Limits::kMaxShort);
  e.version = r.varint("version");
  auto count = r.varint_max("instances", Limits::kMaxInstances);
  if (count > r.remaining()) r.fail("instances", "count exceeds the remaining input");
  for (std::uint64_t i = 0; i < count && r.ok(); ++i) {
    Instance in;
    in.id = d.str("instance.id", Limits::kMaxName);
    in.service = d.str("instance.service", Limits::kMaxName);
    in.project = d.str("instance.project", Limits::kMaxName);
    in.runtime = d.str("instance.runtime", Limits::kMaxShort);
    in.runtime_id = d.str("instance.runtime_id", Limits::kMaxName);
    in.labels = d.map("instance.labels", Limits::kMaxLabels, Limits::kMaxLabelKey, Limits::kMaxLabelValue);
    auto nports = r.varint_max("instance.ports", Limits::kMaxPorts);
    if (nports > r.remaining()) r.fail("instance.ports", "count exceeds the remaining input");
    for (std::uint64_t p = 0; p < nports && r.ok(); ++p) {
      PortBinding b;
      b.target = static_cast<std::uint16_t>(r.varint_max("port.target", 65535));
      b.published = static_cast<std::uint16_t>(r.varint_max("port.published", 65535));
      b.protocol = d.str("port.protocol", Limits::kMaxShort);
      b.host_ip = d.str("port.host_ip", Limits::kMaxShort);
      in.ports.push_back(std::move(b));
    }
    in.networks = d.list("instance.networks", Limits::kMaxListItems, Limits::kMaxShort);
    in.health = static_cast<Health>(r.u8("instance.health"));
    auto nchecks = r.varint_max("instance.checks", Limits::kMaxListItems);
    if (nchecks > r.remaining()) r.fail("instance.checks", "count exceeds the remaining input");
    for (std::uint64_t c = 0; c < nchecks && r.ok(); ++c) {
      CheckResult cr;
      cr.name = d.str("check.name", Limits::kMaxName);
      cr.status = static_cast<Health>(r.u8("check.status"));
      cr.output = d.str("check.output", Limits::kMaxCheckOutput);
      in.checks.push_back(std::move(cr));
    }
    e.instances.push_back(std::move(in));
  }
  CST_TRY(d.status());
  if (auto v = validate(e); !v) return Error(Code::Corrupt, "node entry: " + v.error().message());
  return e;
}

}  // namespace constellation::catalog
