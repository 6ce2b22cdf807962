// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the C API's translation units (capi.cpp, dns.cpp, ...): the thread-local last
// error, error-code mapping, the exception guard and string duplication.
#pragma once

#include <constellation.h>
#include <constellation/result.hpp>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>

namespace constellation::capi {

struct LastError {
  std::string message;
  cst_error err{CST_OK, ""};
  bool set = false;
};

inline LastError& last_error() {
  thread_local LastError e;
  return e;
}

inline int set_error(int code, std::string message) {
  auto& e = last_error();
  e.message = std::move(message);
  e.err.code = code;
  e.err.message = e.message.c_str();
  e.set = true;
  return code;
}

inline int to_c_code(constellation::Code c) {
  using constellation::Code;
  switch (c) {
    case Code::InvalidArgument: return CST_EINVAL;
    case Code::NotFound: return CST_ENOTFOUND;
    case Code::Conflict: return CST_ECONFLICT;
    case Code::NotLeader: return CST_ENOTLEADER;
    case Code::Timeout: return CST_ETIMEOUT;
    case Code::Unavailable: return CST_EUNAVAILABLE;
    case Code::PermissionDenied: return CST_EPERM;
    case Code::Io: return CST_EIO;
    case Code::Corrupt: return CST_ECORRUPT;
    case Code::Internal: return CST_ERROR;
  }
  return CST_ERROR;
}

inline int fail(const constellation::Error& e) { return set_error(to_c_code(e.code()), e.message()); }

// Runs fn, turning any exception into CST_ERROR (no exception may cross the C boundary).
template <class F>
inline int guarded(F&& fn) noexcept {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return set_error(CST_ERROR, "out of memory");
  } catch (const std::exception& e) {
    return set_error(CST_ERROR, std::string("internal error: ") + e.what());
  } catch (...) {
    return set_error(CST_ERROR, "internal error: unknown exception");
  }
}

inline char* dup_string(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}


}  // namespace constellation::capi
