// SPDX-License-Identifier: Apache-2.0
#include "spec/scalars.hpp"

#include "catalog/addresses.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace constellation::spec {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// Parses a decimal unsigned number that must fill `s`.
bool parse_uint(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  std::from_chars(s.data(), s.data() + s.size(), out);
  return true;
}

}  // namespace

Parsed<core::Duration> parse_duration(std::string_view s) {
  if (s.empty()) return std::string("empty duration");
  if (s == "0") return core::Duration(0);
  long double total_ns = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t start = i;
    while (i < s.size() && (is_digit(s[i]) || s[i] == '.')) ++i;
    auto number = s.substr(start, i - start);
    if (number.empty() || number == "." || std::count(number.begin(), number.end(), '.') > 1) {
      return "invalid duration " + quote(s) + " (expected e.g. 10s, 1m30s, 500ms)";
    }
    std::size_t ustart = i;
    while (i < s.size() && !is_digit(s[i]) && s[i] != '.') ++i;
    auto unit = s.substr(ustart, i - ustart);
    long double scale = 0;
    if (unit == "ns") scale = 1;
    else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") scale = 1e3L;
    else if (unit == "ms") scale = 1e6L;
    else if (unit == "s") scale = 1e9L;
    else if (unit == "m") scale = 60e9L;
    else if (unit == "h") scale = 3600e9L;
    else if (unit.empty()) return "missing unit in duration " + quote(s) + " (use ns, us, ms, s, m or h)";
    else return "unknown unit " + quote(unit) + " in duration " + quote(s);
    long double value = 0;
    // Manual decimal parse: locale independent, no exceptions.
    long double frac = 0;
    bool in_frac = false;
    for (char c : number) {
      if (c == '.') {
        in_frac = true;
        frac = 0.1L;
        continue;
      }
      if (in_frac) {
        value += (c - '0') * frac;
        frac /= 10;
      } else {
        value = value * 10 + (c - '0');
      }
    }
    total_ns += value * scale;
    if (total_ns > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) {
      return "duration " + quote(s) + " is too long";
    }
  }
  return core::Duration(static_cast<std::int64_t>(std::llround(total_ns)));
}

Parsed<std::uint64_t> parse_byte_size(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  std::uint64_t n = 0;
  if (!parse_uint(s.substr(0, i), n)) return "invalid size " + quote(s) + " (expected e.g. 10MB, 512k)";
  std::string unit;
  for (char c : s.substr(i)) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::uint64_t mult = 1;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1ull << 10;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1ull << 20;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1ull << 30;
  else return "unknown unit in size " + quote(s) + " (use b, k, m or g)";
  if (n > std::numeric_limits<std::uint64_t>::max() / mult) return "size " + quote(s) + " is too large";
  return n * mult;
}

Parsed<std::pair<std::uint16_t, std::uint16_t>> parse_port_range(std::string_view s) {
  auto dash = s.find('-');
  auto one = [&](std::string_view p) -> Parsed<std::uint16_t> {
    std::uint64_t v = 0;
    if (!parse_uint(p, v)) return "invalid port " + quote(p);
    if (v == 0 || v > 65535) return "port " + std::string(p) + " is out of range (1-65535)";
    return static_cast<std::uint16_t>(v);
  };
  if (dash == std::string_view::npos) {
    auto p = one(s);
    if (failed(p)) return std::get<1>(p);
    return std::pair{std::get<0>(p), std::get<0>(p)};
  }
  auto a = one(s.substr(0, dash));
  if (failed(a)) return std::get<1>(a);
  auto b = one(s.substr(dash + 1));
  if (failed(b)) return std::get<1>(b);
  if (std::get<0>(a) > std::get<0>(b)) return "port range " + quote(s) + " ends before it starts";
  return std::pair{std::get<0>(a), std::get<0>(b)};
}

