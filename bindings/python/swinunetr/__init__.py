"""swinunetr for Python: Swin UNETR abdominal CT segmentation over the C library.

    import swinunetr
    with swinunetr.Model("model.pt", threads=4) as model, swinunetr.Volume.read("ct.nii.gz") as ct:
        with model.segment(ct) as labels:
            labels.write("labels.nii.gz")
            print(numpy.bincount(labels.array.ravel(), minlength=14))

Volumes are indexed [i, j, k] (as nibabel's get_fdata()); Volume.from_array wraps a
numpy array without copying when its strides allow, and Volume.array is a view of the
library's voxels. Every failure raises swinunetr.Error with .status and .message.
"""
from __future__ import annotations

import ctypes
import enum
import os
from typing import (TYPE_CHECKING, Any, Callable, Dict, List, Literal, Optional, Sequence, Tuple, TypedDict, TypeVar,
                    Union, overload)

import numpy as np

from . import _native
from ._native import lib as _lib

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["Status", "Stage", "Blend", "Precision", "VoxelType", "Error", "Cancelled", "Model", "Volume",
           "version", "abi_version", "load_backends", "backends", "BackendInfo", "ModelInfo", "PathLike",
           "ProgressCallback"]

PathLike = Union[str, bytes, "os.PathLike[str]"]
"""A file or folder name: str, bytes or a path object such as pathlib.Path."""
ProgressCallback = Callable[["Stage", int, int], object]
"""progress(stage, done, total), called along a run; a truthy return cancels it."""


class Status(enum.IntEnum):
    OK = 0
    INVALID_ARGUMENT = 1
    IO = 2
    FORMAT = 3
    UNSUPPORTED = 4
    BACKEND = 5
    WEIGHTS = 6
    STATE = 7
    BUFFER_TOO_SMALL = 8
    OUT_OF_MEMORY = 9
    BUSY = 10
    INTERNAL = 11
    CANCELLED = 12


class Stage(enum.IntEnum):
    PREPROCESS = 0
    NETWORK = 1
    POSTPROCESS = 2


class Blend(enum.IntEnum):
    CONSTANT = 0
    GAUSSIAN = 1


class Precision(enum.IntEnum):
    FP32 = 0
    BF16 = 1
    FP16 = 2


class VoxelType(enum.IntEnum):
    INT16 = 0
    UINT16 = 1
    FLOAT32 = 2
    UINT8 = 3


_NUMPY_OF: Dict[VoxelType, Any] = {VoxelType.INT16: np.int16, VoxelType.UINT16: np.uint16,
                                   VoxelType.FLOAT32: np.float32, VoxelType.UINT8: np.uint8}
_VOXEL_OF: Dict[np.dtype[Any], VoxelType] = {np.dtype(t): v for v, t in _NUMPY_OF.items()}


class Error(Exception):
    """A failed call: .status (Status) and .message (the library's swu_last_error())."""

    status: Status
    message: str

    def __init__(self, status: int, message: str) -> None:
        super().__init__("%s (%s)" % (message, _lib.swu_status_string(status).decode()))
        self.status = Status(status)
        self.message = message


class Cancelled(Error):
    """The progress callback stopped the run (Status.CANCELLED)."""


def _check(status: int) -> None:
    if status != 0:
        message = _lib.swu_last_error().decode("utf-8", "replace")
        raise (Cancelled if status == Status.CANCELLED else Error)(status, message)


def _bytes(text: Optional[PathLike]) -> Optional[bytes]:
    return None if text is None else (text if isinstance(text, bytes) else str(text).encode())


def version() -> str:
    """The loaded library's version string, e.g. "0.1.0"."""
    return str(_lib.swu_version_string().decode())


def abi_version() -> int:
    """The loaded library's C ABI version (swu_abi_version()); the binding checked it at import."""
    return int(_lib.swu_abi_version())


def load_backends(folder: Optional[PathLike] = None) -> int:
    """Loads backend plugins from `folder`, or runs the default search; returns how many
    were newly loaded. Model() does the default search itself when none is loaded."""
    n = ctypes.c_size_t()
    _check(_lib.swu_backends_load(_bytes(folder), ctypes.byref(n)))
    return n.value


class BackendInfo(TypedDict):
    """One plugin, as backends() lists it (swu_backend_info)."""
    name: str
    path: str
    loaded: bool
    error: str
    version: str
    capabilities: int
    device_count: int


