#!/usr/bin/env bash
# The README's test command: installs what the build needs, then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
swift build --build-tests
swift test --skip-build "$@"
