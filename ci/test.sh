#!/usr/bin/env bash
# The test command: installs what is missing, then configures, builds and tests every preset CI
# runs, then (for the full run) builds examples/consumer against the installed package. The full
# run also checks formatting (ci/format.sh) and runs clang-tidy on the library (ci/tidy.sh).
# Usage: ci/test.sh [preset...]   (default: dev release clang tsan asan-ubsan)
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh

presets=("$@")
all=0
if [ ${#presets[@]} -eq 0 ]; then
  presets=(dev release clang tsan asan-ubsan)
  all=1
fi

if [ "$all" -eq 1 ]; then
  # Hygiene first, it is quick: formatting drift fails CI, and so does any clang-tidy finding.
  echo "=== ci/test.sh: formatting (.clang-format) ==="
  bash ci/format.sh
fi
for preset in "${presets[@]}"; do
  echo "=== ci/test.sh: preset ${preset} ==="
  cmake --workflow --preset "${preset}"
  if [ "$all" -eq 1 ] && [ "$preset" = clang ]; then
    echo "=== ci/test.sh: clang-tidy (.clang-tidy) on the library sources ==="
    bash ci/tidy.sh
  fi
done
echo "=== ci/test.sh: all presets passed: ${presets[*]} ==="
if [ "$all" -eq 1 ]; then
  # A project built against the installed package, as a user's would be.
  echo "=== ci/test.sh: installed package and examples/consumer ==="
  bash ci/consumer.sh
fi
