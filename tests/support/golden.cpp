#include "golden.hpp"

#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "common/error.hpp"
#include "io/npy.hpp"

namespace swu_test {

std::string golden_dir() {
    if (const char* env = std::getenv("SWU_GOLDEN_DIR")) return env;
    return SWU_GOLDEN_DIR;
}

std::string golden_path(const std::string& relative) { return golden_dir() + "/" + relative; }

bool golden_available() {
    struct stat st;
    return stat(golden_path("net_f12/model.pt").c_str(), &st) == 0;
}

swu::Tensor load_golden(const std::string& relative) { return swu::read_npy(golden_path(relative)); }

std::string Comparison::text() const {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%lld values, max abs %.3g, max rel %.3g, %lld outside tolerance (first at %lld)",
                  static_cast<long long>(count), max_abs, max_rel, static_cast<long long>(violations),
                  static_cast<long long>(first_violation));
    return buf;
}

Comparison compare(const float* a, const float* g, int64_t n, double atol, double rtol) {
    Comparison c;
    c.count = n;
    for (int64_t i = 0; i < n; ++i) {
        const double d = std::fabs(static_cast<double>(a[i]) - g[i]);
        const double ag = std::fabs(static_cast<double>(g[i]));
        if (!(d <= atol + rtol * ag)) {  // NaN counts as a violation
            if (c.violations++ == 0) c.first_violation = i;
        }
        if (d > c.max_abs || std::isnan(d)) c.max_abs = d;
        const double rel = d / std::max(ag, 1e-12);
        if (ag > 1e-3 && rel > c.max_rel) c.max_rel = rel;  // relative error where it means something
    }
    return c;
}

void print_comparison(const std::string& name, const Comparison& c) {
    std::printf("golden %-34s %s\n", name.c_str(), c.text().c_str());
    std::fflush(stdout);
}

uint32_t crc32(const void* data, size_t size) {
    uLong crc = ::crc32(0L, Z_NULL, 0);
    const Bytef* p = static_cast<const Bytef*>(data);
    while (size > 0) {
        const uInt chunk = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
        crc = ::crc32(crc, p, chunk);
        p += chunk;
        size -= chunk;
    }
    return static_cast<uint32_t>(crc);
}

uint64_t splitmix64(uint64_t x) {
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double formula_r(uint64_t s, uint64_t k, uint64_t i) {
    return static_cast<double>(splitmix64((s << 48) | (k << 32) | i) >> 11) * 0x1p-52 - 1.0;
}

std::vector<KeyRow> read_keys(const std::string& path) {
    std::ifstream in(path);
    if (!in) swu::fail(SWU_ERR_IO, "cannot open " + path);
    std::vector<KeyRow> rows;
    std::string line;
    int float_index = 0;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> f;
        std::stringstream ss(line);
        std::string item;
        while (std::getline(ss, item, '\t')) f.push_back(item);
        if (f.size() < 5) swu::fail(SWU_ERR_FORMAT, "bad keys.txt line: " + line);
        KeyRow r;
        r.name = f[1];
        std::stringstream dims(f[2]);
        while (std::getline(dims, item, 'x')) r.shape.push_back(std::stoll(item));
        r.dtype = f[3];
        if (r.dtype != "int64") {
            // golden/README section 5: categories by rank and name, k counts float entries.
            r.formula_k = float_index++;
            const bool is_weight = r.name.size() > 7 && r.name.compare(r.name.size() - 7, 7, ".weight") == 0;
            r.category = r.shape.size() >= 2 ? "weight" : is_weight ? "norm_weight" : "bias";
            if (f.size() >= 8 && (std::stoi(f[5]) != r.formula_k || f[6] != r.category))
                swu::fail(SWU_ERR_FORMAT, "keys.txt formula columns disagree with README section 5 for " + r.name);
        }
        rows.push_back(r);
    }
    return rows;
}

