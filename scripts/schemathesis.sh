#!/usr/bin/env bash
# Property-based tests of the HTTP API with Schemathesis, driven by the OpenAPI
# document the server itself serves (GET /api/v1/openapi.json).
#
# Builds keeper, starts `keeper serve` in a fresh temporary directory on free
# ports, registers two users and logs them in, runs `schemathesis run` against
# the served document with their tokens, and stops the server. Exits nonzero
# when Schemathesis reports a failure or the server logs an error or a panic.
# Settings: scripts/schemathesis.toml.
#
# Usage: scripts/schemathesis.sh [OPTIONS] [-- SCHEMATHESIS-RUN-OPTIONS]
#
#   -n, --max-examples N  test cases per operation and phase (default 200)
#   --seed N              seed of the generated data (default 1)
#   --workers N           concurrent Schemathesis workers (default 1)
#   --no-build            do not run `cargo build` (use the binary as it is)
#   --keep                keep the temporary directory (server log, data)
#   -h, --help            show this help
#
# Environment:
#   PYTHON                    Python 3 (>= 3.11) for the venv (default python3)
#   KEEPER_SCHEMATHESIS_CACHE where the venv lives
#                             (default ${XDG_CACHE_HOME:-~/.cache}/keeper/schemathesis)
#   KEEPER_BIN                the keeper binary (default target/debug/keeper)
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
examples=200
seed=1
workers=1
build=1
keep=0
extra=()

usage() { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; }
die() {
    echo "schemathesis.sh: $*" >&2
    exit 2
}
number() { [[ $2 =~ ^[0-9]+$ ]] || die "$1 needs a whole number, not \`$2\`"; }

while (($#)); do
    case $1 in
    -n | --max-examples) number "$1" "${2-}" && examples=$2 && shift 2 ;;
    --seed) number "$1" "${2-}" && seed=$2 && shift 2 ;;
    --workers) number "$1" "${2-}" && workers=$2 && shift 2 ;;
    --no-build) build=0 && shift ;;
    --keep) keep=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    --) shift && extra=("$@") && break ;;
    *) die "unknown option \`$1\` (see --help)" ;;
    esac
done

# --- Schemathesis, in a venv of its own -------------------------------------

cache=${KEEPER_SCHEMATHESIS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/keeper/schemathesis}
venv=$cache/venv-$SCHEMATHESIS_VERSION
if [[ ! -f $venv/.installed ]]; then
    echo "Installing schemathesis $SCHEMATHESIS_VERSION into $venv" >&2
    rm -rf "$venv"
    mkdir -p "$cache"
    pip_install=(install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION")
    if "${PYTHON:-python3}" -m venv "$venv"; then
        "$venv/bin/python" -m pip "${pip_install[@]}"
    else
        # Without ensurepip (Debian's python3 without python3-venv), the
        # system's pip installs into a venv made without one.
        rm -rf "$venv"
        "${PYTHON:-python3}" -m venv --without-pip "$venv"
        "${PYTHON:-python3}" -m pip --python "$venv/bin/python" "${pip_install[@]}"
    fi
    touch "$venv/.installed"
fi
python=$venv/bin/python
schemathesis=$venv/bin/schemathesis

# --- keeper serve, fresh, on free ports -------------------------------------

if ((build)); then
    (cd "$root" && cargo build)
fi
bin=${KEEPER_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/keeper}
[[ -x $bin ]] || die "no keeper binary at $bin"

work=$(mktemp -d "${TMPDIR:-/tmp}/keeper-schemathesis.XXXXXX")
server_pid=
schemathesis_pid=
cleanup() {
    local status=$?
    if [[ -n $schemathesis_pid ]] && kill -0 "$schemathesis_pid" 2>/dev/null; then
        kill -TERM "$schemathesis_pid" 2>/dev/null || true
        wait "$schemathesis_pid" 2>/dev/null || true
    fi
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if ((keep)); then
        echo "Kept $work (server.log, data/, keys/)" >&2
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(
    # Only the flags below configure this server, not the caller's settings.
    while read -r name; do unset "$name"; done < <(compgen -e | grep '^KEEPER_' || true)
    cd "$work"
    exec "$bin" serve \
        --data-dir "$work/data" \
        --host-key "$work/keys/ssh_host_ed25519_key" \
        --audit-key "$work/keys/audit_key" \
        --ssh-addr 127.0.0.1:0 \
        --http-addr 127.0.0.1:0 \
        --log-format json
) </dev/null >/dev/null 2>"$work/server.log" &
server_pid=$!

# The log's `http listening` line names the port the server picked.
http_addr=
for _ in $(seq 300); do
    http_addr=$("$python" - "$work/server.log" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        fields = json.loads(line).get("fields", {})
    except ValueError:
        continue
    if fields.get("message") == "http listening":
        print(fields["addr"])
        break
PY
)
    [[ -n $http_addr ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$work/server.log" >&2
        die "keeper serve exited before listening"
    fi
    sleep 0.1
done
[[ -n $http_addr ]] || {
    cat "$work/server.log" >&2
    die "keeper serve did not report its HTTP address"
}
base=http://$http_addr
echo "keeper serve: $base (pid $server_pid, in $work)" >&2

# --- Two users and their tokens ---------------------------------------------

# alice and bob, for the check that neither reads the other's items, and a
# second token of alice's for logging out.
"$python" - "$base" "$work/auth.json" >"$work/logout-token" <<'PY' || die "could not register the users and log them in"
import json, sys, urllib.request

base, auth_file = sys.argv[1:]
password, pin = "correct horse battery staple", "2580"


def post(path, body):
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def token(login):
    return post("/api/v1/sessions", {"login": login, "password": password, "pin": pin})["token"]


auth = []
for login in ("alice", "bob"):
    post("/api/v1/users", {"login": login, "password": password, "pin": pin})
    header = {"name": "Authorization", "value": "Bearer " + token(login)}
    auth.append({"name": login, "fixedHeaders": [header]})
with open(auth_file, "w", encoding="utf-8") as out:
    json.dump({"auth": auth}, out)
print(token("alice"))
PY
export KEEPER_WFC_AUTH=$work/auth.json
KEEPER_LOGOUT_TOKEN=$(cat "$work/logout-token")
export KEEPER_LOGOUT_TOKEN

# --- Schemathesis -----------------------------------------------------------

# In the background, so that a signal to this script stops it (see cleanup).
(
    cd "$work"
    exec "$schemathesis" --config-file "$root/scripts/schemathesis.toml" run \
        "$base/api/v1/openapi.json" \
        --max-examples "$examples" \
        --seed "$seed" \
        --workers "$workers" \
        ${extra[@]+"${extra[@]}"}
) &
schemathesis_pid=$!
status=0
wait "$schemathesis_pid" || status=$?
schemathesis_pid=

# An error the server logged, or a panic (which drops the connection).
server_errors='"level":"ERROR"|panicked at'
if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "schemathesis.sh: keeper serve died during the run; its log:" >&2
    cat "$work/server.log" >&2
    status=1
elif grep -qE "$server_errors" "$work/server.log"; then
    echo "schemathesis.sh: the server logged errors:" >&2
    grep -E -A1 "$server_errors" "$work/server.log" >&2
    status=1
fi
exit "$status"
