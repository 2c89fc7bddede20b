// A small strict JSON (RFC 8259) reader for golden files, configs and safetensors
// headers. Objects keep their key order because safetensors' order is meaningful.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace swu::json {

class Value {
public:
    enum class Kind { Null, Bool, Number, String, Array, Object };
    using Array = std::vector<Value>;
    using Object = std::vector<std::pair<std::string, Value>>;

    Value() = default;
    static Value make_bool(bool b);
    static Value make_number(double d);
    static Value make_string(std::string s);
    static Value make_array(Array a);
    static Value make_object(Object o);

    Kind kind() const { return kind_; }
    bool is_null() const { return kind_ == Kind::Null; }
    bool is_bool() const { return kind_ == Kind::Bool; }
    bool is_number() const { return kind_ == Kind::Number; }
    bool is_string() const { return kind_ == Kind::String; }
    bool is_array() const { return kind_ == Kind::Array; }
    bool is_object() const { return kind_ == Kind::Object; }

    // Each accessor throws swu::Error(SWU_ERR_FORMAT) when the kind differs.
    bool as_bool() const;
    double as_number() const;
    const std::string& as_string() const;
    const Array& as_array() const;
    const Object& as_object() const;

    // First member named `key`, or nullptr (also nullptr when this is not an object).
    const Value* find(const std::string& key) const;
    // Like find, but a missing key or a non-object throws SWU_ERR_FORMAT naming the key.
    const Value& at(const std::string& key) const;
    // Array element; out of range or a non-array throws SWU_ERR_FORMAT.
    const Value& at(size_t index) const;
    size_t size() const;  // elements of an array or members of an object, else 0

private:
    Kind kind_ = Kind::Null;
    bool bool_ = false;
    double number_ = 0.0;
    std::string string_;
    // Held through shared_ptr so Value stays copyable and cheap to move.
    std::shared_ptr<Array> array_;
    std::shared_ptr<Object> object_;
};

// Throws swu::Error(SWU_ERR_FORMAT, "JSON: <what> at offset N") on any deviation from
// RFC 8259 (no comments, trailing commas, NaN or leading zeros; nesting limited to 256).
Value parse(const std::string& text);

// Reads and parses a file; SWU_ERR_IO if it cannot be read, SWU_ERR_FORMAT messages
// start with the path.
Value parse_file(const std::string& path);

const char* kind_name(Value::Kind k);

}  // namespace swu::json
