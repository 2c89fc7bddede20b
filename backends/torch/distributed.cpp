#include "distributed.hpp"

#include <ATen/core/grad_mode.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "../common/plugin_support.hpp"

// Which collectives this build has (CMakeLists.txt decides: Gloo where the LibTorch's own
// gloo headers are present, NCCL in a CUDA build with nccl.h). c10d's headers compile
// their classes only under these macros.
#ifndef SWU_TORCH_GLOO
#define SWU_TORCH_GLOO 0
#endif
#ifndef SWU_TORCH_NCCL
#define SWU_TORCH_NCCL 0
#endif
#if SWU_TORCH_GLOO
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if SWU_TORCH_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace swu_torch {
namespace {

using swu_plugin::Failure;

// LibTorch 1.13: the Gloo / NCCL groups are c10d::ProcessGroup subclasses; from 2.0 on
// they are c10d::Backend subclasses (a ProcessGroup dispatches to them). Both offer
// broadcast / allreduce returning a c10d::Work.
#if TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

constexpr size_t kBucketBytes = size_t(25) << 20;  // DDP's bucket_cap_mb

std::string text_of(const std::exception& e) {
    if (const auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
    return e.what();
}

[[maybe_unused]] bool loopback(const std::string& host) { return host == "localhost" || host.compare(0, 4, "127.") == 0 || host == "::1"; }

// Tensors grouped into consecutive runs of at most kBucketBytes (a larger tensor alone).
std::vector<std::vector<at::Tensor>> buckets(const std::vector<at::Tensor>& tensors) {
    std::vector<std::vector<at::Tensor>> out;
    size_t bytes = kBucketBytes;
    for (const at::Tensor& t : tensors) {
        const size_t b = static_cast<size_t>(t.numel()) * t.element_size();
        if (out.empty() || bytes + b > kBucketBytes) {
            out.emplace_back();
            bytes = 0;
        }
        out.back().push_back(t);
        bytes += b;
    }
    return out;
}

at::Tensor flatten(const std::vector<at::Tensor>& bucket) {
    std::vector<at::Tensor> flat;
    flat.reserve(bucket.size());
    for (const at::Tensor& t : bucket) flat.push_back(t.reshape({-1}));
    return at::cat(flat);
}

void unflatten(const at::Tensor& flat, std::vector<at::Tensor>& bucket) {
    int64_t offset = 0;
    for (at::Tensor& t : bucket) {
        t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
        offset += t.numel();
    }
}

}  // namespace

struct DataParallel::Group {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<Collectives> collectives;
    at::Device device = at::kCPU;
};

DataParallel::DataParallel(int rank, int world_size, const std::string& master_addr, int master_port,
                           double timeout_seconds, const at::Device& device)
    : rank_(rank), world_size_(world_size), group_(std::make_unique<Group>()) {
    if (rank < 0 || world_size < 1 || rank >= world_size || master_port < 1 || master_port > 65535 ||
        !(timeout_seconds > 0) || master_addr.empty())
        throw Failure(SWU_ERR_INVALID_ARGUMENT, "distributed: bad rank, world size, master address/port or timeout");
    const bool cuda = device.is_cuda();
    if (cuda && !SWU_TORCH_NCCL)
        throw Failure(SWU_ERR_UNSUPPORTED, "distributed training on CUDA needs a torch plugin built with NCCL "
                                           "(a CUDA LibTorch and nccl.h); this one has none");
    if (!cuda && !SWU_TORCH_GLOO)
        throw Failure(SWU_ERR_UNSUPPORTED, "distributed training on the CPU needs a torch plugin built with Gloo "
                                           "(a LibTorch whose include folder has gloo/); this one has none");
    const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(timeout_seconds * 1000.0)));
    group_->device = device;
    const std::string where = master_addr + ":" + std::to_string(master_port);
    try {
        c10d::TCPStoreOptions o;
        o.port = static_cast<uint16_t>(master_port);
        o.isServer = rank == 0;
        o.numWorkers = static_cast<size_t>(world_size);
        o.waitWorkers = true;
        o.timeout = timeout;
        group_->store = c10::make_intrusive<c10d::TCPStore>(master_addr, o);
    } catch (const std::exception& e) {
        throw Failure(SWU_ERR_IO, "distributed rank " + std::to_string(rank) + "/" + std::to_string(world_size) + ": " +
                                      (rank == 0 ? "cannot serve the rendezvous at " : "cannot reach the rendezvous at ") +
                                      where + " within " + std::to_string(timeout_seconds) + " s: " + text_of(e));
    }
    try {
#if SWU_TORCH_NCCL
        if (cuda) {
            auto options = c10d::ProcessGroupNCCL::Options::create();
            options->timeout = timeout;
            group_->collectives = c10::make_intrusive<c10d::ProcessGroupNCCL>(group_->store, rank, world_size, options);
        }
#endif
#if SWU_TORCH_GLOO
        if (!cuda) {
            auto options = c10d::ProcessGroupGloo::Options::create(timeout);
            // GLOO_SOCKET_IFNAME picks the interface as in PyTorch; one machine stays on the
            // loopback device; otherwise this host's name must resolve.
            if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
                options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
            else if (loopback(master_addr))
                options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
            else
                options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
            group_->collectives = c10::make_intrusive<c10d::ProcessGroupGloo>(group_->store, rank, world_size, options);
        }
#endif
    } catch (const Failure&) {
        throw;
    } catch (const std::exception& e) {
        throw Failure(SWU_ERR_IO, "distributed rank " + std::to_string(rank) + "/" + std::to_string(world_size) +
                                      ": cannot connect the process group (rendezvous " + where + "): " + text_of(e));
    }
    if (!group_->collectives) throw Failure(SWU_ERR_INTERNAL, "distributed: no process group was created");
}

