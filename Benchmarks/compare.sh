#!/usr/bin/env bash
# Side-by-side performance report: measures Plazo and the reference tools in one run, on this
# machine and the same data, and writes docs/performance.md with a table of ratios.
#
#   bash Benchmarks/compare.sh            # full run (10M cases: needs ~6 GB RAM and ~4 min here)
#   QUICK=1 bash Benchmarks/compare.sh    # 1M cases at most, for a quick look
#
# References (nothing of theirs is committed):
#   - libsodium crypto_box_seal_open on the same sealed bytes: Benchmarks/reference/sealopen.c
#   - raw SQLite inserts of the same rows in one transaction: Benchmarks/reference/sqlite_insert.c
#   - PostgreSQL's own inserts of the same sealed batches, one per transaction, through libpq:
#     Benchmarks/reference/pg_insert.c, against a throw-away cluster (scripts/pg-cluster.sh)
#   - OpenDP's exact samplers (PyPI opendp) and DuckDB's raw group-by (PyPI duckdb), installed into
#     a virtual environment this script creates (.venv-compare/, gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
OUT=.build-compare
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"
BIG=${BIG_CASES:-10000000}
if [ "${QUICK:-0}" = 1 ]; then BIG=1000000; fi

echo "== building (release)"
gcc -O2 -o "$OUT/sealopen" Benchmarks/reference/sealopen.c -lsodium
gcc -O2 -o "$OUT/sqlite_insert" Benchmarks/reference/sqlite_insert.c -lsqlite3
[ -f /usr/include/postgresql/libpq-fe.h ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpq-dev >/dev/null; }
gcc -O2 -I/usr/include/postgresql -o "$OUT/pg_insert" Benchmarks/reference/pg_insert.c -lpq
PLAZO_BENCHMARKS=1 swift build -c release --scratch-path .build-bench --product plazo-perf 2>&1 | tail -1
PLAZO_BENCHMARKS=1 swift build -c release --scratch-path .build-bench --product plazo 2>&1 | tail -1
PERF=.build-bench/release/plazo-perf
PLAZO=.build-bench/release/plazo

if [ ! -x .venv-compare/bin/python ]; then
    python3 -m venv .venv-compare
    .venv-compare/bin/pip install -q opendp==0.16.0 duckdb
fi

run() { echo "   $*" >&2; "$@" | tee -a "$RESULTS"; }

echo "== ingest in memory vs libsodium sealed-box opening of the same bytes"
run "$PERF" ingest-memory --cases 1000000 --batches 150 --write-batch "$OUT/batch.plzb"
run "$OUT/sealopen" "$OUT/batch.plzb" 3

echo "== durable ingest via HTTP vs raw SQLite inserts of the same rows"
run "$PERF" ingest-durable --cases 200000 --batches 60 --write-rows "$OUT/rows.bin" --write-batches "$OUT/batches.bin"
run "$OUT/sqlite_insert" "$OUT/rows.bin" "$OUT/reference.sqlite"
run "$OUT/sqlite_insert" "$OUT/rows.bin" "$OUT/reference.sqlite" 10000   # context: one commit per 10k rows
run "$OUT/sqlite_insert" --batches "$OUT/batches.bin" "$OUT/reference.sqlite"   # context: the sealed batches, one per transaction, as Plazo stores them

echo "== durable ingest into PostgreSQL vs libpq inserting the same sealed batches; two replicas vs one"
pgdir=$(mktemp -d /tmp/plazo-bench-pg.XXXXXX)
trap 'scripts/pg-cluster.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
PG=$(scripts/pg-cluster.sh start "$pgdir")
# One client beside libpq's one connection (like for like); then one and two replicas with two clients.
run "$PERF" ingest-postgres --database "$PG" --cases 200000 --batches 60 --replicas 1 --clients 1 --write-batches "$OUT/pg-batches.bin"
run "$OUT/pg_insert" "$OUT/pg-batches.bin" "$PG"
run "$PERF" ingest-postgres --database "$PG" --cases 200000 --batches 60 --replicas 1 --clients 2
run "$PERF" ingest-postgres --database "$PG" --cases 200000 --batches 60 --replicas 2 --clients 2

echo "== start-up at $BIG cases: replaying the whole batch log vs the case-index snapshot and the batches after it"
run "$PERF" ingest-durable --cases "$BIG" --batches 100000 --snapshot-tail 100

echo "== exact samplers vs OpenDP"
for mechanism in laplace gaussian; do
    for scale in 1 10 1000; do
        "$PLAZO" noise bench --mechanism "$mechanism" --scale "$scale" -n 3000000 --json | tee -a "$RESULTS"
    done
done
.venv-compare/bin/python Benchmarks/opendp_compare.py --json | tee -a "$RESULTS"

echo "== release creation vs DuckDB's raw group-by over the same cases"
for cases in 100000 1000000 "$BIG"; do
    run "$PERF" release --cases "$cases" --write-summaries "$OUT/summaries-$cases.csv"
    .venv-compare/bin/python Benchmarks/duckdb_groupby.py "$OUT/summaries-$cases.csv" | tee -a "$RESULTS"
done

echo "== sealing an agency export (plazo seal) vs DuckDB's read_csv of the same CSV, one thread"
"$PLAZO" synth --cases 330000 --out "$OUT/synth" >/dev/null
# The first million rows of two agencies' exports (same columns); awk reads to the end (no SIGPIPE).
awk 'FNR == 1 && NR > 1 { next } n++ < 1000001' "$OUT/synth/state-prosecutors.csv" "$OUT/synth/police-cyber-unit.csv" > "$OUT/export-1m.csv"
python3 Benchmarks/seal_bench.py "$PLAZO" "$OUT/export-1m.csv" "$OUT/seal" | tee -a "$RESULTS"
.venv-compare/bin/python Benchmarks/duckdb_readcsv.py "$OUT/export-1m.csv" | tee -a "$RESULTS"

echo "== dashboard reads under concurrent load (context: no reference tool)"
run "$PERF" dashboard --cases 200000 --requests 4000 --concurrency 16

echo "== readable figures at realistic volume: 10,000 cases, eight quarterly releases, old and new spec (issue 21)"
run "$PERF" realistic --cases 10000 --repeat 5

echo "== resident memory per tracked case"
run "$PERF" memory --cases 1000000
run "$PERF" memory --cases "$BIG"

python3 Benchmarks/write_performance.py "$RESULTS" > docs/performance.md
echo "== wrote docs/performance.md"
