// SPDX-License-Identifier: Apache-2.0
#include <constellation/result.hpp>
#include <constellation/version.hpp>

#include "core/assert.hpp"

#include <unistd.h>
#include <cstdlib>
#include <cstring>
#include <string>

namespace constellation {

std::string_view code_name(Code code) noexcept {
  switch (code) {
    case Code::InvalidArgument: return "invalid_argument";
    case Code::NotFound: return "not_found";
    case Code::Conflict: return "conflict";
    case Code::NotLeader: return "not_leader";
    case Code::Timeout: return "timeout";
    case Code::Unavailable: return "unavailable";
    case Code::PermissionDenied: return "permission_denied";
    case Code::Io: return "io";
    case Code::Corrupt: return "corrupt";
    case Code::Internal: return "internal";
  }
  return "unknown";
}

Error Error::with_context(std::string_view where) const& {
  Error copy = *this;
  return std::move(copy).with_context(where);
}

Error Error::with_context(std::string_view where) && {
  std::string m;
  m.reserve(where.size() + 2 + message_.size());
  m.append(where).append(": ").append(message_);
  message_ = std::move(m);
  return std::move(*this);
}

std::string Error::to_string() const {
  std::string s(code_name(code_));
  s.append(": ").append(message_);
  return s;
}

std::string_view version() noexcept { return CST_VERSION_STRING; }
int version_number() noexcept { return CST_VERSION_NUMBER; }

namespace {
// Writes straight to fd 2: an assertion may fire while the heap or a logger is broken.
void write_stderr(const char* s) noexcept {
  size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = ::write(2, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}
}  // namespace

namespace detail {
void bad_result_access(const Error* error) noexcept {
  write_stderr("constellation: bad Result access: ");
  if (error) {
    write_stderr(error->to_string().c_str());
  } else {
    write_stderr("error() called on a value");
  }
  write_stderr("\n");
  std::abort();
}
}  // namespace detail

namespace core {
void assert_fail(const char* condition, const char* file, int line, const char* message) noexcept {
  char num[16];
  int len = 0;
  char rev[16];
  unsigned v = line > 0 ? static_cast<unsigned>(line) : 0;
  do {
    rev[len++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v && len < 15);
  for (int i = 0; i < len; ++i) num[i] = rev[len - 1 - i];
  num[len] = '\0';
  write_stderr("constellation: assertion failed: ");
  write_stderr(condition);
  if (message) {
    write_stderr(" (");
    write_stderr(message);
    write_stderr(")");
  }
  write_stderr(" at ");
  write_stderr(file);
  write_stderr(":");
  write_stderr(num);
  write_stderr("\n");
  std::abort();
}
}  // namespace core

}  // namespace constellation
