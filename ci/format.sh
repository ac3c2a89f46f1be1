#!/usr/bin/env bash
# Checks that every C++ source under version control is formatted as .clang-format says; exits
# non-zero listing the files that drift. `ci/format.sh --fix` rewrites them instead.
set -euo pipefail
cd "$(dirname "$0")/.."
fix=0
if [ "${1:-}" = "--fix" ]; then fix=1; elif [ $# -gt 0 ]; then
  echo "usage: ci/format.sh [--fix]" >&2
  exit 2
fi
command -v clang-format >/dev/null || bash ci/setup.sh
mapfile -t files < <(git ls-files '*.cpp' '*.h' '*.hpp' | grep -v '^fuzz/corpus/')
if [ "$fix" -eq 1 ]; then
  clang-format -i "${files[@]}"
  echo "ci/format.sh: formatted ${#files[@]} files"
  exit 0
fi
drift=()
for f in "${files[@]}"; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || drift+=("$f")
done
if [ ${#drift[@]} -gt 0 ]; then
  echo "ci/format.sh: ${#drift[@]} file(s) differ from .clang-format (run ci/format.sh --fix):" >&2
  printf '  %s\n' "${drift[@]}" >&2
  exit 1
fi
echo "ci/format.sh: ${#files[@]} files formatted as .clang-format says"
