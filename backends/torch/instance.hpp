// One instance of the torch backend (what create() returns) and the network run over a
// batch as forward and sliding_window both run it.
#pragma once

#include <ATen/ATen.h>

#include <memory>

#include "../common/plugin_support.hpp"
#include "distributed.hpp"
#include "swin_unetr.hpp"
#include "torch_compat.hpp"
#include "training.hpp"

namespace swu_torch {

// What create() returns: the network, its weights on the device, the training state.
struct Instance {
    swu_backend_network net{};
    at::Device device = at::kCPU;
    int threads = 1;
    int32_t precision = SWU_PRECISION_FP32;  // fp16 / bf16: CUDA autocast around the forward pass
    Params params;
    Trainer trainer;
    std::unique_ptr<DataParallel> group;  // set by dist_init; destroyed before the tensors it reduced
    swu_plugin::Interrupt interrupt;      // the core's (set_interrupt), asked during forward and sliding_window
};

// The network over a batch x {N, C, D, H, W} on the instance's device, as forward and
// sliding_window both run it: use(first, logits) gets the logits of items [first, first +
// logits.size(0)), in the network's dtype; sink_for(first) makes the tap sink of that part.
template <class SinkFor, class Use> void run_network(const Instance& inst, const at::Tensor& x, SinkFor&& sink_for, Use&& use) {
    auto pass = [&](int64_t first, const at::Tensor& part) {
        auto sink = sink_for(first);
        use(first, swin_unetr(inst.params, inst.net, part, sink));
    };
    if (inst.precision == SWU_PRECISION_FP32 && !inst.device.is_cuda()) {
        // On the CPU a batch runs item by item: the memory peak of one window instead of
        // N (a 96^3 window of the bundle's network peaks near 1 GB), while CPU
        // convolutions gain little from batching. Results agree with a batched pass
        // within float32 noise.
        for (int64_t item = 0; item < x.size(0); ++item) pass(item, x.narrow(0, item, 1));
    } else if (inst.precision == SWU_PRECISION_FP32) {
        pass(0, x);
    } else {
        // supports() admitted fp16 / bf16 only on CUDA.
        compat::CudaAutocast amp(inst.precision == SWU_PRECISION_BF16 ? at::kBFloat16 : at::kHalf);
        pass(0, x);
    }
}

}  // namespace swu_torch
