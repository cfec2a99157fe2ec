# Shell helpers the bench scripts share; sourced, never run.

# shadcn_project DIR: a project as `shadcn init` leaves one (new-york-v4, neutral), with an
# `npm` in DIR/bin that only records, so `shadcn add` installs nothing.
shadcn_project() {
    local p=$1
    rm -rf "$p"; mkdir -p "$p/src/app" "$p/bin"
    echo '{"name":"app","version":"0.0.0","private":true}' >"$p/package.json"
    echo '{"compilerOptions":{"baseUrl":".","paths":{"@/*":["./src/*"]}}}' >"$p/tsconfig.json"
    echo '@import "tailwindcss";' >"$p/src/app/globals.css"
    cat >"$p/components.json" <<'JSON'
{"$schema":"https://ui.shadcn.com/schema.json","style":"new-york-v4","rsc":true,"tsx":true,
"tailwind":{"config":"","css":"src/app/globals.css","baseColor":"neutral","cssVariables":true,"prefix":""},
"aliases":{"components":"@/components","utils":"@/lib/utils","ui":"@/components/ui","lib":"@/lib","hooks":"@/hooks"},
"iconLibrary":"lucide"}
JSON
    printf '#!/bin/sh\nexit 0\n' >"$p/bin/npm"; chmod +x "$p/bin/npm"
}

# median N...: the middle value (the lower of the two middle ones for an even count).
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# release_bins [load]: sets $bin (and with `load`, $load_bin) to the release build, built
# first, unless $SHADCACHE_BIN ($SHADCACHE_LOAD_BIN) names one already.
release_bins() {
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/shadcache-target}
    bin=${SHADCACHE_BIN:-$CARGO_TARGET_DIR/release/shadcache}
    [ -n "${SHADCACHE_BIN:-}" ] || cargo build --release --locked --bin shadcache
    [ "${1:-}" = load ] || return 0
    load_bin=${SHADCACHE_LOAD_BIN:-$CARGO_TARGET_DIR/release/shadcache-load}
    [ -n "${SHADCACHE_LOAD_BIN:-}" ] ||
        cargo build --release --locked --features testkit --bin shadcache-load
}

# scratch NAME: $work, a fresh directory under /tmp; on exit the daemon ($daemon_pid) and
# the origin ($origin_pid) still running are killed and $work removed.
scratch() {
    work=$(mktemp -d "/tmp/shadcache-$1-XXXXXX")
    daemon_pid=; origin_pid=
    trap 'for pid in "$daemon_pid" "$origin_pid"; do [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
}
