#!/usr/bin/env bash
# The first job after cloning: build, list the backends, and run the network on the
# golden net_f12 case (MONAI's weights file and input), checking the logits against
# MONAI's. Needs ../shared/golden (or SWU_GOLDEN_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
golden="${SWU_GOLDEN_DIR:-$(pwd)/../shared/golden}"
bash scripts/build.sh
build/bin/swinunetr info
build/bin/swinunetr forward --weights "$golden/net_f12/model.pt" --input "$golden/net_f12/input.npy" \
    --output build/demo_logits.npy --threads 2
build/bin/swinunetr compare build/demo_logits.npy "$golden/net_f12/logits.npy"
