# Sourced by .ci/run (and by a developer, as root, to run the PostgreSQL tests by hand):
# starts two throwaway PostgreSQL clusters from Debian's server, run as the unprivileged
# `postgres` user, in a temp dir, on free loopback ports, and exports what tests/it needs:
#   - a plain server (SHADCACHE_TEST_POSTGRES_URL, ..._RESTART) for the shared-L2 tests;
#   - a TLS server with a certificate from a throwaway CA (SHADCACHE_TEST_POSTGRES_TLS_URL,
#     ..._TLS_CA, and ..._TLS_WRONG_CA, a second CA that did not sign it).
# `shadcache_pg_stop` stops both and removes the dir; .ci/run calls it on exit.

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ] || ! command -v openssl >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql openssl >/dev/null
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
pg_dir=$(mktemp -d /tmp/shadcache-ci-pg-XXXXXX)
chown postgres "$pg_dir"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# $1: cluster dir name, $2: port, then extra server options.
start_cluster() {
    local name=$1 port=$2
    shift 2
    runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/$name" -A trust -U postgres >/dev/null
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/$name" -l "$pg_dir/$name.log" -w \
        -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 $*" start >/dev/null
}

# The CA, a server certificate it signs for localhost, and a second CA that signs nothing.
tls="$pg_dir/certs"
mkdir -p "$tls"
for ca in ca wrong-ca; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=shadcache test $ca" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$tls/$ca.key" -out "$tls/$ca.pem" 2>/dev/null
done
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' \
    >"$tls/server.ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 2 -extfile "$tls/server.ext" -out "$tls/server.crt" 2>/dev/null
chown -R postgres "$tls"
chmod 0600 "$tls/server.key"

pg_port=$(free_port)
start_cluster plain "$pg_port"
pg_tls_port=$(free_port)
start_cluster tls "$pg_tls_port" "-c ssl=on -c ssl_cert_file=$tls/server.crt -c ssl_key_file=$tls/server.key"

shadcache_pg_stop() {
    for name in plain tls; do
        runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/$name" -m immediate stop >/dev/null 2>&1 || true
    done
    rm -rf "$pg_dir"
}

export SHADCACHE_TEST_POSTGRES_URL="host=127.0.0.1 port=$pg_port user=postgres"
export SHADCACHE_TEST_POSTGRES_RESTART="runuser -u postgres -- $pg_bin/pg_ctl -D $pg_dir/plain -w -m fast restart >/dev/null"
# verify-full checks the name: connect to `localhost`, at 127.0.0.1.
export SHADCACHE_TEST_POSTGRES_TLS_URL="host=localhost hostaddr=127.0.0.1 port=$pg_tls_port user=postgres"
export SHADCACHE_TEST_POSTGRES_TLS_CA="$tls/ca.pem"
export SHADCACHE_TEST_POSTGRES_TLS_WRONG_CA="$tls/wrong-ca.pem"
