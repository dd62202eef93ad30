#!/usr/bin/env bash
# Builds and runs the FMA peak meter (fma_peak.cpp); prints one JSON line:
# {"cores": N, "chains": 12, "gflops_8_wide": {"1": ..., "N": ...}, "gflops_16_wide": ...}
# (null where the CPU lacks the width). Take it on a quiet machine: it is a best of 5.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${TMPDIR:-/tmp}/evoae_fma_peak
"${CXX:-g++}" -O3 -std=c++17 -fopenmp "$here/fma_peak.cpp" -o "$out"
OMP_WAIT_POLICY=active OMP_PROC_BIND=spread "$out"
