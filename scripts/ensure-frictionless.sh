#!/usr/bin/env bash
# Installs the Frictionless Data validator (PyPI package `frictionless`) into .venv-frictionless/
# (gitignored) when it is not there yet, and prints the path of its `frictionless` command.
# The Data Package test (ReleaseAPITests) validates the default download with it; scripts/test.sh
# runs this first. The test installs nothing: without the venv it is skipped, saying so. Needs
# python3 and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-frictionless
if ! "$venv/bin/frictionless" --version >/dev/null 2>&1; then
    echo "installing frictionless into $venv (PyPI)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "frictionless>=5.18,<6" >&2
    "$venv/bin/frictionless" --version >/dev/null
fi
echo "$PWD/$venv/bin/frictionless"
