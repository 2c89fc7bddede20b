#include "organ_report.hpp"
#include "volume_access.hpp"

#include "common/atomic_file.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace swu_cli {
namespace {

constexpr int kClasses = 14;  // background + the bundle's 13 organs

std::string sha256_of_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot read the weights for their SHA-256");
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw std::runtime_error("SHA-256 unavailable");
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx.get(), digest, &n);
    std::string hex;
    char two[3];
    for (unsigned int i = 0; i < n; ++i) {
        std::snprintf(two, sizeof two, "%02x", digest[i]);
        hex += two;
    }
    return hex;
}

struct Organ {
    int64_t voxels = 0, components = 0;
    double hu_mean = 0, hu_m2 = 0, probability_sum = 0;  // Welford's running mean and M2
    int64_t lo[3] = {INT64_MAX, INT64_MAX, INT64_MAX}, hi[3] = {-1, -1, -1};
};

std::vector<Organ> measure(const swu_volume_info& image, const swu_volume_info& labels, const swu_volume_info& prob,
                           int64_t prob_channels, int64_t channel_stride) {
    const int64_t ni = labels.size[0], nj = labels.size[1], nk = labels.size[2];
    std::vector<Organ> organs(kClasses);
    std::vector<uint8_t> label_of(static_cast<size_t>(ni * nj * nk));
    auto label_at = [&](int64_t i, int64_t j, int64_t k) {
        const double l = voxel(labels, i * labels.strides[0] + j * labels.strides[1] + k * labels.strides[2]);
        return l >= 0 && l < kClasses ? static_cast<uint8_t>(l) : uint8_t(0);
    };
    for (int64_t k = 0; k < nk; ++k)
        for (int64_t j = 0; j < nj; ++j)
            for (int64_t i = 0; i < ni; ++i) {
                const uint8_t l = label_at(i, j, k);
                label_of[static_cast<size_t>(i + ni * (j + nj * k))] = l;
                if (!l) continue;
                Organ& o = organs[l];
                ++o.voxels;
                const double hu = voxel(image, i * image.strides[0] + j * image.strides[1] + k * image.strides[2]);
                const double delta = hu - o.hu_mean;
                o.hu_mean += delta / static_cast<double>(o.voxels);
                o.hu_m2 += delta * (hu - o.hu_mean);
                if (l < prob_channels)
                    o.probability_sum += voxel(prob, l * channel_stride + i * prob.strides[0] + j * prob.strides[1] + k * prob.strides[2]);
                const int64_t at[3] = {i, j, k};
                for (int a = 0; a < 3; ++a) {
                    o.lo[a] = std::min(o.lo[a], at[a]);
                    o.hi[a] = std::max(o.hi[a], at[a]);
                }
            }
    // Connected components, 26-connected, by flood fill with an explicit stack.
    std::vector<uint8_t> seen(label_of.size(), 0);
    std::vector<int64_t> stack;
    for (int64_t start = 0; start < static_cast<int64_t>(label_of.size()); ++start) {
        const uint8_t l = label_of[static_cast<size_t>(start)];
        if (!l || seen[static_cast<size_t>(start)]) continue;
        ++organs[l].components;
        seen[static_cast<size_t>(start)] = 1;
        stack.assign(1, start);
        while (!stack.empty()) {
            const int64_t v = stack.back();
            stack.pop_back();
            const int64_t i = v % ni, j = (v / ni) % nj, k = v / (ni * nj);
            for (int64_t dk = -1; dk <= 1; ++dk)
                for (int64_t dj = -1; dj <= 1; ++dj)
                    for (int64_t di = -1; di <= 1; ++di) {
                        const int64_t x = i + di, y = j + dj, z = k + dk;
                        if (x < 0 || y < 0 || z < 0 || x >= ni || y >= nj || z >= nk) continue;
                        const int64_t u = x + ni * (y + nj * z);
                        if (seen[static_cast<size_t>(u)] || label_of[static_cast<size_t>(u)] != l) continue;
                        seen[static_cast<size_t>(u)] = 1;
                        stack.push_back(u);
                    }
        }
    }
    return organs;
}

}  // namespace

std::vector<OrganStats> organ_stats(const swu_volume_info& image, const swu_volume_info& labels,
                                    const swu_volume_info& probabilities, int64_t channels, int64_t channel_stride) {
    const std::vector<Organ> organs = measure(image, labels, probabilities, channels, channel_stride);
    std::vector<OrganStats> out(organs.size());
    for (size_t l = 1; l < organs.size(); ++l) {
        const Organ& o = organs[l];
        OrganStats& s = out[l];
        s.voxels = o.voxels;
        s.components = o.components;
        if (!o.voxels) continue;
        s.hu_mean = o.hu_mean;
        s.hu_std = std::sqrt(o.hu_m2 / static_cast<double>(o.voxels));
        s.confidence = o.probability_sum / static_cast<double>(o.voxels);
        for (int a = 0; a < 3; ++a) s.lo[a] = o.lo[a], s.hi[a] = o.hi[a];
    }
    return out;
}

