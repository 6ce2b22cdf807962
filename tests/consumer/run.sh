#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# usage: run.sh <build dir> <consumer project dir> <scratch dir>
set -euo pipefail
build=$1 project=$2 work=$3
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/include/constellation.h"
test -f "$prefix/include/constellation/version_config.h"
ls "$prefix"/lib*/libconstellation.so.* >/dev/null
ls "$prefix"/lib*/libconstellation.a >/dev/null
soname=$(objdump -p "$prefix"/lib*/libconstellation.so | awk '/SONAME/ {print $2}')
case "$soname" in libconstellation.so.[0-9]*) ;; *) echo "unexpected SONAME '$soname'"; exit 1 ;; esac
# Hidden visibility: nothing but the API (cst_*, constellation::) is exported.
leaked=$(nm -D --defined-only "$prefix"/lib*/libconstellation.so | awk '{print $3}' | c++filt \
         | grep -v -E '^((typeinfo for |typeinfo name for |vtable for )?constellation::|cst_)' | grep -v -E '^(_init|_fini|_edata|_end|__bss_start|CONSTELLATION_[0-9]+)$' || true)
if [ -n "$leaked" ]; then echo "symbols exported outside the API:"; echo "$leaked" | head -20; exit 1; fi

cmake -S "$project" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer_cpp"
"$work/build/consumer_static"
LD_LIBRARY_PATH="$(dirname "$(ls "$prefix"/lib*/libconstellation.so)")" "$work/build/consumer_c"

# C through pkg-config alone.
pcdir=$(dirname "$(ls "$prefix"/lib*/pkgconfig/constellation.pc)")
cc -std=c11 -Wall -Werror "$project/consumer.c" -o "$work/consumer_pc" \
  $(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs constellation)
LD_LIBRARY_PATH="$(dirname "$(ls "$prefix"/lib*/libconstellation.so)")" "$work/consumer_pc"
echo "consumer: ok"
