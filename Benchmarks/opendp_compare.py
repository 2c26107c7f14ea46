#!/usr/bin/env python3
"""OpenDP side of the sampler comparison (docs/privacy-model.md, section "Samplers").

Measures OpenDP's exact discrete Laplace and discrete Gaussian samplers (Canonne-Kamath-Steinke
2020, implemented on exact integer/rational arithmetic in OpenDP's Rust core) on this machine,
one core, at scales 1, 10 and 1000, in samples per second, and prints the zCDP -> (eps, delta)
conversions that the Swift tests hard-code.

Setup (the .venv*/ folders are gitignored):
    python3 -m venv .venv-bench && .venv-bench/bin/pip install opendp==0.16.0
Run:
    .venv-bench/bin/python Benchmarks/opendp_compare.py

A measurement releases a vector of N zeros with make_laplace / make_gaussian on
vector_domain(atom_domain(T=int)) + l1/l2 distance: one FFI call for N samples, so Python
overhead is amortised and the figure is the Rust sampler's own speed.
"""
import time

import opendp.prelude as dp

dp.enable_features("contrib")

N = 200_000
SCALES = [1.0, 10.0, 1000.0]


def rate(meas, n):
    """Best of 3 runs, as (wall samples/s, CPU samples/s). CPU time (time.process_time) is the
    per-core figure, insensitive to other processes on the machine; OpenDP samples on one thread."""
    data = [0] * n
    meas(data[:1000])  # warm up
    best_wall = best_cpu = 0.0
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        meas(data)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        best_wall, best_cpu = max(best_wall, n / dt), max(best_cpu, n / dc)
    return best_wall, best_cpu


def show(name, rates):
    print(f"opendp {name}: wall {rates[0]:,.0f} samples/s; cpu {rates[1]:,.0f} samples/s per core")


def main_json():
    """One JSON line per sampler and scale, for Benchmarks/compare.sh (per-core CPU-time rates)."""
    import json
    space_l1 = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    space_l2 = dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=int)
    for mechanism, make, space in [("laplace", dp.m.make_laplace, space_l1), ("gaussian", dp.m.make_gaussian, space_l2)]:
        for scale in SCALES:
            wall, cpu = rate(make(*space, scale=scale), N)
            print(json.dumps({"metric": "sampler", "implementation": "opendp", "mechanism": mechanism, "scale": int(scale),
                              "samples_per_s": cpu, "wall_samples_per_s": wall}))


def main():
    space_l1 = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    space_l2 = dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=int)
    for scale in SCALES:
        lap = dp.m.make_laplace(*space_l1, scale=scale)
        show(f"discrete_laplace scale={scale:g}", rate(lap, N))
    for scale in SCALES:
        gau = dp.m.make_gaussian(*space_l2, scale=scale)
        show(f"discrete_gaussian sigma={scale:g}", rate(gau, N))
    # One sample per call (scalar domain), as a Python caller drawing noise cell by cell would:
    # dominated by the FFI round trip; reported for context only.
    scalar_l1 = dp.atom_domain(T=int), dp.absolute_distance(T=int)
    scalar_l2 = dp.atom_domain(T=int), dp.absolute_distance(T=int)
    for name, meas in [("discrete_laplace", dp.m.make_laplace(*scalar_l1, scale=10.0)),
                       ("discrete_gaussian", dp.m.make_gaussian(*scalar_l2, scale=10.0))]:
        n = 50_000
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            meas(0)
        show(f"{name} scale=10, one sample per call", (n / (time.perf_counter() - t0), n / (time.process_time() - c0)))

    # zCDP -> (eps, delta)-DP conversions (CKS 2020 optimal bound as implemented by OpenDP).
    print("conversions (rho, delta) -> epsilon:")
    for rho, delta in [(0.5, 1e-6), (0.1, 1e-5), (1.0, 1e-9), (0.01, 1e-6), (2.0, 1e-6)]:
        # A Gaussian with scale sigma and L2 sensitivity 1 is rho = 1/(2 sigma^2)-zCDP.
        sigma = (1 / (2 * rho)) ** 0.5
        m = dp.m.make_gaussian(*space_l2, scale=sigma)
        approx = dp.c.make_zCDP_to_approxDP(m)
        curve = approx.map(1)
        print(f"  rho={rho:g} delta={delta:g}: rho_check={m.map(1):.17g} epsilon={curve.epsilon(delta):.17g}")


if __name__ == "__main__":
    import sys
    main_json() if "--json" in sys.argv else main()
