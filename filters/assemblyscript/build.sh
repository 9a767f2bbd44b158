#!/usr/bin/env bash
# Builds as_headers.wasm and as_my_root.wasm (AssemblyScript, @solo-io/proxy-runtime 0.1.8 / assemblyscript 0.14.13,
# pinned by package-lock.json) and runs its smoke check against the Node.js stub host.
# Output is committed; the build is reproducible (same bytes on every run).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "filters/assemblyscript: node/npm not found; keeping the committed as_headers.wasm and as_my_root.wasm" >&2
  exit 0
fi

installed() { node -p "require('./node_modules/$1/package.json').version" 2>/dev/null || true; }
if [ "$(installed assemblyscript)" != "0.14.13" ] || [ "$(installed @solo-io/proxy-runtime)" != "0.1.8" ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

node_modules/.bin/asc assembly/index.ts \
  --binaryFile as_headers.wasm \
  --use abort=abort_proc_exit \
  --optimize \
  --noColors
# as_my_root.wasm: registers its root context under "my_root" only (Envoy's root_id; meta.json root_id)
node_modules/.bin/asc my_root/index.ts \
  --binaryFile as_my_root.wasm \
  --use abort=abort_proc_exit \
  --optimize \
  --noColors
# (asc 0.14 prints one AS201 warning from its own std/number.ts; it is harmless.)

node smoke.mjs
