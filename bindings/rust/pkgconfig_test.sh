#!/bin/sh
# The crate linked the way a host outside this repository links it: SWINUNETR_LIB_DIR and
# LD_LIBRARY_PATH unset, libswinunetr found by build.rs through pkg-config in a fresh
# install tree. Builds and runs the integration tests (tests/bindings.rs: the C example's
# label counts, errors, cancellation, ABI), then demands that the build script said it
# took pkg-config, linked the install tree, and that the test binary loads the installed
# library (the rpath), not the build tree's.
# usage: pkgconfig_test.sh CMAKE BUILD_DIR PREFIX LIBDIR CARGO TARGET_DIR
set -eu
cmake=$1 build=$2 prefix=$3 libdir=$4 cargo=$5 target=$6
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$prefix" "$target"
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
installed=$(cd "$prefix/$libdir" && pwd -P)
log="$target.log"
mkdir -p "$target"
# -vv: cargo prints the build script's output (it runs: the target folder is new).
if ! env -u SWINUNETR_LIB_DIR -u SWINUNETR_LIB -u LD_LIBRARY_PATH \
    PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" CARGO_TARGET_DIR="$target" \
    "$cargo" test --offline -vv --manifest-path "$here/Cargo.toml" --test bindings -- --test-threads 1 >"$log" 2>&1; then
  tail -n 60 "$log"
  echo "cargo test failed (whole log: $log)" >&2
  exit 1
fi
grep -E "test result|swinunetr build.rs" "$log"
fail() { echo "$1 (log: $log)" >&2; exit 1; }
grep -q "swinunetr build.rs: libswinunetr .* from pkg-config" "$log" || fail "build.rs did not take pkg-config"
grep -qF "cargo:rustc-link-search=native=$installed" "$log" || fail "build.rs did not link $installed"
for t in "$target"/debug/deps/bindings-*; do
  case $t in *.d) continue ;; esac
  loaded=$(env -u LD_LIBRARY_PATH ldd "$t" | grep 'libswinunetr\.so' || true)
  echo "$(basename "$t"): $loaded"
  case $loaded in *"$installed/libswinunetr.so"*) ;; *) fail "the test binary does not load the installed library" ;; esac
done
