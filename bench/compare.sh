#!/usr/bin/env bash
# bench/compare.sh — run every `parley bench` scenario against Parley,
# Prosody and ejabberd, configured equivalently on loopback, and write the
# results into docs/benchmarks.md (the section between the compare.sh
# markers is replaced; everything else in the file is kept).
#
# Usage: bench/compare.sh            full run (10,000 and 19,000 idle and
#                                    unauthenticated connections; about
#                                    two hours on 2 cores)
#        QUICK=1 bench/compare.sh    small smoke run (a few minutes)
#
# Knobs (environment): SERVERS ("parley prosody ejabberd"), TRANSPORTS
# ("plain starttls"), SCENARIOS ("register login chat idle unauth muc
# presence": the measured scenarios to run; accounts are created and the
# key cache warmed whatever it says), CHAT_TO ("bare full": chat addresses
# messages to the peer's bare JID, as clients mostly do, and to its full
# JID; each is a table of its own), PARLEY_SERVER (a parley binary to
# measure instead of the one built from this tree, e.g. an older revision;
# the load tool is always this tree's; set PARLEY_REV to name it),
# PARLEY_MAM (false: Parley runs without its message archive, which is on in
# a default configuration, because the peers' configurations load none;
# true archives every chat message, XEP-0313), OUT (docs/benchmarks.md; "-" prints
# the section only), KEEP=1 keeps the work directory, RESULTS (a JSON-lines
# file to append to and report from, so that servers or scenarios can be
# run one at a time: the report shows, per server and scenario variant,
# the last result in the file; the failures of the runs go to
# RESULTS.failures, where a re-run replaces the lines of the servers and
# scenarios it ran), and the sizes below.
#
# A partial re-run that updates the published tables:
#   RESULTS=~/bench/results.jsonl SCENARIOS="unauth muc" bench/compare.sh
# (the same RESULTS file as the full run; try it with OUT=/tmp/x.md first).
#
# Prosody and ejabberd are installed from Debian (apt-get install -y
# prosody ejabberd) and run as the current user from configuration files
# this script writes to a temporary directory; nothing of theirs is kept.
# Each server is pinned to CPU 0 (taskset -c 0) and the load tool to CPU 1.
# Only 127.0.0.0/8 addresses are used.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/docs/benchmarks.md}
SERVERS=${SERVERS:-"parley prosody ejabberd"}
TRANSPORTS=${TRANSPORTS:-"plain starttls"}
ALL_SCENARIOS="register login chat idle unauth muc presence"
SCENARIOS=${SCENARIOS:-$ALL_SCENARIOS}
for sc in $SCENARIOS; do
	[[ " $ALL_SCENARIOS " == *" $sc "* ]] || { echo "SCENARIOS: unknown scenario $sc (known: $ALL_SCENARIOS)" >&2; exit 2; }
done
want() { [[ " $SCENARIOS " == *" $1 "* ]]; }
# Every server closes connections that have not authenticated after a
# pre-auth timeout (Parley limits.preauth_timeout, default 60 s; Prosody
# c2s_timeout, 300 s; ejabberd negotiation_timeout, 30 s). All three get
# the same one, longer than the unauth scenario's setup plus hold.
PREAUTH_TIMEOUT=${PREAUTH_TIMEOUT:-300}
CHAT_TO=${CHAT_TO:-"bare full"}
MECH=SCRAM-SHA-256
ITERATIONS=4096
if [[ ${QUICK:-0} == 1 ]]; then
	N_LOGIN=${N_LOGIN:-300} IDLE_NS=${IDLE_NS:-"300"} IDLE_HOLD=${IDLE_HOLD:-2s}
	PAIRS=${PAIRS:-20} RATES=${RATES:-"2000"} DURATION=${DURATION:-2s}
	MUC_ROOMS=${MUC_ROOMS:-"3x5"} MUC_RATE=${MUC_RATE:-200}
	PRES_N=${PRES_N:-44} CONTACTS=${CONTACTS:-10}
	UNAUTH_NS=${UNAUTH_NS:-"300"} UNAUTH_HOLD=${UNAUTH_HOLD:-2s} UNAUTH_MODES=${UNAUTH_MODES:-"tcp header tls tls-header"}
