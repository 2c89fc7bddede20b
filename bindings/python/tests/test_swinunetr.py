"""The Python binding's test: `python3 test_swinunetr.py` (numpy, no pytest) or `pytest`.

Environment (set by ctest): the package importable (PYTHONPATH=bindings/python, or
installed), the library findable (SWINUNETR_LIB, or any step of the package's search),
SWU_TEST_WEIGHTS (golden net_f12), SWU_TEST_CT (the phantom) and SWU_TEST_LABELS (the C
example's output for that CT, whose label counts this binding must reproduce).
"""
import ctypes
import os
import shutil
import sys
import tempfile

import numpy as np

import swinunetr
from swinunetr import _native


def _need(name):
    value = os.environ.get(name)
    if not value:
        raise AssertionError("%s is not set; ctest -R 'bindings: Python' sets it (bindings/CMakeLists.txt)" % name)
    return value


WORK = os.environ.get("SWU_TEST_WORK", "/tmp")


def test_environment():
    for name in ("SWU_TEST_WEIGHTS", "SWU_TEST_CT", "SWU_TEST_LABELS"):
        assert os.path.exists(_need(name)), "%s=%s does not exist" % (name, os.environ[name])
    print("swinunetr from", os.path.dirname(swinunetr.__file__), "library", _native.library_path,
          "found by", _native.library_found_by)
    assert os.path.exists(os.path.join(os.path.dirname(swinunetr.__file__), "py.typed")), "py.typed is missing"


def test_find_library_order():
    """SWINUNETR_LIB, SWINUNETR_LIB_DIR, pkg-config, the install prefixes, the system loader."""
    assert shutil.which("pkg-config"), "pkg-config not found (Debian: pkg-config)"
    with tempfile.TemporaryDirectory() as tmp:
        def touch(*parts):
            path = os.path.join(tmp, *parts)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").close()
            return path
        in_lib_dir = touch("dir", "libswinunetr.so")
        by_pkg_config = touch("pc", "lib", "libswinunetr.so.0")
        pc_path = os.path.join(tmp, "pc", "lib", "pkgconfig")
        touch("pc", "lib", "pkgconfig", "swinunetr.pc")
        with open(os.path.join(pc_path, "swinunetr.pc"), "w") as f:  # as cmake/swinunetr.pc.in makes it
            f.write("prefix=${pcfiledir}/../..\nlibdir=${prefix}/lib\n\nName: swinunetr\nDescription: test\n"
                    "Version: 0.1.0\nLibs: -L${libdir} -lswinunetr\n")
        in_prefix = touch("prefix", "lib64", "libswinunetr.so.0")
        empty = os.path.join(tmp, "empty")
        os.mkdir(empty)
        no_lib = os.path.join(tmp, "nolib")  # a swinunetr.pc whose libdir has no library
        touch("nolib", "pkgconfig", "swinunetr.pc")
        with open(os.path.join(no_lib, "pkgconfig", "swinunetr.pc"), "w") as f:
            f.write("libdir=%s\n\nName: swinunetr\nDescription: test\nVersion: 0.1.0\n" % empty)
        base = {"PATH": os.environ.get("PATH", os.defpath), "PKG_CONFIG_LIBDIR": empty, "PKG_CONFIG_PATH": pc_path}
        prefixes = [os.path.join(tmp, "noprefix"), os.path.join(tmp, "prefix")]

        def find(prefixes=prefixes, **env):
            return _native.find_library(dict(base, **env), prefixes)
        assert find(SWINUNETR_LIB="/x/libswinunetr.so.0", SWINUNETR_LIB_DIR=os.path.dirname(in_lib_dir)) == (
            "/x/libswinunetr.so.0", "SWINUNETR_LIB")
        assert find(SWINUNETR_LIB_DIR=os.path.dirname(in_lib_dir)) == (in_lib_dir, "SWINUNETR_LIB_DIR")
        assert find(SWINUNETR_LIB_DIR=empty) == (os.path.join(empty, "libswinunetr.so"), "SWINUNETR_LIB_DIR")
        assert find() == (by_pkg_config, "pkg-config")
        assert find(PKG_CONFIG_PATH=empty) == (in_prefix, "install prefix " + prefixes[1])
        assert find(PKG_CONFIG_PATH=os.path.join(no_lib, "pkgconfig")) == (in_prefix, "install prefix " + prefixes[1])
        assert find(PKG_CONFIG_PATH=empty, prefixes=[empty])[1] == "system loader"
        assert find(PATH=empty, prefixes=[empty])[1] == "system loader"  # no pkg-config at all
    assert _native.install_prefixes()[0] == sys.prefix and "/usr/local" in _native.install_prefixes()


def test_abi():
    assert swinunetr.abi_version() == _native.ABI_VERSION
    assert _native.layout_mismatches(_native.lib, strict=True) == []
    # A binding that has fallen behind is caught: pretend a field moved.
    class Shifted(ctypes.Structure):
        _fields_ = [("struct_size", ctypes.c_uint64)] + _native.swu_infer_params._fields_[1:]
    Shifted.__name__ = "swu_infer_params"
    saved = _native.STRUCTS
    _native.STRUCTS = [Shifted if s is _native.swu_infer_params else s for s in saved]
    try:
        problems = _native.layout_mismatches(_native.lib)
    finally:
        _native.STRUCTS = saved
    assert any(p.startswith("swu_infer_params.roi:") for p in problems), problems


