"""ctypes declarations of swinunetr.h, the library loader and the ABI check.

The structs below mirror the header field by field; at import the library's own layout
table (swu_abi_layout) is compared with ctypes' view of them, so a binding that has
fallen behind the header refuses to load instead of corrupting memory.
"""
import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
from typing import List, Mapping, Optional, Sequence, Tuple

ABI_VERSION = 1  # SWU_ABI_VERSION of the header this file mirrors

c_char_p, c_void_p, c_int32, c_uint32, c_int64, c_uint64, c_size_t, c_double = (
    ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint32, ctypes.c_int64,
    ctypes.c_uint64, ctypes.c_size_t, ctypes.c_double)
c_enum = ctypes.c_int32  # every enum of the header is pinned to int32

# Enum values and macros, by their C names (checked against the library at load).
CONSTANTS = {
    "SWU_ABI_VERSION": ABI_VERSION,
    "SWU_OK": 0, "SWU_ERR_INVALID_ARGUMENT": 1, "SWU_ERR_IO": 2, "SWU_ERR_FORMAT": 3,
    "SWU_ERR_UNSUPPORTED": 4, "SWU_ERR_BACKEND": 5, "SWU_ERR_WEIGHTS": 6, "SWU_ERR_STATE": 7,
    "SWU_ERR_BUFFER_TOO_SMALL": 8, "SWU_ERR_OUT_OF_MEMORY": 9, "SWU_ERR_BUSY": 10,
    "SWU_ERR_INTERNAL": 11, "SWU_ERR_CANCELLED": 12,
    "SWU_LOG_DEBUG": 0, "SWU_LOG_INFO": 1, "SWU_LOG_WARNING": 2, "SWU_LOG_ERROR": 3, "SWU_LOG_NONE": 4,
    "SWU_CAP_INFER": 1 << 0, "SWU_CAP_TRAIN": 1 << 1, "SWU_CAP_FP32": 1 << 8, "SWU_CAP_BF16": 1 << 9,
    "SWU_CAP_FP16": 1 << 10,
    "SWU_PRECISION_FP32": 0, "SWU_PRECISION_BF16": 1, "SWU_PRECISION_FP16": 2,
    "SWU_MERGING_LEGACY": 0, "SWU_MERGING_MONAI15": 1, "SWU_MERGING_V2": 2,
    "SWU_DTYPE_FLOAT32": 0, "SWU_DTYPE_FLOAT16": 1, "SWU_DTYPE_BFLOAT16": 2, "SWU_DTYPE_INT64": 3,
    "SWU_VOXEL_INT16": 0, "SWU_VOXEL_UINT16": 1, "SWU_VOXEL_FLOAT32": 2, "SWU_VOXEL_UINT8": 3,
    "SWU_BLEND_CONSTANT": 0, "SWU_BLEND_GAUSSIAN": 1,
    "SWU_STAGE_PREPROCESS": 0, "SWU_STAGE_NETWORK": 1, "SWU_STAGE_POSTPROCESS": 2,
}
ENUM_TYPES = ["swu_status", "swu_log_level", "swu_precision", "swu_merging", "swu_dtype",
              "swu_voxel_type", "swu_blend", "swu_stage"]


class swu_backend_info(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("name", c_char_p), ("path", c_char_p), ("loaded", c_int32),
                ("error", c_char_p), ("version", c_char_p), ("capabilities", c_uint32),
                ("device_count", c_int32)]


class swu_device_info(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("name", c_char_p), ("description", c_char_p),
                ("memory_bytes", c_uint64)]


class swu_model_params(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("backend", c_char_p), ("device", c_char_p), ("threads", c_int32),
                ("precision", c_enum), ("in_channels", c_int32), ("out_channels", c_int32),
                ("feature_size", c_int32), ("depths", c_int32 * 4), ("num_heads", c_int32 * 4),
                ("merging", c_enum)]


class swu_named_tensor(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("dtype", c_enum), ("ndim", c_int32), ("shape", ctypes.POINTER(c_int64)),
                ("data", c_void_p)]


class swu_model_info(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("backend", c_char_p), ("device", c_char_p), ("threads", c_int32),
                ("precision", c_enum), ("weights_loaded", c_int32), ("in_channels", c_int32),
                ("out_channels", c_int32), ("feature_size", c_int32), ("depths", c_int32 * 4),
                ("num_heads", c_int32 * 4), ("merging", c_enum), ("parameter_count", c_int64)]


class swu_tap(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("data", ctypes.POINTER(ctypes.c_float)), ("capacity", c_size_t),
                ("shape", c_int64 * 5)]


