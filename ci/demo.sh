#!/usr/bin/env bash
# The main job: installs what is missing, builds the release preset, then
#   1. runs the Python tutorial's five programs written with interleave's primitives, and
#   2. shows the harness at work: it explores the tutorial's counter without its lock, finds the
#      lost update, and the printed reproduce line is run to replay exactly that schedule; with
#      the lock, every one of 10,000 schedules gives 2000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target tutorial counter_demo >/dev/null

echo "################ 1. The tutorial's programs, with interleave's primitives ################"
./build/release/examples/tutorial/tutorial

echo "################ 2. The harness: the counter without its lock ################"
report=$(./build/release/examples/harness/counter_demo)
echo "$report"
line=$(printf '%s\n' "$report" | sed -n 's/^reproduce: //p')
if [ -z "$line" ]; then
  echo "ci/demo.sh: the harness printed no reproduce line" >&2
  exit 1
fi
echo
echo "################ 3. Running the printed line replays that exact schedule ################"
echo "\$ $line"
eval "$line" | head -3
echo
echo "################ 4. With the lock, every schedule gives 2000 ################"
./build/release/examples/harness/counter_demo --locked
