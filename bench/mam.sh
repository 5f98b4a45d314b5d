#!/usr/bin/env bash
# bench/mam.sh: one-to-one chat flat out through `parley serve` with the
# message archive on and off (mam.enabled), on SQLite and, when
# PARLEY_TEST_POSTGRES_DSN names a server (scripts/test-databases.sh),
# PostgreSQL. The server runs on CPU 0, the load tool on CPU 1; the table
# rows give messages per second and server CPU per message.
#
# Knobs (environment): PAIRS (100), DURATION (10s), DRIVERS ("sqlite
# postgres"), W (work directory, default a new temporary one).
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${PAIRS:-100}
DURATION=${DURATION:-10s}
DRIVERS=${DRIVERS:-"sqlite postgres"}
W=${W:-$(mktemp -d)}
PORT=${PORT:-37222}
[[ -x "$W/parley" ]] || go build -o "$W/parley" ./cmd/parley

config() { # DRIVER MAM DSN
	cat >"$W/parley.toml" <<TOML
domains = ["localhost"]
data_dir = "$W/data-$1-$2"
[log]
level = "warn"
[c2s]
addr = "127.0.0.1:$PORT"
tls_addr = ""
require_tls = false
insecure_plaintext = true
[limits]
bytes_per_second = 0
[admin]
addr = ""
[http]
addr = ""
tls_addr = ""
[s2s]
addr = ""
[auth]
scram_iterations = 4096
scram_hashes = ["SHA-256"]
[storage]
driver = "$1"
dsn = "$3"
[mam]
enabled = $2
TOML
}

for driver in $DRIVERS; do
	dsn=""
	if [[ $driver == postgres ]]; then
		[[ -n ${PARLEY_TEST_POSTGRES_DSN:-} ]] || { echo "skip postgres: PARLEY_TEST_POSTGRES_DSN unset"; continue; }
		name="parley_mambench_$$"
		psql "$PARLEY_TEST_POSTGRES_DSN" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
		dsn="${PARLEY_TEST_POSTGRES_DSN%/*}/$name?sslmode=disable"
	fi
	for mam in false true; do
		config "$driver" "$mam" "$dsn"
		[[ $driver == postgres ]] && psql "$dsn" -qc "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null
		"$W/parley" bench register --via store --config "$W/parley.toml" -n $((2 * PAIRS)) --no-progress >/dev/null
		if (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then echo "port $PORT is in use: set PORT"; exit 1; fi
		taskset -c 0 "$W/parley" serve --config "$W/parley.toml" >"$W/serve.log" 2>&1 &
		pid=$!
		for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
		echo "== $driver, mam.enabled = $mam"
		taskset -c 1 "$W/parley" bench chat --addr 127.0.0.1:$PORT --server-pid $pid --pairs "$PAIRS" \
			--rate 0 --duration "$DURATION" --mech SCRAM-SHA-256 --label "$driver mam=$mam" --no-progress ||
			echo "run failed"; true
		kill $pid
		wait $pid || true
	done
done
if [[ -n ${name:-} ]]; then psql "$PARLEY_TEST_POSTGRES_DSN" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null; fi
echo "work directory: $W"