class swu_volume_info(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("type", c_enum), ("size", c_int64 * 3), ("spacing", c_double * 3),
                ("origin", c_double * 3), ("direction", c_double * 9), ("data", c_void_p),
                ("strides", c_int64 * 3)]


class swu_volume_desc(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("type", c_enum), ("data", c_void_p), ("size", c_int64 * 3),
                ("strides", c_int64 * 3), ("spacing", c_double * 3), ("origin", c_double * 3),
                ("direction", c_double * 9)]


# int (*)(swu_stage, int64_t done, int64_t total, void* user_data)
PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, c_enum, c_int64, c_int64, c_void_p)


class swu_infer_params(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("roi", c_int32), ("overlap", c_double), ("sw_batch", c_int32),
                ("blend", c_enum), ("label_type", c_enum), ("progress", PROGRESS_FN),
                ("progress_user_data", c_void_p)]


class swu_abi_entry(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("value", c_int64), ("size", c_int64)]


STRUCTS = [swu_backend_info, swu_device_info, swu_model_params, swu_named_tensor, swu_model_info, swu_tap,
           swu_volume_info, swu_volume_desc, swu_infer_params, swu_abi_entry]

P = ctypes.POINTER
# name: (return type, argument types); every function but the few listed returns swu_status.
FUNCTIONS = {
    "swu_version_number": (c_uint32, []),
    "swu_version_string": (c_char_p, []),
    "swu_abi_version": (c_uint32, []),
    "swu_status_string": (c_char_p, [c_enum]),
    "swu_last_error": (c_char_p, []),
    "swu_abi_layout": (c_enum, [P(P(swu_abi_entry)), P(c_size_t)]),
    "swu_abi_lookup": (c_enum, [c_char_p, P(c_int64), P(c_int64)]),
    "swu_backends_load": (c_enum, [c_char_p, P(c_size_t)]),
    "swu_backend_count": (c_enum, [P(c_size_t)]),
    "swu_backend_get_info": (c_enum, [c_size_t, P(swu_backend_info)]),
    "swu_backend_get_device": (c_enum, [c_size_t, c_int32, P(swu_device_info)]),
    "swu_model_params_init": (c_enum, [P(swu_model_params)]),
    "swu_model_create": (c_enum, [P(swu_model_params), P(c_void_p)]),
    "swu_model_free": (None, [c_void_p]),
    "swu_model_load_weights": (c_enum, [c_void_p, c_char_p]),
    "swu_model_get_info": (c_enum, [c_void_p, P(swu_model_info)]),
    "swu_model_forward": (c_enum, [c_void_p, c_void_p, P(c_int64), c_void_p, c_size_t]),
    "swu_volume_read": (c_enum, [c_char_p, P(c_void_p)]),
    "swu_volume_desc_init": (c_enum, [P(swu_volume_desc)]),
    "swu_volume_wrap": (c_enum, [P(swu_volume_desc), P(c_void_p)]),
    "swu_volume_get_info": (c_enum, [c_void_p, P(swu_volume_info)]),
    "swu_volume_write": (c_enum, [c_void_p, c_char_p]),
    "swu_volume_free": (None, [c_void_p]),
    "swu_infer_params_init": (c_enum, [P(swu_infer_params)]),
    "swu_infer": (c_enum, [c_void_p, c_void_p, P(swu_infer_params), P(c_void_p)]),
    "swu_infer_with_probabilities": (c_enum, [c_void_p, c_void_p, P(swu_infer_params), P(c_void_p), P(c_void_p)]),
    "swu_volume_get_channels": (c_enum, [c_void_p, P(c_int64), P(c_int64)]),
}


LIBRARY_NAMES = ("libswinunetr.so", "libswinunetr.so.0")  # looked for, in this order, in a folder


def _in_folder(folder: str) -> Optional[str]:
    for name in LIBRARY_NAMES:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    return None


