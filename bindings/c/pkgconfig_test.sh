#!/bin/sh
# Builds the C example the way a C host does, `cc $(pkg-config --cflags --libs swinunetr)`,
# against a fresh install tree, runs it without any library path set, and compares its
# labels with those of the example CMake built.
# usage: pkgconfig_test.sh BUILD_DIR PREFIX LIBDIR CC WEIGHTS CT EXPECTED_LABELS WORK
set -eu
build=$1 prefix=$2 libdir=$3 cc=$4 weights=$5 ct=$6 expected=$7 work=$8
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
flags=$(pkg-config --cflags --libs swinunetr)
echo "pkg-config --cflags --libs swinunetr: $flags"
# shellcheck disable=SC2086  # the flags are words
"$cc" -std=c99 -Wall -Wextra -Werror -o "$work/segment_example_pc" "$here/segment_example.c" $flags
env -u LD_LIBRARY_PATH -u SWINUNETR_LIB -u SWINUNETR_LIB_DIR \
  "$work/segment_example_pc" "$weights" "$ct" "$work/labels_pc.nii.gz"
if ! cmp "$work/labels_pc.nii.gz" "$expected"; then
  echo "the labels differ from those of the C example CMake built" >&2
  exit 1
fi
