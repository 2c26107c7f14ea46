#!/usr/bin/env python3
"""Turns the JSON lines of Benchmarks/compare.sh into docs/performance.md (stdout)."""
import datetime
import json
import os
import platform
import subprocess
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]


def first(metric, **match):
    for r in rows:
        if r.get("metric") == metric and all(r.get(k) == v for k, v in match.items()):
            return r
    return None


def fmt(x, unit=""):
    if x is None:
        return "n/a"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M{unit}"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k{unit}"
    return f"{x:.3g}{unit}"


out = []
cpu = "unknown CPU"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
out.append("# Performance: Plazo beside the tools it is measured against\n")
out.append(f"Written by `bash Benchmarks/compare.sh` on {datetime.date.today().isoformat()}: {os.cpu_count()} cores ({cpu}), "
           f"{platform.system()} {platform.release()}, load average {load:.1f} when the report was written. "
           "Every figure below was measured in the same run, on the same machine and the same data; "
           "the ratios are what the targets are about, the absolute figures are only context.\n")
out.append("| path | Plazo | reference | ratio (Plazo / reference) | target | met |")
out.append("|---|---:|---:|---:|---:|:-:|")


def line(path, plazo, ref, ratio, target, ok, unit=""):
    out.append(f"| {path} | {plazo} | {ref} | {ratio} | {target} | {'yes' if ok else 'no'} |")


im, so = first("ingest_memory"), first("libsodium_seal_open")
if im and so:
    r = im["events_per_s"] / so["records_per_s"]
    line("ingest in memory (verify + open + decode + validate + apply), one core, events/s vs libsodium sealed-box opening of the same bytes",
         fmt(im["events_per_s"], "/s"), fmt(so["records_per_s"], "/s"), f"{r:.2f}", "≥ 0.5", r >= 0.5)
dh = first("ingest_durable_http")
sq = next((r for r in rows if r.get("metric") == "sqlite_insert" and r.get("rows_per_transaction") == r.get("rows")), None)
sq_batch = next((r for r in rows if r.get("metric") == "sqlite_insert" and r.get("rows_per_transaction", 0) < r.get("rows", 0)), None)
if dh and sq:
    r = dh["events_per_s"] / sq["rows_per_s"]
    line("durable ingest via HTTP into SQLite, events/s vs raw SQLite inserts of the same rows in one transaction",
         fmt(dh["events_per_s"], "/s"), fmt(sq["rows_per_s"], "/s"), f"{r:.2f}", "≥ 0.5", r >= 0.5)
if dh and sq_batch:
    r = dh["events_per_s"] / sq_batch["rows_per_s"]
    line(f"(context) the same, vs raw SQLite committing every {sq_batch['rows_per_transaction']:,} rows as Plazo commits each acknowledged batch",
         fmt(dh["events_per_s"], "/s"), fmt(sq_batch["rows_per_s"], "/s"), f"{r:.2f}", "—", True)
for mech in ("laplace", "gaussian"):
    for scale in (1, 10, 1000):
        p = first("sampler", implementation="plazo", mechanism=mech, scale=scale)
        o = first("sampler", implementation="opendp", mechanism=mech, scale=scale)
        if p and o:
            r = p["samples_per_s"] / o["samples_per_s"]
            line(f"exact discrete {mech} sampler, scale {scale}, samples/s vs OpenDP", fmt(p["samples_per_s"], "/s"),
                 fmt(o["samples_per_s"], "/s"), f"{r:.0f}", "≥ 30", r >= 30)
releases = [r for r in rows if r.get("metric") == "release"]
for rel in sorted(releases, key=lambda r: r["cases"]):
    d = first("duckdb_groupby", cases=rel["cases"])
    if d:
        r = d["seconds"] / rel["total_seconds"]
        line(f"release creation, {rel['cases']:,} cases ({rel['cells']:,} cells), seconds vs DuckDB's raw group-by over the same cases",
             f"{rel['total_seconds']:.2f} s", f"{d['seconds']:.2f} s", f"{r:.2f}× faster" if r >= 1 else f"{1 / r:.2f}× slower",
             "faster at 10M" if rel["cases"] >= 10_000_000 else "(context)", r >= 1 or rel["cases"] < 10_000_000)
