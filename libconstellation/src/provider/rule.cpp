// SPDX-License-Identifier: Apache-2.0
#include "provider/rule.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <optional>
#include <vector>

namespace constellation::provider {

namespace {

/// Argument counts a matcher takes: exactly one of `counts`, or at least `min_many` when `many`.
struct MatcherSpec {
  std::string_view name;
  std::uint8_t min = 1;
  std::uint8_t max = 1;  // 0 = unbounded
  bool even = false;     // gorilla/mux header pairs
};

constexpr MatcherSpec kHttpV3[] = {
    {"ClientIP"}, {"Method"}, {"Host"}, {"HostRegexp"}, {"Path"}, {"PathRegexp"}, {"PathPrefix"},
    {"Header", 2, 2}, {"HeaderRegexp", 2, 2}, {"Query", 1, 2}, {"QueryRegexp", 1, 2},
};
constexpr MatcherSpec kHttpV2[] = {
    {"Host", 1, 0},       {"HostHeader", 1, 0}, {"HostRegexp", 1, 0}, {"ClientIP", 1, 0},
    {"Path", 1, 0},       {"PathPrefix", 1, 0}, {"Method", 1, 0},     {"Headers", 2, 0, true},
    {"HeadersRegexp", 2, 0, true}, {"Query", 1, 0},
};
constexpr MatcherSpec kTcpV3[] = {{"ALPN"}, {"ClientIP"}, {"HostSNI"}, {"HostSNIRegexp"}};
constexpr MatcherSpec kTcpV2[] = {{"ALPN", 1, 0}, {"ClientIP", 1, 0}, {"HostSNI", 1, 0}, {"HostSNIRegexp", 1, 0}};

struct Call {
  std::string name;
  std::size_t offset = 0;
  std::vector<std::string> args;
};

/// Recursive descent over the Go expression subset predicate accepts:
///   or := and ('||' and)* ; and := unary ('&&' unary)* ; unary := '!' unary | primary ;
///   primary := '(' or ')' | IDENT '(' [string (',' string)* [',']] ')'
class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<std::vector<Call>> parse() {
    skip_space();
    if (pos_ == s_.size()) return fail("the rule is empty");
    if (auto r = parse_or(0); !r) return std::move(r).error();
    skip_space();
    if (pos_ != s_.size()) return fail("unexpected '" + std::string(1, s_[pos_]) + "' after a complete expression");
    return std::move(calls_);
  }

 private:
  static constexpr int kMaxDepth = 64;

  Error fail(const std::string& what) const {
    return Error(Code::InvalidArgument, "at offset " + std::to_string(pos_) + ": " + what);
  }

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  bool consume(std::string_view tok) {
    skip_space();
    if (s_.substr(pos_, tok.size()) == tok) {
      pos_ += tok.size();
      return true;
    }
    return false;
  }

  Result<void> parse_or(int depth) {
    if (depth > kMaxDepth) return fail("nesting is too deep");
    CST_TRY(parse_and(depth));
    while (consume("||")) CST_TRY(parse_and(depth));
    return ok();
  }

  Result<void> parse_and(int depth) {
    CST_TRY(parse_unary(depth));
    while (consume("&&")) CST_TRY(parse_unary(depth));
    return ok();
  }

