#!/usr/bin/env bash
# Installs interleave and builds examples/consumer against the INSTALLED package, then runs its
# tests: the check that `cmake --install` gives a working find_package(interleave CONFIG).
#   build/install-tree    Release build of everything that installs (no tests, no benchmarks)
#   build/install-prefix  the `cmake --install` prefix (emptied first, so nothing stale is found)
#   build/consumer        examples/consumer configured with CMAKE_PREFIX_PATH=build/install-prefix
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build/install-tree -DCMAKE_BUILD_TYPE=Release \
  -DINTERLEAVE_BUILD_TESTS=OFF -DINTERLEAVE_BUILD_BENCHMARKS=OFF -DINTERLEAVE_WERROR=ON
cmake --build build/install-tree -j"${jobs}"
rm -rf build/install-prefix
cmake --install build/install-tree --prefix "${root}/build/install-prefix"

# A fresh consumer build each time: the package must be found in the prefix, not in a cache.
rm -rf build/consumer
cmake -S examples/consumer -B build/consumer -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="${root}/build/install-prefix" -DCMAKE_COMPILE_WARNING_AS_ERROR=ON
found=$(sed -n 's/^interleave_DIR:PATH=//p' build/consumer/CMakeCache.txt)
if [ "${found}" != "${root}/build/install-prefix/lib/cmake/interleave" ]; then
  echo "ci/consumer.sh: interleave was found at '${found}', not in build/install-prefix" >&2
  exit 1
fi
cmake --build build/consumer -j"${jobs}"
ctest --test-dir build/consumer --output-on-failure
echo "ci/consumer.sh: examples/consumer built against build/install-prefix and passed"
