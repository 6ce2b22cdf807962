# SPDX-License-Identifier: Apache-2.0
# CONSTELLATION_SANITIZE=address,undefined | thread, and CONSTELLATION_BUILD_FUZZERS (clang only).
if(CONSTELLATION_SANITIZE)
  set(_cst_san "-fsanitize=${CONSTELLATION_SANITIZE}")
  add_compile_options(${_cst_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(${_cst_san})
  if(CONSTELLATION_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-tsan)  # asio's atomic_thread_fence, see docs/adr/0002
  endif()
endif()

if(CONSTELLATION_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CONSTELLATION_BUILD_FUZZERS needs clang (libFuzzer); use the 'fuzz' preset")
  endif()
  # Instrument the library for coverage; the fuzz targets add -fsanitize=fuzzer for main().
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
