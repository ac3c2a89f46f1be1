#!/usr/bin/env bash
# clang-tidy (.clang-tidy) on the project's own library sources, with the compile commands of the
# clang preset; any finding fails. Usage: ci/tidy.sh [file...]   (default: every library source)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-tidy >/dev/null || bash ci/setup.sh
if [ ! -f build/clang/compile_commands.json ]; then
  cmake --preset clang >/dev/null
fi
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files 'primitives/src/*.cpp' 'harness/src/*.cpp' 'harness/gtest_main/*.cpp')
fi
jobs=$(nproc)
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -n 1 clang-tidy -p build/clang --quiet
echo "ci/tidy.sh: ${#files[@]} files clean"
