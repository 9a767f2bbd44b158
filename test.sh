#!/usr/bin/env bash
# The whole test suite (README's second command).
set -euo pipefail
cd "$(dirname "$0")"
dotnet test Gatehouse.sln -c Release --logger "console;verbosity=normal" "$@"
