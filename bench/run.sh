#!/usr/bin/env bash
# Every benchmark of BENCHMARKS.md in one run, baselines included, so ratios hold on a noisy
# shared machine. Installs what it needs (Debian's redis, Node's PGlite from npm), builds
# the release daemon and the load generator (`shadcache-load`, or $SHADCACHE_BIN and
# $SHADCACHE_LOAD_BIN when set), and writes the table to bench/results.md (or $BENCH_RESULTS)
# and stdout.
#
#   bench/run.sh            the full run (a few minutes after the build)
#   bench/run.sh --smoke    a few hundred requests each: checks the harness works
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

smoke=${1:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/shadcache-target}
bin=${SHADCACHE_BIN:-$CARGO_TARGET_DIR/release/shadcache}
load_bin=${SHADCACHE_LOAD_BIN:-$CARGO_TARGET_DIR/release/shadcache-load}
if [ "$smoke" = --smoke ]; then
    requests=200; reads=300; l2_keys=300; rounds=1
else
    requests=20000; reads=5000; l2_keys=5000; rounds=3
fi
keys=1000; size=2300

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
fi
[ -d bench/node/node_modules/@electric-sql/pglite ] ||
    npm ci --prefix bench/node --no-audit --no-fund --loglevel=error
[ -n "${SHADCACHE_BIN:-}" ] || cargo build --release --locked --bin shadcache
[ -n "${SHADCACHE_LOAD_BIN:-}" ] ||
    cargo build --release --locked --features testkit --bin shadcache-load

work=$(mktemp -d /tmp/shadcache-bench-XXXXXX)
daemon_pid=; redis_pid=
cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# A daemon with GitHub off; $1 is the L1 budget.
start_daemon() {
    printf '[github]\nenabled = false\n\n[l1]\nmax_bytes = "%s"\n\n[daemon]\nlog_level = "warn"\n' "$1" \
        >"$work/config.toml"
    "$bin" --socket "$work/s.sock" --config "$work/config.toml" daemon --data-dir "$work/data" \
        2>>"$work/daemon.log" &
    daemon_pid=$!
    for _ in $(seq 100); do
        "$bin" --socket "$work/s.sock" --config "$work/config.toml" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    # L2 open: a write acknowledged Stored.
    for _ in $(seq 100); do
        echo x | "$bin" --socket "$work/s.sock" --config "$work/config.toml" set bench:probe 2>&1 |
            grep -q Stored && break
        sleep 0.1
    done
}
stop_daemon() { kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true; daemon_pid=; }
# load MODE N ARGS...: the load generator's MODE (bench or echo), N requests per client.
load() {
    local mode=$1 n=$2
    shift 2
    "$load_bin" --socket "$work/s.sock" "$mode" --value-size $size --requests "$n" "$@"
}
row() { grep '^| ' | tail -1; }

rows=()
echo "== bare echo over a Unix socket (the floor)"
out=$(load echo $requests --keys $keys --label "bare echo" --clients 1); echo "$out"; rows+=("$(row <<<"$out")")
out=$(load echo $((requests / 2)) --keys $keys --label "bare echo" --clients 32); echo "$out"; rows+=("$(row <<<"$out")")

# CPU time a process has used, in clock ticks, from /proc (utime + stime).
cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# redis_get C N: redis-benchmark GET at C clients, N requests; a table row with Redis's CPU.
redis_get() {
    local before after out
    before=$(cpu_of "$redis_pid")
    out=$(redis-benchmark -s "$work/redis.sock" -t get -n "$2" -r $keys -d $size -c "$1" --csv)
    after=$(cpu_of "$redis_pid")
    echo "$out" >&2
    # "GET","rps","avg","min","p50","p95","p99","max" (ms)
    awk -F'"' -v c="$1" -v cpu="$((after - before))" -v t="$(getconf CLK_TCK)" -v n="$2" '/^"GET"/ {
        printf "redis: %.1f CPU µs a request\n", cpu / t * 1e6 / n > "/dev/stderr"
        printf "| redis GET | %d | %.0f | %.0f | %.0f | %.0f | - | %.2f | - |", c, $4, $10*1000, $12*1000, $14*1000, cpu / t }' <<<"$out"
}

# L1 hits and Redis GETs side by side: both servers up at once, and the 32-client runs
# alternate, $rounds each, so a burst of load from elsewhere on the machine hits both.
echo "== shadcache L1 hits and redis-benchmark GET over its Unix socket"
start_daemon 64MiB
redis-server --port 0 --unixsocket "$work/redis.sock" --save "" --appendonly no --daemonize no \
    >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 50); do [ -S "$work/redis.sock" ] && break; sleep 0.1; done
redis-benchmark -s "$work/redis.sock" -t set -n $((keys * 5)) -r $keys -d $size -c 1 -q >/dev/null
out=$(load bench $requests --keys $keys --label "shadcache L1 hit" --clients 1); echo "$out"; rows+=("$(row <<<"$out")")
rows+=("$(redis_get 1 $requests)")
for round in $(seq $rounds); do
    echo "-- round $round of $rounds at 32 clients"
    out=$(load bench $((requests / 2)) --keys $keys --label "shadcache L1 hit" --clients 32 --no-fill)
    echo "$out"; rows+=("$(row <<<"$out")")
    rows+=("$(redis_get 32 $((requests / 2 * 32)))")
done
kill "$redis_pid"; redis_pid=
stop_daemon

echo "== shadcache L2 hits (a cold L1: $l2_keys keys stored, the daemon restarted, each read once)"
start_daemon 64MiB
load bench 1 --keys $l2_keys --label fill >/dev/null
stop_daemon
start_daemon 64MiB
out=$(load bench $l2_keys --keys $l2_keys --label "shadcache L2 hit" --clients 1 --no-fill --sequential)
echo "$out"; rows+=("$(row <<<"$out")")
stop_daemon

echo "== Node's PGlite, the same point reads in-process"
out=$(node bench/node/pglite_reads.mjs $l2_keys $reads $size); echo "$out"; rows+=("$(row <<<"$out")")

echo "== start to READY (bench/startup.py, 5 runs)"
out=$(python3 bench/startup.py "$bin" 5); echo "$out"
ready=$(grep -i 'ready' <<<"$out" | head -1 || true)

{
    echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(uname -r); $keys keys of $size bytes."
    echo
    echo "| what | clients | req/s | p50 µs | p95 µs | p99 µs | p99.9 µs | daemon CPU s | peak RSS MiB |"
    echo "|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "start to READY: $ready"
} | tee "${BENCH_RESULTS:-bench/results.md}"
