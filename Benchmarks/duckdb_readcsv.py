#!/usr/bin/env python3
"""DuckDB reference for `plazo seal` in Benchmarks/compare.sh: reading the same agency CSV export
with DuckDB's read_csv on one thread (SET threads = 1), every column materialised as text in a
table (so that every field is parsed, as plazo seal parses every field), best of 3. Prints one
JSON line with rows per second."""
import json
import sys
import time

import duckdb

path = sys.argv[1]
con = duckdb.connect()
con.execute("SET threads = 1")
best = float("inf")
rows = 0
for i in range(3):
    con.execute("DROP TABLE IF EXISTS t")
    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path}', header = true, all_varchar = true)")
    best = min(best, time.perf_counter() - t0)
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
print(json.dumps({"metric": "duckdb_read_csv", "rows": rows, "seconds": best, "rows_per_s": rows / best, "threads": 1}))
