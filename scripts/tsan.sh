#!/usr/bin/env bash
# Runs the concurrency tests (tests/api/test_concurrency.cpp, "[concurrency]") under
# ThreadSanitizer: clang -fsanitize=thread in build-tsan/, oneDNN backend only. Models
# there use one thread each, so the uninstrumented OpenMP and oneDNN runtimes start no
# threads of their own and every thread TSan sees is one the test or library started.
# Exit status non-zero on any data race report or test failure. Not part of CI (the
# extra build takes ~10 minutes on 2 cores); run it after touching locking or state.
set -euo pipefail
cd "$(dirname "$0")/.."
CC=clang CXX=clang++ cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
  -DSWU_SANITIZE=thread -DSWU_BACKEND_TORCH=OFF -DSWU_BACKEND_ONEDNN=ON >/dev/null
cmake --build build-tsan --target swu_api_tests
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0:second_deadlock_stack=1:report_signal_unsafe=0}
export SWU_LOG_LEVEL=warning
set +e
build-tsan/bin/swu_api_tests "[concurrency],[bad_input]" --durations yes 2>&1 | tee build-tsan/tsan.log
rc=${PIPESTATUS[0]}
set -e
races=$(grep -c 'WARNING: ThreadSanitizer' build-tsan/tsan.log || true)
echo "ThreadSanitizer reports: $races; test exit status: $rc"
[ "$rc" -eq 0 ] && [ "$races" -eq 0 ]
