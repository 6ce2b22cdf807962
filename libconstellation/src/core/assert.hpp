// SPDX-License-Identifier: Apache-2.0
#pragma once

/// CST_ASSERT(cond) aborts with file, line and the condition when cond is false. It stays on in
/// every build (as in TigerBeetle): a broken invariant in a protocol core must stop the process,
/// not corrupt replicated state. Use it for bugs only; expected failures return Result.
#define CST_ASSERT(cond) \
  ((cond) ? static_cast<void>(0) : ::constellation::core::assert_fail(#cond, __FILE__, __LINE__, nullptr))

/// CST_ASSERT with an explanation, printed after the condition.
#define CST_ASSERT_MSG(cond, msg) \
  ((cond) ? static_cast<void>(0) : ::constellation::core::assert_fail(#cond, __FILE__, __LINE__, (msg)))

/// Marks code that cannot be reached unless there is a bug.
#define CST_UNREACHABLE() ::constellation::core::assert_fail("unreachable", __FILE__, __LINE__, nullptr)

namespace constellation::core {
[[noreturn]] void assert_fail(const char* condition, const char* file, int line, const char* message) noexcept;
}  // namespace constellation::core
