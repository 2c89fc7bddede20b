#!/usr/bin/env bash
# The first job after cloning: build, list the backends, make a synthetic CT and
# segment it. DEMO ONLY: the weights are the golden test network (random, untrained
# MONAI weights from ../shared/golden), so the "organs" it finds mean nothing. With
# the bundle's real models/model.pt it is the same command:
#   build/bin/swinunetr segment CT.nii.gz labels.nii.gz --weights model.pt
# It also checks the raw network against MONAI on the golden net_f12 case.
set -euo pipefail
cd "$(dirname "$0")/.."
golden="${SWU_GOLDEN_DIR:-$(pwd)/../shared/golden}"
weights="${SWU_DEMO_WEIGHTS:-$golden/net_f12/model.pt}"
bash scripts/build.sh
build/bin/swinunetr info
mkdir -p build/demo
build/bin/swu_make_phantom build/demo/ct.nii.gz
build/bin/swinunetr segment build/demo/ct.nii.gz build/demo/labels.nii.gz --weights "$weights" --threads 2
build/bin/swinunetr forward --weights "$golden/net_f12/model.pt" --input "$golden/net_f12/input.npy" \
    --output build/demo/logits.npy --threads 2
build/bin/swinunetr compare build/demo/logits.npy "$golden/net_f12/logits.npy"
