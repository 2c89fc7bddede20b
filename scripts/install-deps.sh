#!/usr/bin/env bash
# The one list of Debian packages swinunetr needs to build and test.
# Used by the README's set-up command and by .ci/run. Run as root (or with sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  zlib1g-dev
  libtorch-dev            # LibTorch 1.13 (CPU) for backends/torch
  libgloo-dev             # the gloo headers of LibTorch's c10d ProcessGroupGloo: distributed training on CPUs
  libopenblas0-pthread    # without it LibTorch falls back to reference BLAS (~30x slower)
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers  # oneDNN 2.6 for backends/onednn (its CMake config demands OpenCL)
  libinsighttoolkit5-dev  # ITK 5.2: NIfTI, NRRD, MetaImage and DICOM I/O
  libdcmtk-dev            # DCMTK 3.6.7 (dcmseg, dcmrt): DICOM SEG and RT Structure Set output (SWU_WITH_DCMTK)
  dcmtk                   # storescu, echoscu, dcmcjpeg: the peers of the serve node's test (tests/node)
  orthanc                 # the DICOM server the serve node's test pushes from and sends SEGs to (tests/node)
  openssl                 # certificates for the serve node's DICOM TLS test (tests/node)
  libssl-dev              # SHA-256 of the weights in segment's organ report (libcrypto)
  libpng-dev              # segment --preview writes PNG through libpng
  catch2                  # v2 test framework
  nlohmann-json3-dev      # JSON reading and writing (header-only)
  libcli11-dev            # the command line of cli/ (header-only)
  python3-pydicom         # its test data holds a small real CT series the DICOM tests read;
                          # the DICOM tests write synthetic series and check SEGs with it
  python3-numpy           # pydicom's pixel data in the DICOM tests; bindings/python and its test
  python3-venv python3-setuptools python3-wheel  # the bindings/python package pip-installed into a venv, offline (its test)
  python3-pytest          # that test runs the binding's test under pytest too
  dicom3tools             # dciodvfy: the DICOM SEG tests validate the objects written
  python3                 # scripts/ helpers
  python3-torch           # the training tests check that Python's torch.load reads our model.pt
  mono-mcs mono-runtime   # bindings/csharp: compiled with mcs, tested with mono
  clang libclang-rt-14-dev libomp-14-dev  # fuzzing and sanitizer builds: libFuzzer and ASan/UBSan/TSan runtimes, clang's OpenMP
)
# bindings/rust needs cargo (edition 2021, Rust >= 1.63): a rustup toolchain in
# ~/.cargo/bin is used when present, else Debian's cargo/rustc (1.63 in Debian 12).
if ! command -v cargo >/dev/null && [ ! -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
  packages+=(cargo)
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${packages[@]}"
