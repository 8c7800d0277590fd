#!/usr/bin/env bash
# bench.sh: run the benchmark suite and write its figures into docs/performance.md
# (between the bench markers; hand-written analysis around them is kept). Each
# figure stands beside the floors measured in the same run (SQLite commit rate,
# PostgreSQL COPY rate, broker round trip). Budget: under 10 minutes on 2 cores.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=docs/performance.md
RAW=$(mktemp)
export TICKETERO_TEST_DATABASE_URL=${TICKETERO_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ticketero_test?sslmode=disable}
BENCHTIME=${BENCHTIME:-1s}

pkgs=$(grep -rl --include='*_test.go' -E '^func Benchmark' shared agent cloud migrations 2>/dev/null | xargs -r -n1 dirname | sort -u | sed 's|^|./|')
echo "bench: packages: $pkgs" >&2
# A failing package (a benchmark that errors or times out) does not lose the
# others' figures: they are written, the failures named, and the script
# exits with go test's status at the end.
set +e
# shellcheck disable=SC2086
go test -run '^$' -bench . -benchtime "$BENCHTIME" -benchmem -timeout 9m $pkgs | tee "$RAW" >&2
status=${PIPESTATUS[0]}
set -e
# Failed benchmarks (a "--- FAIL" may follow a benchmark's name on its line)
# and failed packages, one name each.
failed=$({ grep -oE -- '--- FAIL: [^[:space:]]+' "$RAW" | sed 's/^--- FAIL: //'; grep -E '^FAIL[[:space:]]' "$RAW" | awk '{print $2}'; } | sort -u | tr '\n' ' ' || true)
load=$(cut -d' ' -f1-3 /proc/loadavg)

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
{
	echo "<!-- bench:start (written by scripts/bench.sh; do not edit by hand) -->"
	echo "## Latest \`make bench\` run"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores of $cpu, $mem RAM, $(go version | cut -d' ' -f3), kernel $(uname -r); load average at the end $load."
	echo "Figures are from one run on a shared machine: expect ±15 % noise; docs sections above give ranges over several runs."
	if [ "$status" -ne 0 ]; then
		echo
		echo "**This run failed** (go test status $status): ${failed:-see the log}; their figures are missing or partial."
	fi
	echo
	echo "| benchmark | ns/op | custom metrics |"
	echo "|---|---:|---|"
	awk '/^Benchmark/ {
		name=$1; sub(/-[0-9]+$/, "", name); ns=""; extra="";
		for (i=3; i<NF; i+=2) { v=$i; u=$(i+1);
			if (u=="ns/op") ns=v; else if (u!="B/op" && u!="allocs/op") extra=extra v " " u "; " }
		printf "| %s | %s | %s |\n", name, ns, extra }' "$RAW"
	echo
	echo "### Against the floors measured in this run"
	echo
	python3 - "$RAW" <<'PY'
import re, sys
m = {}
for line in open(sys.argv[1]):
    if not line.startswith("Benchmark"):
        continue
    f = line.split()
    name = re.sub(r"-\d+$", "", f[0])
    vals = {f[i + 1]: float(f[i]) for i in range(2, len(f) - 1, 2) if re.match(r"^[0-9.e+-]+$", f[i])}
    m[name] = vals
def get(b, unit):
    return m.get(b, {}).get(unit)
rows = [
    ("durable ticket issue over HTTP (tickets/s)", get("BenchmarkIssueHTTP", "tickets/s"),
     "SQLite WAL synchronous=FULL commits/s", get("BenchmarkFloorSQLiteCommit", "commits/s"), "≥ 1,500/s"),
    ("cloud ingest, 50 branches (events/s)", get("BenchmarkIngest50Branches", "events/s"),
     "PostgreSQL COPY rows/s", get("BenchmarkIngest50Branches", "copy_rows/s"), "≥ 20,000/s and ≥ 0.25 × COPY"),
    ("sync lag agent commit → cloud commit, p99 (ms)", get("BenchmarkSteadyStateLag", "p99_ms"),
     "Mosquitto QoS 1 round trip p99 (ms)", get("BenchmarkMosquittoQoS1RoundTrip", "p99_ms"), "< 100 ms"),
]
print("| figure | value | floor | floor value | ratio | target |")
print("|---|---:|---|---:|---:|---|")
for name, v, fname, fv, target in rows:
    if v is None or fv is None or fv == 0:
        print(f"| {name} | {v if v is not None else 'n/a'} | {fname} | {fv if fv is not None else 'n/a'} | n/a | {target} |")
        continue
    print(f"| {name} | {v:,.1f} | {fname} | {fv:,.2f} | {v / fv:.2f} | {target} |")
PY
	echo "<!-- bench:end -->"
} >"$RAW.md"

touch "$OUT"
python3 - "$OUT" "$RAW.md" <<'PY'
import sys, re
out, new = sys.argv[1], open(sys.argv[2]).read()
cur = open(out).read()
pat = re.compile(r"<!-- bench:start.*?<!-- bench:end -->\n?", re.S)
if pat.search(cur):
    cur = pat.sub(lambda m: new, cur)
else:
    head = "# Performance\n\n" if not cur.startswith("# ") else ""
    cur = head + cur.rstrip("\n") + ("\n\n" if cur.strip() else "") + new
open(out, "w").write(cur)
PY
rm -f "$RAW" "$RAW.md"
echo "bench: wrote $OUT" >&2
if [ "$status" -ne 0 ]; then
	echo "bench: go test failed (status $status): $failed" >&2
	exit "$status"
fi