def counts(volume):
    return np.bincount(np.asarray(volume.array).ravel(), minlength=14).tolist()


def test_segment_matches_c():
    WEIGHTS, CT, C_LABELS = (_need(k) for k in ("SWU_TEST_WEIGHTS", "SWU_TEST_CT", "SWU_TEST_LABELS"))
    print("swinunetr", swinunetr.version(), "backends:", [b["name"] for b in swinunetr.backends() if b["loaded"]])
    with swinunetr.Volume.read(C_LABELS) as c_labels:
        expected = np.bincount(np.asarray(c_labels.array, dtype=np.int64).ravel(), minlength=14).tolist()
    with swinunetr.Model(WEIGHTS, threads=2) as model, swinunetr.Volume.read(CT) as ct:
        assert model.info["feature_size"] == 12 and model.info["weights_loaded"]
        # The CT's voxels as int16 (exact: they are HU), wrapped without a copy.
        hu = np.asarray(ct.array).astype(np.int16, order="F")
        with swinunetr.Volume.from_array(hu, ct.spacing, ct.origin, ct.direction) as wrapped:
            view = wrapped.array
            assert view.ctypes.data == hu.ctypes.data, "from_array copied a Fortran-order array"
            stages = set()
            with model.segment(wrapped, progress=lambda s, d, t: stages.add(s)) as labels:
                assert labels.voxel_type == swinunetr.VoxelType.UINT8
                assert labels.shape == ct.shape
                assert np.allclose(labels.spacing, ct.spacing)
                got = counts(labels)
                labels.write(os.path.join(WORK, "labels_python.nii.gz"))
            assert stages == {swinunetr.Stage.PREPROCESS, swinunetr.Stage.NETWORK, swinunetr.Stage.POSTPROCESS}
            labels, prob = model.segment(wrapped, probabilities=True)
            with labels, prob:
                assert prob.channels == 14 and labels.channels == 1
                p = prob.array
                assert p.shape == (14,) + ct.shape and p.dtype == np.float32
                assert np.allclose(p.sum(axis=0), 1.0, atol=1e-5)
                assert np.array_equal(np.argmax(p, axis=0), labels.array), "labels are the probabilities' argmax"
                assert counts(labels) == got
    print("label counts", got)
    assert got == expected, "Python %s != C %s" % (got, expected)
    assert sum(1 for c in got if c) > 1, "a single label cannot tell a right segmentation from a wrong one"


def test_forward():
    with swinunetr.Model(_need("SWU_TEST_WEIGHTS"), threads=2) as model:
        x = np.linspace(0, 1, 32 * 32 * 32, dtype=np.float32).reshape(1, 1, 32, 32, 32)
        y = model.forward(x)
        assert y.shape == (1, 14, 32, 32, 32) and np.isfinite(y).all()
        again = np.empty_like(y)
        assert model.forward(x, out=again) is again and np.array_equal(again, y)
        try:
            model.forward(x[:, :, :, :, :31])
            raise AssertionError("a 31-voxel axis must be refused")
        except swinunetr.Error as e:
            assert e.status == swinunetr.Status.INVALID_ARGUMENT


def test_errors():
    try:
        swinunetr.Volume.read("/nonexistent/ct.nii.gz")
        raise AssertionError("reading a missing file must fail")
    except swinunetr.Error as e:
        assert e.status == swinunetr.Status.IO, e.status
        assert "/nonexistent/ct.nii.gz" in e.message and "does not exist" in e.message, e.message
    try:
        swinunetr.Model(backend="no-such-backend")
        raise AssertionError("an unknown backend must fail")
    except swinunetr.Error as e:
        assert e.status == swinunetr.Status.BACKEND and "no-such-backend" in e.message, e


def test_cancel():
    hu = np.zeros((40, 30, 20), dtype=np.int16, order="F")
    hu[10:30, 5:25, 5:15] = 60
    calls = []

    def stop_in_network(stage, done, total):
        calls.append(stage)
        return stage == swinunetr.Stage.NETWORK  # truthy: cancel

    with swinunetr.Model(_need("SWU_TEST_WEIGHTS"), threads=2) as model, \
            swinunetr.Volume.from_array(hu, spacing=(3, 3, 3)) as v:
        try:
            model.segment(v, progress=stop_in_network)
            raise AssertionError("the run must be cancelled")
        except swinunetr.Cancelled as e:
            assert e.status == swinunetr.Status.CANCELLED and "cancelled" in e.message
        assert calls[-1] == swinunetr.Stage.NETWORK
        # An exception in the callback stops the run and comes out unchanged.
        class Stop(Exception):
            pass

        def boom(stage, done, total):
            raise Stop()
        try:
            model.segment(v, progress=boom)
            raise AssertionError("the callback's exception must propagate")
        except Stop:
            pass


if __name__ == "__main__":
    failed = 0
    for name, fn in [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")]:
        try:
            fn()
            print("ok  ", name)
        except Exception as e:  # report every test, then fail
            import traceback
            traceback.print_exc()
            print("FAIL", name, e)
            failed += 1
    sys.exit(1 if failed else 0)
