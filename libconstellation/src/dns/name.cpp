// SPDX-License-Identifier: Apache-2.0
#include "dns/name.hpp"

#include <cstdint>
#include <limits>

namespace constellation::dns {

namespace {

// RFC 3492 §5: parameter values for Punycode.
constexpr std::uint32_t kBase = 36;
constexpr std::uint32_t kTMin = 1;
constexpr std::uint32_t kTMax = 26;
constexpr std::uint32_t kSkew = 38;
constexpr std::uint32_t kDamp = 700;
constexpr std::uint32_t kInitialBias = 72;
constexpr std::uint32_t kInitialN = 0x80;
constexpr std::uint32_t kMaxInt = std::numeric_limits<std::uint32_t>::max();

char encode_digit(std::uint32_t d) {
  // 0..25 → 'a'..'z', 26..35 → '0'..'9' (RFC 3492 §5; lower case, as IDNA A-labels are compared).
  return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26));
}

std::uint32_t decode_digit(char c) {
  if (c >= '0' && c <= '9') return static_cast<std::uint32_t>(c - '0') + 26;
  if (c >= 'A' && c <= 'Z') return static_cast<std::uint32_t>(c - 'A');
  if (c >= 'a' && c <= 'z') return static_cast<std::uint32_t>(c - 'a');
  return kBase;  // invalid
}

// RFC 3492 §6.1.
std::uint32_t adapt(std::uint32_t delta, std::uint32_t num_points, bool first_time) {
  delta = first_time ? delta / kDamp : delta / 2;
  delta += delta / num_points;
  std::uint32_t k = 0;
  while (delta > ((kBase - kTMin) * kTMax) / 2) {
    delta /= kBase - kTMin;
    k += kBase;
  }
  return k + (((kBase - kTMin + 1) * delta) / (delta + kSkew));
}

std::uint32_t threshold(std::uint32_t k, std::uint32_t bias) {
  if (k <= bias) return kTMin;
  if (k >= bias + kTMax) return kTMax;
  return k - bias;
}

// Simple lower-casing for the scripts host names are most often written in. Full Unicode case
// folding and NFC (UTS #46) are out of scope; everything else passes through unchanged.
char32_t to_lower(char32_t c) {
  if (c >= U'A' && c <= U'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;          // Latin-1
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x138 && c != 0x149 && c != 0x17F) {
    // Latin Extended-A pairs: even upper / odd lower, except the 0x139..0x148 and 0x179..0x17E runs.
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_upper ? (c % 2 == 1) : (c % 2 == 0)) return c + 1;
    return c;
  }
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;       // Greek
  if (c >= 0x410 && c <= 0x42F) return c + 32;                     // Cyrillic basic
  if (c >= 0x400 && c <= 0x40F) return c + 80;                     // Cyrillic Ѐ..Џ
  return c;
}

bool is_ldh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

Result<std::string> check_ascii_label(std::string_view label, std::string_view whole) {
  if (label.empty()) return Error(Code::InvalidArgument, "host name '" + std::string(whole) + "' has an empty label");
  if (label.size() > 63) {
    return Error(Code::InvalidArgument, "label '" + std::string(label) + "' of '" + std::string(whole) +
                                            "' is longer than 63 octets");
  }
  for (char c : label) {
    if (!is_ldh(c)) {
      return Error(Code::InvalidArgument, "label '" + std::string(label) + "' of '" + std::string(whole) +
                                              "' holds a character other than letters, digits, '-' and '_'");
    }
  }
  if (label.front() == '-' || label.back() == '-') {
    return Error(Code::InvalidArgument, "label '" + std::string(label) + "' of '" + std::string(whole) +
                                            "' starts or ends with '-'");
  }
  return std::string(label);
}

}  // namespace

