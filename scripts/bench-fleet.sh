#!/usr/bin/env bash
# bench-fleet.sh: the fleet simulator (cmd ticketero-fleet) against one real
# ticketero-cloud replica, PostgreSQL and Mosquitto (mTLS, per-branch ACL), at
# each size in FLEET_SIZES; prints one Markdown row per size beside the floors
# measured in the same run (docs/performance.md, "Fleet"). Not part of make
# test: about 6 minutes per size on 2 cores. Raw reports: .dev/bench-fleet/.
# FLEET_ARGS adds flags, e.g. "--replicas 2" (two cloud replicas on the shared
# subscription), "--sqs" (events through an SQS queue on fauxqs) or "--storm"
# (each branch's day starts as it connects: the connect storm's shape).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SIZES=${FLEET_SIZES:-"1000 5000"}
DURATION=${FLEET_DURATION:-3m}
DB=${FLEET_DB:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
OUT=.dev/bench-fleet
mkdir -p "$OUT" bin
go build -o bin/ ./cloud/cmd/ticketero-cloud ./cloud/cmd/ticketero-fleet
for n in $SIZES; do
	echo "bench-fleet: $n branches, day compressed into $DURATION" >&2
	bin/ticketero-fleet --branches "$n" --duration "$DURATION" --cloud bin/ticketero-cloud --db "$DB" \
		--out "$OUT/$n.json" ${FLEET_ARGS:-} >/dev/null
done
echo "| branches | shape | connected | events (day) | lag p50 / p99 / max day (ms) | online after (s), ramp's last commit after opening (s) | closing p99 (ms), last commit after close (s) | events (steady) | lag p50 / p99 steady (ms) | lag p50 / p99 settled (ms) | lag p99 whole day (ms) | cut branches p99 (ms) | cloud RSS max (MB) | cloud CPU (cores) | PG conns | overview HTML (ms, KB) | overview first paint (ms) | Mosquitto QoS 1 p50/p99 (ms) | PG autocommit inserts/s | load avg |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for n in $SIZES; do
	python3 - "$OUT/$n.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"| {r['branches']:,} | {r.get('shape', 'storm')} | {r['branches_connected']:,} | {r.get('day_events', 0):,} | "
      f"{r.get('day_lag_p50_ms', 0):.0f} / {r.get('day_lag_p99_ms', 0):.0f} / {r.get('day_lag_max_ms', 0):.0f} | {r.get('online_after_s', 0):.0f}, {r.get('ramp_last_commit_after_opening_s', 0):.1f} | "
      f"{r.get('closing_lag_p99_ms', 0):.0f}, {r.get('closing_last_commit_after_close_s', 0):.1f} | "
      f"{r['events_in_cloud']:,} ({r['steady_events']:,}) | "
      f"{r['steady_lag_p50_ms']:.0f} / {r['steady_lag_p99_ms']:.0f} | {r.get('settled_lag_p50_ms', 0):.0f} / {r.get('settled_lag_p99_ms', 0):.0f} | {r['lag_p99_ms']:.0f} | {r['cut_branches_lag_p99_ms']:.0f} | "
      f"{r['cloud_rss_max_mb']:.0f} | {r['cloud_cpu_cores_avg']:.2f} | {r['pg_connections_max']} | "
      f"{r['hq_overview_html_ms']:.0f}, {r['hq_overview_bytes']/1024:.0f} | {r['hq_overview_first_paint_ms']:.0f} | "
      f"{r['floor_mosquitto_qos1_p50_ms']:.2f} / {r['floor_mosquitto_qos1_p99_ms']:.2f} | {r['floor_pg_autocommit_inserts_per_s']:,.0f} | {r['load_average_at_end']} |")
PY
done
