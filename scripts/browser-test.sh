#!/usr/bin/env bash
# The web dashboard in a real browser (Tests/browser/test_dashboard.py): builds plazo, starts a
# small `plazo demo` on a free port in a temporary directory, and drives headless Chromium
# (Debian's `chromium` and `chromium-driver`) with selenium and axe-core from PyPI, installed into
# .venv-browser/ (gitignored). scripts/test.sh runs it after the Swift tests; .ci/run installs the
# browser. Screenshots go to $PLAZO_SCREENSHOTS (default /tmp): plazo-dashboard-es.png, -en.png.
#
# Installs chromium and chromium-driver when missing; if that fails it fails loudly, unless
# PLAZO_SKIP_BROWSER=1 (never in CI).
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver || true)}
# Like scripts/ensure-deps.sh for the libraries: install the browser when it is missing (Debian's
# packages; root or sudo), so the README's test command works on a fresh machine.
if { [ -z "$CHROMIUM" ] || [ -z "$CHROMEDRIVER" ]; } && [ "${PLAZO_SKIP_BROWSER:-}" != 1 ] && command -v apt-get >/dev/null; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "installing chromium chromium-driver (for the browser tests)" >&2
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; } || true
    CHROMIUM=$(command -v chromium || true)
    CHROMEDRIVER=$(command -v chromedriver || true)
fi
if [ -z "$CHROMIUM" ] || [ -z "$CHROMEDRIVER" ]; then
    if [ "${PLAZO_SKIP_BROWSER:-}" = 1 ] && [ "${CI:-}" != true ]; then
        echo "browser tests SKIPPED (PLAZO_SKIP_BROWSER=1): chromium or chromedriver is not installed" >&2
        exit 0
    fi
    cat >&2 <<'EOF'
************************************************************************************************
* The browser tests need Chromium and its driver, which are not installed:                     *
*     sudo apt-get install chromium chromium-driver                                            *
* (CI installs them in .ci/run.) To run the other tests without them, outside CI only:         *
*     PLAZO_SKIP_BROWSER=1 scripts/test.sh                                                     *
************************************************************************************************
EOF
    exit 1
fi

# selenium, axe-selenium-python (with its axe-core), Pillow for the screenshot check; and the
# axe-core 4.x file that axe-playwright-python ships (installed without its dependencies: only
# the JavaScript file is used, through selenium).
venv=.venv-browser
if ! "$venv/bin/python" -c 'import selenium, axe_selenium_python, PIL, axe_playwright_python' 2>/dev/null; then
    echo "installing selenium, axe-selenium-python and Pillow into $venv (PyPI)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "selenium>=4.20,<5" "axe-selenium-python>=2.1,<3" "pillow>=10"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "axe-playwright-python>=0.1.8,<0.2"
fi

swift build --product plazo
PLAZO="$(swift build --show-bin-path)/plazo"
WORK=$(mktemp -d)
DEMO=""
cleanup() {
    if [ -n "$DEMO" ]; then kill "$DEMO" 2>/dev/null || true; wait "$DEMO" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
"$PLAZO" demo --cases 3000 --port "${PLAZO_BROWSER_PORT:-0}" --dir "$WORK/demo" > "$WORK/demo.log" 2>&1 &
DEMO=$!
for _ in $(seq 1 180); do
    grep -q "serving on" "$WORK/demo.log" && break
    kill -0 "$DEMO" 2>/dev/null || { cat "$WORK/demo.log" >&2; echo "plazo demo stopped before serving" >&2; exit 1; }
    sleep 1
done
grep -q "serving on" "$WORK/demo.log" || { tail -20 "$WORK/demo.log" >&2; echo "plazo demo did not start in time" >&2; exit 1; }
URL=$(grep -oE "serving on http://127\.0\.0\.1:[0-9]+" "$WORK/demo.log" | grep -oE "http://[0-9.:]+")
grep -q "dashboard page.*$URL/" "$WORK/demo.log" || { echo "plazo demo does not print the page's address" >&2; exit 1; }
token() { grep "$1:" "$WORK/demo.log" | head -1 | grep -oE "plz_[A-Za-z0-9_-]+"; }
echo "browser tests against $URL (chromium $("$CHROMIUM" --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+)+' | head -1))"
PLAZO_URL="$URL" PLAZO_OVERSIGHT_TOKEN=$(token oversight) PLAZO_STEWARD_TOKEN=$(token steward) PLAZO_DEMO_DIR="$WORK/demo" \
    CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" SE_OFFLINE=true PLAZO_SCREENSHOTS="${PLAZO_SCREENSHOTS:-/tmp}" \
    "$venv/bin/python" Tests/browser/test_dashboard.py