else
	N_LOGIN=${N_LOGIN:-2000} IDLE_NS=${IDLE_NS:-"10000 19000"} IDLE_HOLD=${IDLE_HOLD:-30s}
	PAIRS=${PAIRS:-100} RATES=${RATES:-"1000 5000 10000 50000"} DURATION=${DURATION:-10s}
	MUC_ROOMS=${MUC_ROOMS:-"20x10 20x50"} MUC_RATE=${MUC_RATE:-1000}
	PRES_N=${PRES_N:-1100} CONTACTS=${CONTACTS:-10}
	UNAUTH_NS=${UNAUTH_NS:-"10000 19000"} UNAUTH_HOLD=${UNAUTH_HOLD:-30s} UNAUTH_MODES=${UNAUTH_MODES:-"tcp header tls tls-header"}
fi
# MUC_ROOMS lists room layouts as ROOMSxOCCUPANTS; each runs at MUC_RATE
# messages/s in total and flat out.
N_ACCOUNTS=$N_LOGIN
for n in $IDLE_NS $((2 * PAIRS)) $PRES_N; do
	((n > N_ACCOUNTS)) && N_ACCOUNTS=$n
done
for l in $MUC_ROOMS; do
	((${l%x*} * ${l#*x} > N_ACCOUNTS)) && N_ACCOUNTS=$((${l%x*} * ${l#*x}))
done
declare -A PORT=([parley]=${PARLEY_PORT:-47222} [prosody]=${PROSODY_PORT:-47322} [ejabberd]=${EJABBERD_PORT:-47422})

W=$(mktemp -d /tmp/parley-compare.XXXXXX)
# RESULTS may name a file kept across runs (SERVERS or SCENARIOS run
# separately share it); FAILURES keeps, next to it, one line per failed or
# skipped run: server, scenario, then the text shown in the section.
RESULTS=${RESULTS:-$W/results.jsonl}
FAILURES=$RESULTS.failures
SERVER_PID=
log() { printf '\n== %s\n' "$*" >&2; }

stop_server() {
	[[ -n $SERVER_PID ]] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}
cleanup() {
	stop_server
	if [[ ${KEEP:-0} == 1 ]]; then echo "work directory kept: $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT

install_peers() {
	if command -v prosody >/dev/null && [[ -x /usr/bin/erl ]] && dpkg -s ejabberd >/dev/null 2>&1; then
		return
	fi
	log "installing prosody and ejabberd from Debian"
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q prosody ejabberd openssl
}

port_busy() { ss -ltn "sport = :$1" | grep -q LISTEN; }

wait_port() { # port pid: the server (not someone else) listens on port
	for _ in $(seq 150); do
		if ss -ltnp "sport = :$1" | grep -q "pid=$2,"; then return 0; fi
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

write_parley_config() {
	cat >"$W/parley.toml" <<EOF
# Parley for bench/compare.sh
domains = ["localhost"]
data_dir = "$W/parley-data"
allow_registration = true
[log]
level = "warn"
[c2s]
addr = "127.0.0.1:${PORT[parley]}"
tls_addr = ""
require_tls = false
insecure_plaintext = true   # SCRAM without TLS in the plaintext runs
[tls]
cert_file = "$W/cert.pem"
key_file = "$W/key.pem"
[limits]
bytes_per_second = 0        # no per-connection byte-rate limiter (loopback load)
preauth_timeout = "${PREAUTH_TIMEOUT}s"
[admin]
addr = ""
[s2s]                       # no federation or HTTP listeners: the scenarios need none, and
addr = ""                   # on a shared machine another process may hold their default ports
tls_addr = ""
[http]
addr = ""
tls_addr = ""
[auth]
scram_iterations = $ITERATIONS
scram_hashes = ["SHA-256"]  # keys for one hash, like the peers (password_hash, auth_scram_hash)
[muc]                       # Parley's MUC service (internal/features/muc)
enabled = true              # conference.localhost, like the peers
history_size = 0            # no history, like the peers
max_occupants = 1000        # ejabberd's max_users below
[mam]                       # no message archive: the peers' configs load none
enabled = ${PARLEY_MAM:-false}  # (PARLEY_MAM=true: Parley archives every chat message)
EOF
}

write_prosody_config() {
	mkdir -p "$W/prosody-data"
	cat >"$W/prosody.cfg.lua" <<EOF
-- Prosody for bench/compare.sh
run_as_root = true -- the script runs as the current user, which may be root
daemonize = false
pidfile = "$W/prosody.pid"
data_path = "$W/prosody-data"
network_backend = "epoll"
network_settings = { tcp_backlog = 1024 }
log = { warn = "$W/prosody.log" }
c2s_ports = { ${PORT[prosody]} }
c2s_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = {}
s2s_ports = {}
component_ports = {}
http_ports = {}
https_ports = {}
admin_socket = "$W/prosody.sock"
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "register", "posix" }
modules_disabled = { "s2s", "offline", "limits", "c2s_limits" }
allow_registration = true
authentication = "internal_hashed"
password_hash = "SHA-256"
default_iteration_count = $ITERATIONS
c2s_require_encryption = false
c2s_timeout = $PREAUTH_TIMEOUT
allow_unencrypted_plain_auth = true
ssl = { certificate = "$W/cert.pem", key = "$W/key.pem" }
VirtualHost "localhost"
Component "conference.localhost" "muc"
	muc_room_default_history_length = 0
EOF
}

write_ejabberd_config() {
	mkdir -p "$W/ejabberd/db" "$W/ejabberd/log"
	cat "$W/key.pem" "$W/cert.pem" >"$W/ejabberd/ejabberd.pem"
	cat >"$W/ejabberd/ejabberd.yml" <<EOF
# ejabberd for bench/compare.sh
hosts:
  - localhost
loglevel: warning
log_rotate_count: 0
certfiles:
  - "$W/ejabberd/ejabberd.pem"
listen:
  -
    port: ${PORT[ejabberd]}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    backlog: 1024
    max_stanza_size: 262144
    shaper: none
    access: c2s
    starttls: true
    starttls_required: false
auth_method: internal
auth_password_format: scram
auth_scram_hash: sha256
registration_timeout: infinity
negotiation_timeout: $PREAUTH_TIMEOUT
shaper: {}
shaper_rules: {}
acl:
  local:
    user_regexp: ""
access_rules:
  c2s:
    allow: all
  register:
    allow: all
  muc_create:
    allow: all
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
  mod_register:
    access: register
    ip_access: all
    password_strength: 0
  mod_muc:
    host: "conference.localhost"
    access_create: muc_create
    history_size: 0
    max_users: 1000
    max_user_conferences: 1000
EOF
}

start_parley() {
	taskset -c 0 "${PARLEY_SERVER:-$W/parley}" serve --config "$W/parley.toml" >"$W/parley.log" 2>&1 &
	SERVER_PID=$!
}

start_prosody() {
	taskset -c 0 prosody --config "$W/prosody.cfg.lua" -F >"$W/prosody.out" 2>&1 &
	SERVER_PID=$!
}

start_ejabberd() {
	# erl directly, as the current user, without Erlang distribution.
	(cd "$W/ejabberd" && exec env ERL_LIBS=/usr/lib/x86_64-linux-gnu \
		EJABBERD_CONFIG_PATH="$W/ejabberd/ejabberd.yml" \
		EJABBERD_LOG_PATH="$W/ejabberd/log/ejabberd.log" \
		ERL_CRASH_DUMP="$W/ejabberd/log/erl_crash.dump" ERL_MAX_PORTS=32000 \
		taskset -c 0 /usr/bin/erl -noinput -noshell +K true +P 250000 \
		-mnesia dir "\"$W/ejabberd/db\"" -s ejabberd >"$W/ejabberd.out" 2>&1) &
	SERVER_PID=$!
}

# bench SERVER ARGS...: one measured run, pinned to CPU 1; a failed run is
# recorded and the script goes on.
bench() {
	local s=$1
	shift
	taskset -c 1 "$W/parley" bench --addr "127.0.0.1:${PORT[$s]}" --server-pid "$SERVER_PID" \
		--label "$s" --mech "$MECH" --ca-file "$W/cert.pem" --key-cache "$W/keys-$s" \
		--concurrency 50 "$@" | tee -a "$W/tables-$s.txt" ||
		failed "$s" "$1" "- $s: \`parley bench $*\` did not finish cleanly; its table shows what was measured"
}

# failed SERVER SCENARIO TEXT: record a failed or skipped run.
failed() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$FAILURES"; }

# forget_failures: drop the recorded failures of the servers and scenarios
# this run is about to measure again.
forget_failures() {
	[[ -f $FAILURES ]] || return 0
	local s sc keep=()
	while IFS=$'\t' read -r s sc text; do
		if [[ " $SERVERS " == *" $s "* && " $SCENARIOS server " == *" $sc "* ]]; then continue; fi
		keep+=("$s"$'\t'"$sc"$'\t'"$text")
	done <"$FAILURES"
	if ((${#keep[@]})); then printf '%s\n' "${keep[@]}" >"$FAILURES"; else : >"$FAILURES"; fi
}

# restart_server SERVER: stop it and start it again on the same data.
restart_server() {
	stop_server
	"start_$1"
	wait_port "${PORT[$1]}" "$SERVER_PID" && return 0
	failed "$1" server "- $1 did not restart"
	SERVER_PID=
	return 1
}

run_server() {
	local s=$1 tls
	log "$s: starting"
	if port_busy "${PORT[$s]}"; then
		failed "$s" server "- $s not run: port ${PORT[$s]} is taken by another process (set ${s^^}_PORT)"
		return
	fi
	"start_$s"
	wait_port "${PORT[$s]}" "$SERVER_PID" || { failed "$s" server "- $s did not start"; SERVER_PID=; return; }
	log "$s: creating $N_ACCOUNTS accounts"
	if want register; then
		bench "$s" register -n "$N_ACCOUNTS" --concurrency 20 --json "$RESULTS"
	else
		bench "$s" register -n "$N_ACCOUNTS" --concurrency 20 --no-progress >/dev/null
	fi
	log "$s: warming the SCRAM key cache (not measured)"
	bench "$s" login -n "$N_ACCOUNTS" --concurrency 100 --no-progress >/dev/null
	# Every measured run starts on a freshly restarted server (same data):
	# what an earlier run left behind (garbage, caches, backlogs) must not
	# be charged to the next one.
	for t in $TRANSPORTS; do
		tls=()
		[[ $t == starttls ]] && tls=(--starttls)
		log "$s ($t): $SCENARIOS"
		if want login; then
			restart_server "$s" || continue
			bench "$s" login -n "$N_LOGIN" "${tls[@]}" --json "$RESULTS"
		fi
		for to in $CHAT_TO; do
			for r in $RATES 0; do
				want chat || break 2
				restart_server "$s" || continue
				bench "$s" chat --pairs "$PAIRS" --to "$to" --rate "$r" --duration "$DURATION" "${tls[@]}" --json "$RESULTS"
			done
		done
		for n in $IDLE_NS; do
			want idle || break
			# A fresh server for each memory measurement: Go and BEAM keep
			# the memory earlier runs used, which would hide the cost.
			restart_server "$s" || continue
			bench "$s" idle -n "$n" --duration "$IDLE_HOLD" --concurrency 100 "${tls[@]}" --json "$RESULTS"
		done
		want muc && run_muc "$s" "$t" "${tls[@]}"
		if want presence; then
			restart_server "$s" || continue
			bench "$s" presence -n "$PRES_N" --contacts "$CONTACTS" "${tls[@]}" --json "$RESULTS"
		fi
	done
	# Connections that never authenticate: the mode says how far each one
	# gets (TCP only, stream header, TLS, TLS and header), so this runs
	# once per server, outside the transports.
	for n in $UNAUTH_NS; do
		want unauth || break
		for m in $UNAUTH_MODES; do
			restart_server "$s" || continue
			bench "$s" unauth -n "$n" --mode "$m" --duration "$UNAUTH_HOLD" --concurrency 100 --json "$RESULTS"
		done
	done
	log "$s: stopping"
	stop_server
}

# run_muc SERVER TRANSPORT [--starttls]: the muc layouts at MUC_RATE and
# flat out, if the server has a MUC service on conference.localhost (a
# one-room probe first).
run_muc() {
	local s=$1 t=$2 l r
	shift 2
	if ! restart_server "$s"; then return; fi
	if ! taskset -c 1 "$W/parley" bench muc --addr "127.0.0.1:${PORT[$s]}" --mech "$MECH" --key-cache "$W/keys-$s" \
		--rooms 1 --room-size 1 --rate 5 --duration 1s --timeout 5s --prefix bench --no-progress >/dev/null 2>&1; then
		failed "$s" muc "- $s ($t): muc skipped: joining a room on conference.localhost failed (no MUC service)"
		return
	fi
	for l in $MUC_ROOMS; do
		for r in $MUC_RATE 0; do
			restart_server "$s" || continue
			bench "$s" muc --rooms "${l%x*}" --room-size "${l#*x}" --rate "$r" --duration "$DURATION" "$@" --json "$RESULTS"
		done
	done
}

machine() {
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores (nproc); server on CPU 0, load tool on CPU 1"
	echo "- memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); open files limit $(ulimit -n)"
	echo "- kernel: $(uname -r); load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- Parley ${PARLEY_REV:-$(cd "$ROOT" && git rev-parse --short HEAD)} ($(go version | cut -d' ' -f3)), Prosody $(dpkg-query -W -f '${Version}' prosody) (Lua $(dpkg-query -W -f '${Version}' lua5.4 2>/dev/null || echo '?')), ejabberd $(dpkg-query -W -f '${Version}' ejabberd) (Erlang/OTP $(dpkg-query -W -f '${Version}' erlang-base 2>/dev/null || echo '?'))"
}

section() {
	echo "<!-- BEGIN compare.sh: generated by bench/compare.sh; edit the script, not this section -->"
	echo "## Parley, Prosody and ejabberd compared (bench/compare.sh)"
	echo
	machine
	echo
	echo "Command: \`$( [[ ${QUICK:-0} == 1 ]] && echo 'QUICK=1 ')$( [[ $SCENARIOS != "$ALL_SCENARIOS" ]] && echo "SCENARIOS=\"$SCENARIOS\" ")bench/compare.sh\` — $N_ACCOUNTS accounts per server, $MECH with $ITERATIONS iterations everywhere; login -n $N_LOGIN at concurrency 50; chat with $PAIRS pairs to ${CHAT_TO// / and } JIDs at ${RATES// //s, }/s and flat out (32 in flight per sender) for $DURATION; idle ${IDLE_NS// /, } sessions held $IDLE_HOLD; unauthenticated connections ${UNAUTH_NS// /, } held $UNAUTH_HOLD in modes ${UNAUTH_MODES// /, } (pre-auth timeout ${PREAUTH_TIMEOUT} s on all three servers); muc ${MUC_ROOMS//x/ rooms × } occupants at $MUC_RATE msg/s and flat out for $DURATION; presence $PRES_N users × $CONTACTS contacts."
	echo
	if [[ $SCENARIOS != "$ALL_SCENARIOS" ]]; then
		echo "This run measured only $SCENARIOS on $SERVERS; the other tables are earlier runs' results kept in the same results file (each JSON line carries its own time)."
		echo
	fi
	echo "Each table: absolute figures per server, then Parley's ratio to each peer (Parley ÷ peer; \"better\" means better for Parley whichever way the metric goes)."
	echo
	if [[ -s $FAILURES ]]; then
		echo "Runs that failed or were skipped:"
		echo
		cut -f3- "$FAILURES" | sed 's# --json [^ `]*##'
		echo
	fi
	"$W/parley" bench report --baseline parley "$RESULTS"
	echo "### Configurations"
	echo
	for f in parley.toml prosody.cfg.lua ejabberd/ejabberd.yml; do
		echo "\`$(basename "$f")\` (paths are the run's temporary directory):"
		echo
		echo '```'
		sed "s#$W#\$W#g" "$W/$f"
		echo '```'
		echo
	done
	cat "$ROOT/bench/fairness.md"
	echo "<!-- END compare.sh -->"
}

write_out() {
	section >"$W/section.md"
	if [[ $OUT == - ]]; then cat "$W/section.md"; return; fi
	touch "$OUT"
	if grep -q '^<!-- BEGIN compare.sh' "$OUT"; then
		awk -v f="$W/section.md" '
			/^<!-- BEGIN compare.sh/ { while ((getline l < f) > 0) print l; skip = 1; next }
			/^<!-- END compare.sh -->/ { skip = 0; next }
			!skip' "$OUT" >"$W/out.md"
		cat "$W/out.md" >"$OUT"
	else
		{ echo; cat "$W/section.md"; } >>"$OUT"
	fi
	echo "wrote $OUT" >&2
}

main() {
	install_peers
	ulimit -n "$(ulimit -Hn)"
	log "building parley"
	(cd "$ROOT" && go build -o "$W/parley" ./cmd/parley)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,DNS:conference.localhost" \
		-keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
	write_parley_config
	write_prosody_config
	write_ejabberd_config
	forget_failures
	for s in $SERVERS; do run_server "$s"; done
	write_out
}

main "$@"
