// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <constellation/version_config.h>

#include <string_view>

namespace constellation {

/// The library's version as "major.minor.patch". The headers' version is CST_VERSION_STRING;
/// the two differ when a program runs against a newer shared library than it was built with.
/// Thread-safe; the returned view refers to static storage.
CST_API std::string_view version() noexcept;

/// major * 1,000,000 + minor * 1,000 + patch of the library actually loaded.
CST_API int version_number() noexcept;

}  // namespace constellation
