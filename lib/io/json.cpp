#include "io/json.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <locale.h>
#include <sstream>

#include "common/error.hpp"

namespace swu::json {

namespace {

// Deep enough for any real document, shallow enough that recursion (and the recursive
// destruction of the result) cannot exhaust the stack.
constexpr int kMaxDepth = 256;

[[noreturn]] void type_error(const char* wanted, Value::Kind got) {
    fail(SWU_ERR_FORMAT, std::string("JSON: expected ") + wanted + ", found " + kind_name(got));
}

class Parser {
public:
    explicit Parser(const std::string& text) : s_(text) {}

    Value parse_document() {
        skip_ws();
        Value v = parse_value(0);
        skip_ws();
        if (pos_ != s_.size()) error("unexpected trailing characters");
        return v;
    }

private:
    const std::string& s_;
    size_t pos_ = 0;

    [[noreturn]] void error(const std::string& what) const { error_at(what, pos_); }
    [[noreturn]] void error_at(const std::string& what, size_t at) const {
        fail(SWU_ERR_FORMAT, "JSON: " + what + " at offset " + std::to_string(at));
    }

    bool at_end() const { return pos_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[pos_]; }

    void skip_ws() {
        while (!at_end()) {
            const char c = s_[pos_];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
            ++pos_;
        }
    }

    void expect_literal(const char* lit) {
        const size_t n = std::strlen(lit);
        if (s_.compare(pos_, n, lit) != 0) error("invalid literal");
        pos_ += n;
    }

    Value parse_value(int depth) {
        if (at_end()) error("unexpected end of input");
        switch (s_[pos_]) {
            case '{': return parse_object(depth + 1);
            case '[': return parse_array(depth + 1);
            case '"': return Value::make_string(parse_string());
            case 't': expect_literal("true"); return Value::make_bool(true);
            case 'f': expect_literal("false"); return Value::make_bool(false);
            case 'n': expect_literal("null"); return Value();
            default:
                if (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9')) return Value::make_number(parse_number());
                error(std::string("unexpected character '") + printable(s_[pos_]) + "'");
        }
    }

    static std::string printable(char c) {
        if (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f) return std::string(1, c);
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
        return buf;
    }

    Value parse_object(int depth) {
        if (depth > kMaxDepth) error("nesting deeper than " + std::to_string(kMaxDepth));
        ++pos_;  // '{'
        Value::Object members;
        skip_ws();
        if (peek() == '}') { ++pos_; return Value::make_object(std::move(members)); }
        for (;;) {
            skip_ws();
            if (peek() != '"') error("expected a string key");
            std::string key = parse_string();
            skip_ws();
            if (peek() != ':') error("expected ':'");
            ++pos_;
            skip_ws();
            Value v = parse_value(depth);
            members.emplace_back(std::move(key), std::move(v));
            skip_ws();
            if (peek() == ',') { ++pos_; continue; }
            if (peek() == '}') { ++pos_; return Value::make_object(std::move(members)); }
            error("expected ',' or '}'");
        }
    }

    Value parse_array(int depth) {
        if (depth > kMaxDepth) error("nesting deeper than " + std::to_string(kMaxDepth));
        ++pos_;  // '['
        Value::Array items;
        skip_ws();
        if (peek() == ']') { ++pos_; return Value::make_array(std::move(items)); }
        for (;;) {
            skip_ws();
            items.push_back(parse_value(depth));
            skip_ws();
            if (peek() == ',') { ++pos_; continue; }
            if (peek() == ']') { ++pos_; return Value::make_array(std::move(items)); }
            error("expected ',' or ']'");
        }
    }

    unsigned read_hex4() {
        if (s_.size() - pos_ < 4) error("truncated \\u escape");
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = s_[pos_++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= unsigned(c - '0');
            else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= unsigned(c - 'A' + 10);
            else error("invalid hex digit in \\u escape");
        }
        return v;
    }

    static void append_utf8(std::string& out, uint32_t cp) {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xc0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += char(0xe0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3f));
            out += char(0x80 | (cp & 0x3f));
        } else {
            out += char(0xf0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3f));
            out += char(0x80 | ((cp >> 6) & 0x3f));
            out += char(0x80 | (cp & 0x3f));
        }
    }

    void parse_escape(std::string& out) {
        const size_t start = pos_ - 1;
        if (at_end()) error("truncated escape");
        const char c = s_[pos_++];
        switch (c) {
            case '"': out += '"'; return;
            case '\\': out += '\\'; return;
            case '/': out += '/'; return;
            case 'b': out += '\b'; return;
            case 'f': out += '\f'; return;
            case 'n': out += '\n'; return;
            case 'r': out += '\r'; return;
            case 't': out += '\t'; return;
            case 'u': break;
            default: error_at("invalid escape", start);
        }
        uint32_t cp = read_hex4();
        if (cp >= 0xdc00 && cp <= 0xdfff) error_at("unpaired low surrogate", start);
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (s_.compare(pos_, 2, "\\u") != 0) error_at("unpaired high surrogate", start);
            pos_ += 2;
            const uint32_t lo = read_hex4();
            if (lo < 0xdc00 || lo > 0xdfff) error_at("unpaired high surrogate", start);
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        append_utf8(out, cp);
    }

