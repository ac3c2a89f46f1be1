#!/usr/bin/env bash
# Checks the tutorial program's output against what the Python tutorial prints.
# usage: expected_output.sh <path to tutorial>
set -euo pipefail
tutorial=$1
fail() { echo "tutorial output check: $*" >&2; exit 1; }

# Programs whose output is fully determined: exact comparison.
expected_fixed=$(printf '%s\n' \
  "== 1.2 Thread synchronization with a lock ==" "Final counter value: 2000" "" \
  "== 2.2 Communication between processes: Queue ==" 0 1 2 3 4 "Both processes are done." "" \
  "== 2.2 Communication between processes: Pipe ==" 0 1 2 3 4 "Both processes are done." "")
actual_fixed=$("$tutorial" lock queue pipe)
[ "$actual_fixed" == "$expected_fixed" ] || fail "lock/queue/pipe differ:"$'\n'"$actual_fixed"

# The Condition and Barrier examples of Python's threading documentation: also fully determined.
expected_docs=$(printf '%s\n' \
  "== 3.1 Waiting for an item with a Condition ==" "Consumed 0" "Consumed 1" "Consumed 2" "Consumed 3" \
  "Consumed 4" "Both threads are done." "" \
  "== 3.2 Meeting at a Barrier ==" "Server started." "Both are ready." "Client connects." "")
actual_docs=$("$tutorial" condition barrier)
[ "$actual_docs" == "$expected_docs" ] || fail "condition/barrier differ:"$'\n'"$actual_docs"

# Two threads (processes) printing 0..4 interleave: each number twice, in rounds, then the line.
for program in threads processes; do
  out=$("$tutorial" "$program")
  numbers=$(printf '%s\n' "$out" | grep -E '^[0-9]$' | sort | tr '\n' ' ')
  [ "$numbers" == "0 0 1 1 2 2 3 3 4 4 " ] || fail "$program printed '$numbers'"
  last=$(printf '%s\n' "$out" | grep -v '^$' | tail -n 1)
  case "$program" in
    threads) [ "$last" == "Both threads are done." ] || fail "threads ended with '$last'" ;;
    processes) [ "$last" == "Both processes are done." ] || fail "processes ended with '$last'" ;;
  esac
done

# Bad usage is refused with a message and status 2.
set +e
"$tutorial" no-such-program 2>/dev/null
status=$?
set -e
[ "$status" -eq 2 ] || fail "an unknown program name gave status $status, not 2"
echo "tutorial output matches the Python tutorial"
