#!/usr/bin/env bash
# Fuzzes every parser of untrusted bytes with libFuzzer (clang, ASan + UBSan, build-asan/).
#
#   scripts/fuzz.sh --smoke               CI: our own parsers for SWU_FUZZ_SECONDS (default 30) s; volume targets replay seeds + regressions
#   scripts/fuzz.sh [TARGET...] [-t SECS] longer runs (default 600 s per target, all targets)
#
# Targets: fuzz_checkpoint fuzz_pickle fuzz_json fuzz_npy fuzz_volume_nifti fuzz_volume_nrrd
# fuzz_volume_mha fuzz_volume_dicom (sources in fuzz/). Seeds are valid files made by
# fuzz_make_seeds, tests/data/checkpoints, pydicom's CT test data and the saved
# regressions in tests/data/regress/<target>/. The corpus grows in
# build-asan/fuzz/corpus/<target>/ and is kept between runs. A crash, leak, timeout or
# over-allocation is saved in build-asan/fuzz/crashes/<target>/ and makes the script
# fail: copy it to tests/data/regress/<target>/ and fix the code.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

all_targets=(fuzz_checkpoint fuzz_pickle fuzz_json fuzz_npy fuzz_volume_nifti fuzz_volume_nrrd fuzz_volume_mha fuzz_volume_dicom)
targets=()
seconds=600
smoke=0
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) seconds=${SWU_FUZZ_SECONDS:-30}; smoke=1 ;;
    -t) seconds=$2; shift ;;
    fuzz_*) targets+=("$1") ;;
    *) echo "usage: $0 [--smoke] [-t SECONDS] [TARGET...]" >&2; exit 2 ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

bash scripts/configure-sanitized.sh
cmake --build build-asan --target "${targets[@]}" fuzz_make_seeds

out=$root/build-asan/fuzz
seeds=$out/seeds
rm -rf "$seeds"
mkdir -p "$seeds"
"$out/fuzz_make_seeds" "$seeds/made"
copy_seeds() {  # target, files...
  local t=$1; shift
  mkdir -p "$seeds/$t"
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$seeds/$t/" || true; done
}
copy_seeds fuzz_checkpoint tests/data/checkpoints/*.pt tests/data/checkpoints/*.safetensors
# The data.pkl records of the checkpoint fixtures, unzipped, for the pickle machine.
python3 - "$seeds/fuzz_pickle" tests/data/checkpoints/*.pt <<'PY'
import os, sys, zipfile
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for path in sys.argv[2:]:
    try:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.endswith("/data.pkl"):
                    open(os.path.join(out, os.path.basename(path) + ".pkl"), "wb").write(z.read(name))
    except zipfile.BadZipFile:
        pass
PY
copy_seeds fuzz_npy "$seeds"/made/npy/*
# Small real documents: golden-file JSON, the demo model's report, a datalist.
golden=${SWU_GOLDEN_DIR:-$root/../shared/golden}
copy_seeds fuzz_json "$golden"/net_f12/case.json "$golden"/pipeline/affines.json models/*.json
printf '{"training": [{"image": "a.nii.gz", "label": "b.nii.gz"}], "validation": []}' > "$seeds/fuzz_json/datalist.json"
copy_seeds fuzz_volume_nifti "$seeds"/made/nifti/*
copy_seeds fuzz_volume_nrrd "$seeds"/made/nrrd/*
copy_seeds fuzz_volume_mha "$seeds"/made/mha/*
pydicom_data=$(python3 -c 'import os, pydicom; print(os.path.dirname(pydicom.__file__))' 2>/dev/null || true)/data/test_files
copy_seeds fuzz_volume_dicom "$pydicom_data"/CT_small.dcm "$pydicom_data"/dicomdirtests/98892001/CT5N/*
for t in "${all_targets[@]}"; do
  [ -d "tests/data/regress/$t" ] && copy_seeds "$t" tests/data/regress/"$t"/*
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
# Known leaks in ITK's NRRD and MetaImage readers (third-party, see SECURITY.md).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/scripts/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export SWU_LOG_LEVEL=none
failed=()
printf '%-20s %8s %10s %8s %s\n' target seconds executions corpus result
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus/$t" "$out/crashes/$t"
  log=$out/$t.log
  # The CI smoke mutates the parsers this project owns. The volume targets reach ITK 5.2
  # and GDCM 3.0 (Debian), where mutation finds new upstream aborts and hangs within
  # seconds (each one found so far is fenced off by a check in lib/image/header_checks
  # and kept in tests/data/regress): in the smoke they replay their seeds and every
  # saved regression once; long runs of this script mutate them too.
  budget=(-max_total_time="$seconds")
  if [ "$smoke" = 1 ] && [[ $t == fuzz_volume_* ]]; then budget=(-runs=0); fi
  set +e
  # 2 GiB per input at most: a parser must refuse (not attempt) anything larger.
  "$out/$t" "${budget[@]}" -timeout=30 -rss_limit_mb=2560 -malloc_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/crashes/$t/" "$out/corpus/$t" "$seeds/$t" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  corpus=$(ls "$out/corpus/$t" | wc -l)
  if [ $rc -eq 0 ]; then result=ok; else result="FAILED (exit $rc, see $log)"; failed+=("$t"); fi
  printf '%-20s %8s %10s %8s %s\n' "$t" "$seconds" "$execs" "$corpus" "$result"
done
if [ ${#failed[@]} -gt 0 ]; then
  for t in "${failed[@]}"; do
    echo "---- $t ----"; grep -A30 -m1 'ERROR\|==ERROR\|runtime error\|deadly signal' "$out/$t.log" | head -60
    ls -l "$out/crashes/$t"
  done
  exit 1
fi