namespace {

const char* precision_name(swu_precision p) {
    return p == SWU_PRECISION_BF16 ? "bf16" : p == SWU_PRECISION_FP16 ? "fp16" : "fp32";
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

}  // namespace

void write_organ_report(const std::string& path, const swu_volume* image, const swu_volume* labels,
                        const swu_volume* probabilities, const ReportContext& c) {
    const swu_volume_info im = info_of(image), lb = info_of(labels), pr = info_of(probabilities);
    int64_t channels = 0, channel_stride = 0;
    swu_volume_get_channels(probabilities, &channels, &channel_stride);
    for (int a = 0; a < 3; ++a)
        if (im.size[a] != lb.size[a] || pr.size[a] != lb.size[a])
            throw std::runtime_error("report: the label map and the probabilities are not on the image's grid");
    const std::vector<OrganStats> organs = organ_stats(im, lb, pr, channels, channel_stride);
    const double ml_per_voxel = lb.spacing[0] * lb.spacing[1] * lb.spacing[2] / 1000.0;
    const std::string sha = sha256_of_file(c.weights);

    nlohmann::ordered_json identity = {{"input", c.input}};
    if (!c.series_uid.empty()) identity["series_instance_uid"] = c.series_uid;
    const nlohmann::ordered_json model = {
        {"weights", c.weights},
        {"weights_sha256", sha},
        {"network", {{"feature_size", c.model.feature_size},
                     {"depths", c.model.depths},
                     {"num_heads", c.model.num_heads},
                     {"in_channels", c.model.in_channels},
                     {"out_channels", c.model.out_channels}}},
        {"backend", c.model.backend ? c.model.backend : ""},
        {"device", c.model.device ? c.model.device : ""},
        {"precision", precision_name(c.model.precision)},
        {"sliding_window", {{"roi", c.params.roi},
                            {"overlap", c.params.overlap},
                            {"sw_batch", c.params.sw_batch},
                            {"blend", c.params.blend == SWU_BLEND_GAUSSIAN ? "gaussian" : "constant"}}},
        {"library_version", swu_version_string()}};

    const bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
    std::ostringstream out;
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    if (csv)
        out << "input,label,organ,voxels,volume_ml,hu_mean,hu_std,bbox_min_x_mm,bbox_min_y_mm,bbox_min_z_mm,"
               "bbox_max_x_mm,bbox_max_y_mm,bbox_max_z_mm,components,confidence,weights_sha256,backend,precision\n";
    for (int l = 1; l < kClasses; ++l) {
        const OrganStats& o = organs[static_cast<size_t>(l)];
        if (!o.voxels) continue;
        // The bounding box of the voxels' extents (centres +- half a voxel), over its 8 corners.
        std::array<double, 3> lo{INFINITY, INFINITY, INFINITY}, hi{-INFINITY, -INFINITY, -INFINITY};
        for (int corner = 0; corner < 8; ++corner) {
            const double i = corner & 1 ? o.hi[0] + 0.5 : o.lo[0] - 0.5, j = corner & 2 ? o.hi[1] + 0.5 : o.lo[1] - 0.5,
                         k = corner & 4 ? o.hi[2] + 0.5 : o.lo[2] - 0.5;
            const std::array<double, 3> p = world(lb, i, j, k);
            for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], p[a]), hi[a] = std::max(hi[a], p[a]);
        }
        const double std_hu = o.hu_std, confidence = o.confidence;
        const char* name = swu_label_name(l);
        if (csv) {
            char row[512];
            std::snprintf(row, sizeof row, ",%d,%s,%lld,%.3f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%lld,%.4f,", l,
                          csv_field(name ? name : "?").c_str(), static_cast<long long>(o.voxels), o.voxels * ml_per_voxel,
                          o.hu_mean, std_hu, lo[0], lo[1], lo[2], hi[0], hi[1], hi[2], static_cast<long long>(o.components),
                          confidence);
            out << csv_field(c.input) << row << sha << "," << csv_field(model["backend"].get<std::string>()) << ","
                << precision_name(c.model.precision) << "\n";
            continue;
        }
        list.push_back({{"label", l},
                        {"organ", name ? name : "?"},
                        {"voxels", o.voxels},
                        {"volume_ml", o.voxels * ml_per_voxel},
                        {"hu_mean", o.hu_mean},
                        {"hu_std", std_hu},
                        {"bbox_lps_mm", {{"min", lo}, {"max", hi}}},
                        {"components", o.components},
                        {"confidence", confidence}});
    }
    if (!csv) {
        const nlohmann::ordered_json report = {
            {"identity", identity},
            {"model", model},
            {"geometry", {{"size", lb.size}, {"spacing_mm", lb.spacing}}},
            {"confidence", "mean probability of the organ's class over the organ's voxels (softmax, the label map's argmax)"},
            {"organs", list}};
        out << report.dump(2) << "\n";
    }
    swu::write_file_atomically(path, out.str());
}

}  // namespace swu_cli
