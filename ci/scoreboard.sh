#!/usr/bin/env bash
# The bug-finding scoreboard: builds the release preset's scoreboard program and runs every zoo
# bug under every strategy (the model's random walk and PCT d=1..3, a plain std::thread loop, the
# Perturbed platform), 20 seeds each, writing docs/scoreboard.md. A full run takes a few minutes.
#
#   ci/scoreboard.sh                          # the full run, into docs/scoreboard.md
#   ci/scoreboard.sh --filter=Queue --seeds=5 --output=-   # flags go to the program (--help)
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target scoreboard >/dev/null
exec ./build/release/bench/scoreboard --output=docs/scoreboard.md "$@"
