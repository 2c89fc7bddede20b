// The machine's fp32 peak, measured: `threads` threads each run independent chains of
// fused multiply-adds at the widest vector width the CPU has (AVX-512, AVX2+FMA, or SSE
// multiply + add), so the figure is what the cores deliver at the clock they run at now
// (turbo included), not a datasheet number.
#pragma once

namespace swu_bench {

// GFLOP/s over all threads (an FMA counts 2 flops per lane).
double measured_fp32_peak(int threads);

}  // namespace swu_bench
