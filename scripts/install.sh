#!/usr/bin/env bash
# Create .venv and install scdefer for development and CI: the exact runtime pins of
# requirements.lock (what the images and the conda environment install) plus the test-only pins of
# requirements-test.lock. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-test.lock
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
.venv/bin/scdefer --version
