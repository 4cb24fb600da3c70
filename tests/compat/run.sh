#!/usr/bin/env bash
# Wire-compatibility proof: run third-party WeChat libraries (wechatpy for
# Python; wechat-api and the `wechat` middleware for Node) against a freshly
# started wxcard server. The push tests start their own developer servers on
# 127.0.0.1 and let wxcard push card events to them.
#
# Usage (from the repository root):
#   bash tests/compat/run.sh target/debug/wxcard
#
# Needs python3 (with the venv module), node >= 20 and npm. Installs the
# pinned clients into tests/compat/.venv and tests/compat/node/node_modules.
# Exits non-zero if the server does not start or if any suite fails.

set -uo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: bash tests/compat/run.sh PATH/TO/wxcard" >&2
    exit 2
fi

bin_arg=$1
case "$bin_arg" in
    /*) bin=$bin_arg ;;
    *) bin=$PWD/$bin_arg ;;
esac
if [ ! -x "$bin" ]; then
    echo "run.sh: $bin_arg is not an executable file" >&2
    exit 2
fi

compat_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$compat_dir/../.." && pwd)
cd "$repo_root" || exit 2

python=${PYTHON:-python3}
venv=tests/compat/.venv

step() { printf '\n== %s\n' "$*"; }

# --- Python client --------------------------------------------------------
step "Python venv ($venv)"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv" || { echo "run.sh: could not create $venv" >&2; exit 2; }
fi
"$venv/bin/python" -m pip install -q -r tests/compat/requirements.txt \
    || { echo "run.sh: pip install failed" >&2; exit 2; }
"$venv/bin/python" -c 'import wechatpy; print("wechatpy", wechatpy.__version__)'

# --- Node client ----------------------------------------------------------
step "npm ci (tests/compat/node)"
(cd tests/compat/node && npm ci --no-audit --no-fund --loglevel=error) \
    || { echo "run.sh: npm ci failed" >&2; exit 2; }
node -e 'for (const name of ["wechat-api", "wechat"]) console.log(name, require("./tests/compat/node/node_modules/" + name + "/package.json").version)'

# --- Server ---------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/wxcard-compat.XXXXXX") || exit 2
server_pid=
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        # Give it up to ~5 s to shut down cleanly, then force it.
        for _ in $(seq 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "starting $bin_arg"
"$bin" serve --listen 127.0.0.1:0 --db "$work/compat.db" --log warn \
    >"$work/server.out" 2>"$work/server.err" &
server_pid=$!

url=
for _ in $(seq 100); do   # at most ~10 s
    first_line=$(head -n 1 "$work/server.out" 2>/dev/null)
    case "$first_line" in
        "listening on http://"*)
            url=${first_line#listening on }
            break
            ;;
    esac
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$url" ]; then
    if kill -0 "$server_pid" 2>/dev/null; then
        echo "run.sh: the server did not print 'listening on http://...' within 10 s" >&2
    else
        echo "run.sh: the server exited before printing 'listening on http://...'" >&2
    fi
    echo "--- server stdout" >&2; cat "$work/server.out" >&2
    echo "--- server stderr" >&2; cat "$work/server.err" >&2
    exit 1
fi
echo "server at $url (pid $server_pid)"
export WXCARD_URL=$url

# --- Suites ---------------------------------------------------------------
step "wechatpy 1.8.18: pytest -q tests/compat/python"
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/compat/python
py_status=$?

# Node 20 only picks up *.test.js / test-*.js / *_test.js when given a folder,
# so each test file is named explicitly. They run one after the other, not in
# one `node --test` (which runs files in parallel): some tests move the
# platform clock, which would expire another file's tokens mid-test.
step "wechat-api 1.35.1: node --test tests/compat/node/test_wechat_api.js"
node --test tests/compat/node/test_wechat_api.js
node_status=$?

step "wechat 2.1.0 (developer server): node --test tests/compat/node/test_wechat_push.js"
node --test tests/compat/node/test_wechat_push.js
push_status=$?

server_status=0
if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run.sh: the server exited during the tests" >&2
    server_status=1
fi
if [ $py_status -ne 0 ] || [ $node_status -ne 0 ] || [ $push_status -ne 0 ] || [ $server_status -ne 0 ]; then
    if [ -s "$work/server.err" ]; then
        echo "--- server stderr (last 40 lines)" >&2
        tail -n 40 "$work/server.err" >&2
    fi
fi

step "summary"
echo "wechatpy   (pytest):      $([ $py_status -eq 0 ] && echo ok || echo "FAILED (exit $py_status)")"
echo "wechat-api (node --test): $([ $node_status -eq 0 ] && echo ok || echo "FAILED (exit $node_status)")"
echo "wechat     (node --test): $([ $push_status -eq 0 ] && echo ok || echo "FAILED (exit $push_status)")"

if [ $py_status -ne 0 ] || [ $node_status -ne 0 ] || [ $push_status -ne 0 ] || [ $server_status -ne 0 ]; then
    exit 1
fi
exit 0
