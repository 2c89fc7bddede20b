#!/usr/bin/env python3
"""Compare our runtimes with MONAI eager, OpenVINO and ONNX Runtime on the SAME network and weights.

A tool for people comparing speed and accuracy; no test depends on it. It builds MONAI 1.4's
SwinUNETR (in 1, out 14, feature size 48 by default), takes its weights from --weights (a
state_dict, as MONAI bundles ship model.pt) or from torch.manual_seed(0) random init saved to
<workdir>/model.pt, makes a seeded {1, 1, S, S, S} float32 input (<workdir>/input.npy), exports
<workdir>/swin_unetr.onnx (opset 18, TorchScript exporter), then times, after one warm-up, the
median of --repeats forwards on --threads threads:
  MONAI eager (PyTorch fp32, also the reference logits), OpenVINO CPU f32 and bf16 (bf16 only where
  /proc/cpuinfo has avx512_bf16 or amx_bf16), ONNX Runtime CPU EP, and ours
  (`swinunetr bench` for times, `swinunetr forward` for logits; onednn and torch, fp32 and bf16).
The table gives per-window seconds, the ratio to our onednn fp32 (> 1: slower than ours), the share
of voxels whose argmax over the 14 classes equals the reference's, and the max |logit difference|.

Install (a dedicated venv; never the system python3):
  python3 -m venv venv && venv/bin/pip install 'monai==1.4.*' openvino onnxruntime onnx torch einops
(einops: MONAI 1.4's SwinUNETR calls einops.rearrange but does not declare it.)
Run (from the repository root, after building into build/):
  venv/bin/python bench/compare-runtimes.py --threads 2 --repeats 3
  venv/bin/python bench/compare-runtimes.py --feature-size 12 --size 64 --workdir /tmp/cmp
  venv/bin/python bench/compare-runtimes.py --workdir /tmp/cmp --skip-export   # reuse its files
"""
import argparse
import inspect
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

try:
    import numpy as np
    import torch
except ImportError as e:
    sys.exit(f"{e}: run this with the venv's python (see the install line at the top of {__file__})")

warnings.filterwarnings("ignore")  # MONAI's img_size deprecation, exporter chatter
ROOT = Path(__file__).resolve().parent.parent
OPSET = 18
CLASSES = 14


def cpu_info():
    text = Path("/proc/cpuinfo").read_text()
    name = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    flags = set(re.search(r"^flags\s*:\s*(.*)$", text, re.M).group(1).split())
    return (name.group(1) if name else "unknown CPU"), flags


def median_time(run, repeats):
    """One warm-up, then the median wall time of `repeats` calls; returns (seconds, last output)."""
    out = run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def stage(label, start):
    print(f"[{label}: {time.perf_counter() - start:.1f} s]", flush=True)


def export_onnx(model, x, path):
    """Opset 18, or the highest the installed torch can do (said loudly)."""
    # The TorchScript exporter: the dynamo one (torch >= 2.9's default) needs onnxscript too.
    kw = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    for opset in range(OPSET, 12, -1):
        try:
            torch.onnx.export(model, (x,), str(path), opset_version=opset, input_names=["input"],
                              output_names=["logits"], **kw)
        except Exception as e:  # noqa: BLE001 - any refusal means: try the next lower opset
            print(f"ONNX export at opset {opset} failed: {str(e).splitlines()[0][:200]}")
            continue
        if opset != OPSET:
            print(f"WARNING: torch {torch.__version__} cannot export opset {OPSET}; used opset {opset}")
        else:
            print(f"ONNX exported at opset {opset}: {path}")
        return
    sys.exit("ONNX export failed at every opset from 18 down to 13")


