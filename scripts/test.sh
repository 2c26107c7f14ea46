#!/usr/bin/env bash
# The README's test command: installs what the build and the tests need, checks the module graph,
# then builds and runs the whole test suite on SQLite and again on PostgreSQL, then the web page's
# browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
# Every import is a direct dependency in Package.swift and follows docs/architecture.md's order.
scripts/check-modules.py
# The Data Package test validates the default download with frictionless (PyPI), in .venv-frictionless/.
scripts/ensure-frictionless.sh >/dev/null
# SwiftPM's own import check as well (it counts transitive dependencies, hence the script above).
swift build --build-tests --explicit-target-dependency-import-check=error
swift test --skip-build "$@"
# The same suite again on PostgreSQL: a throw-away cluster (scripts/pg-cluster.sh; installs Debian's
# postgresql when missing), each test in a schema of its own. PLAZO_SKIP_POSTGRES=1 skips it.
if [ "${PLAZO_SKIP_POSTGRES:-0}" != "1" ]; then
    pgdir=$(mktemp -d /tmp/plazo-pg.XXXXXX)
    trap 'scripts/pg-cluster.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
    PLAZO_TEST_POSTGRES=$(scripts/pg-cluster.sh start "$pgdir")
    echo "== the suite on PostgreSQL ($PLAZO_TEST_POSTGRES)"
    PLAZO_TEST_POSTGRES=$PLAZO_TEST_POSTGRES swift test --skip-build "$@"
fi
# The web page in headless Chromium against a small demo (Tests/browser/; fails loudly without
# chromium and chromium-driver unless PLAZO_SKIP_BROWSER=1 outside CI). Not when a filter picks tests.
if [ $# -eq 0 ]; then scripts/browser-test.sh; fi