  Result<void> parse_unary(int depth) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == '!' && (pos_ + 1 >= s_.size() || s_[pos_ + 1] != '=')) {
      ++pos_;
      if (depth > kMaxDepth) return fail("nesting is too deep");
      return parse_unary(depth + 1);
    }
    return parse_primary(depth);
  }

  static bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
  static bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

  Result<void> parse_primary(int depth) {
    skip_space();
    if (pos_ == s_.size()) return fail("expected a matcher such as Host(`example.com`), got the end of the rule");
    if (s_[pos_] == '(') {
      ++pos_;
      CST_TRY(parse_or(depth + 1));
      if (!consume(")")) return fail("expected ')' to close the group");
      return ok();
    }
    if (!ident_start(s_[pos_])) {
      return fail("expected a matcher such as Host(`example.com`), got '" + std::string(1, s_[pos_]) + "'");
    }
    Call call;
    call.offset = pos_;
    while (pos_ < s_.size() && ident_char(s_[pos_])) call.name.push_back(s_[pos_++]);
    skip_space();
    if (pos_ == s_.size() || s_[pos_] != '(') return fail("expected '(' after " + call.name);
    ++pos_;
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == ')') {
      ++pos_;
      calls_.push_back(std::move(call));
      return ok();
    }
    for (;;) {
      skip_space();
      if (pos_ == s_.size() || (s_[pos_] != '`' && s_[pos_] != '"')) {
        return fail("expected a string argument (`...` or \"...\") in " + call.name);
      }
      auto arg = parse_go_string(s_, pos_);
      if (!arg) return std::move(arg).error();
      call.args.push_back(std::move(*arg));
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        skip_space();
        if (pos_ < s_.size() && s_[pos_] == ')') {  // Go allows a trailing comma
          ++pos_;
          break;
        }
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ')') {
        ++pos_;
        break;
      }
      return fail("expected ',' or ')' after an argument of " + call.name);
    }
    calls_.push_back(std::move(call));
    return ok();
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::vector<Call> calls_;
};

/// The four spellings predicate registers: as written, lower case, UPPER CASE, and Title case of
/// the lower case ("Pathprefix").
bool spelled_as(std::string_view written, std::string_view canonical) {
  if (written.size() != canonical.size()) return false;
  if (written == canonical) return true;
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; };
  bool all_lower = true, all_upper = true, title = true;
  for (std::size_t i = 0; i < written.size(); ++i) {
    char w = written[i], c = canonical[i];
    all_lower = all_lower && w == lower(c);
    all_upper = all_upper && w == upper(c);
    title = title && w == (i == 0 ? upper(c) : lower(c));
  }
  return all_lower || all_upper || title;
}

template <std::size_t N>
const MatcherSpec* find_matcher(const MatcherSpec (&table)[N], std::string_view name) {
  for (const auto& m : table) {
    if (spelled_as(name, m.name)) return &m;
  }
  return nullptr;
}

bool is_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

/// Traefik's hostOrIP: ^[[:word:].\-:]+$ (non-ASCII names are tried as IDNA; accepted here).
bool valid_host_sni(std::string_view s) {
  if (s == "*") return true;
  if (!is_ascii(s)) return true;
  if (s.empty()) return false;
  for (char c : s) {
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!word && c != '.' && c != '-' && c != ':') return false;
  }
  return true;
}

Result<void> check_call(const Call& call, const MatcherSpec& spec, RuleKind kind, RuleSyntax syntax) {
  auto where = [&] { return call.name + " at offset " + std::to_string(call.offset); };
  std::size_t n = call.args.size();
  if (n == 0) return Error(Code::InvalidArgument, where() + " has no argument");
  bool count_ok = n >= spec.min && (spec.max == 0 || n <= spec.max) && (!spec.even || n % 2 == 0);
  if (!count_ok) {
    std::string expected = spec.max == 0   ? (spec.even ? "an even number of arguments (key, value pairs)"
                                                        : "at least " + std::to_string(spec.min) + " argument(s)")
                           : spec.min == spec.max ? std::to_string(spec.min) + " argument(s)"
                                                  : std::to_string(spec.min) + " or " + std::to_string(spec.max) +
                                                        " arguments";
    std::string msg = where() + " takes " + expected + ", got " + std::to_string(n);
    if (syntax == RuleSyntax::V3 && n > spec.max && spec.max == 1) {
      msg += " (v3 matchers take one value: combine them with ||, or set ruleSyntax=v2)";
    }
    return Error(Code::InvalidArgument, msg);
  }
  for (const auto& a : call.args) {
    if (a.empty()) return Error(Code::InvalidArgument, where() + " has an empty argument");
  }
  const std::string_view m = spec.name;
  if (kind == RuleKind::Http) {
    if ((m == "Host" || m == "HostHeader" || m == "HostRegexp")) {
      for (const auto& a : call.args) {
        if (!is_ascii(a)) {
          return Error(Code::InvalidArgument,
                       where() + ": '" + a + "' has non-ASCII characters (write the name in punycode)");
        }
      }
    }
    if (syntax == RuleSyntax::V3 && (m == "Path" || m == "PathPrefix") && call.args[0][0] != '/') {
      return Error(Code::InvalidArgument, where() + ": path '" + call.args[0] + "' does not start with '/'");
    }
    if (syntax == RuleSyntax::V2 && (m == "Path" || m == "PathPrefix")) {
      for (const auto& a : call.args) {
        if (a[0] != '/') return Error(Code::InvalidArgument, where() + ": path '" + a + "' does not start with '/'");
      }
    }
  } else {
    if (m == "HostSNI") {
      for (const auto& a : call.args) {
        if (!valid_host_sni(a)) {
          return Error(Code::InvalidArgument, where() + ": '" + a + "' is not a valid host name or IP");
        }
      }
    }
    if (m == "ALPN") {
      for (const auto& a : call.args) {
        if (a == "acme-tls/1") return Error(Code::InvalidArgument, where() + ": the protocol acme-tls/1 is reserved");
      }
    }
  }
  if (m == "ClientIP") {
    for (const auto& a : call.args) {
      if (!is_ip_or_cidr(a)) {
        return Error(Code::InvalidArgument, where() + ": '" + a + "' is not an IP address or CIDR range");
      }
    }
  }
  return ok();
}

