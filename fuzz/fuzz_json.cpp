// Fuzz target: any bytes as a JSON document (golden files, datalists, resume.json,
// safetensors headers), through our limits, nlohmann_json, and every accessor we use.
#include <cstdint>
#include <string>

#include "common/error.hpp"
#include "io/json.hpp"

namespace {

// Touches every value the way our readers do: kinds, typed accessors, lookups by key
// and by index (in range and one past it).
void walk(const swu::json::Value& v) {
    switch (v.kind()) {
        case swu::json::Value::Kind::Object:
            for (const auto& [key, member] : v.members()) {
                (void)v.at(key);
                walk(member);
            }
            (void)v.find("image");
            break;
        case swu::json::Value::Kind::Array:
            for (const swu::json::Value& e : v.elements()) walk(e);
            try {
                (void)v.at(v.size());
            } catch (const swu::Error&) {
            }
            break;
        case swu::json::Value::Kind::Number: (void)v.as_number(); break;
        case swu::json::Value::Kind::String: (void)v.as_string().size(); break;
        case swu::json::Value::Kind::Bool: (void)v.as_bool(); break;
        case swu::json::Value::Kind::Null: break;
    }
    try {
        (void)v.as_string();  // the wrong kind is an error, never a crash
    } catch (const swu::Error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        walk(swu::json::parse(std::string(reinterpret_cast<const char*>(data), size)));
    } catch (const swu::Error&) {
    }
    return 0;
}
