#!/usr/bin/env bash
# The first job after cloning: build, list the backends, make a synthetic CT and segment
# it with the repository's demo model, then score the result against the phantom's own
# labels. DEMO ONLY: models/phantom_f12.pt is a small network (feature size 12) trained
# from scratch on synthetic phantoms by scripts/train-demo-model.sh; it knows phantoms,
# not patients. The bundle's real weights are the same command:
#   SWU_DEMO_WEIGHTS=/path/to/swin_unetr_btcv_segmentation/models/model.pt scripts/demo.sh
#   build/bin/swinunetr segment CT.nii.gz labels.nii.gz --weights model.pt
# It also checks the raw network against MONAI on the golden net_f12 case.
set -euo pipefail
cd "$(dirname "$0")/.."
golden="${SWU_GOLDEN_DIR:-$(pwd)/../shared/golden}"
weights="${SWU_DEMO_WEIGHTS:-models/phantom_f12.pt}"
# The demo model was trained on 64^3 crops and segments with 64^3 windows; the bundle's
# weights with its own 96^3.
roi=96
[ -n "${SWU_DEMO_WEIGHTS:-}" ] || roi=64
bash scripts/build.sh
build/bin/swinunetr info
mkdir -p build/demo
# Seed 0, the reference layout: not one of the demo model's training phantoms (1..12).
build/bin/swu_make_phantom build/demo/ct.nii.gz --labels build/demo/truth.nii.gz
build/bin/swinunetr segment build/demo/ct.nii.gz build/demo/labels.nii.gz --weights "$weights" --roi "$roi" --threads 2
echo '{"validation": [{"image": "ct.nii.gz", "label": "truth.nii.gz"}]}' > build/demo/datalist.json
build/bin/swinunetr evaluate --weights "$weights" --datalist build/demo/datalist.json \
    --report build/demo/dice.json --roi "$roi" --threads 2
build/bin/swinunetr forward --weights "$golden/net_f12/model.pt" --input "$golden/net_f12/input.npy" \
    --output build/demo/logits.npy --threads 2
build/bin/swinunetr compare build/demo/logits.npy "$golden/net_f12/logits.npy"
