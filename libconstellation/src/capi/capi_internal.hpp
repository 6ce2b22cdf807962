// SPDX-License-Identifier: Apache-2.0
//
// Helpers every C API translation unit shares: the thread-local last error, the mapping from
// Code to cst_error_code, the exception barrier and string duplication for `out` parameters.
#pragma once

#include <constellation.h>
#include <constellation/result.hpp>

#include <exception>
#include <new>
#include <string>

namespace constellation::capi {

/// Records `message` as this thread's last error with `code` and returns `code`.
int set_error(int code, std::string message);

/// The cst_error_code for a Code.
int to_c_code(Code c);

/// Records `e` as the last error and returns its cst_error_code.
int fail(const Error& e);

/// A malloc'ed NUL-terminated copy of s, for the caller to release with cst_free().
/// Throws std::bad_alloc (inside guarded()).
char* dup_string(const std::string& s);

/// Runs fn, turning any exception into CST_ERROR (no exception may cross the C boundary).
template <class F>
int guarded(F&& fn) noexcept {
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

}  // namespace constellation::capi
