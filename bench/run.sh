#!/usr/bin/env bash
# Every benchmark of BENCHMARKS.md in one run, baselines included, so ratios hold on a noisy
# shared machine. Installs what it needs (Debian's redis, Node's PGlite from npm), builds
# the release daemon and the load generator (`shadcache-load`, or $SHADCACHE_BIN and
# $SHADCACHE_LOAD_BIN when set), and writes the table to bench/results.md (or $BENCH_RESULTS)
# and stdout.
#
#   bench/run.sh            the full run (a few minutes after the build)
# The registry rows also install Debian's nginx and use the `shadcn` CLI of tests/mcp.
#   bench/run.sh --smoke    a few hundred requests each: checks the harness works
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/lib.sh

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

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null ||
    ! command -v nginx >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools nginx >/dev/null
fi
[ -x tests/mcp/node_modules/.bin/shadcn ] ||
    npm ci --prefix tests/mcp --no-audit --no-fund --loglevel=error
[ -d bench/node/node_modules/@electric-sql/pglite ] &&
    [ -d bench/node/node_modules/@jpisnice/shadcn-ui-mcp-server ] ||
    npm ci --prefix bench/node --no-audit --no-fund --loglevel=error
[ -n "${SHADCACHE_BIN:-}" ] || cargo build --release --locked --bin shadcache
[ -n "${SHADCACHE_LOAD_BIN:-}" ] ||
    cargo build --release --locked --features testkit --bin shadcache-load

work=$(mktemp -d /tmp/shadcache-bench-XXXXXX)
daemon_pid=; redis_pid=; nginx_pid=; origin_pid=
cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
    [ -n "$origin_pid" ] && kill "$origin_pid" 2>/dev/null
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
# redis-benchmark measures with a client of its own; `shadcache-load redis` runs the daemon's
# clients (same key draws, same clock points) against Redis, so those rows compare servers.
redis_load() { "$load_bin" redis --redis-socket "$work/redis.sock" --value-size $size --keys $keys "$@"; }
out=$(redis_load --requests 1 --clients 1 --label fill); echo "$out" | tail -1
out=$(load bench $requests --keys $keys --label "shadcache L1 hit" --clients 1); echo "$out"; rows+=("$(row <<<"$out")")
out=$(redis_load --requests $requests --clients 1 --no-fill --label "redis GET, shadcache-load"); echo "$out"; rows+=("$(row <<<"$out")")
rows+=("$(redis_get 1 $requests)")
for round in $(seq $rounds); do
    echo "-- round $round of $rounds at 32 clients"
    out=$(load bench $((requests / 2)) --keys $keys --label "shadcache L1 hit" --clients 32 --no-fill)
    echo "$out"; rows+=("$(row <<<"$out")")
    out=$(redis_load --requests $((requests / 2)) --clients 32 --no-fill --label "redis GET, shadcache-load")
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

echo "== registry items over loopback HTTP: shadcache's listener beside nginx serving the same files"
registry=tests/fixtures/registry/ui.shadcn.com
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/nginx.conf" <<NGINX
worker_processes auto;
daemon off;
user root;
pid $work/nginx.pid;
error_log $work/nginx.err warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    server {
        listen 127.0.0.1:$nginx_port;
        root $PWD/$registry;
        location /r/ { default_type application/json; etag on; }
    }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" 2>>"$work/nginx.err" &
nginx_pid=$!
for _ in $(seq 50); do
    curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/r/index.json" 2>/dev/null && break
    python3 - "$nginx_port" 2>/dev/null <<'PY' && break
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/r/index.json", timeout=1)
PY
    sleep 0.1
