#include "io/json.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/error.hpp"

namespace swu::json {

namespace {

// Deep enough for any real document; keeps hostile input from costing time and memory.
constexpr int kMaxDepth = 256;
constexpr size_t kMaxValues = size_t(4) << 20;
constexpr std::streamoff kMaxFileBytes = std::streamoff(64) << 20;

[[noreturn]] void type_error(const char* wanted, Value::Kind got) {
    fail(SWU_ERR_FORMAT, std::string("JSON: expected ") + wanted + ", found " + kind_name(got));
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; ours with "JSON: ".
std::string library_message(const nlohmann::json::exception& e) {
    std::string what = e.what();
    if (!what.empty() && what[0] == '[') {
        const size_t end = what.find("] ");
        if (end != std::string::npos) what.erase(0, end + 2);
    }
    return "JSON: " + what;
}

// Enforces the limits and refuses duplicate keys while the library parses (its parser
// is iterative, so depth costs no stack; the callback stops hostile input early).
class Limits {
public:
    bool operator()(int /*depth*/, nlohmann::ordered_json::parse_event_t event, Document& parsed) {
        using E = nlohmann::ordered_json::parse_event_t;
        switch (event) {
            case E::object_start:
            case E::array_start:
                if (++depth_ > kMaxDepth) fail(SWU_ERR_FORMAT, "JSON: nesting deeper than " + std::to_string(kMaxDepth));
                keys_.emplace_back();
                break;
            case E::object_end:
            case E::array_end:
                --depth_;
                keys_.pop_back();
                break;
            case E::key:
                if (!keys_.empty() && !keys_.back().insert(parsed.get_ref<const std::string&>()).second)
                    fail(SWU_ERR_FORMAT, "JSON: key '" + parsed.get_ref<const std::string&>() + "' given twice in one object");
                break;
            case E::value:
                if (++values_ > kMaxValues)
                    fail(SWU_ERR_FORMAT, "JSON: more than " + std::to_string(kMaxValues) + " values");
                break;
        }
        return true;
    }

private:
    int depth_ = 0;
    size_t values_ = 0;
    std::vector<std::set<std::string>> keys_;  // per open container (arrays hold none)
};

}  // namespace

const char* kind_name(Value::Kind k) {
    switch (k) {
        case Value::Kind::Null: return "null";
        case Value::Kind::Bool: return "boolean";
        case Value::Kind::Number: return "number";
        case Value::Kind::String: return "string";
        case Value::Kind::Array: return "array";
        case Value::Kind::Object: return "object";
    }
    return "?";
}

Value::Kind Value::kind() const {
    if (node_->is_boolean()) return Kind::Bool;
    if (node_->is_number()) return Kind::Number;
    if (node_->is_string()) return Kind::String;
    if (node_->is_array()) return Kind::Array;
    if (node_->is_object()) return Kind::Object;
    return Kind::Null;
}

bool Value::as_bool() const {
    if (!is_bool()) type_error("boolean", kind());
    return node_->get<bool>();
}

double Value::as_number() const {
    if (!is_number()) type_error("number", kind());
    return node_->get<double>();
}

const std::string& Value::as_string() const {
    if (!is_string()) type_error("string", kind());
    return node_->get_ref<const std::string&>();
}

std::vector<Value> Value::elements() const {
    if (!is_array()) type_error("array", kind());
    std::vector<Value> out;
    out.reserve(node_->size());
    for (const Document& e : *node_) out.push_back(Value(root_, &e));
    return out;
}

std::vector<std::pair<std::string, Value>> Value::members() const {
    if (!is_object()) type_error("object", kind());
    std::vector<std::pair<std::string, Value>> out;
    out.reserve(node_->size());
    for (const auto& [key, member] : node_->items()) out.emplace_back(key, Value(root_, &member));
    return out;
}

std::optional<Value> Value::find(const std::string& key) const {
    if (!is_object()) return std::nullopt;
    const auto it = node_->find(key);
    if (it == node_->end()) return std::nullopt;
    return Value(root_, &*it);
}

Value Value::at(const std::string& key) const {
    if (!is_object()) fail(SWU_ERR_FORMAT, "JSON: looked up key '" + key + "' in a " + kind_name(kind()));
    std::optional<Value> v = find(key);
    if (!v) fail(SWU_ERR_FORMAT, "JSON: missing key '" + key + "'");
    return *v;
}

Value Value::at(size_t index) const {
    if (!is_array()) type_error("array", kind());
    if (index >= node_->size())
        fail(SWU_ERR_FORMAT, "JSON: index " + std::to_string(index) + " out of range (array of " +
                                 std::to_string(node_->size()) + ")");
    return Value(root_, &(*node_)[index]);
}

size_t Value::size() const { return is_array() || is_object() ? node_->size() : 0; }

Value parse(const std::string& text) {
    auto doc = std::make_shared<Document>();
    try {
        *doc = Document::parse(text, Limits());
    } catch (const nlohmann::json::exception& e) {
        throw Error(SWU_ERR_FORMAT, library_message(e));
    } catch (const std::bad_alloc&) {
        throw Error(SWU_ERR_OUT_OF_MEMORY, "JSON: out of memory");
    }
    const Document* root = doc.get();
    return Value(std::move(doc), root);
}

Value parse_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) fail(SWU_ERR_IO, path + ": cannot open: " + std::strerror(errno));
    if (in.tellg() > kMaxFileBytes)
        fail(SWU_ERR_FORMAT, path + ": JSON file larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB");
    in.seekg(0);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) fail(SWU_ERR_IO, path + ": read error");
    try {
        return parse(ss.str());
    } catch (const Error& e) {
        throw Error(e.status(), path + ": " + e.what());
    }
}

}  // namespace swu::json
