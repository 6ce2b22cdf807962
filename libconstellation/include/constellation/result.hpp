// SPDX-License-Identifier: Apache-2.0
//
// Error model of the whole library (docs/adr/0003-error-model.md):
//  * bugs abort (CST_ASSERT, internal);
//  * expected failures are returned as Result<T> holding an Error with one of a small, closed set
//    of codes, each documented where it can happen;
//  * no exception crosses a module or public boundary.
#pragma once

#include <constellation/version_config.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace constellation {

/// What went wrong, coarsely enough to act on. Append only: the numeric values are part of the
/// C API (as negative cst_error_code values) and of the Python exception hierarchy.
enum class Code : int {
  /// The caller passed something malformed: bad config, bad service file, bad request, bad packet.
  InvalidArgument = 1,
  /// The named thing (key, lease, service, node, record) does not exist.
  NotFound = 2,
  /// A precondition on current state failed: compare-and-set revision mismatch, lease held by
  /// another holder, name already taken. Retrying the same request will fail the same way.
  Conflict = 3,
  /// This node is not the Raft leader and could not forward; the message names the leader if known.
  NotLeader = 4,
  /// A deadline passed before the operation completed; it may or may not have taken effect.
  Timeout = 5,
  /// A dependency is temporarily unavailable (no quorum, peer down, rate limited); retry later.
  Unavailable = 6,
  /// The caller is not allowed to do this (missing or insufficient token, wrong cluster key).
  PermissionDenied = 7,
  /// The operating system refused an operation on a file, socket or process.
  Io = 8,
  /// Stored or received bytes failed a checksum or structural check; the data is not used.
  Corrupt = 9,
  /// A third-party component failed in a way the library did not anticipate (a caught exception).
  Internal = 10,
};

/// Lower-case, stable name of a code ("invalid_argument", "not_found", ...); "unknown" otherwise.
CST_API std::string_view code_name(Code code) noexcept;

/// An expected failure: a code to branch on and a message for humans. The message says what was
/// wrong and where (file:line:field, packet type, request path), never just "error".
class CST_API Error {
 public:
  Error(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  /// Returns this error with "<where>: " prepended to the message, e.g. the file being read.
  Error with_context(std::string_view where) const&;
  Error with_context(std::string_view where) &&;

  /// "<code name>: <message>".
  std::string to_string() const;

  friend bool operator==(const Error&, const Error&) = default;

 private:
  Code code_;
  std::string message_;
};

namespace detail {
[[noreturn]] CST_API void bad_result_access(const Error* error) noexcept;
}  // namespace detail

/// Either a T or an Error, like C++23 std::expected<T, Error>. Accessing the wrong alternative is
/// a bug and aborts with the error's message (there are no exceptions to catch).
template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>, "Result<Error> is ambiguous");

 public:
  using value_type = T;

  template <class U = T,
            std::enable_if_t<std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, Result> &&
                                 !std::is_same_v<std::remove_cvref_t<U>, Error>,
                             int> = 0>
  Result(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT: implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}      // NOLINT: implicit

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & {
    check();
    return *std::get_if<0>(&v_);
  }
  const T& value() const& {
    check();
    return *std::get_if<0>(&v_);
  }
  T&& value() && {
    check();
    return std::move(*std::get_if<0>(&v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; calling it on a value is a bug.
  const Error& error() const& {
    if (has_value()) detail::bad_result_access(nullptr);
    return *std::get_if<1>(&v_);
  }
  Error&& error() && {
    if (has_value()) detail::bad_result_access(nullptr);
    return std::move(*std::get_if<1>(&v_));
  }

  /// This result, with "<where>: " prepended to the message if it holds an error.
  Result with_context(std::string_view where) && {
    if (has_value()) return std::move(*this);
    return std::move(*std::get_if<1>(&v_)).with_context(where);
  }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? *std::get_if<0>(&v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void check() const {
    if (!has_value()) detail::bad_result_access(std::get_if<1>(&v_));
  }
  std::variant<T, Error> v_;
};

/// Success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  void value() const {
    if (!ok_) detail::bad_result_access(&error_);
  }
  const Error& error() const& {
    if (ok_) detail::bad_result_access(nullptr);
    return error_;
  }
  Error&& error() && {
    if (ok_) detail::bad_result_access(nullptr);
    return std::move(error_);
  }
  /// This result, with "<where>: " prepended to the message if it holds an error.
  Result with_context(std::string_view where) && {
    if (ok_) return {};
    return std::move(error_).with_context(where);
  }

 private:
  Error error_{Code::Internal, {}};
  bool ok_ = true;
};

/// Shorthand for a successful Result<void>.
inline Result<void> ok() { return {}; }

}  // namespace constellation

#define CST_CONCAT_INNER_(a, b) a##b
#define CST_CONCAT_(a, b) CST_CONCAT_INNER_(a, b)

/// Returns the error of a Result-valued expression from the enclosing function.
#define CST_TRY(expr)                                                \
  do {                                                               \
    auto&& cst_try_result_ = (expr);                                 \
    if (!cst_try_result_) return std::move(cst_try_result_).error(); \
  } while (false)

/// `CST_TRY_ASSIGN(auto x, f());` declares x from f()'s value, or returns f()'s error.
#define CST_TRY_ASSIGN(lhs, expr) CST_TRY_ASSIGN_IMPL_(CST_CONCAT_(cst_try_, __LINE__), lhs, expr)
#define CST_TRY_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                         \
  if (!tmp) return std::move(tmp).error();   \
  lhs = std::move(*tmp)
