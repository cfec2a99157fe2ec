#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each and reports, per target, the
# executions, the coverage libFuzzer reached and the corpus size, then a summary. Exits 1 if
# any target crashed or failed a property (its input is in fuzz/artifacts/<target>/).
#
#   fuzz/run.sh [SECONDS] [TARGET...]      # default: 600 s each, every target
#   FUZZ_JOBS=2 fuzz/run.sh 600            # two targets at a time
#
# Needs the nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz if it
# is missing. New inputs go to $FUZZ_WORK/<target> (default /var/tmp/shadcache-fuzz-corpus),
# not to the committed seeds in fuzz/corpus/<target>, which are read as a second corpus.
# Logs: $FUZZ_WORK/<target>.log.
set -euo pipefail

seconds=${1:-600}
shift || true
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/shadcache-fuzz-target}
work=${FUZZ_WORK:-/var/tmp/shadcache-fuzz-corpus}
jobs=${FUZZ_JOBS:-1}

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir fuzz)
fi

# Built once up front, so the timed runs below only fuzz.
cargo +nightly fuzz build --fuzz-dir fuzz

run() {
    local target=$1
    mkdir -p "$work/$target"
    cargo +nightly fuzz run --fuzz-dir fuzz "$target" "$work/$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        >"$work/$target.log" 2>&1
}

# One line per target from its log: status, executions, execs/s, cov, ft, corpus.
report() {
    local target=$1 status=$2 log="$work/$1.log"
    local last execs rate cov ft corp
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
    printf '%-14s %-6s %12s %9s %7s %7s %14s\n' "$target" "$status" "${execs:-?}" \
        "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
}

mkdir -p "$work"
declare -A status
running=0
for target in "${targets[@]}"; do
    (run "$target" && echo ok >"$work/$target.status" || echo CRASH >"$work/$target.status") &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

printf '\n%-14s %-6s %12s %9s %7s %7s %14s\n' target status executions 'execs/s' cov ft 'corpus (n/size)'
failed=0
for target in "${targets[@]}"; do
    status[$target]=$(cat "$work/$target.status")
    report "$target" "${status[$target]}"
    if [ "${status[$target]}" != ok ]; then
        failed=1
        grep -E 'panicked at|Test unit written to|ERROR: libFuzzer' "$work/$target.log" | head -n 5 |
            sed 's/^/    /'
    fi
done
echo
if [ "$failed" -ne 0 ]; then
    echo "FAILED: a target crashed; reproduce with: cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>"
    exit 1
fi
echo "all ${#targets[@]} targets ran ${seconds}s each without a crash"
