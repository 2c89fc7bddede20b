#!/usr/bin/env python3
"""Make a MONAI reference for `swinunetr forward`: random SwinUNETR weights saved as a
model.pt, a random input .npy, and MONAI's logits .npy.

Needs torch and monai (e.g. Debian's python3-torch and `pip install monai==1.3.2`);
not used by the tests, which compare against ../shared/golden. Example:

    scripts/monai_reference.py --feature-size 12 --shape 2 1 64 96 128 --seed 3 --out /tmp/ref
    build/bin/swinunetr forward --weights /tmp/ref/model.pt --input /tmp/ref/input.npy --output /tmp/ref/ours.npy
    build/bin/swinunetr compare /tmp/ref/ours.npy /tmp/ref/logits.npy
"""
import argparse
import os

import numpy as np
import torch
from monai.networks.nets import SwinUNETR


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feature-size", type=int, default=12)
    ap.add_argument("--shape", type=int, nargs=5, default=[1, 1, 64, 64, 64], metavar=("N", "C", "D", "H", "W"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--downsample", default="merging", help="merging (MONAI's legacy in <= 1.4) or mergingv2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    net = SwinUNETR(img_size=tuple(args.shape[2:]), in_channels=args.shape[1], out_channels=14,
                    feature_size=args.feature_size, downsample=args.downsample).eval()
    # Fresh init leaves biases at zero and norms at one; perturb them so they are tested too.
    with torch.no_grad():
        for name, p in net.named_parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.05)
    torch.save(net.state_dict(), os.path.join(args.out, "model.pt"))
    g = torch.Generator().manual_seed(args.seed + 1)
    x = torch.rand(args.shape, generator=g)
    with torch.no_grad():
        y = net(x)
    np.save(os.path.join(args.out, "input.npy"), x.numpy())
    np.save(os.path.join(args.out, "logits.npy"), y.numpy())
    print(f"wrote {args.out}/model.pt, input.npy {tuple(x.shape)}, logits.npy {tuple(y.shape)}")


if __name__ == "__main__":
    main()