def backends() -> List[BackendInfo]:
    """Every plugin found: a list of dicts (name, path, loaded, error, version, capabilities)."""
    count = ctypes.c_size_t()
    _check(_lib.swu_backend_count(ctypes.byref(count)))
    out: List[BackendInfo] = []
    for i in range(count.value):
        info = _native.swu_backend_info(struct_size=ctypes.sizeof(_native.swu_backend_info))
        _check(_lib.swu_backend_get_info(i, ctypes.byref(info)))
        out.append({"name": info.name.decode(), "path": info.path.decode(), "loaded": bool(info.loaded),
                    "error": info.error.decode(), "version": info.version.decode(),
                    "capabilities": info.capabilities, "device_count": info.device_count})
    return out


_H = TypeVar("_H", bound="_Handle")


class _Handle:
    """An owned C handle freed by close(), by `with` or when garbage-collected."""
    _free: Callable[[int], None]
    _handle: Optional[int] = None  # so that close() works even when __init__ failed

    def __init__(self, handle: Optional[int]) -> None:
        self._handle = handle

    @property
    def handle(self) -> int:
        """The C handle (swu_model* / swu_volume*); ValueError once closed."""
        if not self._handle:
            raise ValueError("%s is closed" % type(self).__name__)
        return self._handle

    def close(self) -> None:
        if self._handle:
            type(self)._free(self._handle)
            self._handle = None

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


