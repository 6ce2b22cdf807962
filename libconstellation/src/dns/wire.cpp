// SPDX-License-Identifier: Apache-2.0
#include "dns/wire.hpp"

#include "dns/record.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace constellation::dns::wire {

namespace {

constexpr std::size_t kMaxPointerHops = 128;
constexpr std::size_t kMaxNameOctets = 255;

Error bad(std::string what) { return Error(Code::InvalidArgument, "dns message: " + std::move(what)); }

// Splits a presentation name into raw labels (handles \DDD and \c escapes).
Result<std::vector<std::string>> parse_labels(std::string_view name) {
  std::vector<std::string> labels;
  if (name.empty() || name == ".") return labels;
  if (name.back() == '.' && (name.size() < 2 || name[name.size() - 2] != '\\')) name.remove_suffix(1);
  std::string cur;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '\\') {
      if (i + 1 >= name.size()) return bad("name '" + std::string(name) + "' ends in a backslash");
      if (i + 3 < name.size() && std::isdigit(static_cast<unsigned char>(name[i + 1])) &&
          std::isdigit(static_cast<unsigned char>(name[i + 2])) && std::isdigit(static_cast<unsigned char>(name[i + 3]))) {
        int v = (name[i + 1] - '0') * 100 + (name[i + 2] - '0') * 10 + (name[i + 3] - '0');
        if (v > 255) return bad("name '" + std::string(name) + "' has an escape above 255");
        cur.push_back(static_cast<char>(v));
        i += 3;
      } else {
        cur.push_back(name[++i]);
      }
    } else if (c == '.') {
      if (cur.empty()) return bad("name '" + std::string(name) + "' has an empty label");
      labels.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (cur.empty()) return bad("name '" + std::string(name) + "' has an empty label");
  labels.push_back(std::move(cur));
  return labels;
}

void append_label_text(std::string& out, std::string_view label) {
  static constexpr char kDigits[] = "0123456789";
  for (char ch : label) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '.' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x21 || c > 0x7E) {
      out.push_back('\\');
      out.push_back(kDigits[c / 100]);
      out.push_back(kDigits[(c / 10) % 10]);
      out.push_back(kDigits[c % 10]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

// Reads a possibly compressed name starting at `pos` in `msg`; returns the text and sets `next`
// to the offset after the name's in-place bytes.
Result<std::string> read_name(core::ByteView msg, std::size_t pos, std::size_t& next, std::string_view field) {
  std::string out;
  std::size_t octets = 1;  // the root label
  std::size_t hops = 0;
  bool jumped = false;
  std::size_t p = pos;
  for (;;) {
    if (p >= msg.size()) return bad(std::string(field) + ": name runs past the end at offset " + std::to_string(p));
    const std::uint8_t len = msg[p];
    if ((len & 0xC0) == 0xC0) {
      if (p + 1 >= msg.size()) return bad(std::string(field) + ": truncated pointer at offset " + std::to_string(p));
      const std::size_t target = (static_cast<std::size_t>(len & 0x3F) << 8) | msg[p + 1];
      if (target >= p) return bad(std::string(field) + ": compression pointer does not point backwards at offset " + std::to_string(p));
      if (++hops > kMaxPointerHops) return bad(std::string(field) + ": too many compression pointers");
      if (!jumped) next = p + 2;
      jumped = true;
      p = target;
      continue;
    }
    if ((len & 0xC0) != 0) return bad(std::string(field) + ": unsupported label type at offset " + std::to_string(p));
    if (len == 0) {
      if (!jumped) next = p + 1;
      return out;
    }
    if (p + 1 + len > msg.size()) return bad(std::string(field) + ": label runs past the end at offset " + std::to_string(p));
    octets += 1 + len;
    if (octets > kMaxNameOctets) return bad(std::string(field) + ": name longer than 255 octets");
    if (!out.empty()) out.push_back('.');
    append_label_text(out, core::as_chars(msg.subspan(p + 1, len)));
    p += 1 + len;
  }
}

}  // namespace

std::string rcode_name(std::uint16_t r) {
  static constexpr std::array<const char*, 19> kNames = {
      "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
      "NOTZONE", "RCODE11", "RCODE12", "RCODE13", "RCODE14", "RCODE15", "BADSIG", "BADKEY", "BADTIME"};
  if (r < kNames.size()) return kNames[r];
  return "RCODE" + std::to_string(r);
}

Result<void> append_name(core::ByteWriter& w, std::string_view name) {
  CST_TRY_ASSIGN(auto labels, parse_labels(name));
  std::size_t octets = 1;
  for (const auto& l : labels) {
    if (l.size() > 63) return bad("label '" + l + "' is longer than 63 octets");
    octets += 1 + l.size();
    if (octets > kMaxNameOctets) return bad("name '" + std::string(name) + "' is longer than 255 octets");
  }
  for (const auto& l : labels) {
    w.u8(static_cast<std::uint8_t>(l.size()));
    w.raw(std::string_view(l));
  }
  w.u8(0);
  return ok();
}

Result<core::Bytes> canonical_name(std::string_view name) {
  core::ByteWriter w;
  std::string lower(name);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  CST_TRY(append_name(w, lower));
  return std::move(w).take();
}

Result<core::Bytes> encode(const Message& m) {
  core::ByteWriter w(512);
  if (m.questions.size() > 0xFFFF || m.answers.size() > 0xFFFF || m.authority.size() > 0xFFFF || m.additional.size() > 0xFFFF) {
    return bad("a section holds more than 65535 entries");
  }
  w.u16be(m.id);
  std::uint16_t flags = 0;
  flags |= m.qr ? 0x8000 : 0;
  flags |= static_cast<std::uint16_t>((m.opcode & 0x0F) << 11);
  flags |= m.aa ? 0x0400 : 0;
  flags |= m.tc ? 0x0200 : 0;
  flags |= m.rd ? 0x0100 : 0;
  flags |= m.ra ? 0x0080 : 0;
  flags |= m.rcode & 0x0F;
  w.u16be(flags);
  w.u16be(static_cast<std::uint16_t>(m.questions.size()));
  w.u16be(static_cast<std::uint16_t>(m.answers.size()));
  w.u16be(static_cast<std::uint16_t>(m.authority.size()));
  w.u16be(static_cast<std::uint16_t>(m.additional.size()));
  for (const auto& q : m.questions) {
    CST_TRY(append_name(w, q.name));
    w.u16be(q.type);
    w.u16be(q.klass);
  }
  for (const auto* section : {&m.answers, &m.authority, &m.additional}) {
    for (const auto& rr : *section) {
      CST_TRY(append_name(w, rr.name));
      w.u16be(rr.type);
      w.u16be(rr.klass);
      w.u32be(rr.ttl);
      if (rr.rdata.size() > 0xFFFF) return bad("RDATA longer than 65535 octets");
      w.u16be(static_cast<std::uint16_t>(rr.rdata.size()));
      w.raw(core::ByteView(rr.rdata));
    }
  }
  if (w.size() > 0xFFFF) return bad("message longer than 65535 octets");
  return std::move(w).take();
}

namespace {

// RDATA whose names may be compressed in received messages: expand them so RR.rdata is
// position-independent.
Result<core::Bytes> expand_rdata(core::ByteView msg, std::size_t start, std::size_t len, std::uint16_t type) {
  core::ByteView raw = msg.subspan(start, len);
  if (type != kTypeCNAME && type != kTypeNS && type != kTypeSOA) return core::Bytes(raw.begin(), raw.end());
  core::ByteWriter w;
  std::size_t next = 0;
  CST_TRY_ASSIGN(std::string n1, read_name(msg, start, next, "rdata"));
  if (next > start + len) return bad("rdata name runs past its RDATA");
  CST_TRY(append_name(w, n1));
  if (type == kTypeSOA) {
    std::size_t next2 = 0;
    CST_TRY_ASSIGN(std::string n2, read_name(msg, next, next2, "rdata"));
    if (next2 + 20 != start + len) return bad("SOA RDATA has the wrong length");
    CST_TRY(append_name(w, n2));
    w.raw(msg.subspan(next2, 20));
  } else if (next != start + len) {
    return bad("trailing bytes after the name in RDATA");
  }
  return std::move(w).take();
}

}  // namespace

Result<Message> decode(core::ByteView msg, std::size_t* last_additional_offset) {
  if (last_additional_offset) *last_additional_offset = 0;
  if (msg.size() < 12) return bad("shorter than a header (" + std::to_string(msg.size()) + " bytes)");
  core::ByteReader r(msg);
  Message m;
  m.id = r.u16be("id");
  const std::uint16_t flags = r.u16be("flags");
  m.qr = flags & 0x8000;
  m.opcode = static_cast<std::uint8_t>((flags >> 11) & 0x0F);
  m.aa = flags & 0x0400;
  m.tc = flags & 0x0200;
  m.rd = flags & 0x0100;
  m.ra = flags & 0x0080;
  m.rcode = static_cast<std::uint8_t>(flags & 0x0F);
  const std::uint16_t counts[4] = {r.u16be("qdcount"), r.u16be("ancount"), r.u16be("nscount"), r.u16be("arcount")};
  // Each question takes at least 5 bytes and each RR at least 11: bound the counts up front.
  const std::size_t min_bytes = counts[0] * 5ull + (counts[1] + counts[2] + counts[3]) * 11ull;
  if (min_bytes > msg.size() - 12) return bad("section counts exceed the message size");
  std::size_t pos = 12;
  for (std::uint16_t i = 0; i < counts[0]; ++i) {
    Question q;
    std::size_t next = 0;
    CST_TRY_ASSIGN(q.name, read_name(msg, pos, next, "question"));
    if (next + 4 > msg.size()) return bad("question truncated at offset " + std::to_string(next));
    q.type = static_cast<std::uint16_t>(msg[next] << 8 | msg[next + 1]);
    q.klass = static_cast<std::uint16_t>(msg[next + 2] << 8 | msg[next + 3]);
    pos = next + 4;
    m.questions.push_back(std::move(q));
  }
  std::vector<RR>* sections[3] = {&m.answers, &m.authority, &m.additional};
  for (int s = 0; s < 3; ++s) {
    for (std::uint16_t i = 0; i < counts[s + 1]; ++i) {
      RR rr;
      std::size_t next = 0;
      if (s == 2 && last_additional_offset) *last_additional_offset = pos;
      CST_TRY_ASSIGN(rr.name, read_name(msg, pos, next, "record"));
      if (next + 10 > msg.size()) return bad("record header truncated at offset " + std::to_string(next));
      rr.type = static_cast<std::uint16_t>(msg[next] << 8 | msg[next + 1]);
      rr.klass = static_cast<std::uint16_t>(msg[next + 2] << 8 | msg[next + 3]);
      rr.ttl = static_cast<std::uint32_t>(msg[next + 4]) << 24 | static_cast<std::uint32_t>(msg[next + 5]) << 16 |
               static_cast<std::uint32_t>(msg[next + 6]) << 8 | msg[next + 7];
      const std::size_t rdlen = static_cast<std::size_t>(msg[next + 8] << 8 | msg[next + 9]);
      const std::size_t start = next + 10;
      if (start + rdlen > msg.size()) return bad("RDATA runs past the end at offset " + std::to_string(start));
      CST_TRY_ASSIGN(rr.rdata, expand_rdata(msg, start, rdlen, rr.type));
      pos = start + rdlen;
      sections[s]->push_back(std::move(rr));
    }
  }
  if (pos != msg.size()) return bad(std::to_string(msg.size() - pos) + " trailing bytes after the last record");
  return m;
}

Result<core::Bytes> rdata_a(std::string_view text) {
  CST_TRY_ASSIGN(std::string canon, canonical_ipv4(text));
  core::Bytes out;
  unsigned v = 0;
  for (char c : canon) {
    if (c == '.') {
      out.push_back(static_cast<std::uint8_t>(v));
      v = 0;
    } else {
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
  }
  out.push_back(static_cast<std::uint8_t>(v));
  return out;
}

Result<core::Bytes> rdata_aaaa(std::string_view text) {
  CST_TRY_ASSIGN(std::string canon, canonical_ipv6(text));
  // Expand the canonical text into 8 groups.
  std::array<std::uint16_t, 8> words{};
  std::vector<std::uint16_t> head, tail;
  auto parse_groups = [](std::string_view s, std::vector<std::uint16_t>& out) {
    while (!s.empty()) {
      std::size_t c = s.find(':');
      std::string_view g = s.substr(0, c);
      unsigned v = 0;
      for (char ch : g) v = v * 16 + static_cast<unsigned>(ch <= '9' ? ch - '0' : ch - 'a' + 10);
      out.push_back(static_cast<std::uint16_t>(v));
      if (c == std::string_view::npos) break;
      s.remove_prefix(c + 1);
    }
  };
  std::size_t gap = canon.find("::");
  if (gap == std::string::npos) {
    parse_groups(canon, head);
  } else {
    parse_groups(std::string_view(canon).substr(0, gap), head);
    parse_groups(std::string_view(canon).substr(gap + 2), tail);
  }
  std::copy(head.begin(), head.end(), words.begin());
  std::copy(tail.begin(), tail.end(), words.end() - static_cast<std::ptrdiff_t>(tail.size()));
  core::Bytes out;
  for (auto w : words) {
    out.push_back(static_cast<std::uint8_t>(w >> 8));
    out.push_back(static_cast<std::uint8_t>(w));
  }
  return out;
}

Result<core::Bytes> rdata_name(std::string_view name) {
  core::ByteWriter w;
  CST_TRY(append_name(w, name));
  return std::move(w).take();
}

core::Bytes rdata_txt(std::string_view text) {
  core::Bytes out;
  do {
    std::size_t n = std::min<std::size_t>(text.size(), 255);
    out.push_back(static_cast<std::uint8_t>(n));
    out.insert(out.end(), text.begin(), text.begin() + static_cast<std::ptrdiff_t>(n));
    text.remove_prefix(n);
  } while (!text.empty());
  return out;
}

Result<std::string> rdata_text(std::uint16_t type, core::ByteView rd) {
  switch (type) {
    case kTypeA: {
      if (rd.size() != 4) return bad("A RDATA is not 4 bytes");
      return std::to_string(rd[0]) + "." + std::to_string(rd[1]) + "." + std::to_string(rd[2]) + "." + std::to_string(rd[3]);
    }
    case kTypeAAAA: {
      if (rd.size() != 16) return bad("AAAA RDATA is not 16 bytes");
      std::string text;
      static constexpr char kHex[] = "0123456789abcdef";
      for (int i = 0; i < 8; ++i) {
        if (i) text.push_back(':');
        unsigned w = static_cast<unsigned>(rd[2 * i] << 8 | rd[2 * i + 1]);
        for (int sh = 12; sh >= 0; sh -= 4) text.push_back(kHex[(w >> sh) & 0xF]);
      }
      return canonical_ipv6(text);
    }
    case kTypeCNAME:
    case kTypeNS: {
      std::size_t next = 0;
      CST_TRY_ASSIGN(std::string n, read_name(rd, 0, next, "rdata"));
      if (next != rd.size()) return bad("trailing bytes after the name in RDATA");
      return n;
    }
    case kTypeTXT: {
      std::string out;
      std::size_t p = 0;
      while (p < rd.size()) {
        std::size_t n = rd[p];
        if (p + 1 + n > rd.size()) return bad("TXT character-string runs past its RDATA");
        out += core::as_chars(rd.subspan(p + 1, n));
        p += 1 + n;
      }
      return out;
    }
    default: return bad("no presentation for type " + std::to_string(type));
  }
}

Result<std::uint32_t> soa_serial(core::ByteView rd) {
  std::size_t next = 0;
  CST_TRY_ASSIGN(std::string mname, read_name(rd, 0, next, "soa"));
  std::size_t next2 = 0;
  CST_TRY_ASSIGN(std::string rname, read_name(rd, next, next2, "soa"));
  if (next2 + 20 != rd.size()) return bad("SOA RDATA has the wrong length");
  return static_cast<std::uint32_t>(rd[next2]) << 24 | static_cast<std::uint32_t>(rd[next2 + 1]) << 16 |
         static_cast<std::uint32_t>(rd[next2 + 2]) << 8 | rd[next2 + 3];
}

}  // namespace constellation::dns::wire
