#!/usr/bin/env bash
# Refresh-ahead, measured: a day of Zipf-distributed reads of the recorded registry's items
# (new-york-v4, 97 keys, skew 1.0) replayed through a daemon whose test clock moves 2 minutes
# between rounds of reads (`shadcache-load replay`), with TTLs of an hour, once with
# `[refresh_ahead]` on and once off. Prints the share of stale answers (all keys, and the
# hottest tenth) and what the origin was asked. Daemon time runs 1,200 times faster than real
# time here (2 minutes a step, 0.1 s a step), so every real-time rate is scaled by as much:
# the scans run every 50 ms, the refresh bound is the default 60 a minute of daemon time
# (72,000 a real minute), and the registry's pacer is out of the way.
#
#   bench/replay.sh [SPAN]      default: 24h of daemon time
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/lib.sh
span=${1:-24h}
release_bins load
scratch replay

python3 bench/delayed_origin.py tests/fixtures/registry 0 >"$work/origin.port" &
origin_pid=$!
for _ in $(seq 50); do [ -s "$work/origin.port" ] && break; sleep 0.1; done
origin="http://127.0.0.1:$(cat "$work/origin.port")/ui.shadcn.com/r"
# The items in a fixed shuffled order: rank 1 is the first line.
python3 - tests/fixtures/registry/ui.shadcn.com/r/styles/new-york-v4 >"$work/keys" <<'PY'
import os, random, sys
names = sorted(f[:-5] for f in os.listdir(sys.argv[1]) if f.endswith(".json") and f != "index.json")
random.Random(1).shuffle(names)
print("\n".join(f"registry:shadcn:new-york-v4:{n}" for n in names))
PY

echo "| refresh-ahead | reads | stale answers | of the hottest 10 % | fetched for clients | revalidated after a stale answer | refreshed ahead |"
echo "|---|---|---|---|---|---|---|"
for ahead in true false; do
    printf '[github]\nenabled = false\n\n[registry]\nlisten = "127.0.0.1:0"\nshadcn_url = "%s"\nrequests_per_second = 100000\nmax_concurrent = 64\n\n[ttl]\nregistry = "1h"\n\n[prefetch]\nenabled = false\n\n[refresh_ahead]\nenabled = %s\ninterval = "50ms"\nmax_per_minute = 72000\n\n[daemon]\nlog_level = "warn"\n' \
        "$origin" "$ahead" >"$work/config.toml"
    rm -rf "$work/data"
    SHADCACHE_TEST_CLOCK=1 "$bin" --socket "$work/s.sock" --config "$work/config.toml" daemon \
        --data-dir "$work/data" 2>>"$work/daemon.log" &
    daemon_pid=$!
    for _ in $(seq 100); do
        "$bin" --socket "$work/s.sock" --config "$work/config.toml" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    label=$([ "$ahead" = true ] && echo on || echo off)
    "$load_bin" --socket "$work/s.sock" replay --keys "$work/keys" --span "$span" --label "$label" |
        sed 's/^| \([a-z]*\) | \([0-9]*\) |/| \1 | \2 |/'
    kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true; daemon_pid=
done
