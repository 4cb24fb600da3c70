#!/usr/bin/env bash
# The SDK's crypto and signing next to wechatpy's and node's wechat-crypto, on the same
# inputs, in the same run: ops/s per operation and implementation, and the SDK's ratio.
#
# Usage (from the repository root, after tests/compat/run.sh installed the clients):
#   bash tests/bench/crypto.sh [MILLISECONDS_PER_OP]
set -euo pipefail
budget=${1:-1000}
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
cargo run -q --release -p wxcard-sdk --example crypto_bench -- "$budget" >> "$out"
tests/compat/.venv/bin/python tests/bench/crypto_bench.py "$budget" >> "$out"
node tests/bench/crypto_bench.js "$budget" >> "$out"
awk '
  { ops[$1 " " $2] = $3; seen[$2] = 1; order[$2] = (order[$2] ? order[$2] : ++n) }
  END {
    printf "%-16s %14s %14s %14s %10s %10s\n", "operation", "wxcard-sdk", "wechatpy", "wechat-crypto", "vs py", "vs node"
    for (op in seen) rows[order[op]] = op
    for (i = 1; i <= n; i++) {
      op = rows[i]
      r = ops["rust " op]; p = ops["wechatpy " op]; j = ops["wechat-crypto " op]
      printf "%-16s %12.0f/s %12s %12s %10s %10s\n", op, r,
        (p ? sprintf("%.0f/s", p) : "-"), (j ? sprintf("%.0f/s", j) : "-"),
        (p ? sprintf("%.1fx", r / p) : "-"), (j ? sprintf("%.1fx", r / j) : "-")
    }
  }' "$out"
