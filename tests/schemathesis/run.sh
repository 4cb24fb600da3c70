#!/usr/bin/env bash
# Schemathesis over wxcard's own OpenAPI description: a fresh `wxcard serve` with an admin
# token, a Service Account and its access_token; then every operation of /openapi.json gets a
# bounded number of generated requests, valid and invalid. The run fails on a 5xx, an answer
# that is not the JSON the description declares, or a panic in the server's log.
#
# Usage (from the repository root):
#   bash tests/schemathesis/run.sh target/release/wxcard
#
# Needs python3 with the venv module; installs the pinned schemathesis into
# tests/schemathesis/.venv.

set -uo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: bash tests/schemathesis/run.sh PATH/TO/wxcard" >&2
    exit 2
fi
case "$1" in
    /*) bin=$1 ;;
    *) bin=$PWD/$1 ;;
esac
[ -x "$bin" ] || { echo "run.sh: $1 is not an executable file" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=$here/.venv
if [ ! -x "$venv/bin/schemathesis" ]; then
    "${PYTHON:-python3}" -m venv "$venv" || { echo "run.sh: could not create $venv" >&2; exit 2; }
fi
"$venv/bin/python" -m pip install -q -r "$here/requirements.txt" \
    || { echo "run.sh: pip install failed" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/wxcard-schemathesis.XXXXXX") || exit 2
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

admin_token=schemathesis-admin-token
"$bin" serve --listen 127.0.0.1:0 --db "$work/wxcard.db" --admin-token "$admin_token" --log info \
    >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
url=
for _ in $(seq 100); do
    first_line=$(head -n 1 "$work/server.out" 2>/dev/null)
    case "$first_line" in
        "listening on http://"*) url=${first_line#listening on }; break ;;
    esac
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$url" ] || { echo "run.sh: the server did not start" >&2; cat "$work/server.err" >&2; exit 1; }
echo "server at $url"

# A Service Account to call the WeChat paths with, and its access_token.
json() { "$venv/bin/python" -c "import json,sys; print(json.load(sys.stdin)$1)"; }
admin() {
    curl -sS -X "$1" -H "Authorization: Bearer $admin_token" -H 'content-type: application/json' \
        ${3:+--data "$3"} "$url$2"
}
account=$(admin POST /admin/v1/apps '{"kind":"service_account","name":"Schemathesis"}')
appid=$(echo "$account" | json '["appid"]')
secret=$(echo "$account" | json '["secret"]')
access_token=$(curl -sS "$url/cgi-bin/token?grant_type=client_credential&appid=$appid&secret=$secret" | json '["access_token"]')
[ -n "$access_token" ] || { echo "run.sh: no access_token" >&2; exit 1; }
colors=$(curl -sS "$url/card/getcolors?access_token=$access_token" | json '["errcode"]')
[ "$colors" = 0 ] || { echo "run.sh: the access_token does not work (errcode $colors)" >&2; exit 1; }

cd "$work" || exit 2
cp "$here/schemathesis.toml" .
started=$(date +%s)
fuzz() {
    WXCARD_ADMIN_TOKEN=$admin_token WXCARD_ACCESS_TOKEN=$access_token \
        HYPOTHESIS_STORAGE_DIRECTORY=$work/hypothesis \
        timeout 900 "$venv/bin/schemathesis" run "$url/openapi.json" --url "$url" --no-color -w 2 "$@"
}
# Moving the clock expires the access_token, so that operation runs last, on its own.
fuzz --exclude-path /admin/v1/clock/advance
status=$?
fuzz --include-path /admin/v1/clock/advance || status=1
echo "schemathesis: exit $status after $(( $(date +%s) - started )) s"

# The server logs every request at info level: tally them, to show the run got past the
# token check and into the handlers.
"$venv/bin/python" - "$work/server.err" <<'PY'
import collections, re, sys
calls = [m.groups() for m in re.finditer(r" INFO (\S+) (\S+) (\d+) errcode=(-?\d+)", open(sys.argv[1]).read())]
status = collections.Counter(s[0] + "xx" for _, _, s, _ in calls)
wechat = [c for c in calls if c[1].startswith(("/card/", "/cgi-bin/", "/sns/"))]
token_refused = sum(1 for c in wechat if c[3] in ("40001", "41001", "42001"))
codes = collections.Counter(c[3] for c in calls)
print(f"requests answered: {len(calls)} ({', '.join(f'{k}: {v}' for k, v in sorted(status.items()))})")
print(f"WeChat paths: {len(wechat)} calls, {len(wechat) - token_refused} past the token check")
print("most frequent errcodes:", ", ".join(f"{c} x{n}" for c, n in codes.most_common(8)))
PY

if grep -n "panicked" "$work/server.err"; then
    echo "run.sh: the server log shows a panic (above)" >&2
    status=1
fi
echo "server log: $(wc -l < "$work/server.err") lines, $(grep -c " ERROR " "$work/server.err") at ERROR level, no panic"
exit "$status"
