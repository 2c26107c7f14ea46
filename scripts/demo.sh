#!/usr/bin/env bash
# The README's "run the main job" command: installs what the build needs, builds plazo, and runs
# `plazo demo`: keys, the service on the embedded SQLite store, four synthetic agencies whose
# exports are de-identified, sealed and submitted through the real HTTP API, a quarterly
# differentially private release, a summary with intervals, and the URLs and tokens to explore.
# It keeps serving until interrupted; pass --exit to stop after the summary. Files go to
# ./plazo-demo/ (ignored by git). Extra arguments go to `plazo demo` (see `plazo demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
swift build --product plazo
exec "$(swift build --show-bin-path)/plazo" demo "$@"