// The state of one overlapped backward. Hooks stay registered on the parameters the plan
// was made for; a new set of parameter tensors (new weights) gets a new plan.
struct DataParallel::Overlap {
    std::vector<at::Tensor> params;                // trainable, in the order backward reaches them
    std::vector<unsigned> hooks;                   // per parameter
    std::vector<size_t> bucket_of;                 // per parameter
    std::vector<int64_t> offset;                   // per parameter, within its bucket
    std::vector<std::vector<at::Tensor>> flats;    // per bucket: {flat buffer}
    std::vector<size_t> missing;                   // per bucket: gradients not yet arrived
    std::vector<char> arrived;                     // per parameter
    std::vector<c10::intrusive_ptr<c10d::Work>> works;  // per bucket, once sent
    size_t sent = 0;                               // buckets 0..sent-1 are in flight
    bool armed = false, repeated = false;
    std::mutex mutex;

    // Parameter i's place in its bucket's flat buffer.
    at::Tensor slot(size_t i) { return flats[bucket_of[i]][0].narrow(0, offset[i], params[i].numel()); }

    void remove_hooks() {
        for (size_t i = 0; i < params.size(); ++i) params[i].remove_hook(hooks[i]);
        hooks.clear();
    }
};

DataParallel::~DataParallel() {
    if (overlap_) overlap_->remove_hooks();
}

namespace {

// Where backward reaches a parameter: the network's last modules first (autograd runs the
// nodes created last in the forward first), the Swin encoder last.
int backward_order(const std::string& name) {
    static const char* const kOrder[] = {"out.",      "decoder1.",         "decoder2.",         "decoder3.",
                                         "decoder4.", "decoder5.",         "encoder10.",        "encoder4.",
                                         "encoder3.", "encoder2.",         "encoder1.",         "swinViT.layers4.",
                                         "swinViT.layers3.", "swinViT.layers2.", "swinViT.layers1.", "swinViT."};
    for (int i = 0; i < static_cast<int>(std::size(kOrder)); ++i)
        if (name.compare(0, std::char_traits<char>::length(kOrder[i]), kOrder[i]) == 0) return i;
    return static_cast<int>(std::size(kOrder));
}

// Starts summing `tensors` over the ranks (in place, asynchronously).
c10::intrusive_ptr<c10d::Work> start_sum(Collectives& collectives, std::vector<at::Tensor>& tensors) {
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    return collectives.allreduce(tensors, options);
}

// Waits for a collective; a failure (a peer stopped, the timeout passed) as a Failure.
void finish(const c10::intrusive_ptr<c10d::Work>& work, const char* what, int rank, int world) {
    try {
        work->wait();
    } catch (const std::exception& e) {
        throw Failure(SWU_ERR_BACKEND, std::string("distributed ") + what + " failed on rank " + std::to_string(rank) +
                                           "/" + std::to_string(world) + " (did another rank stop?): " + text_of(e));
    }
}

}  // namespace

void DataParallel::broadcast(Params& params) {
    const at::NoGradGuard no_grad;
    std::vector<at::Tensor> tensors;
    for (auto& [name, t] : params)
        if (t.is_floating_point()) tensors.push_back(t);
    for (std::vector<at::Tensor>& bucket : buckets(tensors)) {
        std::vector<at::Tensor> flat = {flatten(bucket)};
        c10d::BroadcastOptions o;
        o.rootRank = 0;
        finish(group_->collectives->broadcast(flat, o), "weight broadcast", rank_, world_size_);
        if (rank_ != 0) unflatten(flat[0], bucket);
    }
}

