#!/usr/bin/env bash
# Configures and builds swinunetr into build/ (Release, Ninja). Extra arguments go to
# CMake's configure step, e.g. scripts/build.sh -DSWU_GOLDEN_DIR=/data/golden
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build