class Volume(_Handle):
    """A 3D image with its geometry (LPS mm, as ITK): read from a file, wrapped around a
    numpy array, or returned by Model.segment."""
    _free = staticmethod(_lib.swu_volume_free)

    def __init__(self, handle: Optional[int], keep_alive: Optional[npt.NDArray[Any]] = None) -> None:
        super().__init__(handle)
        self._keep_alive = keep_alive  # the wrapped array, alive as long as the volume

    @classmethod
    def read(cls, path: PathLike) -> Volume:
        """NIfTI, NRRD, MetaImage or a DICOM series folder. int16 / uint16 / uint8 files keep
        their type, anything else (and DICOM) becomes float32."""
        out = ctypes.c_void_p()
        _check(_lib.swu_volume_read(_bytes(path), ctypes.byref(out)))
        return cls(out.value)

    @classmethod
    def from_array(cls, array: npt.ArrayLike, spacing: Sequence[float] = (1, 1, 1),
                   origin: Sequence[float] = (0, 0, 0),
                   direction: Sequence[float] = (1, 0, 0, 0, 1, 0, 0, 0, 1)) -> Volume:
        """Wraps a 3D numpy array indexed [i, j, k] (int16, uint16, float32 or uint8). No
        copy is made when the array's strides are positive multiples of its item size
        (C or Fortran order, transposed views...); otherwise a Fortran-order copy is
        wrapped, and other dtypes are converted to float32 (a copy). The volume keeps
        the array alive; do not write to it meanwhile."""
        array = np.asarray(array)
        if array.ndim != 3:
            raise ValueError("a volume needs a 3D array, got shape %s" % (array.shape,))
        if array.dtype.newbyteorder("=") not in _VOXEL_OF or not array.dtype.isnative:
            array = array.astype(np.float32)
        item = array.itemsize
        if any(s <= 0 or s % item for s in array.strides):
            array = np.asfortranarray(array)
        desc = _native.swu_volume_desc()
        _check(_lib.swu_volume_desc_init(ctypes.byref(desc)))
        desc.type = _VOXEL_OF[array.dtype]
        desc.data = array.ctypes.data
        desc.size[:] = array.shape
        desc.strides[:] = [s // item for s in array.strides]
        desc.spacing[:], desc.origin[:], desc.direction[:] = list(spacing), list(origin), list(direction)
        out = ctypes.c_void_p()
        _check(_lib.swu_volume_wrap(ctypes.byref(desc), ctypes.byref(out)))
        return cls(out.value, keep_alive=array)

    def _info(self) -> _native.swu_volume_info:
        info = _native.swu_volume_info(struct_size=ctypes.sizeof(_native.swu_volume_info))
        _check(_lib.swu_volume_get_info(self.handle, ctypes.byref(info)))
        return info

    @property
    def voxel_type(self) -> VoxelType:
        return VoxelType(self._info().type)

    @property
    def shape(self) -> Tuple[int, int, int]:
        return tuple(self._info().size)

    @property
    def spacing(self) -> Tuple[float, float, float]:
        return tuple(self._info().spacing)

    @property
    def origin(self) -> Tuple[float, float, float]:
        return tuple(self._info().origin)

    @property
    def direction(self) -> Tuple[float, ...]:
        """Row-major 3x3; column c is the unit vector of voxel axis c."""
        return tuple(self._info().direction)

    def _channels(self) -> Tuple[int, int]:
        n, stride = ctypes.c_int64(), ctypes.c_int64()
        _check(_lib.swu_volume_get_channels(self.handle, ctypes.byref(n), ctypes.byref(stride)))
        return n.value, stride.value

    @property
    def channels(self) -> int:
        """1 for images and label maps; 14 for the probabilities of Model.segment."""
        return self._channels()[0]

    @property
    def array(self) -> npt.NDArray[Any]:
        """A read-only numpy view [i, j, k] of the voxels (no copy), [class, i, j, k] for a
        volume of several channels; it keeps the volume alive."""
        info = self._info()
        channels, channel_stride = self._channels()
        dtype = np.dtype(_NUMPY_OF[VoxelType(info.type)])
        shape, strides = tuple(info.size), tuple(info.strides)
        if channels > 1:
            shape, strides = (channels,) + shape, (channel_stride,) + strides
        extent = 1 + sum((n - 1) * s for n, s in zip(shape, strides))
        buffer = (ctypes.c_byte * (extent * dtype.itemsize)).from_address(info.data)
        view = np.lib.stride_tricks.as_strided(np.frombuffer(buffer, dtype=dtype), shape=shape,
                                               strides=tuple(s * dtype.itemsize for s in strides))
        view.flags.writeable = False
        return _VolumeView(view, self)

    def write(self, path: PathLike) -> None:
        """Format from the extension: .nii.gz, .nii, .nrrd, .mha, .mhd, .nhdr."""
        _check(_lib.swu_volume_write(self.handle, _bytes(path)))


class _VolumeView(np.ndarray):
    """An ndarray that holds a reference to the volume whose memory it shows."""

    _owner: Optional[Volume]

    def __new__(cls, view: npt.NDArray[Any], owner: Volume) -> _VolumeView:
        obj = view.view(cls)
        obj._owner = owner
        return obj

    def __array_finalize__(self, obj: Any) -> None:
        self._owner = getattr(obj, "_owner", None)


class ModelInfo(TypedDict):
    """What Model.info returns (swu_model_info)."""
    backend: str
    device: str
    threads: int
    precision: Precision
    weights_loaded: bool
    in_channels: int
    out_channels: int
    feature_size: int
    depths: List[int]
    num_heads: List[int]
    parameter_count: int


class Model(_Handle):
    """One network on one backend and device. Model(weights=None, backend="auto",
    device="cpu", threads=0, precision=Precision.FP32); keyword arguments set any field
    of swu_model_params (feature_size, depths, ...)."""
    _free = staticmethod(_lib.swu_model_free)

    def __init__(self, weights: Optional[PathLike] = None, backend: Union[str, bytes] = "auto",
                 device: Union[str, bytes] = "cpu", threads: int = 0, **fields: Any) -> None:
        params = _native.swu_model_params()
        _check(_lib.swu_model_params_init(ctypes.byref(params)))
        params.backend, params.device, params.threads = _bytes(backend), _bytes(device), threads
        for name, value in fields.items():
            if name not in {f[0] for f in _native.swu_model_params._fields_} or name == "struct_size":
                raise TypeError("unknown model parameter %r" % name)
            setattr(params, name, value)
        out = ctypes.c_void_p()
        _check(_lib.swu_model_create(ctypes.byref(params), ctypes.byref(out)))
        super().__init__(out.value)
        if weights is not None:
            self.load_weights(weights)

    def load_weights(self, path: PathLike) -> None:
        """MONAI's model.pt (a PyTorch state_dict) or a .safetensors file."""
        _check(_lib.swu_model_load_weights(self.handle, _bytes(path)))

    @property
    def info(self) -> ModelInfo:
        i = _native.swu_model_info(struct_size=ctypes.sizeof(_native.swu_model_info))
        _check(_lib.swu_model_get_info(self.handle, ctypes.byref(i)))
        return {"backend": i.backend.decode(), "device": i.device.decode(), "threads": i.threads,
                "precision": Precision(i.precision), "weights_loaded": bool(i.weights_loaded),
                "in_channels": i.in_channels, "out_channels": i.out_channels, "feature_size": i.feature_size,
                "depths": list(i.depths), "num_heads": list(i.num_heads), "parameter_count": i.parameter_count}

    def forward(self, patches: npt.ArrayLike,
                out: Optional[npt.NDArray[np.float32]] = None) -> npt.NDArray[np.float32]:
        """Raw network: float32 {N, C, D, H, W} (D, H, W multiples of 32) -> logits
        {N, out_channels, D, H, W}. A C-contiguous float32 input is used in place; `out`
        (C-contiguous float32 of the right shape) is filled in place when given."""
        x = np.ascontiguousarray(patches, dtype=np.float32)
        if x.ndim != 5:
            raise ValueError("forward needs {N, C, D, H, W}, got shape %s" % (x.shape,))
        shape = (x.shape[0], self.info["out_channels"]) + x.shape[2:]
        if out is None:
            out = np.empty(shape, dtype=np.float32)
        elif out.shape != shape or out.dtype != np.float32 or not out.flags.c_contiguous:
            raise ValueError("out must be a C-contiguous float32 array of shape %s" % (shape,))
        dims = (ctypes.c_int64 * 5)(*x.shape)
        _check(_lib.swu_model_forward(self.handle, x.ctypes.data, dims, out.ctypes.data, out.size))
        return out

    @overload
    def segment(self, image: Volume, progress: Optional[ProgressCallback] = ..., roi: Optional[int] = ...,
                overlap: Optional[float] = ..., sw_batch: Optional[int] = ..., blend: Optional[Blend] = ...,
                label_type: Optional[VoxelType] = ..., probabilities: Literal[False] = ...) -> Volume: ...

    @overload
    def segment(self, image: Volume, progress: Optional[ProgressCallback] = ..., roi: Optional[int] = ...,
                overlap: Optional[float] = ..., sw_batch: Optional[int] = ..., blend: Optional[Blend] = ...,
                label_type: Optional[VoxelType] = ..., *, probabilities: Literal[True]) -> Tuple[Volume, Volume]: ...

    @overload
    def segment(self, image: Volume, progress: Optional[ProgressCallback] = ..., roi: Optional[int] = ...,
                overlap: Optional[float] = ..., sw_batch: Optional[int] = ..., blend: Optional[Blend] = ...,
                label_type: Optional[VoxelType] = ...,
                probabilities: bool = ...) -> Union[Volume, Tuple[Volume, Volume]]: ...

    def segment(self, image: Volume, progress: Optional[ProgressCallback] = None, roi: Optional[int] = None,
                overlap: Optional[float] = None, sw_batch: Optional[int] = None, blend: Optional[Blend] = None,
                label_type: Optional[VoxelType] = None,
                probabilities: bool = False) -> Union[Volume, Tuple[Volume, Volume]]:
        """The bundle's whole inference on a CT Volume; returns the label Volume (uint8
        classes 0..13 in the image's geometry), or with probabilities=True the pair
        (labels, probabilities): float32, 14 channels in the image's geometry (.array is
        [class, i, j, k]; 56 bytes per voxel), the labels being their argmax.
        progress(stage, done, total) is called along the way; returning True (or raising)
        stops the run: Cancelled is raised, or the callback's own exception."""
        params = _native.swu_infer_params()
        _check(_lib.swu_infer_params_init(ctypes.byref(params)))
        for name, value in (("roi", roi), ("overlap", overlap), ("sw_batch", sw_batch), ("blend", blend),
                            ("label_type", label_type)):
            if value is not None:
                setattr(params, name, value)
        raised: List[BaseException] = []
        if progress is not None:
            callback = progress

            def trampoline(stage: int, done: int, total: int, _user: Optional[int]) -> int:
                try:
                    return 1 if callback(Stage(stage), done, total) else 0
                except BaseException as e:  # never let an exception unwind through C
                    raised.append(e)
                    return 1
            params.progress = _native.PROGRESS_FN(trampoline)  # alive until this call returns
        out, prob = ctypes.c_void_p(), ctypes.c_void_p()
        status = _lib.swu_infer_with_probabilities(self.handle, image.handle, ctypes.byref(params), ctypes.byref(out),
                                                   ctypes.byref(prob) if probabilities else None)
        if raised:
            raise raised[0]
        _check(status)
        return (Volume(out.value), Volume(prob.value)) if probabilities else Volume(out.value)
