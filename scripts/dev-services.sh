#!/usr/bin/env bash
# dev-services.sh: make sure what Ticketero needs locally is installed and running,
# idempotently. Works where PostgreSQL (127.0.0.1:5432) and Mosquitto (1883) already
# run, and on a fresh Debian machine (installs with apt-get, through sudo when not
# root).
#
#  - PostgreSQL: installed, running, trust auth on 127.0.0.1 for user postgres,
#    databases "ticketero" (dev) and "ticketero_test" (tests).
#  - A dev PKI under $TICKETERO_DEV_DIR/pki (default .dev/pki): CA, broker, cloud,
#    and a client certificate per demo branch (CN = branch ID).
#  - A Mosquitto instance of our own listening with mTLS on 127.0.0.1:8883
#    (use_identity_as_username, per-branch ACL), beside the system one on 1883.
#  - Debian's chromium for the browser tests.
#  - Debian's arm64 cross compiler and qemu-user-static (the arm64 agent build).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEV_DIR=${TICKETERO_DEV_DIR:-$ROOT/.dev}
PKI=$DEV_DIR/pki
BROKER_DIR=$DEV_DIR/mosquitto
MQTT_PORT=${TICKETERO_DEV_MQTT_PORT:-8883}
BRANCHES=${TICKETERO_DEMO_BRANCHES:-"SCL-001 VAL-001 CON-001"}

log() { printf 'dev-services: %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

apt_install() {
	log "installing $*"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq || true
	$SUDO apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
	for _ in $(seq 1 50); do
		port_open "$1" && return 0
		sleep 0.2
	done
	log "port $1 did not open"
	return 1
}

# --- packages ---------------------------------------------------------------
need=()
command -v psql >/dev/null || need+=(postgresql postgresql-client)
command -v mosquitto >/dev/null || need+=(mosquitto)
command -v mosquitto_pub >/dev/null || need+=(mosquitto-clients)
command -v openssl >/dev/null || need+=(openssl)
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl)
command -v npm >/dev/null || need+=(nodejs npm)
if [ "${TICKETERO_SKIP_CHROMIUM:-}" = "" ] && ! command -v chromium >/dev/null; then need+=(chromium); fi
# The arm64 agent (cgo: SQLite) is cross-compiled, and its test runs it under qemu
# (scripts/release-agent.sh).
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v qemu-aarch64-static >/dev/null || command -v qemu-aarch64 >/dev/null || need+=(qemu-user-static)
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi

# --- PostgreSQL ---------------------------------------------------------------
PSQL=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qtAX)
if ! port_open 5432; then
	log "starting PostgreSQL"
	ver=$(ls /etc/postgresql | sort -n | tail -1)
	$SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start || $SUDO pg_ctlcluster "$ver" main start
	wait_port 5432
fi
if ! "${PSQL[@]}" -d postgres -c 'select 1' >/dev/null 2>&1; then
	# A fresh Debian cluster wants a password on TCP: trust loopback for this dev box.
	log "allowing trust auth on 127.0.0.1 for local development"
	ver=$(ls /etc/postgresql | sort -n | tail -1)
	hba=/etc/postgresql/$ver/main/pg_hba.conf
	$SUDO sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
	$SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main reload || $SUDO pg_ctlcluster "$ver" main reload
	sleep 1
fi
for db in ticketero ticketero_test; do
	if [ "$("${PSQL[@]}" -d postgres -c "select 1 from pg_database where datname='$db'")" != "1" ]; then
		log "creating database $db"
		"${PSQL[@]}" -d postgres -c "create database $db" || true
	fi
done

# --- system Mosquitto on 1883 (the machine's own; we only make sure it runs) ---
if ! port_open 1883; then
	log "starting the system Mosquitto on 1883"
	$SUDO mosquitto -d -c /etc/mosquitto/mosquitto.conf || true
fi

# --- dev PKI --------------------------------------------------------------------
mkdir -p "$PKI"
cert() { # name cn [san]
	local name=$1 cn=$2 san=${3:-}
	[ -f "$PKI/$name.pem" ] && return 0
	openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name-key.pem" 2>/dev/null
	openssl req -new -key "$PKI/$name-key.pem" -subj "/O=Ticketero Dev/CN=$cn" -out "$PKI/$name.csr" 2>/dev/null
	local ext="$PKI/$name.ext"
	if [ -n "$san" ]; then
		printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" >"$ext"
	else
		printf 'extendedKeyUsage=clientAuth\n' >"$ext"
	fi
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca-key.pem" -CAcreateserial \
		-days 825 -sha256 -extfile "$ext" -out "$PKI/$name.pem" 2>/dev/null
	rm -f "$PKI/$name.csr" "$ext"
	chmod 0644 "$PKI/$name.pem"
	chmod 0640 "$PKI/$name-key.pem"
}
new_pki=""
if [ ! -f "$PKI/ca.pem" ]; then
	new_pki=1
	log "generating the dev PKI in $PKI"
	openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/ca-key.pem" 2>/dev/null
	openssl req -x509 -new -key "$PKI/ca-key.pem" -subj "/O=Ticketero Dev/CN=Ticketero Dev CA" \
		-days 3650 -sha256 -out "$PKI/ca.pem" 2>/dev/null
	chmod 0600 "$PKI/ca-key.pem"
