#!/usr/bin/env bash
# Fails when any oneDNN primitive of a forward runs on a reference (ref:) implementation:
# those are 30-100x slower than jit code (f12's 12-channel convolutions once took 120 s a
# window on AVX-512). Runs a small forward of f12 and f48 (32^3, formula weights) under
# ONEDNN_VERBOSE on this CPU's own ISA and, where the CPU has AVX-512, again with
# ONEDNN_MAX_CPU_ISA=AVX2 so that one machine checks both dispatch paths.
#
#   tests/onednn_jit_only.sh SWINUNETR   (the CLI: its `bench` command runs the forwards)
set -euo pipefail
cli=$1
isas=(ALL)
if grep -qw avx512f /proc/cpuinfo; then isas+=(AVX2); fi
status=0
for isa in "${isas[@]}"; do
  for feature in 12 48; do
    log=$(ONEDNN_MAX_CPU_ISA=$isa ONEDNN_VERBOSE=1 "$cli" bench --backends onednn --precisions fp32 --feature "$feature" \
          --size 32 --batches 1 --repeats 1 --threads 2 2>&1) || { echo "$log" | tail -20; exit 1; }
    exec_lines=$(grep -c '^onednn_verbose,exec,' <<<"$log" || true)
    ref_lines=$(grep '^onednn_verbose,exec,[^,]*,[^,]*,ref:' <<<"$log" || true)
    impls=$(grep '^onednn_verbose,exec,' <<<"$log" | cut -d, -f4,5 | sort | uniq -c | tr '\n' ';')
    echo "ISA $isa, feature $feature: $exec_lines primitive executions: $impls"
    if [ "$exec_lines" -eq 0 ]; then
      echo "FAIL: no ONEDNN_VERBOSE output (did the onednn backend run?)"; status=1
    elif [ -n "$ref_lines" ]; then
      echo "FAIL: reference implementations on ISA $isa, feature $feature:"; echo "$ref_lines" | cut -c1-400; status=1
    fi
  done
done
exit $status
