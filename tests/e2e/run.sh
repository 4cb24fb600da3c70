#!/usr/bin/env bash
# Browser tests: clicks through flows A, B, C (jump-type, non-jump, cancel) and D on the real
# pages of `wxcard demo` in Debian's chromium, and checks what the merchant server recorded.
# Screenshots of each step go to target/e2e/.
#
# Usage (from the repository root): bash tests/e2e/run.sh target/release/wxcard
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "${BASH_SOURCE[0]}")"
if [ -z "${CHROMIUM:-}" ]; then
  CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
fi
if [ -z "$CHROMIUM" ]; then
  echo "installing Debian's chromium"
  apt-get install -y -q chromium >/dev/null
  CHROMIUM=$(command -v chromium)
fi
npm ci --no-audit --no-fund --loglevel=error
mkdir -p ../../target/e2e
WXCARD_BIN=$bin CHROMIUM=$CHROMIUM SHOTS=$(cd ../../target/e2e && pwd) node --test flows.js
