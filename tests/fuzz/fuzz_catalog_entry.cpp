// SPDX-License-Identifier: Apache-2.0
// The NodeEntry codec driven by arbitrary bytes (what gossip receives from the network).
// Invariants: decode never crashes or over-reads; a decoded entry is valid, re-encodes and
// decodes to itself; merging it into a catalog in either order with a fixed entry of the same
// node gives the same state.
#include "catalog/catalog.hpp"
#include "catalog/codec.hpp"
#include "core/assert.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace constellation;
  using namespace constellation::catalog;
  auto r = decode(core::ByteView(data, size));
  if (!r) {
    CST_ASSERT(r.error().code() == Code::InvalidArgument || r.error().code() == Code::Corrupt);
    return 0;
  }
  const NodeEntry& e = *r;
  CST_ASSERT(validate(e).has_value());
  auto bytes = encode(e);
  auto back = decode(bytes);
  CST_ASSERT(back.has_value() && *back == e);

  NodeEntry other = e;
  other.instances.clear();
  other.node.name = "other";
  Catalog a, b;
  a.merge(e);
  a.merge(other);
  b.merge(other);
  b.merge(e);
  CST_ASSERT(a.find(e.node.id) && b.find(e.node.id));
  CST_ASSERT(a.find(e.node.id)->entry == b.find(e.node.id)->entry);
  auto snap = a.publish();
  for (const auto& in : e.instances) (void)healthy_instances(*snap, in.service);
  return 0;
}
