#!/usr/bin/env bash
# Installs every Debian package the build, tests and benchmarks need. Idempotent: when all are
# present it only checks (well under a second). Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  cmake make g++ clang clang-format clang-tidy
  libgtest-dev libgmock-dev librapidcheck-dev libabsl-dev libbenchmark-dev
  relacy-dev
  nlohmann-json3-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "ci/setup.sh: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "ci/setup.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
