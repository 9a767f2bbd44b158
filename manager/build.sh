#!/usr/bin/env bash
# Builds the Gatehouse Manager into src/Gatehouse/Manager/wwwroot (committed: the gateway embeds it, so building and
# testing the gateway needs no Node). Needs Node >= 20.19 (Vite 7) and npm; packages come from the npm registry at
# build time only, the browser fetches nothing from the internet.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run build
