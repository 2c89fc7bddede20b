#!/usr/bin/env bash
# GPU check for the LibTorch backend (issue 6), for a machine with an NVIDIA GPU, a CUDA
# toolkit (nvcc) and a pip torch 2.x with CUDA. It
#   1. builds the core, the LibTorch plugin (against that torch, SWU_TORCH_CUDA=ON), the
#      CLI and swu_torch_gpu_check into build-gpu/ (no tests: Catch2 is not needed);
#   2. lists the backend's devices (name, memory) and runs `swinunetr forward` +
#      `swinunetr compare` on the golden net_f12 case on the GPU in fp32;
#   3. runs swu_torch_gpu_check: golden parity of net_f12 (MONAI's model.pt) and net_f48
#      (the bundle-sized network with the formula weights, batch 2) in fp32 (golden
#      tolerance) and in AMP fp16 / bf16 (looser tolerance, argmax agreement >= 99 %),
#      and the per-window forward times at batch 1 and 4 (median of 7 after 2 warm-ups);
#      then training: golden train_step parity in fp32 (losses, step-1 gradients) and AMP,
#      and the time of a training step of the bundle's network (f48, 96^3, batch 4) in
#      fp32 and AMP. (NCCL needs two GPUs; a one-GPU machine cannot check it.)
# Exit status 0 when everything built and passed. Took 75-82 s on an H200 (16 cores).
#
#   scripts/gpu-check.sh [BUILD_DIR]
# Environment: PYTHON (python3 with torch), SWU_GPU_DEVICE (cuda:0), SWU_GOLDEN_DIR
# (default ../shared/golden, else $SWU_GPU_VENDOR/golden), SWU_GPU_CHECK_ARGS (options of
# swu_torch_gpu_check replacing the default checks), SWU_GPU_VENDOR (default
# build-gpucarry: an optional folder with golden/, zlib/{include,lib} and include/ (the
# header-only nlohmann_json and CLI11) for machines without the golden data or those
# headers; see the end of this file).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
step() { printf '\n== %s  [%ds]\n' "$*" $(($(date +%s) - t0)); }

build=${1:-build-gpu}
py=${PYTHON:-python3}
device=${SWU_GPU_DEVICE:-cuda:0}
vendor=${SWU_GPU_VENDOR:-build-gpucarry}

step "environment"
date -u
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available"
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
command -v nvcc >/dev/null && nvcc --version | tail -1 || echo "nvcc: not found (CMake's CUDA detection will fail)"
torch_root=$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null) || {
    echo "gpu-check: '$py' cannot import torch (pip install torch)"; exit 1; }
"$py" -c 'import torch; print("torch", torch.__version__, "| CUDA", torch.version.cuda, "| cuDNN", torch.backends.cudnn.version(), "| GPU", torch.cuda.is_available() and torch.cuda.get_device_name(0))' 2>/dev/null

golden=${SWU_GOLDEN_DIR:-}
for g in "$golden" "$(pwd)/../shared/golden" "$(pwd)/$vendor/golden"; do
    if [ -n "$g" ] && [ -f "$g/net_f12/model.pt" ]; then golden=$(cd "$g" && pwd); break; fi
done
[ -f "$golden/net_f12/model.pt" ] || { echo "gpu-check: no golden data (set SWU_GOLDEN_DIR)"; exit 1; }
echo "golden data: $golden"
export SWU_GOLDEN_DIR="$golden"

cmake_args=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_root" -DSWU_TORCH_CUDA=ON
            -DSWU_TORCH_GPU_CHECK=ON -DSWU_BUILD_TESTS=OFF -DSWU_WITH_ITK=OFF
            -DSWU_BACKEND_ONEDNN=OFF -DSWU_GOLDEN_DIR="$golden")
[ -d /usr/local/cuda ] && cmake_args+=(-DCUDAToolkit_ROOT=/usr/local/cuda)
# zlib: the system's headers, else the vendored copy (headers + a libz.so to link).
if echo '#include <zlib.h>' | c++ -x c++ -fsyntax-only - 2>/dev/null; then
    echo "zlib: system headers"
elif [ -f "$vendor/zlib/include/zlib.h" ] && [ -f "$vendor/zlib/lib/libz.so" ]; then
    echo "zlib: no system headers, using $vendor/zlib"
    cmake_args+=(-DZLIB_INCLUDE_DIR="$(pwd)/$vendor/zlib/include" -DZLIB_LIBRARY="$(pwd)/$vendor/zlib/lib/libz.so")
