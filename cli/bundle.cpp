#include "bundle.hpp"

#include <cctype>
#include <cmath>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <vector>

#include "common/error.hpp"
#include "io/json.hpp"

namespace swu_cli {
namespace {

using swu::json::Value;

class Reader {
public:
    Reader(std::string file, const Value& root) : file_(std::move(file)), root_(root) {}

    [[noreturn]] void refuse(const std::string& where, const std::string& what) const {
        throw std::runtime_error(file_ + ": " + where + ": " + what);
    }

    // A value, with a one-level "@id" reference to a top-level entry resolved; "$"
    // expressions are Python, which this reader does not run.
    Value resolve(const Value& v, const std::string& where) const {
        if (v.is_string() && !v.as_string().empty()) {
            const std::string& s = v.as_string();
            if (s[0] == '$') refuse(where, "a Python expression (\"" + s + "\"); give the value itself");
            if (s[0] == '@') {
                const auto target = root_.find(s.substr(1));
                if (!target) refuse(where, "refers to '" + s + "', which the config does not define");
                return *target;
            }
        }
        return v;
    }
    double number(const Value& v, const std::string& where) const {
        const Value r = resolve(v, where);
        if (!r.is_number()) refuse(where, "must be a number");
        return r.as_number();
    }
    std::string text(const Value& v, const std::string& where) const {
        const Value r = resolve(v, where);
        if (!r.is_string()) refuse(where, "must be a string");
        return r.as_string();
    }
    bool flag(const Value& v, const std::string& where) const {
        const Value r = resolve(v, where);
        if (!r.is_bool()) refuse(where, "must be true or false");
        return r.as_bool();
    }
    // A number, or a list of equal numbers (a cubic roi, an isotropic setting).
    std::vector<double> numbers(const Value& v, const std::string& where) const {
        const Value r = resolve(v, where);
        std::vector<double> out;
        if (r.is_number()) return {r.as_number()};
        if (!r.is_array()) refuse(where, "must be a number or a list of numbers");
        for (size_t i = 0; i < r.size(); ++i) out.push_back(number(r.at(i), where + "[" + std::to_string(i) + "]"));
        return out;
    }

private:
    std::string file_;
    const Value& root_;
};

// "monai.transforms.Spacingd" and "Spacingd" name the same transform.
std::string target_of(const Reader& r, const Value& t, const std::string& where) {
    const auto target = t.find("_target_");
    if (!target) r.refuse(where, "no _target_");
    std::string name = r.text(*target, where + "._target_");
    const size_t dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(dot + 1);
}

void require_equal(const Reader& r, const std::vector<double>& got, const std::vector<double>& want, const std::string& where,
                   const std::string& what) {
    bool same = got.size() == want.size() || got.size() == 1;
    for (size_t i = 0; same && i < want.size(); ++i) same = std::fabs(got[got.size() == 1 ? 0 : i] - want[i]) < 1e-9;
    if (!same) r.refuse(where, "this library reproduces " + what + " only");
}

void check_keys(const Reader& r, const Value& t, const std::set<std::string>& known, const std::string& where) {
    for (const auto& [key, value] : t.members())
        if (!known.count(key)) r.refuse(where + "." + key, "not reproduced by this library");
}

void read_network(const Reader& r, const Value& net, BundleSettings& s) {
    const std::string where = "network_def";
    if (!net.is_object()) r.refuse(where, "must be an object");
    if (target_of(r, net, where) != "SwinUNETR") r.refuse(where + "._target_", "only SwinUNETR is this library's network");
    check_keys(r, net,
               {"_target_", "spatial_dims", "img_size", "in_channels", "out_channels", "feature_size", "depths", "num_heads",
                "use_checkpoint", "use_v2", "norm_name", "drop_rate", "attn_drop_rate", "dropout_path_rate", "normalize",
                "downsample", "spatial_dims"},
               where);
    auto integer = [&](const char* key, int& out) {
        if (const auto v = net.find(key)) out = static_cast<int>(r.number(*v, where + "." + key));
    };
    integer("in_channels", s.in_channels);
    integer("out_channels", s.out_channels);
    integer("feature_size", s.feature_size);
    for (const char* key : {"depths", "num_heads"})
        if (const auto v = net.find(key)) {
            const std::vector<double> n = r.numbers(*v, where + "." + key);
            if (n.size() != 4) r.refuse(where + "." + key, "must list 4 stages");
            for (int i = 0; i < 4; ++i) (std::string(key) == "depths" ? s.depths : s.num_heads)[i] = static_cast<int>(n[i]);
        }
    if (const auto v = net.find("spatial_dims"))
        if (r.number(*v, where + ".spatial_dims") != 3) r.refuse(where + ".spatial_dims", "must be 3");
    if (const auto v = net.find("use_v2"))
        if (r.flag(*v, where + ".use_v2")) r.refuse(where + ".use_v2", "SwinUNETR v2 is not reproduced");
    if (const auto v = net.find("normalize"))
        if (!r.flag(*v, where + ".normalize")) r.refuse(where + ".normalize", "only normalize=true is reproduced");
    if (const auto v = net.find("norm_name"))
        if (r.text(*v, where + ".norm_name") != "instance") r.refuse(where + ".norm_name", "only \"instance\" is reproduced");
    for (const char* key : {"drop_rate", "attn_drop_rate", "dropout_path_rate"})
        if (const auto v = net.find(key))
            if (r.number(*v, where + "." + key) != 0) r.refuse(where + "." + key, "inference runs without dropout: must be 0");
    if (const auto v = net.find("downsample")) {
        // MONAI < 1.5 means the bundle's (legacy) merging by "merging"; "mergingv2" is v2.
        const std::string d = r.text(*v, where + ".downsample");
        if (d == "merging") s.merging = SWU_MERGING_LEGACY;
        else if (d == "mergingv2") s.merging = SWU_MERGING_V2;
        else r.refuse(where + ".downsample", "\"" + d + "\" is not reproduced (\"merging\", \"mergingv2\")");
    }
}

void read_preprocessing(const Reader& r, const Value& list, const std::string& where) {
    for (size_t i = 0; i < list.size(); ++i) {
        const Value t = list.at(i);
        const std::string at = where + "[" + std::to_string(i) + "]";
        const std::string name = target_of(r, t, at);
        const std::string here = at + " " + name;
        if (name == "LoadImaged" || name == "EnsureChannelFirstd" || name == "EnsureTyped" || name == "EnsureType") {
            continue;  // what reading a volume does anyway
        } else if (name == "Orientationd") {
            check_keys(r, t, {"_target_", "keys", "axcodes", "labels"}, here);
            if (const auto v = t.find("axcodes"))
                if (r.text(*v, here + ".axcodes") != "RAS") r.refuse(here + ".axcodes", "only RAS is reproduced");
        } else if (name == "Spacingd") {
            check_keys(r, t, {"_target_", "keys", "pixdim", "mode", "align_corners"}, here);
            require_equal(r, r.numbers(t.at("pixdim"), here + ".pixdim"), {1.5, 1.5, 2.0}, here + ".pixdim", "(1.5, 1.5, 2.0)");
            if (const auto v = t.find("mode")) {
                const Value m = r.resolve(*v, here + ".mode");
                const std::string mode = m.is_array() && m.size() ? r.text(m.at(size_t(0)), here + ".mode") : r.text(m, here + ".mode");
                if (mode != "bilinear") r.refuse(here + ".mode", "only bilinear is reproduced for the image");
            }
        } else if (name == "ScaleIntensityRanged") {
            check_keys(r, t, {"_target_", "keys", "a_min", "a_max", "b_min", "b_max", "clip"}, here);
            const double want[4] = {-175, 250, 0, 1};
            const char* keys[4] = {"a_min", "a_max", "b_min", "b_max"};
            for (int k = 0; k < 4; ++k)
                require_equal(r, r.numbers(t.at(keys[k]), here + "." + keys[k]), {want[k]}, here + "." + keys[k],
                              std::string(keys[k]) + " = " + std::to_string(static_cast<int>(want[k])));
            if (const auto v = t.find("clip"))
                if (!r.flag(*v, here + ".clip")) r.refuse(here + ".clip", "only clip=true is reproduced");
        } else {
            r.refuse(here, "a transform this library does not reproduce");
        }
    }
}

void read_postprocessing(const Reader& r, const Value& list, const std::string& where) {
    for (size_t i = 0; i < list.size(); ++i) {
        const Value t = list.at(i);
        const std::string at = where + "[" + std::to_string(i) + "]";
        const std::string name = target_of(r, t, at);
        const std::string here = at + " " + name;
        if (name == "Activationsd") {
            if (const auto v = t.find("softmax"))
                if (!r.flag(*v, here + ".softmax")) r.refuse(here + ".softmax", "only softmax is reproduced");
            if (t.find("sigmoid")) r.refuse(here + ".sigmoid", "only softmax is reproduced");
        } else if (name == "AsDiscreted") {
            if (const auto v = t.find("argmax"))
                if (!r.flag(*v, here + ".argmax")) r.refuse(here + ".argmax", "only argmax labels are reproduced");
        } else if (name == "Invertd" || name == "SaveImaged" || name == "EnsureTyped" || name == "CopyItemsd") {
            continue;  // resampling back to the source grid and writing: what segment does
        } else {
            r.refuse(here, "a transform this library does not reproduce");
        }
    }
}

void read_inferer(const Reader& r, const Value& inf, BundleSettings& s) {
    const std::string where = "inferer";
    if (target_of(r, inf, where) != "SlidingWindowInferer") r.refuse(where + "._target_", "only SlidingWindowInferer is reproduced");
    check_keys(r, inf, {"_target_", "roi_size", "sw_batch_size", "overlap", "mode", "sigma_scale", "padding_mode", "cval"}, where);
    if (const auto v = inf.find("roi_size")) {
        const std::vector<double> roi = r.numbers(*v, where + ".roi_size");
        for (double x : roi)
            if (x != roi[0]) r.refuse(where + ".roi_size", "only cubic windows are reproduced");
        s.roi = static_cast<int>(roi[0]);
    }
    if (const auto v = inf.find("sw_batch_size")) s.sw_batch = static_cast<int>(r.number(*v, where + ".sw_batch_size"));
    if (const auto v = inf.find("overlap")) s.overlap = r.numbers(*v, where + ".overlap")[0];
    if (const auto v = inf.find("mode")) {
        const std::string mode = r.text(*v, where + ".mode");
        if (mode == "gaussian") s.blend = SWU_BLEND_GAUSSIAN;
        else if (mode != "constant") r.refuse(where + ".mode", "\"" + mode + "\" is not reproduced (constant, gaussian)");
    }
    if (const auto v = inf.find("sigma_scale"))
        require_equal(r, r.numbers(*v, where + ".sigma_scale"), {0.125}, where + ".sigma_scale", "0.125");
    if (const auto v = inf.find("padding_mode"))
        if (r.text(*v, where + ".padding_mode") != "constant") r.refuse(where + ".padding_mode", "only constant padding is reproduced");
    if (const auto v = inf.find("cval"))
        if (r.number(*v, where + ".cval") != 0) r.refuse(where + ".cval", "only 0 is reproduced");
}

// The transforms of a Compose, given inline or by "@id".
Value transforms_of(const Reader& r, const Value& root, const char* key) {
    const auto entry = root.find(key);
    if (!entry) r.refuse(key, "missing");
    const Value compose = r.resolve(*entry, key);
    if (compose.is_array()) return compose;
    if (!compose.is_object() || !compose.find("transforms")) r.refuse(key, "must be a Compose with \"transforms\"");
    const Value list = r.resolve(compose.at("transforms"), std::string(key) + ".transforms");
    if (!list.is_array()) r.refuse(std::string(key) + ".transforms", "must be a list");
    return list;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

BundleSettings read_bundle(const std::string& dir) {
    BundleSettings s;
    const std::string config = dir + "/configs/inference.json";
    const Value root = swu::json::parse_file(config);
    const Reader r(config, root);
    if (!root.is_object()) r.refuse("the config", "must be a JSON object");
    try {
        const auto net = root.find("network_def");
        if (!net) r.refuse("network_def", "missing");
        read_network(r, r.resolve(*net, "network_def"), s);
        read_preprocessing(r, transforms_of(r, root, "preprocessing"), "preprocessing");
        read_postprocessing(r, transforms_of(r, root, "postprocessing"), "postprocessing");
        const auto inferer = root.find("inferer");
        if (!inferer) r.refuse("inferer", "missing");
        read_inferer(r, r.resolve(*inferer, "inferer"), s);
    } catch (const swu::Error& e) {  // a key of the wrong kind, named by the JSON layer
        throw std::runtime_error(config + ": " + e.what());
    }

    // The label names: as many as the network's classes. Outputs keep this library's
    // names and SEG codes (the BTCV organs); names that differ are listed for the caller.
    const std::string metadata = dir + "/configs/metadata.json";
    if (std::filesystem::exists(metadata)) {
        const Value meta = swu::json::parse_file(metadata);
        const Reader m(metadata, meta);
        try {
            const Value channels = meta.at("network_data_format").at("outputs").at("pred").at("channel_def");
            if (static_cast<int>(channels.size()) != s.out_channels)
                m.refuse("network_data_format.outputs.pred.channel_def",
                         std::to_string(channels.size()) + " classes, the network has " + std::to_string(s.out_channels));
            for (int c = 1; c < s.out_channels; ++c) {
                const auto name = channels.find(std::to_string(c));
                const char* ours = swu_label_name(c);
                if (!name || !name->is_string())
                    m.refuse("network_data_format.outputs.pred.channel_def." + std::to_string(c), "missing");
                if (ours && lower(name->as_string()) != lower(ours))
                    s.renamed.push_back("class " + std::to_string(c) + " is '" + name->as_string() + "' in the bundle, '" +
                                        ours + "' in this library's outputs");
            }
        } catch (const swu::Error& e) {
            throw std::runtime_error(metadata + ": " + e.what());
        }
    }
    s.weights = dir + "/models/model.pt";
    if (!std::filesystem::exists(s.weights)) throw std::runtime_error(dir + ": no models/model.pt");
    return s;
}

}  // namespace swu_cli
