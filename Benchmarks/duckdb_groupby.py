#!/usr/bin/env python3
"""DuckDB reference for Benchmarks/compare.sh: the raw, non-private group-bys that feed Plazo's
five release tables (cohort x state x offence), over the same cases plazo-perf released.

Input: the per-case CSV plazo-perf writes (one row per case as of the cutoff). The table is loaded
into DuckDB's memory first; only the group-by queries are timed (best of 3), so the figure is
DuckDB's aggregation speed, the fairest comparison with Plazo creating a release (which also
starts from case state already in memory). Prints one JSON line.
"""
import json
import sys
import time

import duckdb

path = sys.argv[1]
con = duckdb.connect()
con.execute(f"CREATE TABLE cases AS SELECT * FROM read_csv_auto('{path}', header=true)")
n = con.execute("SELECT count(*) FROM cases").fetchone()[0]
BIN = "CASE WHEN {d} IS NULL THEN NULL WHEN {d} >= 730 THEN 24 ELSE {d} // 30 END"
queries = [
    # 1. time to first decision: bin x outcome (charged / closed / censored)
    f"SELECT cohort, state, offence, {BIN.format(d='decision_days')} AS bin, decision_kind, count(*) FROM cases GROUP BY ALL",
    # 2. attrition funnel: furthest stage
    "SELECT cohort, state, offence, stage, count(*) FROM cases GROUP BY ALL",
    # 3. dispositions of charged cases
    "SELECT cohort, state, offence, charged_outcome, count(*) FROM cases WHERE charged_outcome IS NOT NULL GROUP BY ALL",
    # 4. backlog by age band and status
    "SELECT cohort, state, offence, CASE WHEN open_age_days <= 90 THEN 0 WHEN open_age_days <= 180 THEN 1 "
    "WHEN open_age_days <= 365 THEN 2 WHEN open_age_days <= 730 THEN 3 ELSE 4 END AS band, status, count(*) "
    "FROM cases WHERE open_age_days IS NOT NULL GROUP BY ALL",
    # 5. victim updates: time to first update (or censoring) and open cases without an update in 90 days
    f"SELECT cohort, state, offence, {BIN.format(d='update_days')} AS bin, updated, count(*) FROM cases GROUP BY ALL",
    "SELECT cohort, state, offence, no_update_90, count(*) FROM cases WHERE open_age_days IS NOT NULL GROUP BY ALL",
]
best = float("inf")
for _ in range(3):
    t0 = time.perf_counter()
    for q in queries:
        con.execute(q).fetchall()
    best = min(best, time.perf_counter() - t0)
print(json.dumps({"metric": "duckdb_groupby", "cases": n, "seconds": best, "threads": con.execute("SELECT current_setting('threads')").fetchone()[0]}))