else
    echo "gpu-check: zlib headers not found (install zlib1g-dev or provide $vendor/zlib)"; exit 1
fi
# nlohmann_json and CLI11 (header-only): the system's, else the vendored copies.
if printf '#include <nlohmann/json.hpp>\n#include <CLI/CLI.hpp>\n' | c++ -std=c++17 -x c++ -fsyntax-only - 2>/dev/null; then
    echo "nlohmann_json, CLI11: system headers"
elif [ -f "$vendor/include/nlohmann/json.hpp" ] && [ -f "$vendor/include/CLI/CLI.hpp" ]; then
    echo "nlohmann_json, CLI11: no system headers, using $vendor/include"
    cmake_args+=(-DCMAKE_CXX_FLAGS="-isystem $(pwd)/$vendor/include")
else
    echo "gpu-check: nlohmann/json.hpp or CLI/CLI.hpp not found (install nlohmann-json3-dev libcli11-dev or provide $vendor/include)"; exit 1
fi
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

step "configure ($build, torch at $torch_root)"
mkdir -p "$build"
cmake -S . -B "$build" "${generator[@]}" "${cmake_args[@]}" >"$build/configure.log" 2>&1 || {
    cat "$build/configure.log"; exit 1; }
grep -E 'swinunetr torch backend|CUDA detected' "$build/configure.log" || true

step "build core + torch plugin + CLI + swu_torch_gpu_check"
cmake --build "$build" -j "$(nproc)" --target swinunetr swinunetr_torch swinunetr_cli swu_torch_gpu_check \
    >"$build/build.log" 2>&1 || { tail -60 "$build/build.log"; exit 1; }
warnings=$(grep -c 'warning:' "$build/build.log" || true)
echo "built; compiler warnings: $warnings"
[ "$warnings" = 0 ] || grep -A3 'warning:' "$build/build.log" | head -40

step "swinunetr info"
"$build/bin/swinunetr" info

step "CLI parity: net_f12 on $device, fp32, golden tolerance"
"$build/bin/swinunetr" forward --backend torch --device "$device" --weights "$golden/net_f12/model.pt" \
    --input "$golden/net_f12/input.npy" --output "$build/f12_logits_fp32.npy"
"$build/bin/swinunetr" compare "$build/f12_logits_fp32.npy" "$golden/net_f12/logits.npy"

step "golden parity fp32 / fp16 / bf16 and per-window timings on $device"
status=0
# SWU_GPU_CHECK_ARGS replaces the default checks, e.g. "--precisions fp32 --no-bench".
read -r -a check_args <<<"${SWU_GPU_CHECK_ARGS:---precisions fp32,fp16,bf16 --batches 1,4 --reps 7 --warmup 2}"
"$build/bin/swu_torch_gpu_check" --device "$device" "${check_args[@]}" || status=$?

step "done"
if [ "$status" = 0 ]; then echo "GPU CHECK PASSED in $(($(date +%s) - t0)) s"; else echo "GPU CHECK FAILED in $(($(date +%s) - t0)) s"; fi
exit "$status"

# Vendoring for a machine without ../shared/golden or zlib's headers (the session's
# device machine gets only the repository): from a machine that has both, e.g.
#   mkdir -p build-gpucarry/zlib/include build-gpucarry/zlib/lib build-gpucarry/golden/net_f12 build-gpucarry/golden/net_f48
#   cp /usr/include/zlib.h /usr/include/zconf.h build-gpucarry/zlib/include/
#   cp -L /usr/lib/x86_64-linux-gnu/libz.so build-gpucarry/zlib/lib/libz.so
#   mkdir -p build-gpucarry/include && cp -r /usr/include/nlohmann /usr/include/CLI build-gpucarry/include/
#   cp ../shared/golden/net_f12/{model.pt,input.npy,logits.npy} build-gpucarry/golden/net_f12/
#   cp ../shared/golden/net_f48/{keys.txt,positions.npy,logits_at_positions.npy,logits_stats.json,argmax.npy} \
#      build-gpucarry/golden/net_f48/
#   mkdir -p build-gpucarry/golden/train_step build-gpucarry/golden/pipeline
#   cp ../shared/golden/train_step/{input.npy,labels.npy,losses.json,grad_checksums_step1.json} \
#      build-gpucarry/golden/train_step/
#   cp ../shared/golden/pipeline/{image,labels}.nii.gz build-gpucarry/golden/pipeline/
# (build-*/ is ignored by git.)
