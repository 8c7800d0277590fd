#!/usr/bin/env bash
# demo.sh: the whole system on one machine. PostgreSQL and Mosquitto (mTLS on 8883)
# come from dev-services.sh (make demo runs it first), then: the cloud, three branch
# agents, and the simulator driving realistic days (VAL-001 loses its WAN for a
# while through the simulator's proxy). Ctrl-C stops everything; data lives in
# .dev/demo (make demo-clean removes it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DEV=${TICKETERO_DEV_DIR:-$ROOT/.dev}
DEMO=$DEV/demo
PKI=$DEV/pki
BIN=$ROOT/bin
MQTT=mqtts://127.0.0.1:${TICKETERO_DEV_MQTT_PORT:-8883}
DB=${TICKETERO_DEMO_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ticketero?sslmode=disable}
CLOUD_HTTP=127.0.0.1:${TICKETERO_DEMO_CLOUD_PORT:-8090}
SPEED=${TICKETERO_DEMO_SPEED:-30}
BRANCHES=(SCL-001 VAL-001 CON-001)
NAMES=("Santiago Centro" "Valparaíso" "Concepción")
PORTS=(8081 8082 8083)
PROXY_PORT=18883 # VAL-001 reaches the broker through the simulator's WAN proxy
# A new demo starts from an empty cloud database: its agents start their event
# seq at 1, and the cloud must not hold another run's events for those seqs.
DB_NAME=$(basename "${DB%%\?*}")
if [ ! -d "$DEMO" ] && [ -z "${TICKETERO_DEMO_DATABASE_URL:-}" ]; then
	psql -h 127.0.0.1 -U postgres -qtAX -v ON_ERROR_STOP=1 -d postgres \
		-c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" >/dev/null
fi
mkdir -p "$DEMO"

pids=()
cleanup() {
	trap - INT TERM EXIT
	echo
	echo "Stopping the demo..."
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	echo "Stopped. Data kept in $DEMO (make demo-clean removes it)."
}
trap cleanup INT TERM EXIT

wait_http() { # url
	for _ in $(seq 1 100); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	echo "demo: $1 did not come up; see the logs in $DEMO" >&2
	return 1
}

# --- cloud -------------------------------------------------------------------
# The key of RUT hashes, shared with the branches through the published config.
[ -f "$DEMO/rut.key" ] || (umask 077 && head -c 32 /dev/urandom | base64 >"$DEMO/rut.key")
export TICKETERO_RUT_KEY_FILE=$DEMO/rut.key
ADMIN_FILE=$DEMO/admin.txt
"$BIN/ticketero-cloud" serve --db "$DB" --mqtt "$MQTT" --cert "$PKI/cloud.pem" --key "$PKI/cloud-key.pem" \
	--ca "$PKI/ca.pem" --http "$CLOUD_HTTP" >"$DEMO/cloud.log" 2>&1 &
pids+=($!)
wait_http "http://$CLOUD_HTTP/healthz"
if [ ! -f "$ADMIN_FILE" ]; then
	pass=$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | head -c 14)
	if "$BIN/ticketero-cloud" user create --db "$DB" --email admin@demo.cl --role admin --password "$pass" >/dev/null 2>&1; then
		printf 'admin@demo.cl %s\n' "$pass" >"$ADMIN_FILE"
	fi
fi

# --- agents ----------------------------------------------------------------
for i in "${!BRANCHES[@]}"; do
	b=${BRANCHES[$i]} port=${PORTS[$i]} data=$DEMO/$b
	mkdir -p "$data"
	if [ ! -f "$data/.executives" ]; then
		"$BIN/ticketero-agent" executive add --data "$data" --id E01 --name "Ana Pérez" --pin 1111 --services C,P >/dev/null
		"$BIN/ticketero-agent" executive add --data "$data" --id E02 --name "Bruno Soto" --pin 2222 --services C,E >/dev/null
		"$BIN/ticketero-agent" executive add --data "$data" --id E03 --name "Carla Muñoz" --pin 3333 --services P,E,G >/dev/null
		touch "$data/.executives"
	fi
	broker=$MQTT
	[ "$b" = VAL-001 ] && broker=mqtts://127.0.0.1:$PROXY_PORT
	"$BIN/ticketero-agent" serve --branch "$b" --data "$data" --http "127.0.0.1:$port" \
		--mqtt "$broker" --cert "$PKI/$b.pem" --key "$PKI/$b-key.pem" --ca "$PKI/ca.pem" >"$DEMO/agent-$b.log" 2>&1 &
	pids+=($!)
done
for port in "${PORTS[@]}"; do wait_http "http://127.0.0.1:$port/healthz"; done

# --- simulator ----------------------------------------------------------------
sim_args=(--speed "$SPEED" --loop --executives E01:1111,E02:2222,E03:3333
	--proxy "VAL-001=127.0.0.1:$PROXY_PORT>127.0.0.1:${TICKETERO_DEV_MQTT_PORT:-8883}" --wan-outage "VAL-001@1h+10m")
for i in "${!BRANCHES[@]}"; do sim_args+=(--agent "${BRANCHES[$i]}=http://127.0.0.1:${PORTS[$i]}"); done
"$BIN/ticketero-sim" "${sim_args[@]}" >"$DEMO/sim.log" 2>&1 &
pids+=($!)

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

  Executives at every branch: E01 PIN 1111, E02 PIN 2222, E03 PIN 3333 (the simulator signs them in at
  counters 1-3; sign in yourself at counter 4 or higher with another executive you add).
  Logs: $DEMO/*.log     Stop: Ctrl-C     Remove the data: make demo-clean

INFO
wait -n "${pids[@]}" || true
echo "demo: a process exited; see the logs in $DEMO" >&2