std::vector<swu::NamedTensor> formula_weights(const std::vector<KeyRow>& keys, uint64_t seed) {
    std::vector<swu::NamedTensor> out;
    for (const KeyRow& k : keys) {
        swu::NamedTensor t;
        t.name = k.name;
        t.tensor.shape = k.shape;
        const int64_t n = t.tensor.numel();
        if (k.dtype == "int64") {
            // MONAI's relative_position_index for a 7x7x7 window.
            t.tensor.dtype = swu::DType::Int64;
            t.tensor.data.resize(static_cast<size_t>(n) * 8);
            int64_t* v = t.tensor.as<int64_t>();
            const int64_t w = 7, tokens = w * w * w;
            for (int64_t a = 0; a < tokens; ++a)
                for (int64_t b = 0; b < tokens; ++b) {
                    const int64_t da = a / 49, ha = a / 7 % 7, wa = a % 7, db = b / 49, hb = b / 7 % 7, wb = b % 7;
                    v[a * tokens + b] = (da - db + 6) * 169 + (ha - hb + 6) * 13 + (wa - wb + 6);
                }
        } else {
            t.tensor.dtype = swu::DType::Float32;
            t.tensor.data.resize(static_cast<size_t>(n) * 4);
            float* v = t.tensor.as<float>();
            const uint64_t kk = static_cast<uint64_t>(k.formula_k);
            if (k.category == "weight") {
                int64_t fan_in = 1;
                for (size_t d = 1; d < k.shape.size(); ++d) fan_in *= k.shape[d];
                const double scale = 1.0 / std::sqrt(static_cast<double>(fan_in));
                for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(formula_r(seed, kk, i) * scale);
            } else if (k.category == "norm_weight") {
                for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(1.0 + formula_r(seed, kk, i) * 0.125);
            } else if (k.category == "bias") {
                for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(formula_r(seed, kk, i) * 0.03125);
            } else {
                swu::fail(SWU_ERR_FORMAT, "keys.txt has no formula category for " + k.name);
            }
        }
        out.push_back(std::move(t));
    }
    return out;
}

std::vector<float> formula_input(int batch, int offset, int D, int H, int W) {
    std::vector<float> x(static_cast<size_t>(batch) * D * H * W);
    size_t i = 0;
    for (int64_t n = 0; n < batch; ++n)
        for (int64_t z = 0; z < D; ++z)
            for (int64_t y = 0; y < H; ++y)
                for (int64_t xx = 0; xx < W; ++xx) {
                    const int64_t q = offset + n;
                    const int64_t a = std::llabs(2 * ((z + 7 * q) % 64) - 64);
                    const int64_t b = std::llabs(2 * ((y + 13 * q) % 48) - 48);
                    const int64_t c = ((xx - 48) * (xx - 48) + (y - 40 - 4 * q) * (y - 40 - 4 * q) + 2 * (z - 50) * (z - 50)) % 97;
                    const int64_t num = 3 * a + 4 * b + 2 * c;
                    x[i++] = static_cast<float>(static_cast<double>(num) / 576.0);
                }
    return x;
}

NamedTensorViews as_c_tensors(const std::vector<swu::NamedTensor>& weights) {
    NamedTensorViews v;
    for (const swu::NamedTensor& w : weights) {
        swu_named_tensor t{};
        t.name = w.name.c_str();
        switch (w.tensor.dtype) {
            case swu::DType::Float32: t.dtype = SWU_DTYPE_FLOAT32; break;
            case swu::DType::Float16: t.dtype = SWU_DTYPE_FLOAT16; break;
            case swu::DType::BFloat16: t.dtype = SWU_DTYPE_BFLOAT16; break;
            case swu::DType::Int64: t.dtype = SWU_DTYPE_INT64; break;
            default: swu::fail(SWU_ERR_INVALID_ARGUMENT, "dtype without a C API equivalent");
        }
        t.ndim = static_cast<int32_t>(w.tensor.shape.size());
        t.shape = w.tensor.shape.data();
        t.data = w.tensor.data.data();
        v.views.push_back(t);
    }
    return v;
}

}  // namespace swu_test
