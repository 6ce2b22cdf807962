// SPDX-License-Identifier: Apache-2.0
#include "gossip/string_table.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace constellation::gossip;

TEST_CASE("string table: one id per distinct value, counted references, ids reused once free") {
  StringTable t;
  const auto a = t.acquire("node-a");
  const auto b = t.acquire("node-b");
  CHECK(a != b);
  CHECK(t.acquire("node-a") == a);  // the same value, a second reference
  CHECK(t.references(a) == 2);
  CHECK(t.view(a) == "node-a");
  CHECK(t.find("node-b") == b);
  CHECK(t.find("node-c") == StringTable::kNone);
  CHECK(t.size() == 2);
  CHECK(t.id_bound() == 2);

  t.release(a);
  CHECK(t.find("node-a") == a);  // one reference left
  t.release(a);
  CHECK(t.find("node-a") == StringTable::kNone);
  CHECK(t.size() == 1);

  const auto c = t.acquire("node-c");
  CHECK(c == a);  // the freed id, not a new one: ids stay dense
  CHECK(t.view(c) == "node-c");
  CHECK(t.id_bound() == 2);
  t.retain(b);
  t.release(b);
  CHECK(t.view(b) == "node-b");
}

TEST_CASE("string table: views stay valid while the table grows, and values may hold any bytes") {
  StringTable t;
  const auto first = t.acquire("short");
  const std::string_view view = t.view(first);
  for (int i = 0; i < 10000; ++i)
    t.acquire("value-" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 40), 'x'));
  CHECK(view == "short");
  CHECK(view.data() == t.view(first).data());
  const std::string binary("a\0b\xff", 4);
  const auto id = t.acquire(binary);
  CHECK(t.view(id) == binary);
  CHECK(t.find(std::string_view("a\0b", 3)) == StringTable::kNone);
}
