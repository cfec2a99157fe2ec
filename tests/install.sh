#!/usr/bin/env bash
# README's install command as a new user meets it on a machine without a systemd user manager
# (a container, WSL, an SSH login without lingering): `./systemd/install.sh` builds and installs
# the release binary, starts the daemon and exits 0; `shadcache component button` then prints
# the component; `--uninstall` stops the daemon and removes the binary, keeping the cache.
# Everything lives in a temp dir, GitHub is the recorded origin (tests/origin.py), and
# `systemctl` answers as it does where no user manager runs. .ci/run runs this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD

tmp=$(mktemp -d /tmp/shadcache-install-XXXXXX)
origin_pid=
cleanup() {
    [ -z "$origin_pid" ] || kill "$origin_pid" 2>/dev/null || true
    [ ! -x "$tmp/cargo/bin/shadcache" ] || "$tmp/cargo/bin/shadcache" stop >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "install test FAILED: $*" >&2
    exit 1
}

export CARGO_INSTALL_ROOT=$tmp/cargo
export XDG_CONFIG_HOME=$tmp/config XDG_STATE_HOME=$tmp/state XDG_RUNTIME_DIR=$tmp/run
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
mkdir -p "$tmp/stub"
printf '#!/bin/sh\necho "Failed to connect to bus: No medium found" >&2\nexit 1\n' >"$tmp/stub/systemctl"
chmod +x "$tmp/stub/systemctl"
export PATH="$tmp/stub:$PATH"

python3 tests/origin.py "$tmp/port" &
origin_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port")
mkdir -p "$XDG_CONFIG_HOME/shadcache"
cat >"$XDG_CONFIG_HOME/shadcache/config.toml" <<TOML
[github]
api_url = "http://127.0.0.1:$port/api"
raw_url = "http://127.0.0.1:$port/raw"
TOML

./systemd/install.sh >"$tmp/install.out" 2>&1 || { cat "$tmp/install.out"; fail "install.sh exited $?"; }
cat "$tmp/install.out"
bin=$CARGO_INSTALL_ROOT/bin/shadcache
grep -q "no systemd user manager here" "$tmp/install.out" || fail "install.sh did not say how the daemon starts next time"
grep -q "logs to" "$tmp/install.out" || fail "install.sh did not say where the daemon logs"
"$bin" ping >/dev/null || fail "no daemon answers after install.sh"

"$bin" component button >"$tmp/button.tsx" || fail "shadcache component button exited $?"
cmp "$tmp/button.tsx" \
    tests/fixtures/github/raw.githubusercontent.com/shadcn-ui/ui/main/apps/v4/registry/new-york-v4/ui/button.tsx \
    || fail "shadcache component button printed something else"

size=$(stat -c %s "$bin")
echo "installed binary: $((size / 1024 / 1024)) MiB ($size bytes)"
[ "$size" -lt $((60 * 1024 * 1024)) ] || fail "the installed binary is $size bytes, over 60 MiB"

# Installing again over a running daemon is fine: it is told one already answers.
"$bin" start | grep -q "already answers" || fail "a second start did not find the running daemon"

./systemd/install.sh --uninstall || fail "install.sh --uninstall exited $?"
[ ! -e "$bin" ] || fail "the binary is still at $bin"
data_dir=$XDG_STATE_HOME/shadcache
[ -d "$data_dir" ] || fail "--uninstall removed the data dir"
[ ! -S "$XDG_RUNTIME_DIR/shadcache.sock" ] || fail "the daemon's socket is still there"
echo "install test: ok (install, component, uninstall; the data dir kept)"