const MatcherSpec* lookup(RuleKind kind, RuleSyntax syntax, std::string_view name) {
  if (kind == RuleKind::Http) return syntax == RuleSyntax::V3 ? find_matcher(kHttpV3, name) : find_matcher(kHttpV2, name);
  return syntax == RuleSyntax::V3 ? find_matcher(kTcpV3, name) : find_matcher(kTcpV2, name);
}

Result<void> check_calls(const std::vector<Call>& calls, RuleKind kind, RuleSyntax syntax) {
  for (const auto& call : calls) {
    const MatcherSpec* spec = lookup(kind, syntax, call.name);
    if (!spec) {
      std::string msg = "unknown " + std::string(kind == RuleKind::Http ? "HTTP" : "TCP") + " matcher " + call.name +
                        " at offset " + std::to_string(call.offset);
      RuleSyntax other = syntax == RuleSyntax::V3 ? RuleSyntax::V2 : RuleSyntax::V3;
      if (lookup(kind, other, call.name)) {
        msg += syntax == RuleSyntax::V3 ? " (it is Traefik v2 rule syntax: use the v3 matcher, or set ruleSyntax=v2)"
                                        : " (it is a Traefik v3 matcher; the target is v2)";
      } else if (kind == RuleKind::Tcp && find_matcher(kHttpV3, call.name)) {
        msg += " (TCP routers match on HostSNI, HostSNIRegexp, ClientIP or ALPN)";
      }
      return Error(Code::InvalidArgument, msg);
    }
    CST_TRY(check_call(call, *spec, kind, syntax));
  }
  return ok();
}

bool parse_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (true) {
    std::size_t start = i;
    int value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) value = value * 10 + (s[i++] - '0');
    if (i == start || value > 255) return false;
    if (i - start > 1 && s[start] == '0') return false;  // Go's ParseIP rejects leading zeros
    ++parts;
    if (i == s.size()) break;
    if (s[i] != '.' || parts == 4) return false;
    ++i;
  }
  return parts == 4;
}

bool parse_ipv6(std::string_view s) {
  if (s.empty()) return false;
  int groups = 0;
  bool compressed = false;
  std::size_t i = 0;
  if (s.substr(0, 2) == "::") {
    compressed = true;
    i = 2;
    if (i == s.size()) return true;
  } else if (s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    std::size_t start = i;
    while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i])) && i - start < 4) ++i;
    if (i < s.size() && s[i] == '.') {  // embedded IPv4 in the last 32 bits
      if (!parse_ipv4(s.substr(start))) return false;
      groups += 2;
      i = s.size();
      break;
    }
    if (i == start) return false;
    ++groups;
    if (i == s.size()) break;
    if (s[i] != ':') return false;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (compressed) return false;
      compressed = true;
      ++i;
      if (i == s.size()) break;
    } else if (i == s.size()) {
      return false;  // trailing single ':'
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

}  // namespace

