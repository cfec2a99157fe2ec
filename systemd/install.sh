#!/usr/bin/env bash
# Installs shadcache for the current user and starts it as a socket-activated systemd user
# service: builds and installs the binary with cargo, installs the two units, enables the
# socket, and checks that the daemon answers.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cargo install --locked --path "$repo"
bin="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin/shadcache"

if ! systemctl --user show-environment >/dev/null 2>&1; then
    echo "shadcache is installed at $bin, but there is no systemd user manager here" >&2
    echo "(a container, or a login without a user session). Run the daemon directly:" >&2
    echo "    $bin daemon &" >&2
    exit 1
fi

units="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
mkdir -p "$units"
install -m 0644 "$repo/systemd/shadcache.socket" "$units/shadcache.socket"
sed "s|%h/.cargo/bin/shadcache|$bin|" "$repo/systemd/shadcache.service" > "$units/shadcache.service"
chmod 0644 "$units/shadcache.service"
systemctl --user daemon-reload
systemctl --user enable --now shadcache.socket
# The first connection starts the service.
"$bin" ping
echo "shadcache is running: try \`shadcache stats\`."
