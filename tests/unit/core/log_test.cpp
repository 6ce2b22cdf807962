// SPDX-License-Identifier: Apache-2.0
#include "core/log.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::core;
using namespace constellation::core::log;

TEST_CASE("records become one JSON object per line") {
  Field fields[] = {{"node", json::Value("n1")}, {"port", json::Value(7946)}, {"msg", json::Value("shadow")}};
  Record r{WallTime{0}, Level::Warn, "gossip", "probe \"failed\"", fields};
  CHECK(JsonLinesSink::format(r) ==
        R"({"ts":"1970-01-01T00:00:00.000000Z","level":"warn","component":"gossip","msg":"probe \"failed\"",)"
        R"("node":"n1","port":7946,"field.msg":"shadow"})");
  auto parsed = json::parse(JsonLinesSink::format(r));
  CHECK(parsed.has_value());
}

TEST_CASE("levels filter and child loggers extend the component") {
  MemorySink sink;
  ManualClock clock;
  Logger log(sink, clock, "agent", Level::Info);
  log.debug("hidden");
  log.info("shown", {{"k", json::Value(1)}});
  log.child("http").error("failed");
  auto entries = sink.entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].message == "shown");
  CHECK(entries[0].fields.find("k")->as_int() == 1);
  CHECK(entries[1].component == "agent.http");
  CHECK(entries[1].level == Level::Error);
  CHECK(sink.count("fail") == 1);
  Logger quiet;  // the default logger drops everything
  quiet.error("nowhere");
}

TEST_CASE("parse_level") {
  CHECK(*parse_level("debug") == Level::Debug);
  CHECK(*parse_level("error") == Level::Error);
  auto bad = parse_level("LOUD");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("'LOUD'") != std::string::npos);
}
