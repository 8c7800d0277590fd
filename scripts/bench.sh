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
# shellcheck disable=SC2086
go test -run '^$' -bench . -benchtime "$BENCHTIME" -benchmem -timeout 9m $pkgs | tee "$RAW" >&2

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
{
	echo "<!-- bench:start (written by scripts/bench.sh; do not edit by hand) -->"
	echo "## Latest \`make bench\` run"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores of $cpu, $mem RAM, $(go version | cut -d' ' -f3), kernel $(uname -r)."
	echo "Figures are medians of one run on a shared machine: expect ±15 % noise."
	echo
	echo "| benchmark | ns/op | custom metrics |"
	echo "|---|---:|---|"
	awk '/^Benchmark/ {
		name=$1; sub(/-[0-9]+$/, "", name); ns=""; extra="";
		for (i=3; i<NF; i+=2) { v=$i; u=$(i+1);
			if (u=="ns/op") ns=v; else if (u!="B/op" && u!="allocs/op") extra=extra v " " u "; " }
		printf "| %s | %s | %s |\n", name, ns, extra }' "$RAW"
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