bool is_ip_or_cidr(std::string_view s) {
  std::size_t slash = s.find('/');
  std::string_view addr = s.substr(0, slash);
  bool v4 = parse_ipv4(addr);
  bool v6 = !v4 && addr.find(':') != std::string_view::npos && parse_ipv6(addr);
  if (!v4 && !v6) return false;
  if (slash == std::string_view::npos) return true;
  std::string_view prefix = s.substr(slash + 1);
  if (prefix.empty() || prefix.size() > 3) return false;
  int bits = 0;
  for (char c : prefix) {
    if (c < '0' || c > '9') return false;
    bits = bits * 10 + (c - '0');
  }
  return bits <= (v4 ? 32 : 128);
}

Result<std::string> parse_go_string(std::string_view text, std::size_t& pos) {
  const std::size_t start = pos;
  auto fail = [&](std::size_t at, const std::string& what) {
    return Error(Code::InvalidArgument, "at offset " + std::to_string(at) + ": " + what);
  };
  if (pos >= text.size()) return fail(pos, "expected a string");
  const char quote = text[pos];
  if (quote == '`') {
    std::size_t end = text.find('`', pos + 1);
    if (end == std::string_view::npos) return fail(start, "unterminated `string`");
    std::string out;
    for (char c : text.substr(pos + 1, end - pos - 1)) {
      if (c != '\r') out.push_back(c);  // Go drops carriage returns from raw strings
    }
    pos = end + 1;
    return out;
  }
  if (quote != '"') return fail(pos, "expected a string");
  std::string out;
  std::size_t i = pos + 1;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  auto append_utf8 = [&](std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  };
  while (true) {
    if (i >= text.size() || text[i] == '\n') return fail(start, "unterminated \"string\"");
    char c = text[i];
    if (c == '"') break;
    if (c != '\\') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= text.size()) return fail(start, "unterminated \"string\"");
    char e = text[i + 1];
    std::size_t esc_at = i;
    i += 2;
    switch (e) {
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case '\\': out.push_back('\\'); break;
      case '"': out.push_back('"'); break;
      case 'x': {
        if (i + 2 > text.size() || hex(text[i]) < 0 || hex(text[i + 1]) < 0) return fail(esc_at, "bad \\x escape");
        out.push_back(static_cast<char>(hex(text[i]) * 16 + hex(text[i + 1])));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        std::size_t digits = e == 'u' ? 4 : 8;
        if (i + digits > text.size()) return fail(esc_at, "bad \\" + std::string(1, e) + " escape");
        std::uint32_t cp = 0;
        for (std::size_t k = 0; k < digits; ++k) {
          int h = hex(text[i + k]);
          if (h < 0) return fail(esc_at, "bad \\" + std::string(1, e) + " escape");
          cp = cp * 16 + static_cast<std::uint32_t>(h);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return fail(esc_at, "escape is not a valid code point");
        append_utf8(cp);
        i += digits;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          if (i + 2 > text.size()) return fail(esc_at, "bad octal escape");
          int v = (e - '0') * 64;
          char d1 = text[i], d2 = text[i + 1];
          if (d1 < '0' || d1 > '7' || d2 < '0' || d2 > '7') return fail(esc_at, "bad octal escape");
          v += (d1 - '0') * 8 + (d2 - '0');
          if (v > 255) return fail(esc_at, "octal escape above \\377");
          out.push_back(static_cast<char>(v));
          i += 2;
          break;
        }
        return fail(esc_at, "unknown escape \\" + std::string(1, e));
    }
  }
  pos = i + 1;
  return out;
}

Result<void> check_rule(std::string_view rule, RuleKind kind, RuleSyntax syntax) {
  auto calls = Parser(rule).parse();
  if (!calls) return std::move(calls).error();
  return check_calls(*calls, kind, syntax);
}

}  // namespace constellation::provider