Parsed<PortSpec> parse_port_short(std::string_view s) {
  PortSpec p;
  std::string_view rest = s;
  if (rest.empty()) return std::string("empty port specification");
  if (auto slash = rest.rfind('/'); slash != std::string_view::npos) {
    p.protocol = std::string(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
    if (p.protocol != "tcp" && p.protocol != "udp" && p.protocol != "sctp") {
      return "unknown protocol " + quote(p.protocol) + " in " + quote(s) + " (tcp, udp or sctp)";
    }
  }
  std::string_view host_ip, published, target;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return "unterminated '[' in " + quote(s);
    host_ip = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return "expected ':' after the host address in " + quote(s);
    rest.remove_prefix(1);
    auto colon = rest.find(':');
    if (colon == std::string_view::npos) return "missing container port in " + quote(s);
    published = rest.substr(0, colon);
    target = rest.substr(colon + 1);
    if (!catalog::is_ipv6(host_ip)) return "invalid IPv6 host address " + quote(host_ip) + " in " + quote(s);
  } else {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= rest.size(); ++i) {
      if (i == rest.size() || rest[i] == ':') {
        parts.push_back(rest.substr(start, i - start));
        start = i + 1;
      }
    }
    if (parts.size() == 1) {
      target = parts[0];
    } else if (parts.size() == 2) {
      published = parts[0];
      target = parts[1];
    } else if (parts.size() == 3) {
      host_ip = parts[0];
      published = parts[1];
      target = parts[2];
    } else {
      return "too many ':' in port " + quote(s) + " (IPv6 host addresses go in brackets: \"[::1]:8080:80\")";
    }
    if (parts.size() == 3 && !catalog::parse_ipv4(host_ip)) {
      return "invalid host address " + quote(host_ip) + " in " + quote(s);
    }
  }
  p.host_ip = std::string(host_ip);
  if (target.empty()) return "missing container port in " + quote(s);
  auto t = parse_port_range(target);
  if (failed(t)) return std::get<1>(t) + " in " + quote(s);
  p.target = std::get<0>(t).first;
  p.target_end = std::get<0>(t).second;
  if (!published.empty()) {
    auto h = parse_port_range(published);
    if (failed(h)) return std::get<1>(h) + " in " + quote(s);
    p.published = std::get<0>(h).first;
    p.published_end = std::get<0>(h).second;
    auto tlen = p.target_end - p.target;
    auto plen = p.published_end - p.published;
    if (tlen != plen && tlen != 0) {
      return "port ranges differ in length in " + quote(s) + " (published " + std::to_string(plen + 1) +
             ", container " + std::to_string(tlen + 1) + ")";
    }
  }
  return p;
}

Parsed<VolumeSpec> parse_volume_short(std::string_view s) {
  if (s.empty()) return std::string("empty volume specification");
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ':') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  VolumeSpec v;
  std::string_view mode;
  if (parts.size() == 1) {
    v.type = "volume";
    v.target = std::string(parts[0]);
  } else if (parts.size() == 2) {
    v.source = std::string(parts[0]);
    v.target = std::string(parts[1]);
  } else if (parts.size() == 3) {
    v.source = std::string(parts[0]);
    v.target = std::string(parts[1]);
    mode = parts[2];
  } else {
    return "too many ':' in volume " + quote(s);
  }
  if (v.target.empty() || v.target.front() != '/') {
    return "container path " + quote(v.target) + " in " + quote(s) + " must be absolute";
  }
  if (!v.source.empty()) {
    char c = v.source.front();
    v.type = (c == '.' || c == '/' || c == '~') ? "bind" : "volume";
    if (v.type == "volume" && v.source.find('/') != std::string::npos) {
      return "volume name " + quote(v.source) + " contains '/' (bind mounts start with ./ or /)";
    }
  } else if (parts.size() > 1) {
    return "empty source in volume " + quote(s);
  }
  std::string rest;
  std::size_t i = 0;
  while (i <= mode.size() && !mode.empty()) {
    auto comma = mode.find(',', i);
    auto flag = mode.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i);
    if (flag == "ro") {
      v.read_only = true;
    } else if (flag == "rw") {
      v.read_only = false;
    } else if (flag == "z" || flag == "Z" || flag == "cached" || flag == "delegated" || flag == "consistent" ||
               flag == "nocopy" || flag == "shared" || flag == "slave" || flag == "private" || flag == "rshared" ||
               flag == "rslave" || flag == "rprivate") {
      if (!rest.empty()) rest += ',';
      rest += flag;
    } else {
      return "unknown volume mode " + quote(flag) + " in " + quote(s);
    }
    if (comma == std::string_view::npos) break;
    i = comma + 1;
  }
  v.mode = rest;
  return v;
}

