#!/usr/bin/env bash
# Dependency prefetch, measured with the real CLI: `shadcn add login-01 --yes` through a
# shadcache whose registry origin is bench/delayed_origin.py (the recorded registry, DELAY ms
# per answer), on a cold cache (a fresh daemon and data dir) and then warm (the same daemon,
# again), with `[prefetch]` on and off, alternating so that drift on the machine falls on both.
# The origin wait of a cold run is its wall time minus the warm run's: node's start-up and the
# CLI's own work are in both, and vary by a few hundred ms from run to run on a busy machine.
# The origin's own log gives a steadier second measure: the span from the first request's
# arrival to the last answer's departure (last arrival plus DELAY). Prints one table row
# per delay and setting, medians of RUNS pairs.
#
#   bench/prefetch.sh [RUNS] [DELAYS...]      default: 7 runs, 50 and 200 ms
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/lib.sh
runs=${1:-7}; shift || true
delays=("${@:-50 200}"); read -r -a delays <<<"${delays[*]}"
release_bins
[ -x tests/mcp/node_modules/.bin/shadcn ] ||
    npm ci --prefix tests/mcp --no-audit --no-fund --loglevel=error
shadcn=$PWD/tests/mcp/node_modules/.bin/shadcn

scratch prefetch
sc() { "$bin" --socket "$work/s.sock" --config "$work/config.toml" "$@"; }

# start_daemon ORIGIN PREFETCH: a fresh daemon (GitHub off) on an empty data dir.
start_daemon() {
    printf '[github]\nenabled = false\n\n[registry]\nlisten = "127.0.0.1:0"\nshadcn_url = "%s"\n\n[prefetch]\nenabled = %s\n\n[daemon]\nlog_level = "warn"\n' \
        "$1" "$2" >"$work/config.toml"
    rm -rf "$work/data"
    "$bin" --socket "$work/s.sock" --config "$work/config.toml" daemon --data-dir "$work/data" \
        2>>"$work/daemon.log" &
    daemon_pid=$!
    for _ in $(seq 100); do sc ping >/dev/null 2>&1 && return; sleep 0.1; done
    echo "the daemon did not start: $(tail -5 "$work/daemon.log")" >&2; exit 1
}
stop_daemon() { kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true; daemon_pid=; }

# add URL: runs `shadcn add login-01 --yes` against URL, prints its wall time in ms.
add() {
    shadcn_project "$work/project"
    local start end
    start=$(date +%s%N)
    (cd "$work/project" && PATH="$work/project/bin:$PATH" REGISTRY_URL=$1 NO_PROXY=127.0.0.1 \
        "$shadcn" add login-01 --yes >"$work/cli.out" 2>&1) ||
        { echo "shadcn add failed: $(tail -5 "$work/cli.out")" >&2; exit 1; }
    [ -f "$work/project/src/components/login-form.tsx" ] ||
        { echo "shadcn add wrote no login form: $(tail -5 "$work/cli.out")" >&2; exit 1; }
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

echo "| origin's added latency ms | prefetch | cold ms | warm ms | waited on the origin ms | in round trips | origin busy ms | in round trips | origin requests |"
echo "|---|---|---|---|---|---|---|---|---|"
for delay in "${delays[@]}"; do
    rm -f "$work/origin.port"
    ORIGIN_LOG=$work/origin.log python3 bench/delayed_origin.py tests/fixtures/registry "$delay" >"$work/origin.port" &
    origin_pid=$!
    for _ in $(seq 50); do [ -s "$work/origin.port" ] && break; sleep 0.1; done
    origin="http://127.0.0.1:$(cat "$work/origin.port")/ui.shadcn.com/r"
    declare -A cold=() warm=() waited=() busy=() requests=()
    for _ in $(seq "$runs"); do
        for prefetch in true false; do
            start_daemon "$origin" "$prefetch"
            url=$(sc registry url shadcn)
            : >"$work/origin.log"
            c=$(add "$url")
            n=$(wc -l <"$work/origin.log")
            b=$(awk -v d="$delay" 'NR == 1 { f = $1 } { l = $1 } END { print l - f + d }' "$work/origin.log")
            w=$(add "$url")
            stop_daemon
            cold[$prefetch]+="$c "; warm[$prefetch]+="$w "; waited[$prefetch]+="$((c - w)) "
            busy[$prefetch]+="$b "
            requests[$prefetch]=$n
        done
    done
    for prefetch in true false; do
        read -r -a c <<<"${cold[$prefetch]}"; read -r -a w <<<"${warm[$prefetch]}"
        read -r -a d <<<"${waited[$prefetch]}"; read -r -a b <<<"${busy[$prefetch]}"
        m=$(median "${d[@]}"); o=$(median "${b[@]}")
        trips() { awk -v m="$1" -v d="$delay" 'BEGIN { printf "%.1f", m / d }'; }
        on=$([ "$prefetch" = true ] && echo on || echo off)
        echo "| $delay | $on | $(median "${c[@]}") | $(median "${w[@]}") | $m | $(trips "$m") | $o | $(trips "$o") | ${requests[$prefetch]} |"
    done
    unset cold warm waited busy requests
    kill "$origin_pid"; origin_pid=
done
