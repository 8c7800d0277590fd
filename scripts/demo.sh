#!/usr/bin/env bash
# demo.sh: the whole system on one machine. PostgreSQL and Mosquitto (mTLS on 8883)
# come from dev-services.sh (make demo runs it first), then: the cloud, three branch
# agents, and the simulator driving realistic days (VAL-001 loses its WAN for a
# while through the simulator's proxy) and booking appointments on the cloud's
# public page for the kiosks' "Tengo hora agendada" (docs/appointments.md). The demo has its own database
# (ticketero_demo) and its own Mosquitto (same mTLS config and ACL as the dev
# broker, on 127.0.0.1:18884), both its alone: Ctrl-C stops everything it started;
# data lives in .dev/demo (make demo-clean removes it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DEV=${TICKETERO_DEV_DIR:-$ROOT/.dev}
DEMO=$DEV/demo
PKI=$DEV/pki
BIN=$ROOT/bin
MQTT_PORT=${TICKETERO_DEMO_MQTT_PORT:-18884}
MQTT=mqtts://127.0.0.1:$MQTT_PORT
DB=${TICKETERO_DEMO_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ticketero_demo?sslmode=disable}
CLOUD_HTTP=127.0.0.1:${TICKETERO_DEMO_CLOUD_PORT:-8090}
SPEED=${TICKETERO_DEMO_SPEED:-30}
BRANCHES=(SCL-001 VAL-001 CON-001)
NAMES=("Santiago Centro" "Valparaíso" "Concepción")
REGIONS=("RM" "Valparaíso" "Biobío")
PORTS=(8081 8082 8083)
PROXY_PORT=18883 # VAL-001 reaches the broker through the simulator's WAN proxy
# Every port the demo listens on must be free: never talk to somebody else's
# broker or server by accident.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$MQTT_PORT" "${CLOUD_HTTP##*:}" "${PORTS[@]}" "$PROXY_PORT"; do
	if port_open "$port"; then
		echo "demo: 127.0.0.1:$port is already in use (another demo, or another program)." >&2
		echo "      Stop it (make demo-clean stops an old demo) or choose other ports with" >&2
		echo "      TICKETERO_DEMO_MQTT_PORT / TICKETERO_DEMO_CLOUD_PORT." >&2
		exit 1
	fi
done
# A new demo starts from an empty cloud database: its agents start their event
# seq at 1, and the cloud must not hold another run's events for those seqs.
DB_NAME=$(basename "${DB%%\?*}")
if [ ! -d "$DEMO" ] && [ -z "${TICKETERO_DEMO_DATABASE_URL:-}" ]; then
	psql -h 127.0.0.1 -U postgres -qtAX -v ON_ERROR_STOP=1 -d postgres \
		-c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" >/dev/null
fi
mkdir -p "$DEMO"

pids=()
stopping=""
cleanup() { # exit code
	local rc=$1
	trap - INT TERM EXIT
	stopping=1
	echo
	echo "Stopping the demo..."
	# The programs run in sessions of their own (setsid), so Ctrl-C reaches only
	# this script, which stops them in order. Newest first: the simulator signs its executives out while the agents run,
	# the agents send what they hold while the broker and the cloud run.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[$i]}" 2>/dev/null || true
		wait "${pids[$i]}" 2>/dev/null || true
	done
	echo "Stopped. Data kept in $DEMO (make demo-clean removes it)."
	exit "$rc"
}
trap 'cleanup 0' INT TERM # Ctrl-C is how the demo is meant to end
trap 'cleanup $?' EXIT

wait_http() { # url
	for _ in $(seq 1 100); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	echo "demo: $1 did not come up; see the logs in $DEMO" >&2
	return 1
}

# --- the demo's own broker ---------------------------------------------------
# The dev broker's config (dev-services.sh), on the demo's port, with its own
# pid, persistence and log, run in the foreground so Ctrl-C stops it.
mkdir -p "$DEMO/mosquitto"
sed -e "s#^listener .*#listener $MQTT_PORT 127.0.0.1#" \
	-e "s#^pid_file .*#pid_file $DEMO/mosquitto/mosquitto.pid#" \
	-e "s#^persistence_location .*#persistence_location $DEMO/mosquitto/#" \
	-e "s#^log_dest .*#log_dest file $DEMO/mosquitto/mosquitto.log#" \
	-e "s#^acl_file .*#acl_file $DEV/mosquitto/acl#" \
	"$DEV/mosquitto/mosquitto.conf" >"$DEMO/mosquitto/mosquitto.conf"
