#!/usr/bin/env bash
# Coverage-guided fuzzing of Keeper with cargo-fuzz (libFuzzer).
#
#   scripts/fuzz.sh [SECONDS]            every target, SECONDS each (default 600)
#   scripts/fuzz.sh TARGET [SECONDS]     one target
#   scripts/fuzz.sh --list               the targets
#
# Runs one target at a time on one core, niced. New corpus entries go to
# fuzz/corpus/TARGET/, crashes to fuzz/artifacts/TARGET/, and libFuzzer's
# log to fuzz/logs/TARGET.log. Exits non-zero if any target crashed.
#
# Environment: RSS_LIMIT_MB (default 2048), MAX_LEN (default 4096),
# TOOLCHAIN (default nightly), SANITIZER (default none: the crate forbids
# unsafe code, and the build keeps debug assertions and overflow checks).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

targets=(grammar key_decoder json_bodies)
toolchain="${TOOLCHAIN:-nightly}"
sanitizer="${SANITIZER:-none}"
rss_limit_mb="${RSS_LIMIT_MB:-2048}"
max_len="${MAX_LEN:-4096}"

usage() {
    sed -n '3,7s/^# \{0,1\}//p' "$0" >&2
    exit 2
}

seconds=600
case "${1:-}" in
    --list)
        printf '%s\n' "${targets[@]}"
        exit 0
        ;;
    -h | --help) usage ;;
    '') ;;
    *[!0-9]*)
        [[ " ${targets[*]} " == *" $1 "* ]] || { echo "unknown target: $1" >&2; usage; }
        targets=("$1")
        seconds="${2:-$seconds}"
        ;;
    *) seconds="$1" ;;
esac
[[ "$seconds" =~ ^[0-9]+$ ]] || usage

# Builds share the machine: niced, and one cargo at a time where flock is
# available.
cargo_locked() {
    if command -v flock >/dev/null; then
        nice -n 10 flock /tmp/cargo.lock cargo "$@"
    else
        nice -n 10 cargo "$@"
    fi
}

if ! cargo "+$toolchain" fuzz --version >/dev/null 2>&1; then
    cargo_locked install cargo-fuzz --locked
fi

# The json_bodies target keeps a throw-away database under TMPDIR; keep it
# in memory where possible and remove it afterwards.
scratch_parent=/tmp
[[ -d /dev/shm && -w /dev/shm ]] && scratch_parent=/dev/shm
scratch="$(mktemp -d "$scratch_parent/keeper-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

mkdir -p fuzz/logs
cargo_locked "+$toolchain" fuzz build --sanitizer "$sanitizer"

failed=()
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    log="fuzz/logs/$target.log"
    echo "== $target: ${seconds}s, log in $log"
    status=0
    # One job in one worker process: one core, and the job's log is
    # repeated on standard output when it ends.
    TMPDIR="$scratch" RUST_BACKTRACE=1 nice -n 10 \
        cargo "+$toolchain" fuzz run --sanitizer "$sanitizer" "$target" -- \
        -max_total_time="$seconds" -rss_limit_mb="$rss_limit_mb" -max_len="$max_len" \
        -jobs=1 -workers=1 -print_final_stats=1 >"$log" 2>&1 || status=$?
    rm -f fuzz-[0-9]*.log fuzz/fuzz-[0-9]*.log
    grep -E '^#[0-9]+[[:space:]]+DONE|^stat::' "$log" || true
    if ((status != 0)); then
        echo "!! $target failed (exit $status); see $log and fuzz/artifacts/$target/" >&2
        failed+=("$target")
    fi
done

if ((${#failed[@]})); then
    echo "crashed: ${failed[*]}" >&2
    exit 1
fi