big = max(releases, key=lambda r: r["cases"]) if releases else None
d = first("duckdb_groupby", cases=big["cases"]) if big else None
if big and d:
    r = d["seconds"] / big["create_seconds"]
    line(f"release creation from the per-cutoff case projection (the same starting point as DuckDB's per-case table), "
         f"{big['cases']:,} cases, seconds vs DuckDB's raw group-by",
         f"{big['create_seconds']:.2f} s", f"{d['seconds']:.2f} s", f"{r:.2f}× faster" if r >= 1 else f"{1 / r:.2f}× slower",
         "faster at 10M", r >= 1)
for m in sorted([r for r in rows if r.get("metric") == "memory"], key=lambda r: r["cases"]):
    b = m["rss_bytes_per_case"]
    line(f"resident memory per tracked case at {m['cases']:,} cases ({m['events']:,} events)", f"{b:.0f} B", "—", "—", "≤ 150 B", b <= 150)

out.append("\nTwo rows compare release creation with DuckDB. DuckDB is given a table of per-case values as of the "
           "cutoff, already loaded in memory; Plazo's equivalent is the per-cutoff case projection (evaluating each case's "
           "events as of the cutoff: O(cases), done once per cutoff and cached by the server). The first row includes that "
           "evaluation, the second starts, like DuckDB, from per-case values. Creating a release itself (tabulation, exact "
           "noise for every cell, post-processing, interval simulation, ledger debit and storage) grows with the number of "
           "cells, not of cases: see the table below.")
out.append("\n## Release time by number of cases\n")
out.append("| cases | projection (O(cases)) | noise, post-processing, storage | total | DuckDB raw group-by |")
out.append("|---:|---:|---:|---:|---:|")
for rel in sorted(releases, key=lambda r: r["cases"]):
    d = first("duckdb_groupby", cases=rel["cases"])
    out.append(f"| {rel['cases']:,} | {rel['projection_seconds']:.3f} s | {rel['create_seconds']:.3f} s | {rel['total_seconds']:.3f} s | "
               f"{d['seconds']:.3f} s |" if d else f"| {rel['cases']:,} | {rel['projection_seconds']:.3f} s | {rel['create_seconds']:.3f} s | {rel['total_seconds']:.3f} s | n/a |")
d = first("dashboard")
if d:
    out.append("\n## Dashboard reads\n")
    out.append(f"`GET /v1/dashboards/...` answered from a stored release ({d['cases']:,} cases, all six tables × cohort × state × "
               f"offence), {d['concurrency']} concurrent clients on loopback, {d['requests']:,} requests: "
               f"**{d['requests_per_s']:,.0f} requests/s**, latency p50 {d['p50_ms']:.1f} ms, p99 {d['p99_ms']:.1f} ms, "
               f"max {d['max_ms']:.1f} ms. Client and server share the machine's two cores.")
out.append("\n## Raw results\n")
out.append("```")
out.extend(json.dumps(r, sort_keys=True) for r in rows)
out.append("```")
out.append("\nHow each figure is measured: `Benchmarks/PlazoPerf/main.swift` (Plazo), `Benchmarks/reference/*.c` "
           "(libsodium, SQLite: C, `gcc -O2`), `Benchmarks/opendp_compare.py` (OpenDP 0.16, PyPI), "
           "`Benchmarks/duckdb_groupby.py` (DuckDB, PyPI; table loaded in memory first, queries timed). "
           "The ordo-one benchmarks (`PLAZO_BENCHMARKS=1 swift package benchmark`) measure the same paths with "
           "latency percentiles and allocation counts.")
print("\n".join(out))