Result<std::string> punycode_encode(const std::u32string& input) {
  std::string out;
  std::uint32_t n = kInitialN;
  std::uint32_t delta = 0;
  std::uint32_t bias = kInitialBias;
  for (char32_t c : input) {
    if (c < 0x80) out.push_back(static_cast<char>(c));
  }
  const auto basic = static_cast<std::uint32_t>(out.size());
  std::uint32_t handled = basic;
  if (basic > 0) out.push_back('-');
  const auto total = static_cast<std::uint32_t>(input.size());
  while (handled < total) {
    std::uint32_t m = kMaxInt;
    for (char32_t c : input) {
      if (c >= n && c < m) m = c;
    }
    if (m - n > (kMaxInt - delta) / (handled + 1)) return Error(Code::InvalidArgument, "punycode: overflow");
    delta += (m - n) * (handled + 1);
    n = m;
    for (char32_t c : input) {
      if (c < n) {
        if (++delta == 0) return Error(Code::InvalidArgument, "punycode: overflow");
      }
      if (c == n) {
        std::uint32_t q = delta;
        for (std::uint32_t k = kBase;; k += kBase) {
          const std::uint32_t t = threshold(k, bias);
          if (q < t) break;
          out.push_back(encode_digit(t + (q - t) % (kBase - t)));
          q = (q - t) / (kBase - t);
        }
        out.push_back(encode_digit(q));
        bias = adapt(delta, handled + 1, handled == basic);
        delta = 0;
        ++handled;
      }
    }
    ++delta;
    ++n;
  }
  return out;
}

Result<std::u32string> punycode_decode(std::string_view input) {
  std::u32string out;
  std::uint32_t n = kInitialN;
  std::uint32_t i = 0;
  std::uint32_t bias = kInitialBias;
  std::size_t b = input.rfind('-');
  if (b == std::string_view::npos) b = 0;
  for (std::size_t j = 0; j < b; ++j) {
    auto c = static_cast<unsigned char>(input[j]);
    if (c >= 0x80) return Error(Code::InvalidArgument, "punycode: non-ASCII basic code point");
    out.push_back(c);
  }
  for (std::size_t in = b > 0 ? b + 1 : 0; in < input.size();) {
    const std::uint32_t oldi = i;
    std::uint32_t w = 1;
    for (std::uint32_t k = kBase;; k += kBase) {
      if (in >= input.size()) return Error(Code::InvalidArgument, "punycode: truncated input");
      const std::uint32_t digit = decode_digit(input[in++]);
      if (digit >= kBase) return Error(Code::InvalidArgument, "punycode: invalid digit");
      if (digit > (kMaxInt - i) / w) return Error(Code::InvalidArgument, "punycode: overflow");
      i += digit * w;
      const std::uint32_t t = threshold(k, bias);
      if (digit < t) break;
      if (w > kMaxInt / (kBase - t)) return Error(Code::InvalidArgument, "punycode: overflow");
      w *= kBase - t;
    }
    const auto len = static_cast<std::uint32_t>(out.size() + 1);
    bias = adapt(i - oldi, len, oldi == 0);
    if (i / len > kMaxInt - n) return Error(Code::InvalidArgument, "punycode: overflow");
    n += i / len;
    i %= len;
    if (n > 0x10FFFF || (n >= 0xD800 && n <= 0xDFFF)) {
      return Error(Code::InvalidArgument, "punycode: decodes to a value outside Unicode");
    }
    out.insert(out.begin() + i, static_cast<char32_t>(n));
    ++i;
  }
  return out;
}

Result<std::u32string> utf8_decode(std::string_view s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp;
    std::size_t len;
    if (c < 0x80) { cp = c; len = 1; }
    else if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; len = 2; }
    else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; len = 3; }
    else if ((c & 0xF8) == 0xF0) { cp = c & 0x07; len = 4; }
    else return Error(Code::InvalidArgument, "invalid UTF-8 at byte " + std::to_string(i));
    if (i + len > s.size()) return Error(Code::InvalidArgument, "truncated UTF-8 at byte " + std::to_string(i));
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return Error(Code::InvalidArgument, "invalid UTF-8 at byte " + std::to_string(i));
      cp = (cp << 6) | (cc & 0x3F);
    }
    const bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return Error(Code::InvalidArgument, "invalid UTF-8 at byte " + std::to_string(i));
    }
    out.push_back(static_cast<char32_t>(cp));
    i += len;
  }
  return out;
}

