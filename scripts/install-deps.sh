#!/usr/bin/env bash
# The one list of Debian packages swinunetr needs to build and test.
# Used by the README's set-up command and by .ci/run. Run as root (or with sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  zlib1g-dev
  libtorch-dev            # LibTorch 1.13 (CPU) for backends/torch
  libopenblas0-pthread    # without it LibTorch falls back to reference BLAS (~30x slower)
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers  # oneDNN 2.6 for backends/onednn (its CMake config demands OpenCL)
  libinsighttoolkit5-dev  # ITK 5.2: NIfTI, NRRD, MetaImage and DICOM I/O
  catch2                  # v2 test framework
  python3-pydicom         # its test data holds a small real CT series the DICOM tests read
  python3                 # scripts/ helpers
  clang libclang-rt-14-dev libomp-14-dev  # fuzzing and sanitizer builds: libFuzzer and ASan/UBSan/TSan runtimes, clang's OpenMP
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${packages[@]}"
