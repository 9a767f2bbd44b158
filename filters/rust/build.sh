#!/usr/bin/env bash
# Builds the raw-ABI Rust filters with Debian's rustc 1.63 (/usr/bin/rustc, target wasm32-wasi from
# libstd-rust-dev-wasm32; no cargo, no crates) and runs their Node.js smoke checks.
# Outputs (committed, reproducible byte for byte):
#   headers/rust_headers.wasm, kong-tests/tests.wasm, kong-tests/response_transformer.wasm
set -euo pipefail
cd "$(dirname "$0")"

RUSTC=/usr/bin/rustc
have_toolchain() { [ -x "$RUSTC" ] && [ -d /usr/lib/rustlib/wasm32-wasi/lib ]; }
if ! have_toolchain && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "filters/rust: installing Debian rustc + libstd-rust-dev-wasm32" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustc libstd-rust-dev-wasm32 >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustc libstd-rust-dev-wasm32 >/dev/null; }
fi
if ! have_toolchain; then
  echo "filters/rust: Debian rustc with the wasm32-wasi std not available; keeping the committed .wasm files" >&2
  exit 0
fi

# Relative source paths (we cd into each folder) keep panic locations, hence the bytes, machine-independent.
build() { # <dir> <crate root .rs> <output .wasm>
  (cd "$1" && "$RUSTC" --edition 2021 --target wasm32-wasi --crate-type cdylib \
     -C opt-level=z -C lto=fat -C codegen-units=1 -C panic=abort -C debuginfo=0 -C strip=symbols \
     -D warnings "$2" -o "$3")
}
build headers rust_headers.rs rust_headers.wasm
build kong-tests tests.rs tests.wasm
build kong-tests response_transformer.rs response_transformer.wasm

if command -v node >/dev/null 2>&1; then
  node headers/smoke.mjs
  node kong-tests/smoke.mjs
else
  echo "filters/rust: node not found; smoke checks skipped" >&2
fi
