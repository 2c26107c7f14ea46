#!/usr/bin/env bash
# Property-based API check: runs schemathesis (PyPI, in its own venv .venv-fuzz/) against a live
# `plazo demo` with a token of each role, checking that no request ever gets a 5xx and that every
# status code is one specs/openapi.yaml documents. Not part of the test suite (it needs PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
swift build --product plazo
PLAZO="$(swift build --show-bin-path)/plazo"
[ -x .venv-fuzz/bin/schemathesis ] || { python3 -m venv .venv-fuzz && .venv-fuzz/bin/pip install -q schemathesis; }
WORK=$(mktemp -d)
PORT=${PORT:-18191}
"$PLAZO" demo --cases 3000 --port "$PORT" --dir "$WORK/demo" > "$WORK/demo.log" 2>&1 &
DEMO=$!
trap 'kill $DEMO 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 120); do grep -q "serving on" "$WORK/demo.log" && break; sleep 1; done
URL=$(grep -oE "http://127\.0\.0\.1:[0-9]+" "$WORK/demo.log" | head -1)
for role in oversight researcher steward; do
    TOKEN=$(grep "$role:" "$WORK/demo.log" | head -1 | grep -oE "plz_[A-Za-z0-9_-]+")
    echo "== $role"
    .venv-fuzz/bin/schemathesis run specs/openapi.yaml --url "$URL" -H "Authorization: Bearer $TOKEN" \
        --checks not_a_server_error,status_code_conformance --max-examples "${EXAMPLES:-40}" | grep -E "generated|FAILED|failed|passed in|warnings in"
done
