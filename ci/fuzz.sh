#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang (ASan + UBSan) in build/fuzz and runs each for a
# bounded time on its seed corpus, then prints how many inputs each executed.
# Usage: ci/fuzz.sh [seconds per target]   (default 60)
# A crash, sanitizer report, leak, timeout (an input over 5 s) or failed check stops the run with
# a non-zero status; the input is left in build/fuzz/artifacts/. Results: docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
if ! [[ "${seconds}" =~ ^[1-9][0-9]*$ ]]; then
  echo "ci/fuzz.sh: the argument is the run time per target in seconds (a positive integer), not '${seconds}'" >&2
  exit 2
fi
targets=(schedule_token_fuzzer environment_fuzzer perturbation_fuzzer regression_file_fuzzer)
# Longest input each target tries: a valid token is at most 127 bytes; 16 NAME=VALUE lines of
# ordinary length fit in 1 KiB; a perturbation is at most 31 bytes without leading zeros; a
# regression file of a dozen cases with their comments fits in 4 KiB. Longer inputs only slow the
# search down.
declare -A max_len=([schedule_token_fuzzer]=256 [environment_fuzzer]=1024 [perturbation_fuzzer]=64
                    [regression_file_fuzzer]=4096)

cmake -S . -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DINTERLEAVE_BUILD_FUZZERS=ON -DINTERLEAVE_BUILD_TESTS=OFF -DINTERLEAVE_BUILD_BENCHMARKS=OFF -DINTERLEAVE_WERROR=ON
cmake --build build/fuzz --target "${targets[@]}" -j"$(nproc 2>/dev/null || echo 2)"

mkdir -p build/fuzz/artifacts
summary=()
for target in "${targets[@]}"; do
  echo "=== ci/fuzz.sh: ${target} for ${seconds} s ==="
  # New inputs go to the working corpus in the build tree; the seeds in fuzz/corpus stay as written.
  work=build/fuzz/corpus/${target}
  mkdir -p "${work}"
  log=build/fuzz/${target}.log
  status=0
  "build/fuzz/fuzz/${target}" -max_total_time="${seconds}" -timeout=5 -rss_limit_mb=2048 -max_len="${max_len[${target}]}" \
    -print_final_stats=1 \
    -artifact_prefix="build/fuzz/artifacts/${target}-" "${work}" "fuzz/corpus/${target}" >"${log}" 2>&1 || status=$?
  tail -n 25 "${log}"
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "${log}" | tail -n 1)
  if [ "${status}" -ne 0 ]; then
    echo "ci/fuzz.sh: ${target} FAILED (exit ${status}) after ${runs:-?} executions; see ${log} and build/fuzz/artifacts/" >&2
    exit 1
  fi
  summary+=("${target}: ${runs} executions in ${seconds} s, no crash, leak, timeout or failed check")
done
echo "=== ci/fuzz.sh: summary ==="
printf '%s\n' "${summary[@]}"
