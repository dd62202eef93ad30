#!/usr/bin/env bash
# Builds and runs the C++ benchmarks (Google Benchmark: apt-get install libbenchmark-dev)
# and an instruction count of one generation (valgrind --tool=callgrind), saving both
# under bench/results/. Usage: bench/cpp_benchmarks.sh [repetitions, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
python=$(command -v python3 || command -v python)
cmake -S . -B build/bench -G Ninja -DEVOAE_BUILD_BENCH=ON -DPython_EXECUTABLE="$python" >/dev/null
cmake --build build/bench
mkdir -p bench/results
for b in bench_ops bench_network; do
  build/bench/cpp/bench/$b --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
    --benchmark_out=bench/results/cpp_$b.json --benchmark_out_format=json
done
generations=20
valgrind --tool=callgrind --callgrind-out-file=/tmp/evoae.callgrind \
  --toggle-collect='*Evolution::step*' \
  build/bench/cpp/bench/generation_instructions "$generations" 2>/tmp/evoae.callgrind.log
total=$(grep -E '^summary:|^totals:' /tmp/evoae.callgrind | head -1 | awk '{print $2}')
per_generation=$((total / generations))
printf '{"workload": "original loop, population 20, ten images, 10 mutations, 1 thread",\n "generations": %d, "instructions_in_step": %d, "instructions_per_generation": %d}\n' \
  "$generations" "$total" "$per_generation" > bench/results/callgrind_generation.json
echo "callgrind: $per_generation instructions per generation (bench/results/callgrind_generation.json)"
