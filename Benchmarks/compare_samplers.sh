#!/usr/bin/env bash
# Side-by-side sampler throughput: Plazo's exact samplers (release build, libsodium randomness)
# against OpenDP's exact samplers, on this machine, one core each, run back to back so that both
# see the same machine load. Figures go to docs/privacy-model.md, section "Samplers: speed".
#
#   python3 -m venv .venv-bench && .venv-bench/bin/pip install opendp==0.16.0   # once
#   bash Benchmarks/compare_samplers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --scratch-path .build-privacy-rel --product plazo >/dev/null
PLAZO=.build-privacy-rel/release/plazo
echo "== plazo (swift build -c release) =="
for mechanism in laplace gaussian; do
  for scale in 1 10 1000; do
    $PLAZO noise bench --mechanism "$mechanism" --scale "$scale" -n 5000000
  done
done
echo "== opendp =="
.venv-bench/bin/python Benchmarks/opendp_compare.py