setsid mosquitto -c "$DEMO/mosquitto/mosquitto.conf" >"$DEMO/mosquitto/stdout.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do port_open "$MQTT_PORT" && break; sleep 0.1; done
port_open "$MQTT_PORT" || { echo "demo: Mosquitto did not start; see $DEMO/mosquitto" >&2; exit 1; }

# --- cloud -------------------------------------------------------------------
# The key of RUT hashes, shared with the branches through the published config.
[ -f "$DEMO/rut.key" ] || (umask 077 && head -c 32 /dev/urandom | base64 >"$DEMO/rut.key")
export TICKETERO_RUT_KEY_FILE=$DEMO/rut.key
ADMIN_FILE=$DEMO/admin.txt
# The demo's admin is made before the cloud starts (the command migrates the
# database), so the cloud never makes a first admin of its own.
if [ ! -f "$ADMIN_FILE" ]; then
	pass=$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | head -c 14)
	"$BIN/ticketero-cloud" user create --db "$DB" --email admin@demo.cl --role admin --password "$pass" >/dev/null
	(umask 077 && printf 'admin@demo.cl %s\n' "$pass" >"$ADMIN_FILE")
fi
setsid "$BIN/ticketero-cloud" serve --db "$DB" --mqtt "$MQTT" --cert "$PKI/cloud.pem" --key "$PKI/cloud-key.pem" \
	--ca "$PKI/ca.pem" --http "$CLOUD_HTTP" >"$DEMO/cloud.log" 2>&1 &
pids+=($!)
wait_http "http://$CLOUD_HTTP/healthz"

# --- agents ----------------------------------------------------------------
for i in "${!BRANCHES[@]}"; do
	b=${BRANCHES[$i]} port=${PORTS[$i]} data=$DEMO/$b
	mkdir -p "$data"
	if [ ! -f "$data/.executives" ]; then
		"$BIN/ticketero-agent" executive add --data "$data" --id E01 --name "Ana Pérez" --pin 135790 --services C,P >/dev/null
		"$BIN/ticketero-agent" executive add --data "$data" --id E02 --name "Bruno Soto" --pin 246801 --services C,E >/dev/null
		"$BIN/ticketero-agent" executive add --data "$data" --id E03 --name "Carla Muñoz" --pin 370415 --services P,E,G >/dev/null
		touch "$data/.executives"
	fi
	broker=$MQTT
	[ "$b" = VAL-001 ] && broker=mqtts://127.0.0.1:$PROXY_PORT
	setsid "$BIN/ticketero-agent" serve --branch "$b" --data "$data" --http "127.0.0.1:$port" \
		--name "${NAMES[$i]}" --region "${REGIONS[$i]}" --mqtt "$broker" --cert "$PKI/$b.pem" --key "$PKI/$b-key.pem" --ca "$PKI/ca.pem" >"$DEMO/agent-$b.log" 2>&1 &
	pids+=($!)
done
for port in "${PORTS[@]}"; do wait_http "http://127.0.0.1:$port/healthz"; done

# --- simulator ----------------------------------------------------------------
HQ=http://$CLOUD_HTTP
sim_args=(--speed "$SPEED" --loop --executives E01:135790,E02:246801,E03:370415 --cloud "$HQ"
	--proxy "VAL-001=127.0.0.1:$PROXY_PORT>127.0.0.1:$MQTT_PORT" --wan-outage "VAL-001@1h+10m")
for i in "${!BRANCHES[@]}"; do sim_args+=(--agent "${BRANCHES[$i]}=http://127.0.0.1:${PORTS[$i]}"); done
setsid "$BIN/ticketero-sim" "${sim_args[@]}" >"$DEMO/sim.log" 2>&1 &
pids+=($!)

