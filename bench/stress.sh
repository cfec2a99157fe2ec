#!/usr/bin/env bash
# The long reliability runs of RELIABILITY.md: the load generator (`shadcache-load`, or
# $SHADCACHE_LOAD_BIN) against a release daemon of their own (GitHub off, L2 on, room for
# 2,000 connections):
#
#   bench/stress.sh soak [DURATION]   64 clients of mixed load (default 10m), RSS and open
#                                     descriptors sampled every 10 s; fails on any error
#   bench/stress.sh hostile           one client's gets alone, then beside 1,000 idle
#                                     connections, 8 slow writers, 8 mid-answer hang-ups and
#                                     16 MiB frames in a loop; prints both p99s
#
# The suite runs short versions of both (tests/it/stress.rs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/lib.sh

what=${1:-}
release_bins load

work=$(mktemp -d /tmp/shadcache-stress-XXXXXX)
daemon_pid=
cleanup() {
    local status=$?
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap "exit 130" INT TERM

printf '[github]\nenabled = false\n\n[l1]\nmax_bytes = "64MiB"\n\n[daemon]\nlog_level = "warn"\nmax_connections = 2048\n' \
    >"$work/config.toml"
cli() { "$bin" --socket "$work/s.sock" --config "$work/config.toml" "$@"; }
load() { "$load_bin" --socket "$work/s.sock" "$@"; }
"$bin" --socket "$work/s.sock" --config "$work/config.toml" daemon --data-dir "$work/data" \
    2>>"$work/daemon.log" &
daemon_pid=$!
# Ready once L2 has opened: a write acknowledged Stored.
for _ in $(seq 100); do
    echo x | cli set bench:probe 2>&1 | grep -q Stored && break
    sleep 0.1
done

echo "$(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(uname -r); release build"
case "$what" in
soak) load soak --duration "${2:-10m}" --sample 10s --clients 64 --keys 1000 ;;
hostile) load hostile --requests 20000 --keys 1000 ;;
*)
    echo "usage: bench/stress.sh soak [DURATION] | hostile" >&2
    exit 2
    ;;
esac
echo "daemon log (warnings and errors):"
cat "$work/daemon.log"
