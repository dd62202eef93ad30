#!/usr/bin/env bash
# Builds and runs the C++ unit tests (ctest), then the Python tests (pytest), against the
# evoae installed in the active Python environment (pip install ".[test]"). The C++ tests run
# twice: at this machine's lane width (-march=native: 16 lanes with AVX-512, else 8) and in
# the portable build (EVOAE_NATIVE=OFF: 8 lanes, no FMA), the lane tests only.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(command -v python3 || command -v python)
cmake -S . -B build/tests -G Ninja -DEVOAE_BUILD_TESTS=ON -DEVOAE_WERROR=ON \
  -DPython_EXECUTABLE="$python" >/dev/null
cmake --build build/tests
ctest --test-dir build/tests --output-on-failure
cmake -S . -B build/tests-portable -G Ninja -DEVOAE_BUILD_TESTS=ON -DEVOAE_WERROR=ON \
  -DEVOAE_NATIVE=OFF -DPython_EXECUTABLE="$python" >/dev/null
cmake --build build/tests-portable --target test_ops test_network test_evolution test_backward test_train test_memetic test_coevo test_vae test_gan
ctest --test-dir build/tests-portable --output-on-failure -R '^(ops|network|evolution|backward|train|memetic|coevo|vae|gan)$'
"$python" -m pytest -q tests/python "$@"
