#!/usr/bin/env bash
# The long crash loop: the suite's `crash::kill_loop` driver (tests/it/crash/kill_loop.rs) for
# ROUNDS kill -9 rounds (default 30) under a mixed load, on the debug build the suite uses.
# Prints one line per round and a total: Stored acknowledgements and what was found after
# each restart, Queued writes found and lost (with how long before the kill the oldest lost
# one was answered), and restart-to-ready and restart-to-L2-open times. Fails on the first
# round that lost a write answered Stored or brought back a delete.
#
#   bench/crashloop.sh [ROUNDS] [SEED]    SEED repeats a run's choices (printed at the start)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/shadcache-target}
export SHADCACHE_CRASHLOOP_ROUNDS=${1:-30}
[ -z "${2:-}" ] || export SHADCACHE_CRASHLOOP_SEED=$2
exec cargo test --locked --test it crash::kill_loop::crash_loop_long -- --ignored --exact \
    --nocapture
