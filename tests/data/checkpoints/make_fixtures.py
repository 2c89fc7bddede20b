#!/usr/bin/env python3
"""Writes the checkpoint-reader fixtures in this folder, using PyTorch's own writer.

Run it with any Python 3:  python3 tests/data/checkpoints/make_fixtures.py

Two PyTorch versions write the files, because their archives differ (1.13 has no
`byteorder` record; 2.x adds it, `.data/serialization_id`, and `_rebuild_parameter`):
  SWU_TORCH1_PYTHON (default /usr/bin/python3, Debian's torch 1.13) and
  SWU_TORCH2_PYTHON (default: `python3` on PATH, pip torch 2.x).
Each part runs in its own interpreter and reports what it wrote; `expected.json`
collects that so the C++ tests compare against what PyTorch itself produced.

The evil_*.pt files contain pickles that would run a shell command if Python's pickle
loaded them. This script only builds them; it never loads them.

Deterministic: fixed seeds, and the random serialization id of torch 2.x archives is
overwritten with zeros (CRCs fixed up), so re-running leaves the files byte-identical.
"""
import collections
import json
import os
import pickle
import pickletools
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = "/tmp/swu_pickle_exploit_marker"


def describe(t):
    """Shape, dtype and exact C-order values (floats widened exactly to float64)."""
    import torch
    flat = t.detach().contiguous().reshape(-1)
    out = {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")}
    if t.dtype in (torch.float16, torch.bfloat16):
        out["values"] = flat.float().tolist()
        out["bits"] = [b & 0xFFFF for b in flat.view(torch.int16).tolist()]
    elif t.dtype == torch.bool:
        out["values"] = [int(b) for b in flat.tolist()]
    elif t.dtype.is_floating_point:
        out["values"] = flat.double().tolist()
    else:
        out["values"] = flat.tolist()
    return out


def describe_dict(sd, strip_prefix=""):
    return [dict(name=k[len(strip_prefix):], **describe(v)) for k, v in sd.items()]


def save(obj, name, **kwargs):
    import torch
    torch.save(obj, os.path.join(HERE, name), **kwargs)


# ---------------------------------------------------------------- torch 1.13 part
def part_torch1():
    import torch
    assert torch.__version__.startswith("1."), torch.__version__
    torch.manual_seed(1234)
    exp = {}

    big = torch.randn(20)
    shared = torch.randn(10)
    views = collections.OrderedDict()
    views["contiguous"] = torch.randn(3, 4)
    views["offset_view"] = big[5:11]                        # storage offset 5 into 20 elements
    views["transposed"] = torch.randn(3, 5).t()             # strides (1, 5)
    views["permuted"] = torch.randn(2, 3, 4).permute(2, 0, 1)
    views["expanded"] = torch.randn(3).expand(4, 3)         # stride 0
    views["shared_a"] = shared[:4].view(2, 2)               # two views of one storage
    views["shared_b"] = shared[4:].view(3, 2)
    views["int64"] = torch.arange(-5, 7, dtype=torch.int64).reshape(3, 4) * 1000003
    views["scalar"] = torch.tensor(3.25)
    save(views, "views_f32.pt")
    exp["views_f32.pt"] = {"tensors": describe_dict(views)}

    halves = collections.OrderedDict()
    halves["half"] = (torch.randn(2, 3) * 10).half()
    halves["bf16"] = (torch.randn(5) * 100).bfloat16()
    halves["half_t"] = torch.randn(3, 2).half().t()
    save(halves, "half_bf16.pt")
    exp["half_bf16.pt"] = {"tensors": describe_dict(halves)}

    sd = torch.nn.Linear(3, 2).state_dict()
    wrapped = {
        "epoch": 3,
        "arch": "swinunetr",
        "best_metric": 0.8125,
        "flags": [True, False, None],
        "model": sd,
        "optimizer": {
            "state": {0: {"step": 10, "exp_avg": torch.zeros(2)}},
            "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.999), "params": [0, 1], "name": b"bytes\xff"}],
        },
    }
    save(wrapped, "wrapped_model.pt")
    exp["wrapped_model.pt"] = {"tensors": describe_dict(sd)}
    save({"state_dict": sd}, "wrapped_state_dict.pt")
    exp["wrapped_state_dict.pt"] = {"tensors": describe_dict(sd)}

    ddp = collections.OrderedDict()
    ddp["module.conv.weight"] = torch.randn(2, 1, 2, 2, 2)
    ddp["module.conv.bias"] = torch.randn(2)
    save(ddp, "ddp_module.pt")
    exp["ddp_module.pt"] = {"tensors": describe_dict(ddp, "module.")}

    # Only the head of a legacy file is kept (magic number, protocol and system-info
    # pickles): that is what identifies it, and the rest holds per-run memory addresses.
    legacy = os.path.join(HERE, "legacy_format.pt")
    save(collections.OrderedDict(w=torch.randn(2)), "legacy_format.pt", _use_new_zipfile_serialization=False)
    with open(legacy, "rb") as f:
        for _ in range(3):
            for _ in pickletools.genops(f):  # genops stops right after a STOP
                pass
        head_len = f.tell()
        f.seek(0)
        head = f.read(head_len)
    with open(legacy, "wb") as f:
        f.write(head)
    exp["legacy_format.pt"] = {"error_contains": "legacy"}

    scripted = torch.jit.script(torch.nn.Linear(2, 1))
    scripted.save(os.path.join(HERE, "torchscript.pt"))
    exp["torchscript.pt"] = {"error_contains": "TorchScript"}
    return exp


# ---------------------------------------------------------------- torch 2.x part
def zero_serialization_id(path):
    """torch 2.x stores a random id; make it zeros so the file is reproducible."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    with zipfile.ZipFile(path) as z:
        info = next(i for i in z.infolist() if i.filename.endswith("/.data/serialization_id"))
        start_dir = z.start_dir
    assert info.compress_type == zipfile.ZIP_STORED
    off = info.header_offset
    name_len, extra_len = struct.unpack_from("<HH", data, off + 26)
    begin = off + 30 + name_len + extra_len
    new = b"0" * info.file_size
    data[begin:begin + info.file_size] = new
    old_crc, new_crc = struct.pack("<I", info.CRC), struct.pack("<I", zlib.crc32(new))
    if data[off + 14:off + 18] == old_crc:
        data[off + 14:off + 18] = new_crc
    end = begin + info.file_size
    if info.flag_bits & 0x8:  # data descriptor after the data, optionally signed
        d = end + 4 if data[end:end + 4] == b"PK\x07\x08" else end
        assert data[d:d + 4] == old_crc
        data[d:d + 4] = new_crc
    pos = start_dir
    while data[pos:pos + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        if data[pos + 46:pos + 46 + n].decode() == info.filename:
            assert data[pos + 16:pos + 20] == old_crc
            data[pos + 16:pos + 20] = new_crc
        pos += 46 + n + m + k
    with open(path, "wb") as f:
        f.write(data)


def part_torch2():
    import torch
    assert int(torch.__version__.split(".")[0]) >= 2, torch.__version__
    torch.manual_seed(99)
    sd = collections.OrderedDict()
    sd["weight"] = torch.nn.Parameter(torch.randn(2, 3))    # written via _rebuild_parameter
    sd["float64"] = torch.randn(3, dtype=torch.float64)
    sd["half"] = torch.randn(4).half()
    sd["bf16"] = torch.randn(2, 2).bfloat16()
    sd["int32"] = torch.tensor([-7, 0, 2147483647], dtype=torch.int32)
    sd["int16"] = torch.tensor([-32768, 5], dtype=torch.int16)
    sd["int8"] = torch.tensor([-128, 127, 3], dtype=torch.int8)
    sd["uint8"] = torch.tensor([0, 255, 17], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["int64_t"] = torch.arange(6).reshape(2, 3).t()
    path = os.path.join(HERE, "torch2_format.pt")
    torch.save(sd, path)
    zero_serialization_id(path)
    return {"torch2_format.pt": {"tensors": describe_dict(sd)}}


# ---------------------------------------------------------------- torch-free part
def write_torch_like_zip(path, root, pickle_bytes, storages):
    """The record layout of torch.save: <root>/data.pkl, data/<k>, version, stored."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        def add(name, payload):
            info = zipfile.ZipInfo(root + "/" + name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, payload)
        add("data.pkl", pickle_bytes)
        for key, payload in storages.items():
            add("data/" + key, payload)
        add("version", b"3\n")


def refused_globals(pickle_bytes):
    names, strings = [], []
    for op, arg, _ in pickletools.genops(pickle_bytes):
        if op.name == "GLOBAL":
            names.append(arg.replace(" ", "."))
        elif op.name == "STACK_GLOBAL":
            names.append(strings[-2] + "." + strings[-1])
        if isinstance(arg, str):
            strings.append(arg)
    return [n for n in names if n != "collections.OrderedDict"]


class _OsSystem:
    def __reduce__(self):
        return (os.system, ("touch " + MARKER,))


class _Eval:
    def __reduce__(self):
        return (eval, ("__import__('os').system('touch %s')" % MARKER,))


def part_plain():
    exp = {}
    for name, payload in (("evil_os_system.pt", _OsSystem()), ("evil_eval.pt", _Eval())):
        pk = pickle.dumps(collections.OrderedDict(weight=payload), protocol=2)
        write_torch_like_zip(os.path.join(HERE, name), name[:-3], pk, {"0": struct.pack("<f", 1.0)})
        (refused,) = refused_globals(pk)
        exp[name] = {"error_contains": "refused pickle global '%s'" % refused, "refused_global": refused}

    # safetensors: 8-byte little-endian header length, JSON header, then the data.
    f32 = [0.5, -1.25, 3.0, 1e-3, 65504.0, -0.0]
    i64 = [-(2 ** 40), 7, 123456789]
    f16 = [1.0, -2.5, 0.099975586]
    bf16_bits = [0x3F80, 0xC0A0, 0x4049]                   # 1.0, -5.0, 3.140625
    blobs = collections.OrderedDict()
    blobs["module.encoder.weight"] = ("F32", [2, 3], struct.pack("<6f", *f32))
    blobs["module.encoder.index"] = ("I64", [3], struct.pack("<3q", *i64))
    blobs["module.half"] = ("F16", [3], struct.pack("<3e", *f16))
    blobs["module.bf16"] = ("BF16", [3, 1], struct.pack("<3H", *bf16_bits))
    blobs["module.empty"] = ("F32", [0, 4], b"")
    header, body = collections.OrderedDict(), b""
    header["__metadata__"] = {"format": "pt"}
    for name, (dtype, shape, raw) in blobs.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(body), len(body) + len(raw)]}
        body += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(HERE, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + body)
    half_values = [struct.unpack("<e", struct.pack("<e", v))[0] for v in f16]
    exp["model.safetensors"] = {"tensors": [
        {"name": "encoder.weight", "shape": [2, 3], "dtype": "float32",
         "values": [struct.unpack("<f", struct.pack("<f", v))[0] for v in f32]},
        {"name": "encoder.index", "shape": [3], "dtype": "int64", "values": i64},
        {"name": "half", "shape": [3], "dtype": "float16", "values": half_values,
         "bits": [struct.unpack("<H", struct.pack("<e", v))[0] for v in f16]},
        {"name": "bf16", "shape": [3, 1], "dtype": "bfloat16", "values": [1.0, -5.0, 3.140625], "bits": bf16_bits},
        {"name": "empty", "shape": [0, 4], "dtype": "float32", "values": []},
    ]}
    return exp


def run_part(python, part):
    # TorchScript's code listing follows set order, which depends on the hash seed.
    env = dict(os.environ, PYTHONHASHSEED="0")
    out = subprocess.run([python, os.path.abspath(__file__), "--part", part], env=env,
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--part":
        result = {"torch1": part_torch1, "torch2": part_torch2}[sys.argv[2]]()
        print(json.dumps(result))
        return
    torch1 = os.environ.get("SWU_TORCH1_PYTHON", "/usr/bin/python3")
    torch2 = os.environ.get("SWU_TORCH2_PYTHON", shutil.which("python3"))
    expected = {}
    expected.update(run_part(torch1, "torch1"))
    expected.update(run_part(torch2, "torch2"))
    expected.update(part_plain())
    expected["exploit_marker"] = MARKER
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(dict(sorted(expected.items())), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
