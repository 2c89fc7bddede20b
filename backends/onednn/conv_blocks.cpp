// The convolutional U-Net around the Swin encoder (MONAI UnetResBlock, UnetrUpBlock).
#include <cstring>

#include "dnnl_ops.hpp"
#include "network.hpp"

namespace swu_onednn {

// conv-IN-LReLU-conv-IN + (1x1x1 conv-IN shortcut when channels change), LReLU.
Act res_block(Network& m, const std::string& name, const Act& x) {
    const std::string w1 = name + "conv1.conv.weight", w2 = name + "conv2.conv.weight", w3 = name + "conv3.conv.weight";
    const int64_t cout = m.param(w1).shape[0];
    Act a = conv3d(m.ctx, w1, m.at(w1), nullptr, x, cout, 3, 1, 1);
    instance_norm(m.ctx, a);
    leaky_relu(m.ctx, a.ptr(), a.numel());
    Act out = conv3d(m.ctx, w2, m.at(w2), nullptr, a, cout, 3, 1, 1);
    instance_norm(m.ctx, out);
    if (m.has(w3)) {
        Act r = conv3d(m.ctx, w3, m.at(w3), nullptr, x, cout, 1, 1, 0);
        instance_norm(m.ctx, r);
        add_leaky_relu(m.ctx, out.ptr(), r.ptr(), out.numel());
    } else {
        add_leaky_relu(m.ctx, out.ptr(), x.ptr(), out.numel());
    }
    return out;
}

// Transposed conv k2 s2, concatenate the skip on channels, res block.
Act up_block(Network& m, const std::string& name, const Act& x, const Act& skip) {
    const std::string wt = name + ".transp_conv.conv.weight";
    const int64_t cout = m.param(wt).shape[1];
    const Act up = deconv3d_k2s2(m.ctx, wt, m.at(wt), x, cout);
    Act cat(up.n, up.d, up.h, up.w, up.c + skip.c);
    const int64_t T = up.tokens(), cu = up.c, cs = skip.c;
    const float* pu = up.ptr();
    const float* ps = skip.ptr();
    float* pc = cat.ptr();
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < T; ++t) {
        std::memcpy(pc + t * (cu + cs), pu + t * cu, sizeof(float) * static_cast<size_t>(cu));
        std::memcpy(pc + t * (cu + cs) + cu, ps + t * cs, sizeof(float) * static_cast<size_t>(cs));
    }
    return res_block(m, name + ".conv_block.", cat);
}

}  // namespace swu_onednn
