// SPDX-License-Identifier: Apache-2.0
#include "core/json.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

using namespace constellation;
using namespace constellation::core::json;

namespace {
std::string canon(std::string_view text, WriteOptions o = {true, false, 0}) {
  auto v = parse(text);
  REQUIRE_MESSAGE(v, (v ? "" : v.error().message()));
  return serialize(*v, o);
}

std::string parse_error(std::string_view text, ParseOptions o = {}) {
  auto v = parse(text, o);
  REQUIRE_FALSE(v);
  CHECK(v.error().code() == Code::InvalidArgument);
  return v.error().message();
}
}  // namespace

TEST_CASE("parse reads every JSON type") {
  auto v = parse(R"({"n":null,"t":true,"f":false,"i":-42,"u":18446744073709551615,"d":1.5e3,"s":"x","a":[1],"o":{}})");
  REQUIRE(v);
  CHECK(v->find("n")->is_null());
  CHECK(v->find("t")->as_bool());
  CHECK(v->find("i")->as_int() == -42);
  CHECK(v->find("u")->type() == Type::UInt);
  CHECK(v->find("u")->as_uint() == 18446744073709551615ULL);
  CHECK(v->find("d")->as_double() == 1500.0);
  CHECK(v->find("s")->as_string() == "x");
  CHECK(v->find("a")->as_array().size() == 1);
  CHECK(v->find("o")->as_object().empty());
  CHECK(v->find("missing") == nullptr);
}

TEST_CASE("the writer sorts keys on request and keeps order otherwise") {
  CHECK(canon(R"({"b":1,"a":{"d":2,"c":3}})") == R"({"a":{"c":3,"d":2},"b":1})");
  CHECK(canon(R"({"b":1,"a":2})", {false, false, 0}) == R"({"b":1,"a":2})");
  CHECK(canon(R"({"b":[1,{"y":1,"x":2}],"a":[]})", {true, false, 2}) ==
        "{\n  \"a\": [],\n  \"b\": [\n    1,\n    {\n      \"x\": 2,\n      \"y\": 1\n    }\n  ]\n}");
}

TEST_CASE("every control character and the line separators are escaped") {
  std::string all;
  for (int c = 0; c < 0x20; ++c) all.push_back(static_cast<char>(c));
  all += "\x7f\"\\/";
  std::string out;
  append_escaped(out, all);
  CHECK(out ==
        "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
        "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d"
        "\\u001e\\u001f\\u007f\\\"\\\\/\"");
  out.clear();
  append_escaped(out, "a\u2028b\u2029c");
  CHECK(out == "\"a\\u2028b\\u2029c\"");
  // And the result parses back to the original.
  auto back = parse(out);
  REQUIRE(back);
  CHECK(back->as_string() == "a\u2028b\u2029c");
}

TEST_CASE("non-ASCII: kept as UTF-8, or escaped with surrogate pairs") {
  std::string s = "caf\xc3\xa9 \xf0\x9f\x98\x80";  // café 😀
  std::string out;
  append_escaped(out, s);
  CHECK(out == "\"" + s + "\"");
  out.clear();
  append_escaped(out, s, /*ascii_only=*/true);
  CHECK(out == "\"caf\\u00e9 \\ud83d\\ude00\"");
  CHECK(parse(out)->as_string() == s);
}

TEST_CASE("invalid UTF-8 given to the writer becomes U+FFFD") {
  std::string out;
  append_escaped(out, std::string_view("a\xff"
                                       "b\xc0\xaf"
                                       "c\xed\xa0\x80",
                                       10));  // stray, overlong, surrogate
  CHECK(find_invalid_utf8(out) == std::string_view::npos);
  CHECK(out.find("\xEF\xBF\xBD") != std::string::npos);
  CHECK(out.find("\xc0") == std::string::npos);
}

TEST_CASE("find_invalid_utf8 finds the first bad byte") {
  CHECK(find_invalid_utf8("plain") == std::string_view::npos);
  CHECK(find_invalid_utf8("\xc3\xa9\xf0\x9f\x98\x80") == std::string_view::npos);
  CHECK(find_invalid_utf8("ab\xff") == 2);
  CHECK(find_invalid_utf8("\xe2\x82") == 0);          // truncated sequence
  CHECK(find_invalid_utf8("x\xc1\xbf") == 1);         // overlong
  CHECK(find_invalid_utf8("\xf4\x90\x80\x80") == 0);  // above U+10FFFF
  CHECK(find_invalid_utf8("\xed\xb0\x80") == 0);      // lone surrogate
}