Parsed<std::vector<std::string>> split_command(std::string_view s) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) {
        words.push_back(std::move(cur));
        cur.clear();
        in_word = false;
      }
      ++i;
    } else if (c == '\'') {
      auto end = s.find('\'', i + 1);
      if (end == std::string_view::npos) return std::string("unterminated single quote in command");
      cur.append(s.substr(i + 1, end - i - 1));
      in_word = true;
      i = end + 1;
    } else if (c == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char d = s[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == '$' || s[i + 1] == '`')) {
          cur += s[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        ++i;
      }
      if (!closed) return std::string("unterminated double quote in command");
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 < s.size()) cur += s[i + 1];
      i += 2;
      in_word = true;
    } else {
      cur += c;
      in_word = true;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(cur));
  return words;
}

namespace {

bool var_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool var_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Interpolates s[i..] until end of string or (when `until_brace`) the matching '}' of the
// enclosing reference; advances i past what it consumed.
std::string interpolate_inner(std::string_view s, std::size_t& i, const Variables& vars, bool until_brace,
                              Interpolated& acc, std::string& error, int depth) {
  std::string out;
  if (depth > 16) {
    error = "references nested too deeply";
    return out;
  }
  while (i < s.size()) {
    char c = s[i];
    if (until_brace && c == '}') return out;
    if (c != '$') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 >= s.size()) {
      out += '$';  // a lone trailing '$' is literal, as compose treats it
      ++i;
      continue;
    }
    char n = s[i + 1];
    if (n == '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (var_start(n)) {
      std::size_t j = i + 1;
      while (j < s.size() && var_char(s[j])) ++j;
      std::string name(s.substr(i + 1, j - i - 1));
      auto it = vars.find(name);
      if (it == vars.end()) {
        acc.unset.push_back(name);
      } else {
        out += it->second;
      }
      i = j;
      continue;
    }
    if (n != '{') {
      error = "invalid interpolation at '" + std::string(s.substr(i, 8)) + "' (use $$ for a literal $)";
      return out;
    }
    std::size_t j = i + 2;
    if (j >= s.size() || !var_start(s[j])) {
      error = "invalid variable name in '" + std::string(s.substr(i)) + "'";
      return out;
    }
    std::size_t name_start = j;
    while (j < s.size() && var_char(s[j])) ++j;
    std::string name(s.substr(name_start, j - name_start));
    if (j >= s.size()) {
      error = "unterminated ${ in '" + std::string(s) + "'";
      return out;
    }
    auto it = vars.find(name);
    bool set = it != vars.end();
    bool nonempty = set && !it->second.empty();
    if (s[j] == '}') {
      if (!set) acc.unset.push_back(name);
      else out += it->second;
      i = j + 1;
      continue;
    }
    std::string op;
    if (s[j] == ':' && j + 1 < s.size() && (s[j + 1] == '-' || s[j + 1] == '?' || s[j + 1] == '+')) {
      op = s.substr(j, 2);
      j += 2;
    } else if (s[j] == '-' || s[j] == '?' || s[j] == '+') {
      op = s.substr(j, 1);
      j += 1;
    } else {
      error = "invalid character '" + std::string(1, s[j]) + "' in ${" + name + "...}";
      return out;
    }
    std::size_t k = j;
    Interpolated inner_acc;
    std::string arg = interpolate_inner(s, k, vars, true, inner_acc, error, depth + 1);
    if (!error.empty()) return out;
    if (k >= s.size() || s[k] != '}') {
      error = "unterminated ${" + name + " in '" + std::string(s) + "'";
      return out;
    }
    bool present = op[0] == ':' ? nonempty : set;
    char kind = op.back();
    if (kind == '-') {
      if (present) {
        out += it->second;
      } else {
        out += arg;
        acc.unset.insert(acc.unset.end(), inner_acc.unset.begin(), inner_acc.unset.end());
      }
    } else if (kind == '+') {
      if (present) {
        out += arg;
        acc.unset.insert(acc.unset.end(), inner_acc.unset.begin(), inner_acc.unset.end());
      }
    } else {  // '?'
      if (!present) {
        error = "required variable " + name + " is " + (set ? "empty" : "not set") + (arg.empty() ? "" : ": " + arg);
        return out;
      }
      out += it->second;
    }
    i = k + 1;
  }
  if (until_brace) error = "unterminated ${ in '" + std::string(s) + "'";
  return out;
}

}  // namespace

