#!/usr/bin/env bash
# The test command: installs what is missing, then configures, builds and tests every preset CI
# runs. Usage: ci/test.sh [preset...]   (default: dev release clang tsan asan-ubsan)
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(dev release clang tsan asan-ubsan)

for preset in "${presets[@]}"; do
  echo "=== ci/test.sh: preset ${preset} ==="
  cmake --workflow --preset "${preset}"
done
echo "=== ci/test.sh: all presets passed: ${presets[*]} ==="
echo "=== ci/test.sh: installed package and examples/consumer ===" && bash ci/consumer.sh
