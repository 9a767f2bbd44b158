#!/usr/bin/env bash
# Rebuilds every Gatehouse filter written in C (filters/test/*.c, filters/examples/*.c), then the
# AssemblyScript and Rust filters (their own build.sh, when present and their toolchain exists),
# then runs the json.h unit check (tools/json_test.c, native) and the Node.js smoke check
# (filters/tools/smoke.mjs).
#
# Output is deterministic: same sources + same clang/wasi-libc => byte-identical .wasm files
# (no timestamps or absolute paths are embedded; DWARF is stripped, the name section is kept so
# traps show function names). The built .wasm files are committed beside their sources.
#
# Usage: filters/build.sh [--no-smoke]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

smoke=1
for arg in "$@"; do
  case "$arg" in
    --no-smoke) smoke=0 ;;
    *) echo "build.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

CC="${CC:-clang}"
command -v "$CC" >/dev/null || { echo "build.sh: $CC not found (need clang with the wasm32-wasi target)" >&2; exit 1; }

# -nodefaultlibs -lc: link wasi-libc only, not compiler-rt (libclang_rt.builtins-wasm32 is not
# installed everywhere and no filter needs it).
CFLAGS=(--target=wasm32-wasi -mexec-model=reactor -O2 -std=c11
        -Wall -Wextra -Werror -Wno-unused-function
        -ffile-prefix-map="$here"=. -fno-ident
        -I"$here/sdk")
LDFLAGS=(-nodefaultlibs -lc -Wl,--strip-debug -Wl,-z,stack-size=65536)

built=0
for src in test/*.c examples/*.c; do
  [ -e "$src" ] || continue
  out="${src%.c}.wasm"
  echo "  CC  $src -> $out"
  "$CC" "${CFLAGS[@]}" -o "$out.tmp" "$src" "${LDFLAGS[@]}"
  mv -f "$out.tmp" "$out"
  built=$((built + 1))
done
echo "build.sh: built $built C filters"

# Other filter languages are owned by their own scripts, which check for their toolchains
# themselves (and keep the committed .wasm when it is missing).
for other in assemblyscript rust; do
  if [ -f "$other/build.sh" ]; then
    echo "build.sh: running $other/build.sh"
    bash "$other/build.sh"
  fi
done

if [ "$smoke" = 1 ]; then
  hostcc="$(command -v cc || command -v gcc || true)"
  if [ -n "$hostcc" ]; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    "$hostcc" -std=c11 -Wall -Wextra -Werror -o "$tmp/json_test" tools/json_test.c
    "$tmp/json_test"
  else
    echo "build.sh: no host C compiler, json.h unit check skipped" >&2
  fi
  if command -v node >/dev/null; then
    node tools/smoke.mjs
  else
    echo "build.sh: node not found, smoke check skipped" >&2
  fi
fi