Parsed<Interpolated> interpolate(std::string_view s, const Variables& vars) {
  Interpolated acc;
  if (s.find('$') == std::string_view::npos) {
    acc.value = std::string(s);
    return acc;
  }
  std::string error;
  std::size_t i = 0;
  acc.value = interpolate_inner(s, i, vars, false, acc, error, 0);
  if (!error.empty()) return error;
  return acc;
}

std::map<std::string, std::string> parse_env_file(std::string_view text, std::vector<EnvFileIssue>& issues) {
  std::map<std::string, std::string> out;
  int line_no = 0;
  std::size_t pos = 0;
  auto next_line = [&](std::string_view& line) {
    if (pos >= text.size()) return false;
    auto nl = text.find('\n', pos);
    line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return true;
  };
  auto trim = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  };
  std::string_view line;
  while (next_line(line)) {
    int start_line = line_no;
    auto l = trim(line);
    if (l.empty() || l.front() == '#') continue;
    if (l.substr(0, 7) == "export ") l = trim(l.substr(7));
    auto eq = l.find('=');
    if (eq == std::string_view::npos) {
      issues.push_back({start_line, "expected KEY=VALUE"});
      continue;
    }
    auto key = trim(l.substr(0, eq));
    bool key_ok = !key.empty() && var_start(key.front());
    for (char c : key) key_ok = key_ok && (var_char(c) || c == '.' || c == '-');
    if (!key_ok) {
      issues.push_back({start_line, "invalid variable name '" + std::string(key) + "'"});
      continue;
    }
    auto v = trim(l.substr(eq + 1));
    std::string value;
    if (!v.empty() && v.front() == '\'') {
      auto end = v.find('\'', 1);
      if (end == std::string_view::npos) {
        issues.push_back({start_line, "unterminated single quote"});
        continue;
      }
      value = std::string(v.substr(1, end - 1));
    } else if (!v.empty() && v.front() == '"') {
      // May continue over following lines until the closing quote.
      std::string buf(v.substr(1));
      bool closed = false;
      while (true) {
        std::size_t k = 0;
        std::string acc;
        for (; k < buf.size(); ++k) {
          char c = buf[k];
          if (c == '\\' && k + 1 < buf.size()) {
            char e = buf[++k];
            acc += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
            continue;
          }
          if (c == '"') {
            closed = true;
            break;
          }
          acc += c;
        }
        if (closed) {
          value += acc;
          break;
        }
        value += acc;
        std::string_view more;
        if (!next_line(more)) break;
        value += '\n';
        buf = std::string(more);
      }
      if (!closed) {
        issues.push_back({start_line, "unterminated double quote"});
        continue;
      }
    } else {
      auto hash = v.find(" #");
      if (hash != std::string_view::npos) v = trim(v.substr(0, hash));
      value = std::string(v);
    }
    out[std::string(key)] = std::move(value);
  }
  return out;
}

bool valid_service_name(std::string_view s) {
  if (s.empty() || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  }
  return true;
}

bool valid_project_name(std::string_view s) {
  if (s.empty()) return false;
  auto ok_first = [](char c) { return (c >= 'a' && c <= 'z') || is_digit(c); };
  if (!ok_first(s[0])) return false;
  for (char c : s) {
    if (!(ok_first(c) || c == '_' || c == '-')) return false;
  }
  return true;
}

std::string normalize_project_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if ((l >= 'a' && l <= 'z') || is_digit(l) || ((l == '_' || l == '-') && !out.empty())) out += l;
  }
  return out;
}

}  // namespace constellation::spec