done
# start_registry_daemon ORIGIN DATA_DIR: a daemon (GitHub off) whose `shadcn` registry is
# ORIGIN, its listener on a free port; prints the listener's REGISTRY_URL.
start_registry_daemon() {
    printf '[github]\nenabled = false\n\n[registry]\nlisten = "127.0.0.1:0"\nshadcn_url = "%s"\n\n[daemon]\nlog_level = "warn"\n' \
        "$1" >"$work/config.toml"
    "$bin" --socket "$work/s.sock" --config "$work/config.toml" daemon --data-dir "$2" \
        2>>"$work/daemon.log" &
    daemon_pid=$!
    for _ in $(seq 100); do
        "$bin" --socket "$work/s.sock" --config "$work/config.toml" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
}
registry_url_of() { "$bin" --socket "$work/s.sock" --config "$work/config.toml" registry url shadcn; }
# The daemon's registry origin is nginx: the first request fills the cache, the rest are hits.
start_registry_daemon "http://127.0.0.1:$nginx_port/r" "$work/data"
registry_url=$(registry_url_of)
listener=${registry_url%/*/shadcn}
secret=${registry_url#"$listener"/}; secret=${secret%/shadcn}
item=styles/new-york-v4/button.json
http_load() { "$load_bin" http --requests "$1" --clients "$2" --label "$3" --addr "$4" --paths "$5" ${6:+--pid "$6"}; }
out=$(http_load "$requests" 1 "nginx, registry item" "http://127.0.0.1:$nginx_port" "/r/$item")
echo "$out"; rows+=("$(row <<<"$out")")
out=$(http_load "$requests" 1 "shadcache listener, registry item" "$listener" "/$secret/shadcn/$item" "$daemon_pid")
echo "$out"; rows+=("$(row <<<"$out")")
for round in $(seq $rounds); do
    echo "-- round $round of $rounds at 32 clients"
    out=$(http_load $((requests / 4)) 32 "nginx, registry item" "http://127.0.0.1:$nginx_port" "/r/$item")
    echo "$out"; rows+=("$(row <<<"$out")")
    out=$(http_load $((requests / 4)) 32 "shadcache listener, registry item" "$listener" "/$secret/shadcn/$item" "$daemon_pid")
    echo "$out"; rows+=("$(row <<<"$out")")
done
stop_daemon
kill "$nginx_pid"; nginx_pid=

echo "== the shadcn CLI: straight to an origin 50 ms (then 200 ms) away, and through a warm shadcache"
cli_runs=11
[ "$smoke" = --smoke ] && cli_runs=1
shadcn_bin=$PWD/tests/mcp/node_modules/.bin/shadcn
# cli_pair DIRECT THROUGH ARGS...: `shadcn ARGS` timed $cli_runs times against each URL,
# alternating (so drift on the machine falls on both); prints the two medians in ms.
cli_pair() {
    local direct=$1 through=$2; shift 2
    local a=() b=() url start end
    for _ in $(seq $cli_runs); do
        for url in "$direct" "$through"; do
            shadcn_project "$work/project"
            start=$(date +%s%N)
            (cd "$work/project" && PATH="$work/project/bin:$PATH" REGISTRY_URL=$url NO_PROXY=127.0.0.1 \
                "$shadcn_bin" "$@" >/dev/null 2>&1)
            end=$(date +%s%N)
            if [ "$url" = "$direct" ]; then a+=($(((end - start) / 1000000))); else b+=($(((end - start) / 1000000))); fi
        done
    done
    echo "$(median "${a[@]}") $(median "${b[@]}")"
}
cli_rows=()
for delay in 50 200; do
    rm -f "$work/origin.port"
    python3 bench/delayed_origin.py "tests/fixtures/registry" $delay >"$work/origin.port" &
    origin_pid=$!
    for _ in $(seq 50); do [ -s "$work/origin.port" ] && break; sleep 0.1; done
    origin="http://127.0.0.1:$(cat "$work/origin.port")/ui.shadcn.com/r"
    rm -rf "$work/data2"
    start_registry_daemon "$origin" "$work/data2"
    through=$(registry_url_of)
    for command in "view button" "add button --yes"; do
        read -r -a args <<<"$command"
        cli_runs=1 cli_pair "$through" "$through" "${args[@]}" >/dev/null   # warms shadcache
        read -r direct cached <<<"$(cli_pair "$origin" "$through" "${args[@]}")"
        echo "shadcn $command: straight to the $delay ms origin $direct ms, through a warm shadcache $cached ms"
        cli_rows+=("| \`shadcn $command\` | $delay | $direct | $cached | $((direct - cached)) |")
    done
    stop_daemon
    kill "$origin_pid"; origin_pid=
done

echo "== warm the React registry from a GitHub 50 ms away (tests/origin.py, the recorded files)"
python3 tests/origin.py "$work/github.port" 50 &
origin_pid=$!
for _ in $(seq 50); do [ -s "$work/github.port" ] && break; sleep 0.1; done
github="http://127.0.0.1:$(cat "$work/github.port")"
warm_rows=()
# warm_with RPS: a fresh daemon (github.requests_per_second = RPS), `warm --framework react`.
warm_with() {
    printf '[github]\napi_url = "%s/api"\nraw_url = "%s/raw"\nrequests_per_second = %s\n\n[registry]\nlisten = "127.0.0.1:0"\n\n[daemon]\nlog_level = "warn"\n' \
        "$github" "$github" "$1" >"$work/config.toml"
    rm -rf "$work/data3"
    "$bin" --socket "$work/s.sock" --config "$work/config.toml" daemon --data-dir "$work/data3" \
        2>>"$work/daemon.log" &
    daemon_pid=$!
    for _ in $(seq 100); do
        "$bin" --socket "$work/s.sock" --config "$work/config.toml" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    local out
    out=$("$bin" --socket "$work/s.sock" --config "$work/config.toml" warm --framework react)
    echo "requests_per_second = $1: $out"
    warm_rows+=("| $1 | $(sed -n 's/.*took \([0-9.]*\) s.*/\1/p' <<<"$out") | ${out%%;*} |")
    stop_daemon
}
warm_with 20      # the default pace
warm_with 1000    # the pace out of the way: what the daemon and 8 connections do
kill "$origin_pid"; origin_pid=

