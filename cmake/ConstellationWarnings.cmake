# SPDX-License-Identifier: Apache-2.0
# Warning flags for the project's own targets (never for third-party code).
add_library(constellation_warnings INTERFACE)
target_compile_options(constellation_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
                            -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
                            -Wformat=2>
  $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes>
  $<$<BOOL:${CONSTELLATION_WERROR}>:-Werror>)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # g++ 12 reports false positives from inlined std::string/vector code at -O2 (GCC PR 105562 and friends).
  target_compile_options(constellation_warnings INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized -Wno-stringop-overflow -Wno-array-bounds -Wno-restrict>)
endif()
