#include "network_shapes.hpp"

#include <algorithm>

namespace swu_bench {

std::vector<Key> state_dict_layout(const Net& n) {
    std::vector<Key> k;
    const int64_t F = n.feature, table = (2 * n.window - 1) * (2 * n.window - 1) * (2 * n.window - 1),
                  win = n.window * n.window * n.window;
    k.push_back({"swinViT.patch_embed.proj.weight", {F, n.in, 2, 2, 2}});
    k.push_back({"swinViT.patch_embed.proj.bias", {F}});
    for (int s = 0; s < 4; ++s) {
        const int64_t C = F << s;
        const std::string layer = "swinViT.layers" + std::to_string(s + 1) + ".0.";
        for (int b = 0; b < n.depths[s]; ++b) {
            const std::string p = layer + "blocks." + std::to_string(b) + ".";
            k.push_back({p + "norm1.weight", {C}});
            k.push_back({p + "norm1.bias", {C}});
            k.push_back({p + "attn.relative_position_bias_table", {table, n.heads[s]}});
            k.push_back({p + "attn.relative_position_index", {win, win}, true});
            k.push_back({p + "attn.qkv.weight", {3 * C, C}});
            k.push_back({p + "attn.qkv.bias", {3 * C}});
            k.push_back({p + "attn.proj.weight", {C, C}});
            k.push_back({p + "attn.proj.bias", {C}});
            k.push_back({p + "norm2.weight", {C}});
            k.push_back({p + "norm2.bias", {C}});
            k.push_back({p + "mlp.linear1.weight", {4 * C, C}});
            k.push_back({p + "mlp.linear1.bias", {4 * C}});
            k.push_back({p + "mlp.linear2.weight", {C, 4 * C}});
            k.push_back({p + "mlp.linear2.bias", {C}});
        }
        k.push_back({layer + "downsample.reduction.weight", {2 * C, 8 * C}});
        k.push_back({layer + "downsample.norm.weight", {8 * C}});
        k.push_back({layer + "downsample.norm.bias", {8 * C}});
    }
    auto res = [&](const std::string& name, int64_t cin, int64_t cout) {
        k.push_back({name + "conv1.conv.weight", {cout, cin, 3, 3, 3}});
        k.push_back({name + "conv2.conv.weight", {cout, cout, 3, 3, 3}});
        if (cin != cout) k.push_back({name + "conv3.conv.weight", {cout, cin, 1, 1, 1}});
    };
    res("encoder1.layer.", n.in, F);
    res("encoder2.layer.", F, F);
    res("encoder3.layer.", 2 * F, 2 * F);
    res("encoder4.layer.", 4 * F, 4 * F);
    res("encoder10.layer.", 16 * F, 16 * F);
    const char* decoders[5] = {"decoder5", "decoder4", "decoder3", "decoder2", "decoder1"};
    const int64_t cin[5] = {16 * F, 8 * F, 4 * F, 2 * F, F}, cout[5] = {8 * F, 4 * F, 2 * F, F, F};
    for (int i = 0; i < 5; ++i) {
        k.push_back({std::string(decoders[i]) + ".transp_conv.conv.weight", {cin[i], cout[i], 2, 2, 2}});
        res(std::string(decoders[i]) + ".conv_block.", 2 * cout[i], cout[i]);
    }
    k.push_back({"out.conv.conv.weight", {n.out, F, 1, 1, 1}});
    k.push_back({"out.conv.conv.bias", {n.out}});
    return k;
}

double forward_macs(const Net& n, int64_t d, int64_t h, int64_t w) {
    const int64_t F = n.feature;
    double macs = 0;
    auto voxels = [&](int level) { return static_cast<double>((d >> level) * (h >> level) * (w >> level)); };
    macs += voxels(1) * F * n.in * 8;  // patch embedding
    for (int s = 0; s < 4; ++s) {
        const int64_t C = F << s, g[3] = {d >> (s + 1), h >> (s + 1), w >> (s + 1)};
        double padded = 1, tokens = 1, wtok = 1;
        for (int a = 0; a < 3; ++a) {
            const int64_t ws = std::min(g[a], n.window);
            padded *= static_cast<double>((g[a] + ws - 1) / ws * ws);
            tokens *= static_cast<double>(g[a]);
            wtok *= static_cast<double>(ws);
        }
        const double block = padded * C * 3 * C       // qkv
                             + 2 * padded * wtok * C  // q k^T and attn v over all heads
                             + padded * C * C         // proj
                             + tokens * C * 8 * C;    // mlp
        macs += n.depths[s] * block + tokens / 8 * 8 * C * 2 * C;  // + patch merging
    }
    auto res = [&](int level, int64_t cin, int64_t cout) {
        macs += voxels(level) * cout * (cin * 27 + cout * 27 + (cin != cout ? cin : 0));
    };
    res(0, n.in, F);
    res(1, F, F);
    res(2, 2 * F, 2 * F);
    res(3, 4 * F, 4 * F);
    res(5, 16 * F, 16 * F);
    const int64_t cin[5] = {16 * F, 8 * F, 4 * F, 2 * F, F}, cout[5] = {8 * F, 4 * F, 2 * F, F, F};
    for (int i = 0; i < 5; ++i) {
        const int level = 4 - i;  // output level of decoder5 .. decoder1
        macs += voxels(level + 1) * cin[i] * cout[i] * 8;
        res(level, 2 * cout[i], cout[i]);
    }
    macs += voxels(0) * F * n.out;
    return macs;
}

}  // namespace swu_bench
