#!/usr/bin/env bash
# Throwaway PostgreSQL and MariaDB servers on loopback for the storage
# tests. Nothing here touches a system-wide database: each server lives in
# a directory of its own, listens on 127.0.0.1 on a free port, trusts
# local connections, and is thrown away by "stop".
#
#   scripts/test-databases.sh start      start both (idempotent), print exports
#   scripts/test-databases.sh stop       stop both and remove the directory
#   scripts/test-databases.sh env        print the exports of running servers
#   scripts/test-databases.sh pg-start DIR    one more PostgreSQL cluster in DIR
#   scripts/test-databases.sh pg-stop DIR     (used by the restart test; pg-start
#                                             on an existing DIR starts it again)
#   scripts/test-databases.sh my-start DIR    the same for MariaDB (database
#   scripts/test-databases.sh my-stop DIR     "parley" created)
#
# Use it as:  eval "$(scripts/test-databases.sh start)"; go test ./...
# The exports are PARLEY_TEST_POSTGRES_DSN and PARLEY_TEST_MYSQL_DSN (admin
# connections: each test creates and drops its own database) and
# PARLEY_TEST_DB_SCRIPT (this script, for tests that run their own cluster).
#
# State goes to $PARLEY_TEST_DB_DIR (default /tmp/parley-test-db-$USER).
# Run as root (as CI does), the servers run as the postgres and mysql
# users that the Debian packages create; otherwise as the calling user.
# Needs the Debian packages postgresql and mariadb-server.
set -euo pipefail

script=$(readlink -f "$0")
base=${PARLEY_TEST_DB_DIR:-/tmp/parley-test-db-$(id -un)}

log() { echo "test-databases: $*" >&2; }

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] && [ -x "$d/initdb" ] || { log "PostgreSQL not installed (apt-get install postgresql)"; exit 1; }
  echo "$d"
}

# as USER CMD...: run CMD as USER when we are root, as ourselves otherwise.
as() {
  local user=$1; shift
  if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# owned DIR USER: create DIR for a server that runs as USER.
owned() {
  mkdir -p "$1"
  if [ "$(id -u)" = 0 ]; then chown "$2" "$1"; chmod 700 "$1"; fi
}

pg_start() { # DIR
  local dir=$1 bin port
  bin=$(pg_bin)
  mkdir -p "$dir"; chmod 755 "$dir"
  if [ ! -f "$dir/port" ]; then
    owned "$dir/data" postgres
    as postgres "$bin/initdb" -D "$dir/data" -U parley --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    free_port >"$dir/port"
  fi
  port=$(cat "$dir/port")
  if as postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then return; fi
  # No durability is needed for tests: fsync off keeps them fast.
  as postgres "$bin/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/data/server.log" start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k '' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null ||
    { cat "$dir/data/server.log" >&2; exit 1; }
}

pg_stop() { # DIR
  local dir=$1
  [ -d "$dir/data" ] || return 0
  as postgres "$(pg_bin)/pg_ctl" -D "$dir/data" -w -t 60 -m fast stop >/dev/null 2>&1 || true
}

my_start() { # DIR
  local dir=$1 user port
  user=$(id -un); [ "$(id -u)" = 0 ] && user=mysql
  local mariadbd=/usr/sbin/mariadbd
  [ -x "$mariadbd" ] || { log "MariaDB not installed (apt-get install mariadb-server)"; exit 1; }
  mkdir -p "$dir"; chmod 755 "$dir"
  if [ ! -f "$dir/port" ]; then
    owned "$dir/data" "$user"
    mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" --skip-test-db \
      --auth-root-authentication-method=normal >"$dir/install.log" 2>&1 ||
      { cat "$dir/install.log" >&2; exit 1; }
    free_port >"$dir/port"
  fi
  port=$(cat "$dir/port")
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then return; fi
  # Grant tables are skipped: anyone on loopback is root. Tests only.
  "$mariadbd" --no-defaults --user="$user" --datadir="$dir/data" --socket="$dir/data/mysqld.sock" \
    --pid-file="$dir/data/mysqld.pid" --port="$port" --bind-address=127.0.0.1 --skip-grant-tables \
    --skip-name-resolve --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=64M \
    --innodb-doublewrite=0 --max-connections=300 --log-error="$dir/data/error.log" >/dev/null 2>&1 &
  echo $! >"$dir/pid"
  for _ in $(seq 1 300); do
    if mariadb --no-defaults -h 127.0.0.1 -P "$port" -u root -e 'SELECT 1' >/dev/null 2>&1; then return; fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
    sleep 0.2
  done
  log "MariaDB did not start"; cat "$dir/data/error.log" >&2 || true; exit 1
}

my_stop() { # DIR
  local dir=$1 pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

print_env() {
  [ -f "$base/pg/port" ] && echo "export PARLEY_TEST_POSTGRES_DSN='postgres://parley@127.0.0.1:$(cat "$base/pg/port")/postgres?sslmode=disable'"
  [ -f "$base/my/port" ] && echo "export PARLEY_TEST_MYSQL_DSN='root@tcp(127.0.0.1:$(cat "$base/my/port"))/'"
  echo "export PARLEY_TEST_DB_SCRIPT='$script'"
}

case "${1:-}" in
start)
  mkdir -p "$base"; chmod 755 "$base"
  pg_start "$base/pg"
  my_start "$base/my"
  print_env
  ;;
stop)
  pg_stop "$base/pg"
  my_stop "$base/my"
  rm -rf "$base"
  ;;
env) print_env ;;
pg-start) pg_start "${2:?pg-start DIR}"; echo "postgres://parley@127.0.0.1:$(cat "$2/port")/postgres?sslmode=disable" ;;
pg-stop) pg_stop "${2:?pg-stop DIR}" ;;
my-start)
  my_start "${2:?my-start DIR}" >&2
  mariadb --no-defaults -h 127.0.0.1 -P "$(cat "$2/port")" -u root -e 'CREATE DATABASE IF NOT EXISTS parley CHARACTER SET utf8mb4 COLLATE utf8mb4_bin'
  echo "root@tcp(127.0.0.1:$(cat "$2/port"))/parley"
  ;;
my-stop) my_stop "${2:?my-stop DIR}" ;;
*) echo "usage: $0 start|stop|env|pg-start DIR|pg-stop DIR|my-start DIR|my-stop DIR" >&2; exit 2 ;;
esac