TEST_CASE("numbers are written deterministically") {
  CHECK(canon("[0.1,1e300,-0.0,100,-5,2.5e-7]") == "[0.1,1e+300,0.0,100,-5,2.5e-07]");
  Writer w;
  w.begin_array().value(std::numeric_limits<double>::infinity()).value(std::nan("")).end_array();
  CHECK(w.str() == "[null,null]");
  // Doubles that look like integers keep a fraction, so they read back (even beyond 64 bits).
  CHECK(canon("[18467447370955516e4, 1.0, 100]") == "[184674473709555154944.0,1.0,100]");
  CHECK(canon(canon("[18467447370955516e4]")) == canon("[18467447370955516e4]"));
}

TEST_CASE("bad input: truncated, trailing, invalid UTF-8, too deep, too big, duplicates") {
  CHECK(parse_error("").find("empty") != std::string::npos);
  CHECK(parse_error("   ").find("empty") != std::string::npos);
  parse_error("{\"a\":");
  parse_error("[1,2");
  parse_error("\"unterminated");
  parse_error("[1] 2");
  parse_error("{\"a\" 1}");
  parse_error("nul");
  parse_error("01");
  parse_error("1e99999");
  parse_error("[\"\x01\"]");
  CHECK(parse_error("[\"ok\", \"\xff\"]").find("invalid UTF-8 at byte 8") != std::string::npos);

  std::string deep(65, '[');
  deep += std::string(65, ']');
  CHECK(parse_error(deep).find("deeper than 64") != std::string::npos);
  std::string ok_depth(64, '[');
  ok_depth += std::string(64, ']');
  CHECK(parse(ok_depth).has_value());
  std::string very_deep = std::string(100000, '[') + std::string(100000, ']');
  CHECK(parse_error(very_deep).find("deeper") != std::string::npos);
  std::string unclosed(100000, '[');
  CHECK_FALSE(parse_error(unclosed).empty());

  ParseOptions small;
  small.max_bytes = 10;
  CHECK(parse_error("[1,2,3,4,5,6]", small).find("exceeds the limit of 10") != std::string::npos);

  CHECK(parse_error(R"({"a":{"b":1,"b":2}})") == "invalid JSON: duplicate key 'b' in $.a");
  ParseOptions dups;
  dups.allow_duplicate_keys = true;
  CHECK(parse(R"({"b":1,"b":2})", dups)->find("b")->as_int() == 2);
}

TEST_CASE("duplicate detection also works for large objects") {
  std::string big = "{";
  for (int i = 0; i < 40; ++i) big += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  big += "\"k7\":0}";
  CHECK(parse_error(big).find("duplicate key 'k7'") != std::string::npos);
}

TEST_CASE("typed member access names the path and types") {
  auto v = parse(R"({"name":"web","port":"80","tags":[],"deep":{"x":1}})");
  REQUIRE(v);
  CHECK(*get_string(*v, "name", "services.web") == "web");
  auto port = get_int(*v, "port", "services.web");
  REQUIRE_FALSE(port);
  CHECK(port.error().message() == "services.web.port: expected integer, got string");
  auto missing = get_string(*v, "image", "services.web");
  CHECK(missing.error().message() == "services.web.image: required field is missing");
  CHECK(*get_int_or(*v, "replicas", "services.web", 1) == 1);
  CHECK((*get_array(*v, "tags", ""))->empty());
  CHECK(*get_int(**get_object(*v, "deep", ""), "x", "deep") == 1);
  CHECK(get_bool(*v, "name", "s").error().message() == "s.name: expected bool, got string");
  CHECK(get_string(Value(3), "x", "cfg").error().message() == "cfg: expected object, got integer");
}

TEST_CASE("values build and compare") {
  Value v;
  v["b"] = 1;
  v["a"].push_back("x");
  v["a"].push_back(Value::object());
  CHECK(serialize(v) == R"({"b":1,"a":["x",{}]})");
  CHECK(serialize(v, {true, false, 0}) == R"({"a":["x",{}],"b":1})");
  CHECK(Value(1) == Value(1.0));
  CHECK(Value("a") != Value("b"));
  CHECK(*parse(serialize(v)) == v);
}

TEST_CASE("Writer streams nested values") {
  Writer w;
  w.begin_object().key("list").begin_array().value(1).value("two").null().end_array();
  w.key("raw").raw(R"({"pre":true})").end_object();
  CHECK(w.complete());
  CHECK(w.str() == R"({"list":[1,"two",null],"raw":{"pre":true}})");
}
