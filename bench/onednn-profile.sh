#!/usr/bin/env bash
# Where the oneDNN backend's forward time goes, per primitive kind and implementation,
# from ONEDNN_VERBOSE's execution times; convolutions also in GFLOP/s and as a share of
# the machine's fp32 peak (`swinunetr bench`'s FMA-loop measurement, same thread count).
#
#   bench/onednn-profile.sh [swinunetr bench options, e.g. --threads 2 --size 96 --precisions bf16]
#
# The bench runs one warm-up forward and one timed forward; only the second is counted.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${SWU_CLI:-build/bin/swinunetr}
log=$(ONEDNN_VERBOSE=1 "$cli" bench --backends onednn --batches 1 --repeats 1 "$@")
grep -E '^(SwinUNETR|fp32 peak|onednn )' <<<"$log"
peak=$(awk '/^fp32 peak/ { print $(NF - 1) }' <<<"$log")
grep '^onednn_verbose,exec,' <<<"$log" | awk -F, -v peak="$peak" '
function num(s, key) { return match(s, key "[0-9]+") ? substr(s, RSTART + length(key), RLENGTH - length(key)) + 0 : 0 }
{ line[NR] = $0 }
# A forward ends with the reorder of its logits into channel-first (abcde) memory.
/^onednn_verbose,exec,cpu,reorder,.*dst_f32::blocked:abcde:/ { previous_end = last_end; last_end = NR }
END {
    for (i = previous_end + 1; i <= last_end; ++i) {  # the second of two forwards (the first also reorders weights)
        n = split(line[i], f, ",")
        kind = f[4]; impl = f[5]; desc = f[n - 1]; ms = f[n] + 0
        key = kind " " impl
        time[key] += ms; count[key] += 1; total += ms
        if (kind == "convolution" || kind == "deconvolution") {
            space = kind == "convolution" ? num(desc, "od") * num(desc, "oh") * num(desc, "ow") \
                                          : num(desc, "id") * num(desc, "ih") * num(desc, "iw")
            flop = 2 * num(desc, "mb") * num(desc, "ic") * num(desc, "oc") * num(desc, "kd") * num(desc, "kh") * num(desc, "kw") * space
            conv_ms += ms; conv_flop += flop
        }
    }
    printf "%10s %6s %6s  %s\n", "ms", "share", "calls", "primitive / implementation"
    for (k in time) printf "%10.1f %5.1f%% %6d  %s\n", time[k], 100 * time[k] / total, count[k], k | "sort -n -r"
    close("sort -n -r")
    printf "%10.1f %6s %6s  %s\n", total, "", "", "all primitives"
    gf = conv_flop / (conv_ms * 1e6)
    printf "convolutions and deconvolutions: %.1f GFLOP in %.1f ms = %.1f GFLOP/s, %.0f %% of the %.1f GFLOP/s peak\n", \
        conv_flop / 1e9, conv_ms, gf, 100 * gf / peak, peak
}'