# --- appointments (docs/appointments.md) ------------------------------------------
# After the simulator starts (VAL-001 reaches the broker through its proxy, and
# the simulator books once a branch has bookable services). In HQ's forms, as
# the demo's admin (curl with a session, as a browser would): once each branch's setup is imported from its agent, the branch opens all day
# (the demo runs at any hour), Caja (C) and Plataforma (P) take bookings every
# day in 5-minute slots with two executives, remote joining ("fila a
# distancia") opens for Caja, and the branch config is published with those
# rules. Done once per demo data directory.
JAR=$DEMO/hq.cookies
csrf_of() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1; }
hq_post() { # path name=value...: one HQ form, answered 303
	local path=$1 code
	shift
	local args=(--data-urlencode "csrf=$csrf")
	for kv in "$@"; do args+=(--data-urlencode "$kv"); done
	code=$(curl -sS -o "$DEMO/hq-last.html" -w '%{http_code}' -b "$JAR" -c "$JAR" "${args[@]}" "$HQ$path")
	[ "$code" = 303 ] || { echo "demo: HQ answered $code to $path; see $DEMO/hq-last.html" >&2; return 1; }
}
if [ ! -f "$DEMO/.appointments" ]; then
	read -r email pass <"$ADMIN_FILE"
	(umask 077 && : >"$JAR") # the admin's session, like admin.txt
	csrf=$(curl -sS -b "$JAR" -c "$JAR" "$HQ/login" | csrf_of)
	hq_post /login "email=$email" "password=$pass"
	csrf=$(curl -sS -b "$JAR" -c "$JAR" "$HQ/config" | csrf_of)
	for i in "${!BRANCHES[@]}"; do
		b=${BRANCHES[$i]}
		for n in $(seq 1 300); do # the agent's first report imports its setup
			[ "$(psql "$DB" -qtAX -c "SELECT count(*) > 0 FROM hq_services WHERE branch = '$b'")" = t ] && break
			[ "$n" = 300 ] && { echo "demo: HQ has not imported $b's setup; see $DEMO/agent-$b.log" >&2; exit 1; }
			sleep 0.2
		done
		hq_post /config/branches from=branch "id=$b" "name=${NAMES[$i]}" "region=${REGIONS[$i]}" \
			time_zone=America/Santiago opening_hours=00:00-23:59
		week=()
		for d in mon tue wed thu fri sat sun; do week+=("hours_$d=00:00-23:50" "executives_$d=2"); done
		for svc in C P; do
			hq_post "/config/branches/$b/appointments/$svc" slot_min=5 reserve_pct=0 horizon_days=14 "${week[@]}"
		done
		hq_post "/config/branches/$b/appointments/rules" remote_C=1 cap_C=5
		hq_post "/config/branches/$b/publish" confirm=1
	done
	touch "$DEMO/.appointments"
fi

cat <<INFO

Ticketero demo is running (simulated time x$SPEED; VAL-001 loses its WAN for 10 simulated minutes each day).

  HQ dashboard   http://$CLOUD_HTTP/        sign in: $(cat "$ADMIN_FILE" 2>/dev/null || echo "see $DEMO/cloud.log")
INFO
for i in "${!BRANCHES[@]}"; do
	p=${PORTS[$i]}
	printf '  %-8s %-16s kiosk http://127.0.0.1:%s/kiosk  terminal /terminal  display /display  branch /branch\n' \
		"${BRANCHES[$i]}" "${NAMES[$i]}" "$p"
done
cat <<INFO

  Appointments   booking page http://$CLOUD_HTTP/agenda (services C and P; "Tomar número ahora" for C, Caja)
                 HQ's book    http://$CLOUD_HTTP/branches/SCL-001/book  (schedules: /config/branches/SCL-001/appointments)
                 kiosk        "Tengo hora agendada" with the booking's code; the simulator books 4 a day per branch
                 and checks them in (one never comes, some late), and one remote number a day that checks in
                 by code: grep -E 'appointment|remote' $DEMO/sim.log

  Executives at every branch: E01 PIN 135790, E02 PIN 246801, E03 PIN 370415 (the simulator signs them in at
  counters 1-3; sign in yourself at counter 4 or higher with another executive you add).
  Logs: $DEMO/*.log     Stop: Ctrl-C     Remove the data: make demo-clean

INFO
wait -n "${pids[@]}" || true
if [ -z "$stopping" ]; then
	echo "demo: a program of the demo stopped on its own; see the logs in $DEMO" >&2
	exit 1
fi