    // Copies one raw UTF-8 sequence, rejecting overlong forms, surrogates and
    // code points above U+10FFFF, because RFC 8259 text must be valid UTF-8.
    void copy_utf8(std::string& out) {
        const size_t start = pos_;
        const auto b0 = static_cast<unsigned char>(s_[pos_]);
        int len;
        uint32_t cp;
        if (b0 >= 0xc2 && b0 <= 0xdf) { len = 2; cp = b0 & 0x1f; }
        else if (b0 >= 0xe0 && b0 <= 0xef) { len = 3; cp = b0 & 0x0f; }
        else if (b0 >= 0xf0 && b0 <= 0xf4) { len = 4; cp = b0 & 0x07; }
        else error("invalid UTF-8");
        if (s_.size() - pos_ < size_t(len)) error("truncated UTF-8 sequence");
        for (int i = 1; i < len; ++i) {
            const auto b = static_cast<unsigned char>(s_[pos_ + size_t(i)]);
            if ((b & 0xc0) != 0x80) error("invalid UTF-8");
            cp = (cp << 6) | (b & 0x3f);
        }
        const uint32_t min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        if (cp < min_cp || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) error("invalid UTF-8");
        out.append(s_, start, size_t(len));
        pos_ += size_t(len);
    }

    std::string parse_string() {
        const size_t start = pos_;
        ++pos_;  // opening quote
        std::string out;
        for (;;) {
            if (at_end()) error_at("unterminated string", start);
            const auto c = static_cast<unsigned char>(s_[pos_]);
            if (c == '"') { ++pos_; return out; }
            if (c == '\\') { ++pos_; parse_escape(out); continue; }
            if (c < 0x20) error("unescaped control character in string");
            if (c < 0x80) { out += char(c); ++pos_; continue; }
            copy_utf8(out);
        }
    }

    double parse_number() {
        const size_t start = pos_;
        auto digit = [&] { return !at_end() && s_[pos_] >= '0' && s_[pos_] <= '9'; };
        if (peek() == '-') ++pos_;
        if (!digit()) error("expected a digit");
        if (s_[pos_] == '0') {
            ++pos_;
            if (digit()) error("leading zero in number");
        } else {
            while (digit()) ++pos_;
        }
        if (peek() == '.') {
            ++pos_;
            if (!digit()) error("expected a digit after '.'");
            while (digit()) ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (!digit()) error("expected a digit in exponent");
            while (digit()) ++pos_;
        }
        const char* first = s_.data() + start;
        const char* last = s_.data() + pos_;
        double value = 0.0;
        const auto res = std::from_chars(first, last, value);
        if (res.ec == std::errc() && res.ptr == last) return value;
        if (res.ec == std::errc::result_out_of_range) return out_of_range_number(std::string(first, last), start);
        error_at("invalid number", start);
    }

    // from_chars reports subnormal results as out of range too; the C-locale strtod
    // tells a representable tiny value from an overflow, which JSON cannot carry.
    double out_of_range_number(const std::string& token, size_t start) const {
        static locale_t c_locale = newlocale(LC_ALL_MASK, "C", locale_t(0));
        errno = 0;
        const double v = c_locale ? strtod_l(token.c_str(), nullptr, c_locale) : 0.0;
        if (!c_locale || std::isinf(v)) error_at("number out of range", start);
        return v;
    }
};

}  // namespace

const char* kind_name(Value::Kind k) {
    switch (k) {
        case Value::Kind::Null: return "null";
        case Value::Kind::Bool: return "bool";
        case Value::Kind::Number: return "number";
        case Value::Kind::String: return "string";
        case Value::Kind::Array: return "array";
        case Value::Kind::Object: return "object";
    }
    return "?";
}

Value Value::make_bool(bool b) { Value v; v.kind_ = Kind::Bool; v.bool_ = b; return v; }
Value Value::make_number(double d) { Value v; v.kind_ = Kind::Number; v.number_ = d; return v; }
Value Value::make_string(std::string s) { Value v; v.kind_ = Kind::String; v.string_ = std::move(s); return v; }
Value Value::make_array(Array a) {
    Value v;
    v.kind_ = Kind::Array;
    v.array_ = std::make_shared<Array>(std::move(a));
    return v;
}
Value Value::make_object(Object o) {
    Value v;
    v.kind_ = Kind::Object;
    v.object_ = std::make_shared<Object>(std::move(o));
    return v;
}

bool Value::as_bool() const { if (!is_bool()) type_error("bool", kind_); return bool_; }
double Value::as_number() const { if (!is_number()) type_error("number", kind_); return number_; }
const std::string& Value::as_string() const { if (!is_string()) type_error("string", kind_); return string_; }
const Value::Array& Value::as_array() const { if (!is_array()) type_error("array", kind_); return *array_; }
const Value::Object& Value::as_object() const { if (!is_object()) type_error("object", kind_); return *object_; }

const Value* Value::find(const std::string& key) const {
    if (!is_object()) return nullptr;
    for (const auto& kv : *object_)
        if (kv.first == key) return &kv.second;
    return nullptr;
}

const Value& Value::at(const std::string& key) const {
    if (!is_object()) fail(SWU_ERR_FORMAT, "JSON: looked up key '" + key + "' in a " + kind_name(kind_));
    const Value* v = find(key);
    if (!v) fail(SWU_ERR_FORMAT, "JSON: missing key '" + key + "'");
    return *v;
}

const Value& Value::at(size_t index) const {
    const Array& a = as_array();
    if (index >= a.size())
        fail(SWU_ERR_FORMAT, "JSON: index " + std::to_string(index) + " out of range (array of " +
                                 std::to_string(a.size()) + ")");
    return a[index];
}

size_t Value::size() const {
    if (is_array()) return array_->size();
    if (is_object()) return object_->size();
    return 0;
}

Value parse(const std::string& text) { return Parser(text).parse_document(); }

Value parse_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(SWU_ERR_IO, path + ": cannot open: " + std::strerror(errno));
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
