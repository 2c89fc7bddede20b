// JSON through nlohmann_json, with our limits in front of it and our errors out of it.
//
// Reading: parse()/parse_file() return a Value, a read-only view into the parsed document
// whose accessors throw swu::Error(SWU_ERR_FORMAT) naming the key or index and the kind
// found, so a bad golden file, datalist or safetensors header is a clear error and never
// an exception type the C boundary does not know. Objects keep their key order
// (safetensors' order is meaningful); a key given twice in one object is refused.
// Limits: nesting depth 256, 4 million values per document, 64 MiB per file.
//
// Writing: build an nlohmann::ordered_json (include <nlohmann/json.hpp>) and dump() it;
// non-finite numbers are written as null.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace swu::json {

using Document = nlohmann::ordered_json;

class Value {
public:
    enum class Kind { Null, Bool, Number, String, Array, Object };

    Kind kind() const;
    bool is_null() const { return kind() == Kind::Null; }
    bool is_bool() const { return kind() == Kind::Bool; }
    bool is_number() const { return kind() == Kind::Number; }
    bool is_string() const { return kind() == Kind::String; }
    bool is_array() const { return kind() == Kind::Array; }
    bool is_object() const { return kind() == Kind::Object; }

    // Each accessor throws swu::Error(SWU_ERR_FORMAT) when the kind differs.
    bool as_bool() const;
    double as_number() const;
    const std::string& as_string() const;
    std::vector<Value> elements() const;                         // of an array
    std::vector<std::pair<std::string, Value>> members() const;  // of an object, in file order

    // The member named `key`, or nothing (also nothing when this is not an object).
    std::optional<Value> find(const std::string& key) const;
    // Like find, but a missing key or a non-object throws SWU_ERR_FORMAT naming the key.
    Value at(const std::string& key) const;
    // Array element; out of range or a non-array throws SWU_ERR_FORMAT.
    Value at(size_t index) const;
    size_t size() const;  // elements of an array or members of an object, else 0

private:
    friend Value parse(const std::string& text);
    Value(std::shared_ptr<const Document> root, const Document* node) : root_(std::move(root)), node_(node) {}
    std::shared_ptr<const Document> root_;  // keeps the document alive
    const Document* node_ = nullptr;
};

// Throws swu::Error(SWU_ERR_FORMAT, "JSON: <what> at line L, column C") on any deviation
// from RFC 8259 (no comments, trailing commas, NaN), or past the limits above.
Value parse(const std::string& text);

// Reads and parses a file; SWU_ERR_IO if it cannot be read, SWU_ERR_FORMAT messages
// start with the path.
Value parse_file(const std::string& path);

const char* kind_name(Value::Kind k);

}  // namespace swu::json