def openvino_run(onnx_path, x, precision, threads):
    import openvino as ov
    compiled = ov.Core().compile_model(str(onnx_path), "CPU", {
        "INFERENCE_PRECISION_HINT": precision, "INFERENCE_NUM_THREADS": str(threads),
        "NUM_STREAMS": "1", "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()
    return lambda: request.infer({0: x})[compiled.output(0)].copy()


def onnxruntime_run(onnx_path, x, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    return lambda: session.run(None, {"input": x})[0]


BENCH_LINE = re.compile(r"^(\w+)\s+(\w+)\s+batch\s+1\s+(?:median\s.*?per window\s+([\d.]+) ms"
                        r"|(?:unsupported|not available):\s*(.*?)(?:\s+peak RSS.*)?$)")


def ours(args, exe, weights, workdir):
    """{(backend, precision): (seconds or None, logits or None, note)} from `bench` and `forward`."""
    configs = [(b, p) for b in ("onednn", "torch") for p in ("fp32", "bf16")]
    results = {c: [None, None, ""] for c in configs}
    start = time.perf_counter()
    cmd = [str(exe), "bench", "--weights", str(weights), "--backends", "onednn,torch",
           "--precisions", "fp32,bf16", "--batches", "1", "--size", str(args.size), "--threads", str(args.threads),
           "--repeats", str(args.repeats)]
    print("$", " ".join(cmd), flush=True)
    run = subprocess.run(cmd, capture_output=True, text=True)
    print(run.stdout, end="")
    if run.returncode != 0:
        print(f"swinunetr bench failed (exit {run.returncode}):\n{run.stderr.strip()}")
    for line in run.stdout.splitlines():
        m = BENCH_LINE.match(line.strip())
        if m and (m[1], m[2]) in results:
            if m[3]:
                results[m[1], m[2]][0] = float(m[3]) / 1000
            else:
                results[m[1], m[2]][2] = f"not available: {m[4]}"  # the table shows it
    stage("ours: bench", start)
    for backend, precision in configs:
        if results[backend, precision][2]:
            continue  # bench already refused it
        start = time.perf_counter()
        out = workdir / f"ours_{backend}_{precision}.npy"
        cmd = [str(exe), "forward", "--weights", str(weights), "--input", str(workdir / "input.npy"),
               "--output", str(out), "--backend", backend, "--precision", precision,
               "--threads", str(args.threads)]
        print("$", " ".join(cmd), flush=True)
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode == 0:
            results[backend, precision][1] = np.load(out)
        else:
            message = (run.stderr.strip() or run.stdout.strip()).splitlines()
            results[backend, precision][2] = f"forward failed: {message[-1] if message else run.returncode}"
            print(f"swinunetr forward failed (exit {run.returncode}):\n{run.stderr.strip()}")
        stage(f"ours: forward {backend} {precision}", start)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, help="state_dict .pt (default: seeded random init)")
    parser.add_argument("--feature-size", type=int, default=48)
    parser.add_argument("--size", type=int, default=96, help="cubic window edge, a multiple of 32")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--build", type=Path, default=Path("build"), help="relative to the repository root")
    parser.add_argument("--workdir", type=Path, help="default: a fresh temporary directory")
    parser.add_argument("--skip-export", action="store_true",
                        help="reuse model.pt, input.npy and swin_unetr.onnx from --workdir")
    args = parser.parse_args()
    if args.skip_export and not args.workdir:
        parser.error("--skip-export needs --workdir")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="swu-compare-"))
    workdir.mkdir(parents=True, exist_ok=True)
    exe = ROOT / args.build / "bin" / "swinunetr"
    weights = args.weights or workdir / "model.pt"
    onnx_path = workdir / "swin_unetr.onnx"
    S, N = args.size, args.threads
    torch.set_num_threads(N)

    import monai
    import onnxruntime
    import openvino
    from monai.networks.nets import SwinUNETR
    cpu, flags = cpu_info()
    has_bf16 = bool({"avx512_bf16", "amx_bf16"} & flags)
    print(f"CPU: {cpu}; avx512f {'avx512f' in flags}, avx512_bf16 {'avx512_bf16' in flags}, "
          f"amx {'amx_bf16' in flags or 'amx_tile' in flags}; {os.cpu_count()} logical CPUs")
    print(f"torch {torch.__version__}, monai {monai.__version__}, openvino {openvino.__version__}, "
          f"onnxruntime {onnxruntime.__version__}")
    print(f"feature size {args.feature_size}, window {S}^3, {N} threads, median of {args.repeats} "
          f"after 1 warm-up; workdir {workdir}", flush=True)

    start = time.perf_counter()
    torch.manual_seed(0)
    model = SwinUNETR(img_size=(S, S, S), in_channels=1, out_channels=CLASSES,
                      feature_size=args.feature_size, use_checkpoint=False).eval()
    if args.weights or args.skip_export:
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    else:
        torch.save(model.state_dict(), weights)
    if args.skip_export:
        x = np.load(workdir / "input.npy")
    else:
        x = np.random.default_rng(0).standard_normal((1, 1, S, S, S), dtype=np.float32)
        np.save(workdir / "input.npy", x)
    stage("model and input", start)
    if not args.skip_export:
        start = time.perf_counter()
        export_onnx(model, torch.from_numpy(x), onnx_path)
        stage("ONNX export", start)

    rows = []  # (engine, precision, seconds or None, logits or None, note)
    start = time.perf_counter()
    with torch.inference_mode():
        seconds, ref = median_time(lambda: model(torch.from_numpy(x)).numpy(), args.repeats)
    rows.append(("MONAI eager", "fp32", seconds, ref, "reference"))
    del model
    stage("MONAI eager", start)

    peers = [("OpenVINO CPU", "fp32", lambda: openvino_run(onnx_path, x, "f32", N))]
    if has_bf16:
        peers.append(("OpenVINO CPU", "bf16", lambda: openvino_run(onnx_path, x, "bf16", N)))
    else:
        print("OpenVINO bf16 skipped: /proc/cpuinfo has neither avx512_bf16 nor amx_bf16 "
              "(OpenVINO would silently run f32)")
    peers.append(("ONNX Runtime CPU", "fp32", lambda: onnxruntime_run(onnx_path, x, N)))
    for engine, precision, make in peers:
        start = time.perf_counter()
        seconds, out = median_time(make(), args.repeats)
        rows.append((engine, precision, seconds, out, ""))
        stage(f"{engine} {precision}", start)

    if exe.is_file():
        for (backend, precision), (seconds, out, note) in ours(args, exe, weights, workdir).items():
            rows.append((f"ours {backend}", precision, seconds, out, note))
    else:
        print(f"ours skipped: {exe} not found (build first, or pass --build)")

    base = next((r[2] for r in rows if r[:2] == ("ours onednn", "fp32")), None)
    ref_arg = ref.argmax(axis=1)
    print(f"\n{'engine':<17} {'prec':<5} {'s/window':>9} {'vs ours':>8} {'argmax =':>9} {'max |diff|':>11}  note")
    for engine, precision, seconds, out, note in rows:
        t = f"{seconds:9.3f}" if seconds is not None else f"{'-':>9}"
        ratio = f"{seconds / base:8.2f}" if seconds is not None and base else f"{'-':>8}"
        if out is not None and out.shape == ref.shape:
            agree = f"{100 * np.mean(out.argmax(axis=1) == ref_arg):8.3f}%"
            diff = f"{np.abs(out - ref).max():11.3g}"
        else:
            agree, diff = f"{'-':>9}", f"{'-':>11}"
            note = note or ("" if out is None else f"output shape {out.shape}")
        print(f"{engine:<17} {precision:<5} {t} {ratio} {agree} {diff}  {note}")


if __name__ == "__main__":
    main()
