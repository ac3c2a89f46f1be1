#!/bin/sh
# Usage: check_no_harness.sh <libinterleave_harness.a> <test executable>...
# Fails when a test executable defines (strongly) a symbol the harness library defines: it linked
# the harness, directly or through interleave::gtest_main. Inline and template code both may
# instantiate is weak and not compared.
set -eu
lib=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
strong() { nm --defined-only --extern-only "$1" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TDBR]$/ { print $3 }' | sort -u; }
strong "$lib" >"$tmp/harness"
if [ ! -s "$tmp/harness" ]; then
  echo "check_no_harness.sh: no symbols read from $lib" >&2
  exit 2
fi
status=0
for exe in "$@"; do
  strong "$exe" >"$tmp/exe"
  comm -12 "$tmp/harness" "$tmp/exe" >"$tmp/common"
  if [ -s "$tmp/common" ]; then
    echo "$exe links the harness: it defines $(wc -l <"$tmp/common") of its symbols, e.g.:"
    head -5 "$tmp/common" | c++filt | sed 's/^/  /'
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "$# primitives test executables, none links the harness"
exit "$status"
