#!/usr/bin/env python3
"""Times `plazo seal` (parse, validate, pseudonymise, seal, sign) on one agency export for
Benchmarks/compare.sh: best wall time of 3 runs, peak resident memory, rows per second. Usage:
seal_bench.py PLAZO EXPORT.csv WORKDIR. Prints one JSON line."""
import json
import os
import resource
import shutil
import subprocess
import sys
import time

plazo, export, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
os.makedirs(work, exist_ok=True)
for args in (["keys", "service", "--out", "k"], ["keys", "agency", "--out", "a"], ["keys", "linkage", "--out", "a/linkage.key"]):
    if not os.path.exists(os.path.join(work, args[-1])):
        subprocess.run([plazo] + args, cwd=work, check=True, stdout=subprocess.DEVNULL)
rows = sum(1 for _ in open(export, "rb")) - 1
best = float("inf")
for i in range(3):
    shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)
    t0 = time.perf_counter()
    p = subprocess.run(
        [plazo, "seal", export, "--agency-id", "1", "--agency-type", "state_prosecutor", "--signing-key", "a/agency-signing.secret",
         "--service-key", "k/service-box.public", "--linkage-key", "a/linkage.key", "--out", "out"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    best = min(best, time.perf_counter() - t0)
    if p.returncode not in (0, 3):
        sys.exit(f"plazo seal failed with {p.returncode}")
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"metric": "seal", "rows": rows, "seconds": best, "rows_per_s": rows / best, "peak_rss_mb": peak_kib / 1024}))