def _pkg_config_libdir(environ: Mapping[str, str]) -> Optional[str]:
    """`pkg-config --variable=libdir swinunetr`, or None without pkg-config or swinunetr.pc."""
    exe = shutil.which("pkg-config", path=environ.get("PATH", os.defpath))
    if not exe:
        return None
    try:
        run = subprocess.run([exe, "--variable=libdir", "swinunetr"], env=dict(environ), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    libdir = run.stdout.decode(errors="replace").strip()
    return os.path.normpath(libdir) if run.returncode == 0 and libdir else None


def install_prefixes() -> List[str]:
    """The prefixes searched after pkg-config: this Python's (sys.prefix: the venv or conda
    environment), the base installation's (sys.base_prefix) and /usr/local."""
    out: List[str] = []
    for prefix in (sys.prefix, getattr(sys, "base_prefix", sys.prefix), "/usr/local"):
        if prefix and prefix not in out:
            out.append(prefix)
    return out


def find_library(environ: Optional[Mapping[str, str]] = None,
                 prefixes: Optional[Sequence[str]] = None) -> Tuple[str, str]:
    """Where the library is, and how that was decided: (path or soname, how). In order:
    1. $SWINUNETR_LIB, the library file itself;
    2. $SWINUNETR_LIB_DIR, its folder (libswinunetr.so there, else libswinunetr.so.0);
    3. pkg-config: the libdir of swinunetr.pc (PKG_CONFIG_PATH applies), if the library is there;
    4. the install prefixes (install_prefixes()): their lib/ and lib64/, where it is there;
    5. the system loader: ctypes.util.find_library("swinunetr") (ldconfig's cache), else
       "libswinunetr.so.0" for dlopen's own search (LD_LIBRARY_PATH, rpath, /etc/ld.so.conf).
    1 and 2 are taken as given (a wrong one fails to load rather than falling through)."""
    env = os.environ if environ is None else environ
    path = env.get("SWINUNETR_LIB")
    if path:
        return path, "SWINUNETR_LIB"
    folder = env.get("SWINUNETR_LIB_DIR")
    if folder:
        return _in_folder(folder) or os.path.join(folder, LIBRARY_NAMES[0]), "SWINUNETR_LIB_DIR"
    libdir = _pkg_config_libdir(env)
    found = _in_folder(libdir) if libdir else None
    if found:
        return found, "pkg-config"
    for prefix in install_prefixes() if prefixes is None else prefixes:
        for sub in ("lib", "lib64"):
            found = _in_folder(os.path.join(prefix, sub))
            if found:
                return found, "install prefix " + prefix
    return ctypes.util.find_library("swinunetr") or "libswinunetr.so.0", "system loader"


def layout_mismatches(lib: ctypes.CDLL, strict: bool = False) -> List[str]:
    """Differences between this module's declarations and the library's layout table,
    as readable lines (empty when they agree). Entries only the library has count when
    they are fields of a struct declared here, or with `strict` (the binding's test, so
    that this file keeps up with the header) always."""
    entries, count = P(swu_abi_entry)(), c_size_t()
    if lib.swu_abi_layout(ctypes.byref(entries), ctypes.byref(count)) != 0:
        return ["swu_abi_layout failed: " + lib.swu_last_error().decode()]
    table = {entries[i].name.decode(): (entries[i].value, entries[i].size) for i in range(count.value)}
    mine = {name: (value, 4) for name, value in CONSTANTS.items()}
    for name in ENUM_TYPES:
        mine[name] = (ctypes.sizeof(c_enum), ctypes.sizeof(c_enum))
    for struct in STRUCTS:
        mine[struct.__name__] = (ctypes.sizeof(struct), ctypes.sizeof(struct))
        for entry in struct._fields_:
            field, ftype = entry[0], entry[1]
            mine[struct.__name__ + "." + field] = (getattr(struct, field).offset, ctypes.sizeof(ftype))
    def relevant(name: str) -> bool:
        return name in mine or strict or name.split(".")[0] in mine and "." in name
    return ["%s: binding has %s, library has %s" % (n, mine.get(n), table.get(n))
            for n in sorted(set(table) | set(mine)) if mine.get(n) != table.get(n) and relevant(n)]


library_path = ""  # the library loaded, as given to dlopen
library_found_by = ""  # which step of find_library() gave it


def load() -> ctypes.CDLL:
    global library_path, library_found_by
    path, found_by = find_library()
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError("swinunetr: cannot load %s, found by %s (%s); set SWINUNETR_LIB (the file) or "
                          "SWINUNETR_LIB_DIR (its folder), or PKG_CONFIG_PATH to the folder of swinunetr.pc"
                          % (path, found_by, e)) from None
    for name, (restype, argtypes) in FUNCTIONS.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    if lib.swu_abi_version() != ABI_VERSION:
        raise ImportError("swinunetr: %s has C ABI %d, this binding was written for ABI %d"
                          % (path, lib.swu_abi_version(), ABI_VERSION))
    problems = layout_mismatches(lib)
    if problems:
        raise ImportError("swinunetr: the binding's declarations differ from %s:\n  %s" % (path, "\n  ".join(problems)))
    library_path, library_found_by = path, found_by
    return lib


lib = load()
