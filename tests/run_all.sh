#!/usr/bin/env bash
# Builds and runs the C++ unit tests (ctest), then the Python tests (pytest), against the
# evoae installed in the active Python environment (pip install ".[test]").
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(command -v python3 || command -v python)
cmake -S . -B build/tests -G Ninja -DEVOAE_BUILD_TESTS=ON -DEVOAE_WERROR=ON \
  -DPython_EXECUTABLE="$python" >/dev/null
cmake --build build/tests
ctest --test-dir build/tests --output-on-failure
"$python" -m pytest -q tests/python "$@"
