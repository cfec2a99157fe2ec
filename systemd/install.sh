#!/usr/bin/env bash
# Installs shadcache for the current user and starts it:
#   - with a systemd user manager: as a socket-activated user service (the units in this
#     folder), enabled so it starts at login;
#   - without one (a container, WSL, an SSH login without lingering): as a daemon started in
#     the background (`shadcache start`), with how to have it start next time.
# Either way it exits 0 only once the daemon answers.
#
#   systemd/install.sh                       build, install, start
#   systemd/install.sh --uninstall [--purge] stop the daemon, remove the units and the binary;
#                                            --purge also removes the data dir (the cache)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"
bin="$bin_dir/shadcache"
units="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"

have_systemd() {
    command -v systemctl >/dev/null && systemctl --user show-environment >/dev/null 2>&1
}

uninstall() {
    local purge=$1 data_dir=""
    if [ -x "$bin" ]; then
        data_dir=$("$bin" config 2>/dev/null | sed -n 's/^data_dir = "\(.*\)" *#.*/\1/p')
    fi
    if have_systemd && [ -e "$units/shadcache.socket" ]; then
        systemctl --user disable --now shadcache.socket shadcache-registry.socket \
            shadcache.service 2>/dev/null || true
        rm -f "$units/shadcache.socket" "$units/shadcache-registry.socket" "$units/shadcache.service"
        systemctl --user daemon-reload
        echo "removed the systemd units from $units"
    fi
    # A daemon started without systemd (or by `shadcache mcp --start-daemon`).
    if [ -x "$bin" ]; then
        "$bin" stop
    fi
    if [ -e "$bin" ]; then
        cargo uninstall shadcache >/dev/null 2>&1 || rm -f "$bin"
        echo "removed $bin"
    fi
    if [ -n "$data_dir" ] && [ -d "$data_dir" ]; then
        if [ "$purge" = 1 ]; then
            rm -rf "$data_dir"
            echo "removed the cache in $data_dir"
        else
            echo "kept the cache in $data_dir (--uninstall --purge removes it)"
        fi
    fi
}

case "${1:-}" in
    --uninstall)
        purge=0
        [ "${2:-}" = "--purge" ] && purge=1
        uninstall "$purge"
        exit 0
        ;;
    "") ;;
    *)
        echo "usage: $0 [--uninstall [--purge]]" >&2
        exit 2
        ;;
esac

cargo install --locked --path "$repo"
if [ "$(command -v shadcache)" != "$bin" ]; then
    echo "note: $bin_dir is not first on your PATH; the commands below name $bin in full" >&2
fi

if have_systemd; then
    mkdir -p "$units"
    install -m 0644 "$repo/systemd/shadcache.socket" "$units/shadcache.socket"
    install -m 0644 "$repo/systemd/shadcache-registry.socket" "$units/shadcache-registry.socket"
    sed "s|%h/.cargo/bin/shadcache|$bin|" "$repo/systemd/shadcache.service" >"$units/shadcache.service"
    chmod 0644 "$units/shadcache.service"
    systemctl --user daemon-reload
    systemctl --user enable --now shadcache.socket
    # Port 7733 may be another user's: then the daemon takes a free port itself.
    systemctl --user enable --now shadcache-registry.socket 2>/dev/null ||
        echo "note: 127.0.0.1:7733 is taken; the daemon will serve the registry on a free port (shadcache registry url)" >&2
    # The first connection starts the service.
    "$bin" ping
    echo "shadcache is running as a systemd user service: try \`shadcache doctor\`."
    exit 0
fi

# No systemd user manager: start the daemon ourselves, detached.
"$bin" start
"$bin" ping >/dev/null
cat <<EOF

There is no systemd user manager here, so the daemon was started directly. It does not
start again by itself after a reboot or logout. Either:
  - launch it from your MCP clients' config, which starts it when none answers:
      "command": "$bin", "args": ["mcp", "--start-daemon"]
  - or add this line to your shell profile (~/.profile, ~/.bashrc):
      "$bin" start >/dev/null 2>&1
Check everything with \`shadcache doctor\`; stop it with \`shadcache stop\`.
EOF
