# SPDX-License-Identifier: Apache-2.0
# Every third-party dependency comes from Debian 12's packages (.ci/bootstrap installs them).
# Each is linked PRIVATE by the module that needs it; public headers never include them.
# Debian's python3 (the one with pytest and pybind11); the presets pass /usr/bin/python3.
find_package(Python 3 REQUIRED COMPONENTS Interpreter)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(simdjson 3 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(zstd REQUIRED)
find_package(yaml-cpp REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)

# Standalone Asio is header-only and ships neither a CMake nor a pkg-config file.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(cst_asio INTERFACE)
target_include_directories(cst_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(cst_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(cst_asio INTERFACE Threads::Threads)