echo "== what each MCP client's own server process costs (bench/node/mcp_cost.mjs)"
python3 tests/origin.py "$work/github2.port" &
origin_pid=$!
for _ in $(seq 50); do [ -s "$work/github2.port" ] && break; sleep 0.1; done
github="http://127.0.0.1:$(cat "$work/github2.port")"
printf '[github]\napi_url = "%s/api"\nraw_url = "%s/raw"\n\n[registry]\nlisten = "127.0.0.1:0"\n\n[daemon]\nlog_level = "warn"\n' \
    "$github" "$github" >"$work/config.toml"
"$bin" --socket "$work/s.sock" --config "$work/config.toml" daemon --data-dir "$work/data4" \
    2>>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do
    "$bin" --socket "$work/s.sock" --config "$work/config.toml" ping >/dev/null 2>&1 && break
    sleep 0.1
done
# In L1 before the runs: every measured call of `shadcache mcp` is an L1 hit.
"$bin" --socket "$work/s.sock" --config "$work/config.toml" component button >/dev/null
mcp_runs=5
[ "$smoke" = --smoke ] && mcp_runs=1
out=$(node bench/node/mcp_cost.mjs $mcp_runs "$bin" "$work/s.sock" "$work/config.toml"); echo "$out"
mcp_rows=()
while IFS= read -r line; do mcp_rows+=("$line"); done < <(grep '^| ' <<<"$out")
stop_daemon
kill "$origin_pid"; origin_pid=

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
    echo "| the shadcn CLI (median of $cli_runs alternating pairs) | origin's added latency ms | straight to it ms | through a warm shadcache ms | saved ms |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${cli_rows[@]}"
    echo
    echo "| an MCP client's own server (median of $mcp_runs) | initialize ms | one tools/call ms | peak RSS MiB |"
    echo "|---|---|---|---|"
    printf '%s\n' "${mcp_rows[@]}"
    echo
    echo "| warm --framework react, GitHub 50 ms away: github.requests_per_second | took s | keys |"
    echo "|---|---|---|"
    printf '%s\n' "${warm_rows[@]}"
    echo
    echo "start to READY: $ready"
} | tee "${BENCH_RESULTS:-bench/results.md}"
