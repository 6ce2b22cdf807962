// SPDX-License-Identifier: Apache-2.0
#include "provider/rule_template.hpp"

#include "provider/rule.hpp"

#include <optional>

namespace constellation::provider {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}
bool ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

struct FunctionSpec {
  std::string_view name;
  std::size_t arity;
};
constexpr FunctionSpec kFunctions[] = {
    {"normalize", 1}, {"lower", 1},   {"upper", 1},   {"trim", 1},  {"trimPrefix", 2},
    {"trimSuffix", 2}, {"replace", 3}, {"default", 2}, {"index", 2},
};

const FunctionSpec* find_function(std::string_view name) {
  for (const auto& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace

struct RuleTemplate::Node {
  enum class Kind { Text, Pipeline };
  struct Operand {
    enum class Kind { Name, ContainerName, Labels, Literal, Sub } kind = Kind::Literal;
    std::string literal;
    std::shared_ptr<const Node> sub;
  };
  struct Command {
    std::string function;  // empty: a bare operand
    std::vector<Operand> args;
  };
  Kind kind = Kind::Text;
  std::string text;
  std::vector<Command> pipeline;
};

namespace {

using Node = RuleTemplate::Node;

class ActionParser {
 public:
  ActionParser(std::string_view text, std::size_t base) : s_(text), base_(base) {}

  Result<std::shared_ptr<const Node>> parse_all() {
    auto node = parse_pipeline();
    if (!node) return node;
    skip_space();
    if (pos_ != s_.size()) return fail("unexpected '" + std::string(1, s_[pos_]) + "'");
    return node;
  }

 private:
  Error fail(const std::string& what) const {
    return Error(Code::InvalidArgument, "at offset " + std::to_string(base_ + pos_) + ": " + what);
  }
  void skip_space() {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
  }

  Result<std::shared_ptr<const Node>> parse_pipeline(int depth = 0) {
    if (depth > 16) return fail("nesting is too deep");
    auto node = std::make_shared<Node>();
    node->kind = Node::Kind::Pipeline;
    for (;;) {
      auto cmd = parse_command(depth);
      if (!cmd) return std::move(cmd).error();
      std::size_t provided = cmd->args.size() + (node->pipeline.empty() ? 0 : 1);
      if (cmd->function.empty()) {
        if (!node->pipeline.empty()) return fail("a value cannot take a piped argument; use a function after '|'");
      } else {
        const FunctionSpec* f = find_function(cmd->function);
        if (provided != f->arity) {
          return fail(cmd->function + " takes " + std::to_string(f->arity) + " argument(s), got " +
                      std::to_string(provided));
        }
      }
      node->pipeline.push_back(std::move(*cmd));
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == '|') {
        ++pos_;
        continue;
      }
      break;
    }
    return std::shared_ptr<const Node>(std::move(node));
  }

  Result<Node::Command> parse_command(int depth) {
    skip_space();
    Node::Command cmd;
    if (pos_ < s_.size() && ident_char(s_[pos_]) && !(s_[pos_] >= '0' && s_[pos_] <= '9')) {
      std::size_t start = pos_;
      while (pos_ < s_.size() && ident_char(s_[pos_])) ++pos_;
      std::string name(s_.substr(start, pos_ - start));
      if (!find_function(name)) {
        pos_ = start;
        return fail("unsupported function or keyword '" + name +
                    "' (supported: normalize lower upper trim trimPrefix trimSuffix replace default index)");
      }
      cmd.function = std::move(name);
      for (;;) {
        skip_space();
        if (pos_ == s_.size() || s_[pos_] == '|' || s_[pos_] == ')') break;
        auto op = parse_operand(depth);
        if (!op) return std::move(op).error();
        cmd.args.push_back(std::move(*op));
      }
      return cmd;
    }
    auto op = parse_operand(depth);
    if (!op) return std::move(op).error();
    cmd.args.push_back(std::move(*op));
    return cmd;
  }

  Result<Node::Operand> parse_operand(int depth) {
    skip_space();
    Node::Operand op;
    if (pos_ == s_.size()) return fail("expected a value");
    char c = s_[pos_];
    if (c == '"' || c == '`') {
      auto lit = parse_go_string(s_, pos_);
      if (!lit) return Error(Code::InvalidArgument, "in a template string: " + lit.error().message());
      op.kind = Node::Operand::Kind::Literal;
      op.literal = std::move(*lit);
      return op;
    }
    if (c == '(') {
      ++pos_;
      auto sub = parse_pipeline(depth + 1);
      if (!sub) return std::move(sub).error();
      skip_space();
      if (pos_ == s_.size() || s_[pos_] != ')') return fail("expected ')'");
      ++pos_;
      op.kind = Node::Operand::Kind::Sub;
      op.sub = std::move(*sub);
      return op;
    }
    if (c == '.') {
      std::size_t start = ++pos_;
      while (pos_ < s_.size() && ident_char(s_[pos_])) ++pos_;
      std::string_view field = s_.substr(start, pos_ - start);
      if (field == "Name") op.kind = Node::Operand::Kind::Name;
      else if (field == "ContainerName") op.kind = Node::Operand::Kind::ContainerName;
      else if (field == "Labels") op.kind = Node::Operand::Kind::Labels;
      else {
        pos_ = start - 1;
        return fail("unknown field '." + std::string(field) + "' (the template knows .Name, .ContainerName, .Labels)");
      }
      return op;
    }
    return fail("expected a value (.Name, .ContainerName, .Labels, a string or a parenthesised pipeline)");
  }

  std::string_view s_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

struct Val {
  bool is_map = false;
  std::string s;
};

Result<Val> eval_pipeline(const Node& node, const TemplateData& data);

Result<Val> eval_operand(const Node::Operand& op, const TemplateData& data) {
  switch (op.kind) {
    case Node::Operand::Kind::Name: return Val{false, std::string(data.name)};
    case Node::Operand::Kind::ContainerName: return Val{false, std::string(data.container_name)};
    case Node::Operand::Kind::Labels: return Val{true, {}};
    case Node::Operand::Kind::Literal: return Val{false, op.literal};
    case Node::Operand::Kind::Sub: return eval_pipeline(*op.sub, data);
  }
  return Val{};
}

Result<std::string> need_string(const Val& v, std::string_view fn) {
  if (v.is_map) return Error(Code::InvalidArgument, std::string(fn) + " was given .Labels; use index .Labels \"key\"");
  return v.s;
}

Result<Val> call(const std::string& fn, const std::vector<Val>& args, const TemplateData& data) {
  if (fn == "index") {
    if (!args[0].is_map) return Error(Code::InvalidArgument, "index needs .Labels as its first argument");
    CST_TRY_ASSIGN(std::string key, need_string(args[1], fn));
    if (!data.labels) return Val{};
    auto it = data.labels->find(key);
    return Val{false, it == data.labels->end() ? std::string() : it->second};
  }
  std::vector<std::string> s;
  for (const auto& a : args) {
    CST_TRY_ASSIGN(std::string v, need_string(a, fn));
    s.push_back(std::move(v));
  }
  if (fn == "normalize") return Val{false, normalize_name(s[0])};
  if (fn == "lower" || fn == "upper") {
    std::string out = s[0];
    for (char& c : out) {
      if (fn == "lower" && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (fn == "upper" && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return Val{false, out};
  }
  if (fn == "trim") {
    std::string_view v = s[0];
    while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
    while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
    return Val{false, std::string(v)};
  }
  if (fn == "trimPrefix") {
    std::string_view v = s[1];
    if (v.starts_with(s[0])) v.remove_prefix(s[0].size());
    return Val{false, std::string(v)};
  }
  if (fn == "trimSuffix") {
    std::string_view v = s[1];
    if (v.ends_with(s[0])) v.remove_suffix(s[0].size());
    return Val{false, std::string(v)};
  }
  if (fn == "replace") {
    const std::string& from = s[0];
    const std::string& to = s[1];
    const std::string& src = s[2];
    if (from.empty()) return Val{false, src};
    std::string out;
    std::size_t i = 0;
    for (std::size_t j; (j = src.find(from, i)) != std::string::npos; i = j + from.size()) {
      out.append(src, i, j - i);
      out += to;
    }
    out.append(src, i);
    return Val{false, out};
  }
  if (fn == "default") return Val{false, s[1].empty() ? s[0] : s[1]};
  return Error(Code::InvalidArgument, "unknown function " + fn);
}

Result<Val> eval_pipeline(const Node& node, const TemplateData& data) {
  std::optional<Val> piped;
  for (const auto& cmd : node.pipeline) {
    std::vector<Val> args;
    for (const auto& op : cmd.args) {
      CST_TRY_ASSIGN(Val v, eval_operand(op, data));
      args.push_back(std::move(v));
    }
    if (piped) args.push_back(std::move(*piped));
    if (cmd.function.empty()) {
      piped = std::move(args[0]);
    } else {
      CST_TRY_ASSIGN(Val v, call(cmd.function, args, data));
      piped = std::move(v);
    }
  }
  return piped ? std::move(*piped) : Val{};
}

}  // namespace

std::string normalize_name(std::string_view name) {
  std::string out;
  bool pending_dash = false;
  for (unsigned char c : name) {
    if (is_alnum(c)) {
      if (pending_dash && !out.empty()) out.push_back('-');
      pending_dash = false;
      out.push_back(static_cast<char>(c));
    } else {
      pending_dash = true;
    }
  }
  return out;
}

Result<RuleTemplate> RuleTemplate::compile(std::string_view text) {
  RuleTemplate t;
  std::size_t pos = 0;
  std::string pending_text;
  auto flush_text = [&] {
    if (pending_text.empty()) return;
    auto n = std::make_shared<Node>();
    n->kind = Node::Kind::Text;
    n->text = std::move(pending_text);
    pending_text.clear();
    t.pieces_.push_back(std::move(n));
  };
  while (pos < text.size()) {
    std::size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      pending_text.append(text.substr(pos));
      break;
    }
    pending_text.append(text.substr(pos, open - pos));
    std::size_t body = open + 2;
    bool trim_left = body + 1 < text.size() && text[body] == '-' && is_space(text[body + 1]);
    if (trim_left) {
      body += 1;
      while (!pending_text.empty() && is_space(pending_text.back())) pending_text.pop_back();
    }
    // Find the closing "}}" outside string literals.
    std::size_t i = body;
    std::size_t close = std::string_view::npos;
    while (i < text.size()) {
      char c = text[i];
      if (c == '"' || c == '`') {
        std::size_t p = i;
        auto s = parse_go_string(text, p);
        if (!s) return Error(Code::InvalidArgument, "default rule template: " + s.error().message());
        i = p;
        continue;
      }
      if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
        close = i;
        break;
      }
      ++i;
    }
    if (close == std::string_view::npos) {
      return Error(Code::InvalidArgument,
                   "default rule template: at offset " + std::to_string(open) + ": unclosed action '{{'");
    }
    std::size_t body_end = close;
    bool trim_right = body_end > body && text[body_end - 1] == '-' && body_end >= 2 && is_space(text[body_end - 2]);
    if (trim_right) body_end -= 1;
    std::string_view action = text.substr(body, body_end - body);
    std::size_t a = 0;
    while (a < action.size() && is_space(action[a])) ++a;
    if (action.substr(a, 2) == "/*") {  // a comment
      pos = close + 2;
    } else {
      flush_text();
      auto node = ActionParser(action, body).parse_all();
      if (!node) return Error(Code::InvalidArgument, "default rule template: " + node.error().message());
      t.pieces_.push_back(std::move(*node));
      pos = close + 2;
    }
    if (trim_right) {
      while (pos < text.size() && is_space(text[pos])) ++pos;
    }
  }
  flush_text();
  return t;
}

Result<std::string> RuleTemplate::execute(const TemplateData& data) const {
  std::string out;
  for (const auto& piece : pieces_) {
    if (piece->kind == Node::Kind::Text) {
      out += piece->text;
      continue;
    }
    auto v = eval_pipeline(*piece, data);
    if (!v) return Error(Code::InvalidArgument, "default rule template: " + v.error().message());
    if (v->is_map) return Error(Code::InvalidArgument, "default rule template: cannot print .Labels");
    out += v->s;
  }
  return out;
}

}  // namespace constellation::provider
