#!/usr/bin/env bash
# The main job: installs what is missing, builds the release preset and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target tutorial >/dev/null
./build/release/examples/tutorial/tutorial "$@"
