// Data parallelism over LibTorch's c10d: one process per device, a TCP store for the
// rendezvous (rank 0 serves it), Gloo collectives on the CPU and NCCL on CUDA. The
// c10d headers stay inside distributed.cpp; the rest of the plugin sees this class.
#pragma once

#include <ATen/ATen.h>

#include <cstddef>
#include <memory>
#include <string>

#include "swin_unetr.hpp"

namespace swu_torch {

class DataParallel {
public:
    // Joins the group (blocks until all world_size ranks arrived or timeout_seconds
    // passed). Throws swu_plugin::Failure: SWU_ERR_IO when the rendezvous fails,
    // SWU_ERR_UNSUPPORTED when this build has no collectives for `device`.
    DataParallel(int rank, int world_size, const std::string& master_addr, int master_port, double timeout_seconds,
                 const at::Device& device);
    ~DataParallel();
    DataParallel(const DataParallel&) = delete;
    DataParallel& operator=(const DataParallel&) = delete;

    int rank() const { return rank_; }
    int world_size() const { return world_size_; }

    // Rank 0's floating-point tensors replace everyone else's (in place, same order on
    // every rank: the map's).
    void broadcast(Params& params);
    // Every trainable parameter's gradient becomes the mean over the ranks: flattened
    // into buckets of at most ~25 MiB (DDP's bucket_cap_mb), all buckets all-reduced
    // (summed) asynchronously, then divided by world_size. After overlap_next_backward,
    // it finishes the buckets that backward already sent.
    void average_gradients(Params& params);
    // Overlaps the next backward's all-reduce with the backward itself, as DDP does: a
    // bucket (parameters in the order backward reaches them) is sent as soon as autograd
    // has produced all its gradients, buckets in the same order on every rank. Only for a
    // backward that alone makes the step's gradients (one micro-batch, no activation
    // checkpointing: each parameter's hook then fires once, with its final gradient).
    void overlap_next_backward(Params& params);
    // values[0..count) summed over the ranks.
    void all_reduce_sum(double* values, size_t count);

private:
    struct Group;
    struct Overlap;
    int rank_, world_size_;
    std::unique_ptr<Group> group_;
    std::unique_ptr<Overlap> overlap_;
};

}  // namespace swu_torch
