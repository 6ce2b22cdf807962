// SPDX-License-Identifier: Apache-2.0
#include "dns/rule.hpp"

#include <algorithm>
#include <cctype>

namespace constellation::dns {

namespace {

// Recursive-descent parser over the grammar
//   or   := and ("||" and)*
//   and  := unary ("&&" unary)*
//   unary:= "!" unary | "(" or ")" | matcher
//   matcher := ident "(" [string ("," string)*] ")"
class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<std::vector<std::string>> run() {
    CST_TRY(parse_or(false, 0));
    skip_space();
    if (pos_ != s_.size()) return fail("unexpected input");
    return std::move(hosts_);
  }

 private:
  static constexpr int kMaxDepth = 64;

  Error fail(std::string_view what) const {
    return Error(Code::InvalidArgument, "rule '" + std::string(s_) + "': " + std::string(what) + " at offset " +
                                            std::to_string(pos_));
  }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(std::string_view tok) {
    skip_space();
    if (s_.substr(pos_, tok.size()) == tok) {
      pos_ += tok.size();
      return true;
    }
    return false;
  }

  Result<void> parse_or(bool negated, int depth) {
    if (depth > kMaxDepth) return fail("nesting too deep");
    CST_TRY(parse_and(negated, depth + 1));
    while (eat("||")) CST_TRY(parse_and(negated, depth + 1));
    return ok();
  }
  Result<void> parse_and(bool negated, int depth) {
    CST_TRY(parse_unary(negated, depth + 1));
    while (eat("&&")) CST_TRY(parse_unary(negated, depth + 1));
    return ok();
  }
  Result<void> parse_unary(bool negated, int depth) {
    if (depth > kMaxDepth) return fail("nesting too deep");
    if (eat("!")) return parse_unary(!negated, depth + 1);
    if (eat("(")) {
      CST_TRY(parse_or(negated, depth + 1));
      if (!eat(")")) return fail("expected ')'");
      return ok();
    }
    return parse_matcher(negated);
  }
  Result<void> parse_matcher(bool negated) {
    skip_space();
    std::size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
    if (pos_ == start) return fail("expected a matcher");
    std::string name(s_.substr(start, pos_ - start));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!eat("(")) return fail("expected '(' after " + name);
    std::vector<std::string> args;
    if (!eat(")")) {
      for (;;) {
        CST_TRY_ASSIGN(std::string arg, parse_string());
        args.push_back(std::move(arg));
        if (eat(")")) break;
        if (!eat(",")) return fail("expected ',' or ')'");
      }
    }
    if (args.empty()) return fail("matcher " + name + " has no arguments");
    const bool names_hosts = name == "host" || name == "hostheader" || name == "hostsni";
    if (names_hosts && !negated) {
      for (auto& a : args) {
        if (name == "hostsni" && a == "*") continue;
        if (std::find(hosts_.begin(), hosts_.end(), a) == hosts_.end()) hosts_.push_back(std::move(a));
      }
    }
    return ok();
  }
  Result<std::string> parse_string() {
    skip_space();
    if (pos_ >= s_.size()) return fail("expected a string");
    const char quote = s_[pos_];
    if (quote != '`' && quote != '"' && quote != '\'') return fail("expected a quoted string");
    ++pos_;
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      char c = s_[pos_++];
      if (c == '\\' && quote != '`') {
        if (pos_ >= s_.size()) break;
        c = s_[pos_++];
      }
      out.push_back(c);
    }
    if (pos_ >= s_.size()) return fail("unterminated string");
    ++pos_;
    return out;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::vector<std::string> hosts_;
};

}  // namespace

Result<std::vector<std::string>> hosts_from_rule(std::string_view rule) { return Parser(rule).run(); }

}  // namespace constellation::dns
