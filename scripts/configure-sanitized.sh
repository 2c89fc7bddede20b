#!/usr/bin/env bash
# Configures build-asan/: clang with AddressSanitizer + UndefinedBehaviorSanitizer, the
# libFuzzer targets, and the oneDNN backend only (LibTorch itself is not instrumented
# and would only slow this build down). Shared by scripts/sanitize.sh and scripts/fuzz.sh.
# -O1 is what the sanitizer documentation recommends: quick to compile, clear stacks.
set -euo pipefail
cd "$(dirname "$0")/.."
CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
  -DSWU_SANITIZE=address,undefined -DSWU_BUILD_FUZZERS=ON \
  -DSWU_BACKEND_TORCH=OFF -DSWU_BACKEND_ONEDNN=ON "$@" >/dev/null
