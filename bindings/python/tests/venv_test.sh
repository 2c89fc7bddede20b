#!/bin/sh
# The Python package as a user gets it. pip installs bindings/python into a fresh venv
# (--system-site-packages: Debian's numpy, setuptools and wheel; --no-index: no network),
# then, from outside the source tree so that the installed copy is the one imported, with no
# library variable set and PKG_CONFIG_PATH on a fresh install tree (`cmake --install`):
# the binding's test as a plain script, under pytest too where the venv has pytest, and the
# README's example, verbatim, on the test CT.
# usage: venv_test.sh PYTHON BUILD_DIR LIBDIR WORK   (SWU_TEST_WEIGHTS, SWU_TEST_CT, SWU_TEST_LABELS set)
set -eu
python=$1 build=$2 libdir=$3 work=$4
package=$(cd "$(dirname "$0")/.." && pwd)  # bindings/python
rm -rf "$work"
mkdir -p "$work/src"

# pip builds in the folder it is given (build/, *.egg-info): give it a copy.
cp -R "$package/pyproject.toml" "$package/README.md" "$package/swinunetr" "$work/src/"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
"$python" -m venv --system-site-packages "$work/venv"
PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
  "$work/venv/bin/python" -m pip install --no-build-isolation "$work/src"

cmake --install "$build" --prefix "$work/install" >/dev/null
cp "$package/tests/test_swinunetr.py" "$work/"
cd "$work"
run() {
  env -u SWINUNETR_LIB -u SWINUNETR_LIB_DIR -u LD_LIBRARY_PATH -u PYTHONPATH \
    PKG_CONFIG_PATH="$work/install/$libdir/pkgconfig" SWU_TEST_WORK="$work" "$@"
}
# The installed copy, with its py.typed, and the install tree's library found by pkg-config.
run venv/bin/python - "$work" "$libdir" <<'EOF'
import os, sys
import swinunetr, swinunetr._native as native
work, libdir = sys.argv[1], sys.argv[2]
where = os.path.dirname(swinunetr.__file__)
print("swinunetr", swinunetr.version(), "from", where, "library", native.library_path, "found by", native.library_found_by)
assert where.startswith(os.path.join(work, "venv", "lib")), "not the installed copy: " + where
assert os.path.isfile(os.path.join(where, "py.typed")), "py.typed was not installed"
assert native.library_found_by == "pkg-config", native.library_found_by
assert os.path.dirname(native.library_path) == os.path.join(work, "install", libdir), native.library_path
EOF

echo "== test_swinunetr.py, plain python"
run venv/bin/python test_swinunetr.py
if run venv/bin/python -c "import pytest" 2>/dev/null; then
  echo "== test_swinunetr.py under pytest"
  run venv/bin/python -m pytest -q -p no:cacheprovider test_swinunetr.py
else
  echo "== pytest is not installed for $python: the test ran as a plain script only"
fi

echo "== README.md's example"
awk '/^```python$/ { inside = 1; next } /^```$/ { if (inside) exit } inside' "$package/README.md" > readme_example.py
cat readme_example.py
ln -s "$SWU_TEST_WEIGHTS" model.pt
ln -s "$SWU_TEST_CT" ct.nii.gz
run venv/bin/python readme_example.py
run venv/bin/python - "$SWU_TEST_LABELS" <<'EOF2'
import sys
import numpy as np, swinunetr
with swinunetr.Volume.read("labels.nii.gz") as mine, swinunetr.Volume.read(sys.argv[1]) as c:
    got, expected = (np.bincount(np.asarray(v.array).ravel(), minlength=14).tolist() for v in (mine, c))
assert got == expected, "README example %s != C example %s" % (got, expected)
print("README example: the C example's label counts", got)
EOF2
