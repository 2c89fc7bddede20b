#include "train/datalist.hpp"

#include "common/error.hpp"
#include "io/json.hpp"

namespace swu {
namespace {

std::string folder_of(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

std::vector<CasePaths> section(const json::Value& root, const std::string& name, const std::string& path) {
    std::vector<CasePaths> out;
    const std::optional<json::Value> list = root.find(name);
    if (!list) return out;
    if (!list->is_array()) fail(SWU_ERR_FORMAT, path + ": \"" + name + "\" is not a list");
    const std::string base = folder_of(path);
    for (size_t i = 0; i < list->size(); ++i) {
        const json::Value e = list->at(i);
        const std::string where = path + ": " + name + "[" + std::to_string(i) + "]";
        const std::optional<json::Value> image = e.find("image");
        const std::optional<json::Value> label = e.find("label");
        if (!image || !image->is_string() || !label || !label->is_string())
            fail(SWU_ERR_FORMAT, where + " needs string entries \"image\" and \"label\"");
        auto resolve = [&](const std::string& p) { return p.empty() || p[0] == '/' ? p : base + p; };
        out.push_back({resolve(image->as_string()), resolve(label->as_string())});
    }
    return out;
}

}  // namespace

Datalist read_datalist(const std::string& path) {
    const json::Value root = json::parse_file(path);
    if (!root.is_object()) fail(SWU_ERR_FORMAT, path + ": a datalist is a JSON object");
    Datalist d;
    d.training = section(root, "training", path);
    d.validation = section(root, "validation", path);
    return d;
}

}  // namespace swu