std::string utf8_encode(const std::u32string& cps) {
  std::string out;
  for (char32_t c : cps) {
    auto u = static_cast<std::uint32_t>(c);
    if (u < 0x80) {
      out.push_back(static_cast<char>(u));
    } else if (u < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (u >> 6)));
      out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
    } else if (u < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (u >> 12)));
      out.push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (u >> 18)));
      out.push_back(static_cast<char>(0x80 | ((u >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
    }
  }
  return out;
}

std::vector<std::string_view> split_labels(std::string_view name) {
  std::vector<std::string_view> labels;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    labels.push_back(name.substr(start, dot - start));
    start = dot + 1;
  }
  return labels;
}

Result<std::string> normalize_name(std::string_view raw) {
  std::string_view name = raw;
  while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return Error(Code::InvalidArgument, "empty host name");
  std::string out;
  auto labels = split_labels(name);
  for (std::size_t li = 0; li < labels.size(); ++li) {
    std::string_view label = labels[li];
    if (li > 0) out.push_back('.');
    if (label == "*" && li == 0 && labels.size() > 1) {
      out.push_back('*');
      continue;
    }
    bool ascii = true;
    for (char c : label) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (ascii) {
      std::string lower(label);
      for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      }
      CST_TRY_ASSIGN(std::string checked, check_ascii_label(lower, raw));
      if (checked.size() > 4 && checked.compare(0, 4, "xn--") == 0) {
        // An A-label must decode, and must decode to something that needed encoding.
        auto decoded = punycode_decode(std::string_view(checked).substr(4));
        if (!decoded) {
          return Error(Code::InvalidArgument, "label '" + checked + "' of '" + std::string(raw) +
                                                  "' is not a valid A-label: " + decoded.error().message());
        }
      }
      out += checked;
      continue;
    }
    auto cps = utf8_decode(label);
    if (!cps) return Error(Code::InvalidArgument, "host name '" + std::string(raw) + "': " + cps.error().message());
    for (char32_t& c : *cps) {
      c = to_lower(c);
      if (c < 0x80 && !is_ldh(static_cast<char>(c))) {
        return Error(Code::InvalidArgument, "label '" + std::string(label) + "' of '" + std::string(raw) +
                                                "' holds a character other than letters, digits, '-' and '_'");
      }
      if (c == 0x3002 || c == 0xFF0E || c == 0xFF61) {
        return Error(Code::InvalidArgument, "host name '" + std::string(raw) + "' uses an ideographic full stop");
      }
    }
    CST_TRY_ASSIGN(std::string puny, punycode_encode(*cps));
    CST_TRY_ASSIGN(std::string checked, check_ascii_label("xn--" + puny, raw));
    out += checked;
  }
  if (out.size() > 253) return Error(Code::InvalidArgument, "host name '" + std::string(raw) + "' is longer than 253 octets");
  return out;
}

std::string display_name(std::string_view normalized) {
  std::string out;
  auto labels = split_labels(normalized);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out.push_back('.');
    std::string_view l = labels[i];
    if (l.size() > 4 && l.substr(0, 4) == "xn--") {
      auto d = punycode_decode(l.substr(4));
      if (d) {
        out += utf8_encode(*d);
        continue;
      }
    }
    out += l;
  }
  return out;
}

bool name_in_zone(std::string_view name, std::string_view zone) {
  if (name == zone) return true;
  return name.size() > zone.size() && name.ends_with(zone) && name[name.size() - zone.size() - 1] == '.';
}

}  // namespace constellation::dns
