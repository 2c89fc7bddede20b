#!/usr/bin/env bash
# Builds the LibTorch plugin a second time, against pip's CUDA torch 2.x and the CUDA
# toolkit (default /usr/local/cuda), into build-cuda/: core, plugin (SWU_TORCH_CUDA=ON),
# CLI and swu_torch_gpu_check. CI runs it so that the CUDA-only code (AMP autocast,
# device properties, the torch 2.x side of backends/torch/torch_compat.hpp) can never
# rot unseen; no GPU is needed. It then checks that the plugin loads and advertises
# fp16/bf16, and runs the fp32 golden net_f12 case through this build on the CPU
# (a few seconds). On a GPU machine, scripts/gpu-check.sh runs the GPU checks.
#
#   scripts/build-cuda-plugin.sh [BUILD_DIR]
# Environment: PYTHON (default python3; torch is pip-installed into it if missing),
# CUDA_HOME (default /usr/local/cuda), SWU_GOLDEN_DIR (default ../shared/golden).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-cuda}
py=${PYTHON:-python3}
cuda=${CUDA_HOME:-/usr/local/cuda}

# pip's default torch wheel for Linux x86-64 is a CUDA build; pip keeps its download cache.
if ! "$py" -c 'import torch' 2>/dev/null; then
    echo "build-cuda-plugin: installing torch into $py (pip)"
    "$py" -m pip install --quiet torch
fi
torch_root=$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)
torch_cuda=$("$py" -c 'import torch; print(torch.version.cuda or "")' 2>/dev/null)
echo "torch at $torch_root, CUDA ${torch_cuda:-none}"
[ -n "$torch_cuda" ] || { echo "build-cuda-plugin: this torch has no CUDA"; exit 1; }
[ -x "$cuda/bin/nvcc" ] || { echo "build-cuda-plugin: no CUDA toolkit at $cuda (set CUDA_HOME)"; exit 1; }
export PATH="$cuda/bin:$PATH"

mkdir -p "$build"
# CMAKE_PREFIX_PATH is torch's package folder: with only torch.utils.cmake_prefix_path,
# Debian's /usr/lib/.../libtorch.so would be picked up instead of pip's.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_root" \
    -DCUDAToolkit_ROOT="$cuda" -DSWU_TORCH_CUDA=ON -DSWU_TORCH_GPU_CHECK=ON -DSWU_BUILD_TESTS=OFF \
    -DSWU_BACKEND_ONEDNN=OFF -DSWU_WITH_ITK=OFF >"$build/configure.log" 2>&1 || {
    cat "$build/configure.log"; exit 1; }
grep 'swinunetr torch backend' "$build/configure.log"
cmake --build "$build" --target swinunetr_torch swinunetr_cli swu_torch_gpu_check 2>&1 | tee "$build/build.log"
# Our sources must compile without warnings against this torch as well.
if grep -E '(backends|lib|cli|include|tests)/[^ ]*: warning:' "$build/build.log"; then
    echo "build-cuda-plugin: compiler warnings in the CUDA build"; exit 1
fi

"$build/bin/swinunetr" info | tee "$build/info.log"
grep -q 'capabilities infer,train,fp32,bf16,fp16' "$build/info.log" || {
    echo "build-cuda-plugin: the CUDA build of the torch plugin does not load or lacks fp16/bf16"; exit 1; }

golden=${SWU_GOLDEN_DIR:-$(pwd)/../shared/golden}
if [ -f "$golden/net_f12/model.pt" ]; then
    SWU_GOLDEN_DIR="$golden" "$build/bin/swu_torch_gpu_check" --device cpu --precisions fp32 --no-f48 --no-bench --no-train
else
    echo "build-cuda-plugin: no golden data at $golden; parity skipped"
fi