fi
cert broker localhost "DNS:localhost,IP:127.0.0.1"
cert cloud ticketero-cloud
for b in $BRANCHES; do cert "$b" "$b"; done

# --- our Mosquitto with mTLS on 8883 ------------------------------------------
mkdir -p "$BROKER_DIR"
cat >"$BROKER_DIR/acl.new" <<ACL
# Same rules as deploy/mosquitto/acl (production on-premises broker).
# The cloud reads events and status, writes acks, config and commands.
user ticketero-cloud
topic read ticketero/v1/branches/+/events
topic read ticketero/v1/branches/+/status
topic write ticketero/v1/branches/+/ack
topic write ticketero/v1/branches/+/config
topic write ticketero/v1/branches/+/commands

# A branch touches only its own topics: CN = username = branch ID.
pattern write ticketero/v1/branches/%u/events
pattern write ticketero/v1/branches/%u/status
pattern read ticketero/v1/branches/%u/ack
pattern read ticketero/v1/branches/%u/config
pattern read ticketero/v1/branches/%u/commands
ACL
cat >"$BROKER_DIR/mosquitto.conf.new" <<CONF
# Generated by scripts/dev-services.sh: the dev broker with mTLS and per-branch ACL.
user root
pid_file $BROKER_DIR/mosquitto.pid
persistence true
persistence_location $BROKER_DIR/
log_dest file $BROKER_DIR/mosquitto.log
per_listener_settings false
listener $MQTT_PORT 127.0.0.1
cafile $PKI/ca.pem
certfile $PKI/broker.pem
keyfile $PKI/broker-key.pem
tls_version tlsv1.2
require_certificate true
use_identity_as_username true
allow_anonymous false
acl_file $BROKER_DIR/acl
CONF
changed=""
for f in acl mosquitto.conf; do
	if ! cmp -s "$BROKER_DIR/$f.new" "$BROKER_DIR/$f"; then changed=1; fi
	mv "$BROKER_DIR/$f.new" "$BROKER_DIR/$f"
done
# A new PKI (the dev folder was removed while our broker ran) also restarts
# it: the running broker still holds the old CA and certificate.
if [ -n "$changed$new_pki" ] && port_open "$MQTT_PORT"; then
	stopped=""
	if [ -f "$BROKER_DIR/mosquitto.pid" ]; then
		kill "$(cat "$BROKER_DIR/mosquitto.pid")" 2>/dev/null && stopped=1
	elif pkill -f "mosquitto -d -c $BROKER_DIR/mosquitto.conf" 2>/dev/null; then
		stopped=1
	fi
	if [ -n "$stopped" ]; then
		log "broker config or PKI changed: restarting our Mosquitto"
		for _ in $(seq 1 50); do port_open "$MQTT_PORT" || break; sleep 0.1; done
	else
		log "port $MQTT_PORT is taken by a broker of another checkout: not ours to restart (the tests start their own)"
	fi
fi
if ! port_open "$MQTT_PORT"; then
	log "starting Mosquitto with mTLS on 127.0.0.1:$MQTT_PORT"
	mosquitto -d -c "$BROKER_DIR/mosquitto.conf"
	wait_port "$MQTT_PORT"
fi
# --- Node tools for the tests: Lighthouse and fauxqs -------------------------
# Each pinned by scripts/<tool>/package-lock.json and installed with npm ci into
# $DEV_DIR/<dir>, once per package.json and lock: the tests download nothing.
# Lighthouse: the pages' performance/accessibility checks; fauxqs: the local
# SQS-compatible server (cloud/sqs tests, the fleet bench's --sqs). Without
# node/npm those tests skip saying so (the axe checks still run).
npm_tool() { # npm_tool <scripts/ dir> <$DEV_DIR dir> <bin>
	local src=$ROOT/scripts/$1 dst=$DEV_DIR/$2 want
	# The stamp is the package.json and lock of the last install that
	# succeeded: a failed npm ci is tried again on the next run.
	want=$(cat "$src/package.json" "$src/package-lock.json")
	if [ "$want" != "$(cat "$dst/.installed" 2>/dev/null)" ] || [ ! -x "$dst/node_modules/.bin/$3" ]; then
		log "installing $3 (scripts/$1/package-lock.json) into $dst"
		mkdir -p "$dst"
		rm -f "$dst/.installed"
		cp "$src/package.json" "$src/package-lock.json" "$dst/"
		if (cd "$dst" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
			printf '%s' "$want" >"$dst/.installed"
		else
			log "npm ci of $3 failed: the tests that need it will say so"
		fi
	fi
}
if command -v npm >/dev/null && command -v node >/dev/null; then
	npm_tool lighthouse node lighthouse
	npm_tool fauxqs fauxqs fauxqs
else
	log "node/npm not found: the Lighthouse and SQS tests will be skipped (apt-get install nodejs npm)"
fi

log "ready: PostgreSQL 127.0.0.1:5432 (ticketero, ticketero_test), MQTT mTLS 127.0.0.1:$MQTT_PORT, PKI $PKI"