void DataParallel::overlap_next_backward(Params& params) {
    std::vector<std::pair<std::string, at::Tensor>> trainable;
    for (auto& [name, t] : params)
        if (t.is_floating_point() && t.requires_grad()) trainable.emplace_back(name, t);
    std::stable_sort(trainable.begin(), trainable.end(), [](const auto& a, const auto& b) {
        return backward_order(a.first) < backward_order(b.first);
    });
    bool same = overlap_ && overlap_->params.size() == trainable.size();
    for (size_t i = 0; same && i < trainable.size(); ++i) same = overlap_->params[i].is_same(trainable[i].second);
    if (!same) {
        if (overlap_) overlap_->remove_hooks();
        overlap_ = std::make_unique<Overlap>();
        Overlap& o = *overlap_;
        std::vector<at::Tensor> tensors;
        for (auto& [name, t] : trainable) tensors.push_back(t);
        const std::vector<std::vector<at::Tensor>> plan = buckets(tensors);
        for (size_t b = 0; b < plan.size(); ++b) {
            int64_t offset = 0;
            for (const at::Tensor& t : plan[b]) {
                o.params.push_back(t);
                o.bucket_of.push_back(b);
                o.offset.push_back(offset);
                offset += t.numel();
            }
            o.flats.push_back({at::empty({offset}, plan[b].front().options().requires_grad(false))});
        }
        for (size_t i = 0; i < o.params.size(); ++i)
            o.hooks.push_back(o.params[i].register_hook([this, i](const at::Tensor& grad) {
                Overlap& ov = *overlap_;
                const std::lock_guard<std::mutex> lock(ov.mutex);
                if (!ov.armed) return;
                if (ov.arrived[i]) {  // a second gradient: this backward was not the step's only one
                    ov.repeated = true;
                    return;
                }
                ov.arrived[i] = 1;
                ov.slot(i).copy_(grad.reshape({-1}));
                --ov.missing[ov.bucket_of[i]];
                // Send in bucket order only, so every rank issues the same sequence.
                while (!ov.repeated && ov.sent < ov.flats.size() && ov.missing[ov.sent] == 0) {
                    ov.works[ov.sent] = start_sum(*group_->collectives, ov.flats[ov.sent]);
                    ++ov.sent;
                }
            }));
    }
    Overlap& o = *overlap_;
    const std::lock_guard<std::mutex> lock(o.mutex);
    o.missing.assign(o.flats.size(), 0);
    for (size_t b : o.bucket_of) ++o.missing[b];
    o.arrived.assign(o.params.size(), 0);
    o.works.assign(o.flats.size(), {});
    o.sent = 0;
    o.repeated = false;
    o.armed = true;
}

void DataParallel::average_gradients(Params& params) {
    const at::NoGradGuard no_grad;
    if (overlap_ && overlap_->armed) {
        Overlap& o = *overlap_;
        const std::lock_guard<std::mutex> lock(o.mutex);
        o.armed = false;
        // Whatever backward did not send: gradients that never came (unused parameters)
        // count as zeros, exactly as the plain path below reduces them.
        for (size_t i = 0; i < o.params.size(); ++i) {
            at::Tensor& p = o.params[i];
            if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
            if (!o.arrived[i] && o.bucket_of[i] >= o.sent) o.slot(i).copy_(p.grad().reshape({-1}));
        }
        for (size_t b = o.sent; b < o.flats.size(); ++b) o.works[b] = start_sum(*group_->collectives, o.flats[b]);
        o.sent = o.flats.size();
        for (size_t b = 0; b < o.flats.size(); ++b) finish(o.works[b], "gradient all-reduce", rank_, world_size_);
        if (!o.repeated) {
            for (size_t i = 0; i < o.params.size(); ++i) {
                at::Tensor& p = o.params[i];
                p.mutable_grad().copy_(o.slot(i).view(p.sizes()));
                p.mutable_grad().div_(static_cast<double>(world_size_));
            }
            return;
        }
        // A parameter had two gradients (the caller's promise was broken): the buckets sent
        // early are stale, but every rank sent the same ones; reduce .grad afresh below.
    }
    std::vector<at::Tensor> grads;
    for (auto& [name, t] : params) {
        if (!t.is_floating_point()) continue;
        if (!t.grad().defined()) t.mutable_grad() = at::zeros_like(t);  // same layout on every rank
        grads.push_back(t.grad());
    }
    std::vector<std::vector<at::Tensor>> plan = buckets(grads);
    // All buckets in flight at once; Gloo / NCCL work them off in order.
    std::vector<std::vector<at::Tensor>> flats;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    flats.reserve(plan.size());
    for (const std::vector<at::Tensor>& bucket : plan) {
        flats.push_back({flatten(bucket)});
        works.push_back(start_sum(*group_->collectives, flats.back()));
    }
    for (size_t i = 0; i < plan.size(); ++i) {
        finish(works[i], "gradient all-reduce", rank_, world_size_);
        flats[i][0].div_(static_cast<double>(world_size_));
        unflatten(flats[i][0], plan[i]);
    }
}

void DataParallel::all_reduce_sum(double* values, size_t count) {
    if (count == 0) return;
    const at::Tensor host = at::from_blob(values, {static_cast<int64_t>(count)}, at::kDouble);
    std::vector<at::Tensor> t = {host.to(group_->device, /*non_blocking=*/false, /*copy=*/true)};
    finish(start_sum(*group_->collectives, t), "all-reduce", rank_, world_size_);
    host.copy_(t[0].to(at::kCPU));
}

}  // namespace swu_torch
